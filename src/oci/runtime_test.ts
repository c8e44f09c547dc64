import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  UnavailableError,
} from "../errors.ts";
import { FakeHost } from "../testing/fake_oci_host.ts";
import { OciRuntime } from "./runtime.ts";
import type { OciSpec } from "./spec/types.ts";

const enc = new TextEncoder();
const B = "/run/b/c1";

function runtime(h: FakeHost, extra: { killTimeoutMs?: number } = {}) {
  return new OciRuntime({
    name: "runc",
    runtimePath: "/usr/sbin/runc",
    runtimeRoot: "/run/runc",
    conmonPath: "/usr/bin/conmon",
    conmonEnv: ["PATH=/usr/bin:/bin"],
    exitsDir: "/run/exits",
    attachSocketDir: "/run/crio",
    cgroupManager: "cgroupfs",
    logSizeMax: -1,
    host: h,
    ...extra,
  });
}

/** runc as a script: `state` answers from `status`, `kill` may write the exit file. */
function fakeRunc(
  h: FakeHost,
  o: { status?: string; diesOn?: string[]; stderr?: Record<string, string> },
) {
  const st = { status: o.status ?? "running" };
  h.onRun = (_cmd, args) => {
    const [, verb, , sig] = args;
    const err = o.stderr?.[verb];
    if (err) return { code: 1, stderr: enc.encode(err) };
    if (verb === "state") {
      return {
        stdout: enc.encode(JSON.stringify({ id: "c1", pid: 9, status: st.status, bundle: B })),
      };
    }
    if (verb === "kill" && o.diesOn?.includes(sig)) {
      return {
        effect: () => {
          st.status = "stopped";
          h.write("/run/exits/c1", sig === "SIGKILL" ? "137" : "0");
          h.procs.delete(77);
        },
      };
    }
    return {};
  };
  h.write(`${B}/conmon.pid`, "77");
  h.procs.set(77, { state: "running", ppid: 1 });
  return st;
}

const verbs = (h: FakeHost) =>
  h.commands.filter((c) => c[0] === "/usr/sbin/runc").map((c) => c.slice(2).join(" "));

Deno.test("state(), kill() and delete() tolerate what is already gone", async () => {
  const h = new FakeHost();
  fakeRunc(h, { stderr: { delete: "container does not exist", kill: "container not running" } });
  const rt = runtime(h);
  assertEquals((await rt.state("c1"))?.status, "running");
  await rt.kill("c1", "SIGTERM");
  await rt.delete("c1");
  assertEquals(h.commands.map((c) => c[1]), [
    "--root=/run/runc",
    "--root=/run/runc",
    "--root=/run/runc",
  ]);
  fakeRunc(h, { stderr: { state: "container c1 does not exist" } });
  assertEquals(await rt.state("c1"), undefined);
  fakeRunc(h, { stderr: { state: "permission denied", kill: "permission denied", start: "boom" } });
  await assertRejects(() => rt.state("c1"), InternalError, "permission denied");
  await assertRejects(() => rt.kill("c1", "SIGTERM"), InternalError);
  await assertRejects(() => rt.start("c1"), InternalError, "boom");
});

Deno.test("stop() escalates from the stop signal to SIGKILL, bounded", async () => {
  const cases: [
    string,
    { diesOn?: string[]; timeout: number; signal?: string },
    string[],
    number,
  ][] = [
    ["exits on SIGTERM", { diesOn: ["SIGTERM"], timeout: 10 }, ["kill c1 SIGTERM"], 0],
    [
      "ignores SIGTERM",
      { diesOn: ["SIGKILL"], timeout: 1 },
      ["kill c1 SIGTERM", "kill c1 SIGKILL"],
      137,
    ],
    ["timeout 0 kills at once", { diesOn: ["SIGKILL"], timeout: 0 }, [
      "kill c1 SIGKILL",
    ], 137],
    [
      "custom signal",
      { diesOn: ["SIGQUIT"], timeout: 5, signal: "SIGQUIT" },
      ["kill c1 SIGQUIT"],
      0,
    ],
  ];
  for (const [name, o, expectVerbs, code] of cases) {
    const h = new FakeHost();
    fakeRunc(h, o);
    const rec = await runtime(h).stop("c1", {
      bundle: B,
      timeoutSeconds: o.timeout,
      signal: o.signal,
    });
    assertEquals([rec.exitCode, rec.source], [code, "exit-file"], name);
    assertEquals(verbs(h).slice(0, expectVerbs.length), expectVerbs, name);
  }
});

Deno.test("stop() gives up with an error when SIGKILL never works", async () => {
  const h = new FakeHost();
  fakeRunc(h, {});
  const t0 = h.now();
  await assertRejects(
    () => runtime(h, { killTimeoutMs: 10_000 }).stop("c1", { bundle: B, timeoutSeconds: 2 }),
    UnavailableError,
    "still running",
  );
  const kills = verbs(h).filter((v) => v === "kill c1 SIGKILL").length;
  assert(kills >= 4 && kills < 30, `backoff: ${kills} SIGKILLs`);
  assert(h.now() - t0 <= 2000 + 10_000 + 5_000, "bounded");
});

Deno.test("running() answers from the exit file and conmon, asking the runtime only without conmon", async () => {
  const h = new FakeHost();
  const st = fakeRunc(h, {});
  const r = runtime(h);
  assertEquals(await r.running("c1", B), true);
  assertEquals(verbs(h), []);
  h.procs.delete(77);
  assertEquals(await r.running("c1", B), true);
  st.status = "stopped";
  assertEquals(await r.running("c1", B), false);
  assertEquals(verbs(h), ["state c1", "state c1"]);
  h.procs.set(77, { state: "running", ppid: 1 });
  h.write("/run/exits/c1", "0");
  assertEquals(await r.running("c1", B), false);
  assertEquals(verbs(h).length, 2);
});

Deno.test("stop() of an exited container, or one whose conmon died, returns at once", async () => {
  const h = new FakeHost();
  fakeRunc(h, {});
  h.write("/run/exits/c1", "3");
  assertEquals((await runtime(h).stop("c1", { bundle: B, timeoutSeconds: 10 })).exitCode, 3);
  assertEquals(verbs(h), []);
  const g = new FakeHost();
  fakeRunc(g, { status: "stopped" });
  g.procs.delete(77);
  const rec = await runtime(g).stop("c1", { bundle: B, timeoutSeconds: 10 });
  assertEquals([rec.exitCode, rec.source], [137, "runtime"]);
});

Deno.test("create() writes the bundle, clears stale files and rolls back on failure", async () => {
  const h = new FakeHost();
  h.write("/run/exits/c1", "0");
  h.onRun = (cmd) =>
    cmd === "/usr/bin/conmon"
      ? { effect: () => (h.write(`${B}/conmon.pid`, "77"), h.write(`${B}/pidfile`, "9")) }
      : {};
  h.procs.set(77, { state: "running", ppid: 1 });
  const spec = { ociVersion: "1.0.2-dev" } as OciSpec;
  const rt = runtime(h);
  assertEquals(await rt.create({ id: "c1", bundle: B, spec, logPath: "/logs/c1.log" }), {
    pid: 9,
    conmonPid: 77,
  });
  assertEquals(JSON.parse(h.text(`${B}/config.json`)!), spec);
  assertEquals(h.files.has("/run/exits/c1"), false);
  assertEquals(rt.attachSocketPath("c1"), "/run/crio/c1/attach");

  const f = new FakeHost();
  f.onRun = (cmd) => (cmd === "/usr/bin/conmon" ? { code: 1, stderr: enc.encode("bad flag") } : {});
  await assertRejects(
    () => runtime(f).create({ id: "c1", bundle: B, spec, logPath: "/l" }),
    InternalError,
    "bad flag",
  );
  assertEquals(verbs(f), ["delete --force c1"]);
});

Deno.test("execSync() runs conmon --sync -e with the container's process and parses its log", async () => {
  const h = new FakeHost();
  h.write(
    `${B}/config.json`,
    JSON.stringify({
      process: { user: { uid: 5, gid: 5 }, args: ["sleep"], env: ["A=1"], cwd: "/" },
    }),
  );
  let processFile = "";
  h.onSpawn = (_cmd, args) => ({
    code: 7,
    effect: () => {
      processFile = args[args.indexOf("--exec-process-spec") + 1];
      const at = (flag: string) => args[args.indexOf(flag) + 1];
      h.write(at("-p"), "321");
      h.write(at("-l"), "t stdout F hi\nt stderr P err\n");
    },
  });
  let written = "";
  const write = h.writeFile.bind(h);
  h.writeFile = (p, d) => (p.endsWith(".json") && (written = d), write(p, d));
  const rt = runtime(h);
  const r = await rt.execSync("c1", { bundle: B, cmd: ["echo", "hi"], timeoutSeconds: 5 });
  assertEquals(
    [new TextDecoder().decode(r.stdout), new TextDecoder().decode(r.stderr), r.exitCode],
    ["hi\n", "err", 7],
  );
  const spawned = h.commands.find((c) => c[0] === "/usr/bin/conmon")!;
  assert(spawned.includes("--sync") && spawned.includes("-e"));
  assertEquals(spawned[spawned.indexOf("--log-global-size-max") + 1], String(16 << 20));
  assertEquals(spawned[spawned.indexOf("-T") + 1], "10");
  assertEquals(JSON.parse(written), {
    user: { uid: 5, gid: 5 },
    args: ["echo", "hi"],
    env: ["A=1"],
    cwd: "/",
    terminal: false,
  });
  const execFiles = () => [...h.files.keys()].filter((k) => k.startsWith(`${B}/exec-`));
  assertEquals(execFiles().length, 3, "the spec, pid and log files: removed after the answer");
  await rt.settled();
  assertEquals(execFiles(), [], "exec files removed");
  assert(processFile.startsWith(`${B}/exec-`));
});

Deno.test("execSync() fails clearly when the runtime did not start the process", async () => {
  const h = new FakeHost();
  h.onSpawn = (_cmd, args) => ({
    code: 1,
    effect: () =>
      h.write(
        args[args.indexOf("--runtime-arg", args.indexOf("--log-global-size-max")) + 3].slice(6),
        '{"level":"error","msg":"cannot exec in a stopped container"}',
      ),
  });
  await assertRejects(
    () =>
      runtime(h).execSync("c1", {
        bundle: B,
        cmd: ["ls"],
        timeoutSeconds: 5,
        process: { user: { uid: 0, gid: 0 }, args: [], env: [], cwd: "/" },
      }),
    InternalError,
    "stopped container",
  );
  await assertRejects(
    () => runtime(h).execSync("c1", { bundle: B, cmd: [], timeoutSeconds: 1 }),
    FailedPreconditionError,
  );
});

/** A `sleep 99` that outlives its 1 s timeout; the pids that got SIGKILL. */
async function timedOutExec(h: FakeHost): Promise<Set<number>> {
  await assertRejects(
    () =>
      runtime(h).execSync("c1", {
        bundle: B,
        cmd: ["sleep", "99"],
        timeoutSeconds: 1,
        process: { user: { uid: 0, gid: 0 }, args: [], env: [], cwd: "/" },
      }),
    DeadlineExceededError,
  );
  return new Set(h.signals.filter(([, s]) => s === "SIGKILL").map(([p]) => p));
}

Deno.test("execSync() kills the whole exec process tree on timeout", async () => {
  const h = new FakeHost();
  h.onSpawn = (_cmd, args) => ({ effect: () => h.write(args[args.indexOf("-p") + 1], "500") }); // runs until killed
  h.procs.set(500, { state: "running", ppid: 4242 });
  h.procs.set(501, { state: "running", ppid: 500 });
  h.procs.set(502, { state: "running", ppid: 501 });
  const killed = await timedOutExec(h);
  for (const pid of [500, 501, 502, 4242]) assert(killed.has(pid), `killed ${pid}`);
});

Deno.test("execSync() on timeout kills a runtime still starting the exec (no pidfile yet)", async () => {
  const h = new FakeHost();
  h.onSpawn = () => ({}); // conmon runs until killed, and its runtime writes no pidfile
  h.procs.set(600, { state: "running", ppid: 4242 });
  const killed = await timedOutExec(h);
  assert(killed.has(600) && killed.has(4242), `killed ${[...killed]}`);
});

Deno.test("reopenLog() writes to conmon's ctl FIFO and waits for the new file", async () => {
  const h = new FakeHost();
  h.write(`${B}/conmon.pid`, "77");
  await assertRejects(
    () => runtime(h).reopenLog("c1", { bundle: B, logPath: "/logs/c1.log" }),
    FailedPreconditionError,
  );
  h.procs.set(77, { state: "running", ppid: 1 });
  h.write("/logs/c1.log", "old");
  h.writeFifo = (
    path,
    data,
  ) => (h.fifoWrites.push([path, data]), h.write("/logs/c1.log", ""), Promise.resolve());
  await runtime(h).reopenLog("c1", { bundle: B, logPath: "/logs/c1.log" });
  assertEquals(h.fifoWrites, [[`${B}/ctl`, "2 0 0\n"]]);
  h.writeFifo = () => Promise.resolve();
  await assertRejects(
    () => runtime(h).reopenLog("c1", { bundle: B, logPath: "/logs/c1.log", timeoutMs: 50 }),
    UnavailableError,
  );
});

Deno.test("exitRecord: none while running, none for a partial file, else the code and file time", async () => {
  const h = new FakeHost();
  const r = runtime(h);
  assertEquals(await r.exitRecord("c1"), undefined);
  h.write("/run/exits/c1", "");
  assertEquals(await r.exitRecord("c1"), undefined, "conmon has not finished writing it");
  h.write("/run/exits/c1", "3\n");
  const mtime = h.files.get("/run/exits/c1")!.mtime;
  assertEquals(await r.exitRecord("c1"), { exitCode: 3, finishedAt: mtime, source: "exit-file" });
});

Deno.test("execSync() reads a container's process once; delete forgets it", async () => {
  const h = new FakeHost();
  const spec = (v: string) => JSON.stringify({ process: { args: ["x"], env: [v], cwd: "/" } });
  h.write(`${B}/config.json`, spec("A=first"));
  const reads: string[] = [];
  const read = h.readFile.bind(h);
  h.readFile = (p, max) => (p.endsWith("config.json") && reads.push(p), read(p, max));
  const envs: string[] = [];
  h.onSpawn = (_cmd, args) => ({
    code: 0,
    effect: () => {
      const at = (flag: string) => args[args.indexOf(flag) + 1];
      const file = h.files.get(at("--exec-process-spec"))!.data;
      envs.push(JSON.parse(new TextDecoder().decode(file)).env[0]);
      h.write(at("-p"), "321");
      h.write(at("-l"), "");
    },
  });
  const rt = runtime(h);
  const exec = () => rt.execSync("c1", { bundle: B, cmd: ["true"], timeoutSeconds: 5 });
  await exec();
  // config.json never changes after create; the second exec does not read it again.
  h.write(`${B}/config.json`, spec("A=second"));
  await exec();
  assertEquals(reads.length, 1, "config.json read once for two execs");
  // Deleted, the id may come back (a retried create): its process is read again.
  await rt.delete("c1");
  await exec();
  assertEquals(reads.length, 2);
  assertEquals(envs, ["A=first", "A=first", "A=second"]);
});
