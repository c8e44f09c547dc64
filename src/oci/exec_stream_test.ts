import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { FailedPreconditionError, InternalError } from "../errors.ts";
import { FakeHost } from "../testing/fake_oci_host.ts";
import { FdSocket } from "../util/fd_socket.ts";
import { execStreamArgs, runExecStream, startFailureCode } from "./exec_stream.ts";
import { OciRuntime } from "./runtime.ts";
import type { MonitorChild, StreamHost } from "./stream_host.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const DIR = "/b/exec-1";

function sink() {
  let text = "";
  return {
    stream: new WritableStream<Uint8Array>({
      write: (c) => void (text += new TextDecoder().decode(c)),
    }),
    text: () => text,
  };
}

/** A conmon whose behaviour after start() the test scripts against the socket's far end. */
function fakeStream(
  script: (conmon: FdSocket, exit: (code: number) => void) => Promise<void>,
  o: { ready?: boolean } = {},
) {
  const spawned: string[][] = [];
  const sockets: FdSocket[] = [];
  const host: StreamHost = {
    spawnMonitor(cmd, args): MonitorChild {
      spawned.push([cmd, ...args]);
      let exit!: (c: { code: number }) => void;
      const status = new Promise<{ code: number }>((r) => exit = r);
      const [client, conmon] = FdSocket.pair();
      sockets.push(client, conmon);
      return {
        pid: 50,
        attachReady: o.ready === false ? Promise.reject(new Error("closed")) : Promise.resolve(),
        start: () => void script(conmon, (code) => exit({ code })).finally(() => conmon.close()),
        status: o.ready === false ? (exit({ code: 1 }), status) : status,
        early: Promise.resolve(o.ready === false ? "[conmon:e] bad flag" : ""),
        kill: () => exit({ code: 137 }),
      };
    },
    connectAttach: () => sockets[sockets.length - 2],
  };
  return { host, spawned, close: () => Promise.all(sockets.map((s) => s.close())) };
}

const base = {
  conmonPath: "/usr/bin/conmon",
  conmonEnv: {},
  runtimePath: "/usr/sbin/runc",
  runtimeRoot: "/run/runc",
  containerId: "c1",
  socketDir: "/run/crio",
  dir: DIR,
  process: { args: ["sleep"], cwd: "/", terminal: false, user: { uid: 0, gid: 0 }, env: [] },
};

Deno.test("exec: output by pipe, the process's exit code, the exec's files removed", async () => {
  const h = new FakeHost();
  const removed: string[] = [];
  h.remove = (p) => Promise.resolve(void removed.push(p));
  const s = fakeStream(async (conmon, exit) => {
    h.write(`${DIR}/pid`, "77");
    await conmon.write(new Uint8Array([2, ...enc("out")]));
    await conmon.write(new Uint8Array([3, ...enc("err")]));
    exit(3);
  });
  const out = sink(), err = sink();
  const r = await runExecStream(h, s.host, {
    ...base,
    cmd: ["sh", "-c", "x"],
    io: { stdout: out.stream, stderr: err.stream, tty: false },
  });
  await s.close();
  assertEquals([r.exitCode, out.text(), err.text()], [3, "out", "err"]);
  const spec = JSON.parse(h.text(`${DIR}/process.json`) ?? "{}");
  assertEquals([spec.args, spec.terminal], [["sh", "-c", "x"], false]);
  const args = s.spawned[0];
  assert(args.includes("--exec-attach") && !args.includes("-t") && !args.includes("-i"));
  assert(removed.includes(DIR), "the exec's directory is removed");
  assert(removed.some((p) => p.startsWith("/run/crio/")), "and conmon's socket link");
});

Deno.test("exec: a command the runtime cannot start exits 127 or 126", async () => {
  for (
    const [msg, code] of [
      ['exec: "nope": executable file not found in $PATH', 127],
      ["open /bin/x: permission denied", 126],
      ["something else", 255],
    ] as const
  ) {
    const h = new FakeHost();
    const s = fakeStream((_c, exit) => {
      h.write(`${DIR}/runtime.log`, JSON.stringify({ level: "error", msg }) + "\n");
      exit(1);
      return Promise.resolve();
    });
    const r = await runExecStream(h, s.host, {
      ...base,
      cmd: ["nope"],
      io: { stdout: sink().stream, tty: true, stdin: new ReadableStream() },
    });
    await s.close();
    assertEquals(r.exitCode, code);
    assert(s.spawned[0].includes("-t") && s.spawned[0].includes("-i"));
  }
  assertEquals(startFailureCode("crun: executable file `x` not found in $PATH"), 127);
});

Deno.test("exec: conmon failing before its socket listens is an error naming its reason", async () => {
  const h = new FakeHost();
  const s = fakeStream(() => Promise.resolve(), { ready: false });
  const err = await assertRejects(
    () => runExecStream(h, s.host, { ...base, cmd: ["x"], io: { tty: false } }),
    InternalError,
  );
  await s.close();
  assert(err.message.includes("bad flag"), err.message);
});

Deno.test("exec: a client that goes away gets the exec'd tree killed", async () => {
  const h = new FakeHost();
  // conmon (50) subreaps the exec'd process (77), which has a child of its own.
  h.procs.set(77, { state: "running", ppid: 50 });
  h.procs.set(78, { state: "running", ppid: 77 });
  const abort = new AbortController();
  const s = fakeStream(async (conmon) => {
    h.write(`${DIR}/pid`, "77");
    await conmon.write(new Uint8Array([2, ...enc("started")]));
    abort.abort();
    await conmon.read();
  });
  const r = await runExecStream(h, s.host, {
    ...base,
    cmd: ["sleep", "9"],
    io: { stdout: sink().stream, tty: false, signal: abort.signal },
  });
  await s.close();
  assertEquals(r.exitCode, 137, "conmon, which never exited, is killed after its grace");
  const killed = h.signals.filter(([, sig]) => sig === "SIGKILL").map(([p]) => p);
  assertEquals(killed.sort(), [77, 78]);
  assert(!h.signals.some(([p]) => p === 50), "conmon is left to reap the exec first");
});

Deno.test("exec args: conmon's exec-attach API, the runtime's root and log", () => {
  const args = execStreamArgs({ ...base }, { execId: "e1", tty: true, stdin: false });
  assertEquals(args.slice(0, 5), ["-e", "--exec-attach", "--api-version", "1", "--sync"]);
  assert(args.includes("--root=/run/runc") && args.includes("-t") && !args.includes("-i"));
  assertEquals(args[args.indexOf("-u") + 1], "e1");
});

Deno.test("attach to a container whose conmon is gone is a failed precondition", async () => {
  const rt = new OciRuntime({
    name: "runc",
    runtimePath: "/usr/sbin/runc",
    runtimeRoot: "/run/runc",
    conmonPath: "/usr/bin/conmon",
    conmonEnv: [],
    exitsDir: "/x/exits",
    attachSocketDir: "/x/attach",
    cgroupManager: "cgroupfs",
    logSizeMax: -1,
    host: new FakeHost(),
    streamHost: {
      spawnMonitor: () => {
        throw new Error("unused");
      },
      connectAttach: (path) => {
        throw new Deno.errors.ConnectionRefused(`connect ${path}: errno 111`);
      },
    },
  });
  const err = await assertRejects(
    () => rt.attach("c1", { bundle: "/b", io: { tty: false } }),
    FailedPreconditionError,
  );
  assert(err.message.includes("/x/attach/c1/attach"), err.message);
});
