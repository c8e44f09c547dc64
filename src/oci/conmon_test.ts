import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { DeadlineExceededError, InternalError } from "../errors.ts";
import { FakeHost } from "../testing/fake_oci_host.ts";
import { attachLink, type ConmonArgs, conmonArgs, runtimeLogError, startConmon } from "./conmon.ts";

const base: ConmonArgs = {
  conmonPath: "/usr/bin/conmon",
  runtimePath: "/usr/sbin/runc",
  runtimeRoot: "/run/runc",
  containerId: "c1",
  bundle: "/run/b/c1",
  logPath: "/logs/c1.log",
  exitsDir: "/run/exits",
  socketDir: "/run/crio",
  logSizeMax: -1,
  systemdCgroup: false,
};

Deno.test("conmonArgs() passes Debian conmon what CRI-O passes", () => {
  const common = [
    "-c",
    "c1",
    "-u",
    "c1",
    "-n",
    "c1",
    "-r",
    "/usr/sbin/runc",
    "-b",
    "/run/b/c1",
    "-p",
    "/run/b/c1/pidfile",
    "-P",
    "/run/b/c1/conmon.pid",
    "-l",
    "/logs/c1.log",
    "--exit-dir",
    "/run/exits",
    "--socket-dir-path",
    "/run/crio",
    "--runtime-arg",
    "--root=/run/runc",
    "--runtime-arg",
    "--log=/run/b/c1/runtime.log",
    "--runtime-arg",
    "--log-format=json",
  ];
  const cases: [Partial<ConmonArgs>, string[]][] = [
    [{}, []],
    [{ logSizeMax: 8192, systemdCgroup: true }, ["--log-size-max", "8192", "-s"]],
    [{ terminal: true, stdin: true }, ["-t"]],
    [{ stdin: true }, ["-i", "--leave-stdin-open"]],
    [{ stdin: true, stdinOnce: true, noSyncLog: true }, ["--no-sync-log", "-i"]],
  ];
  for (const [extra, tail] of cases) {
    assertEquals(conmonArgs({ ...base, ...extra }), [...common, ...tail]);
  }
});

Deno.test("runtimeLogError() finds the last error in runc and crun logs", () => {
  const cases: [string, string | undefined][] = [
    ['{"level":"info","msg":"x"}\n{"level":"error","msg":"rootfs missing"}\n', "rootfs missing"],
    ['{"msg":"a","level":"error"}\n{"msg":"b","level":"warning"}\n', "a"],
    ["plain text failure\n", "plain text failure"],
    ["", undefined],
  ];
  for (const [log, want] of cases) assertEquals(runtimeLogError(log), want);
});

/** A FakeHost where conmon starts (pidfile after `after` sleeps) or dies. */
function host(o: { after?: number; dies?: boolean; launcher?: number }) {
  const h = new FakeHost();
  let sleeps = 0;
  h.onRun = () => ({
    code: o.launcher ?? 0,
    stderr: new TextEncoder().encode(o.launcher ? "conmon: option parsing failed" : ""),
    effect: () => {
      h.write("/run/b/c1/conmon.pid", "77\n");
      h.procs.set(77, { state: "running", ppid: 1 });
    },
  });
  const sleep = h.sleep.bind(h);
  h.sleep = async (ms, signal) => {
    await sleep(ms, signal);
    if (++sleeps === o.after) h.write("/run/b/c1/pidfile", "1234");
    if (o.dies && sleeps === 2) {
      h.procs.set(77, { state: "zombie", ppid: 1 });
      h.write(
        "/run/b/c1/runtime.log",
        '{"level":"error","msg":"container_linux.go: no such file"}\n',
      );
    }
  };
  return h;
}

Deno.test("startConmon() returns once the runtime wrote the container pidfile", async () => {
  const h = host({ after: 3 });
  assertEquals(await startConmon(h, { ...base, env: {}, timeoutMs: 1000 }), {
    pid: 1234,
    conmonPid: 77,
  });
  assertEquals(h.commands[0][0], "/usr/bin/conmon");
});

Deno.test("startConmon() reports why the create failed, and times out", async () => {
  const failed = host({ dies: true });
  await assertRejects(
    () => startConmon(failed, { ...base, env: {}, timeoutMs: 1000 }),
    InternalError,
    "no such file",
  );
  await assertRejects(
    () => startConmon(host({ launcher: 1 }), { ...base, env: {}, timeoutMs: 1000 }),
    InternalError,
    "option parsing failed",
  );
  const stuck = host({});
  await assertRejects(
    () => startConmon(stuck, { ...base, env: {}, timeoutMs: 500 }),
    DeadlineExceededError,
  );
  assert(stuck.signals.some(([pid, sig]) => pid === 77 && sig === "SIGKILL"), "conmon killed");
});

Deno.test("attachLink() names the link as conmon does, one char short at 107 bytes", () => {
  const id = "a".repeat(64);
  assertEquals(attachLink("/var/run/crio", id), `/var/run/crio/${id}`);
  const deep = "/tmp/" + "d".repeat(107 - 1 - 64 - 5);
  assertEquals(`${deep}/${id}`.length, 107);
  assertEquals(attachLink(deep, id), `${deep}/${id.slice(0, -1)}`);
  assertEquals(attachLink(deep + "x", id), `${deep}x/${id}`);
});
