/**
 * Integration (root): conmon + runc and conmon + crun on a busybox rootfs, without a pod (every
 * namespace the container's own). Create, start, CRI log, exec-sync (small, 50 MB capped at
 * 16 MiB, timeout, background child), log reopen, stop (exit code and exit file), delete, a
 * create that fails, then the leak check: no conmon of ours alive, the runtime's list empty, no
 * mounts under the test directory, no cgroup left, the test's fds back to baseline.
 */
import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { DeadlineExceededError, InternalError } from "../errors.ts";
import { busyboxRootfs } from "../testing/busybox_rootfs.ts";
import {
  cleanup,
  CONMON,
  fds,
  has,
  isRoot,
  newEnv,
  type OciTestEnv as Env,
  processesWith,
  readLog,
  RUNTIMES,
  spec,
  uniqueSleep,
  waitFor,
  waitGone,
} from "../testing/oci_fixture.ts";
import { gatherHostFacts } from "./host_facts.ts";
import { readSpecialFile } from "./host.ts";
import { OciRuntime } from "./runtime.ts";
import { MAX_EXEC_SYNC_OUTPUT } from "./exec_sync.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function leakCheck(env: Env, baselineFds: string[]) {
  // conmon exits right after writing the exit file; give it a moment.
  const procs = await waitFor("conmon to exit", async () => {
    const p = await processesWith(env.tmp);
    return p.live.length === 0 ? p : undefined;
  });
  const list = await new Deno.Command(RUNTIMES[env.name], {
    args: [`--root=${env.runtimeRoot}`, "list", "-q"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(text(list.stdout).trim(), "", `${env.name} list must be empty`);
  const mountinfo = (await readSpecialFile(`/proc/${Deno.pid}/mountinfo`)) ?? "";
  assert(!mountinfo.includes(env.tmp), "no mounts under the test directory");
  for (const id of env.ids) {
    for (const c of ["memory", "pids", "cpu"]) {
      const procs = await readSpecialFile(`/sys/fs/cgroup/${c}/crio-${id}/cgroup.procs`);
      assertEquals(procs, undefined, `cgroup ${c}/crio-${id} removed`);
    }
  }
  // Deno closes a finished child's pipes a moment after its status resolves.
  const now = await waitFor("fds back to baseline", async () => {
    const f = await fds();
    return f.length <= baselineFds.length ? f : undefined;
  }, 3000).catch(async () => await fds());
  assertEquals(now.length <= baselineFds.length, true, `fds: ${baselineFds} -> ${now}`);
  return procs.zombies.length;
}

async function createStart(env: Env, id: string, command: string[]) {
  env.ids.push(id);
  const s = await spec(env, id, command);
  const bundle = `${env.tmp}/bundles/${id}`;
  const t0 = performance.now();
  const started = await env.runtime.create({
    id,
    bundle,
    spec: s,
    logPath: `${env.tmp}/logs/${id}.log`,
    name: id,
  });
  await env.runtime.start(id);
  return { bundle, started, ms: performance.now() - t0 };
}

/** ExecSync: output, exit codes, the 16 MiB cap, the timeout and a background child. */
async function execChecks(rt: OciRuntime, id: string, bundle: string): Promise<string> {
  const hi = await rt.execSync(id, { bundle, cmd: ["echo", "hi"], timeoutSeconds: 10 });
  assertEquals([text(hi.stdout), hi.exitCode, hi.truncated], ["hi\n", 0, false]);
  const cmd7 = ["sh", "-c", "echo err >&2; exit 7"];
  const seven = await rt.execSync(id, { bundle, cmd: cmd7, timeoutSeconds: 10 });
  assertEquals([text(seven.stderr), seven.exitCode], ["err\n", 7]);

  const t50 = performance.now();
  const cmd50 = ["head", "-c", "52428800", "/dev/zero"];
  const big = await rt.execSync(id, { bundle, cmd: cmd50, timeoutSeconds: 60 });
  const bigMs = performance.now() - t50;
  // conmon caps the log file it writes at 16 MiB, line prefixes included.
  const n = big.stdout.length;
  assert(n <= MAX_EXEC_SYNC_OUTPUT && n > MAX_EXEC_SYNC_OUTPUT - (1 << 20), `${n} bytes`);
  assert(big.stdout.every((b) => b === 0), "the bytes are the command's");
  assertEquals([big.exitCode, big.truncated], [0, true]);

  const t1 = performance.now();
  const secs = uniqueSleep();
  await assertRejects(
    () => rt.execSync(id, { bundle, cmd: ["sleep", secs], timeoutSeconds: 1 }),
    DeadlineExceededError,
  );
  const timeoutMs = performance.now() - t1;
  assert(timeoutMs < 5000, `the timeout returned after ${timeoutMs} ms`);
  await waitGone("the timed-out exec to die", `sleep ${secs}`, 3000);

  const t2 = performance.now();
  const cmdBg = ["sh", "-c", "sleep 30 & echo ok"];
  const bg = await rt.execSync(id, { bundle, cmd: cmdBg, timeoutSeconds: 10 });
  assertEquals(text(bg.stdout), "ok\n");
  const bgMs = performance.now() - t2;
  assert(bgMs < 3000, `a background child must not hold the exec (${bgMs} ms)`);
  return `exec 50 MB -> ${n} B in ${bigMs.toFixed(0)} ms; exec timeout 1 s returned in ` +
    `${timeoutMs.toFixed(0)} ms; background-child exec ${bgMs.toFixed(0)} ms`;
}

async function lifecycle(env: Env): Promise<void> {
  const id = `it-${env.name}-${crypto.randomUUID().slice(0, 8)}`;
  const script =
    "trap 'echo got TERM; exit 3' TERM; echo started; grep Seccomp: /proc/self/status; " +
    "while :; do sleep 0.1; done";
  const { bundle, started, ms } = await createStart(env, id, ["/bin/sh", "-c", script]);
  const rt = env.runtime;
  const logPath = `${env.tmp}/logs/${id}.log`;
  assert(started.pid > 0 && started.conmonPid > 0);
  assertEquals((await rt.state(id))?.status, "running");
  const log = await waitFor("the log line", async () => {
    const l = await readLog(logPath);
    return l.includes("Seccomp:") ? l : undefined;
  });
  assert(/^\S+ stdout F started$/m.test(log), log);
  assert(/^\S+ stdout F Seccomp:\s+2$/m.test(log), "RuntimeDefault seccomp is on");
  const execReport = await execChecks(rt, id, bundle);

  await Deno.rename(logPath, `${logPath}.1`);
  await rt.reopenLog(id, { bundle, logPath });
  assert(has(logPath), "conmon reopened the log");

  const exit = await rt.stop(id, { bundle, signal: "SIGTERM", timeoutSeconds: 10 });
  assertEquals([exit.exitCode, exit.source], [3, "exit-file"]);
  assertEquals(await Deno.readTextFile(rt.exitFile(id)), "3");
  assertEquals((await rt.state(id))?.status, "stopped");
  assert((await readLog(logPath)).includes("stdout F got TERM"));
  const again = await rt.stop(id, { bundle, timeoutSeconds: 10 });
  assertEquals(again, exit, "stopping again is a no-op");
  await rt.delete(id);
  await rt.delete(id); // idempotent
  assertEquals(await rt.state(id), undefined);
  // deno-lint-ignore no-console
  console.log(`${env.name}: create+start ${ms.toFixed(1)} ms; ${execReport}`);
}

/** A create the runtime refuses (missing rootfs): the reason surfaces, nothing stays behind. */
async function failedCreate(env: Env): Promise<void> {
  const id = `it-${env.name}-bad-${crypto.randomUUID().slice(0, 8)}`;
  env.ids.push(id);
  const s = await spec(env, id, ["/bin/true"], { rootfs: `${env.tmp}/no-such-rootfs` });
  const err = await assertRejects(
    () =>
      env.runtime.create({
        id,
        bundle: `${env.tmp}/bundles/${id}`,
        spec: s,
        logPath: `${env.tmp}/logs/${id}.log`,
      }),
    InternalError,
  );
  assert(/no such file|not exist|rootfs/i.test(err.message), err.message);
  assertEquals(await env.runtime.state(id), undefined);
}

/** Median create+start time over a few short-lived containers. */
async function timing(env: Env, n: number): Promise<{ median: number; min: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `it-${env.name}-t${i}-${crypto.randomUUID().slice(0, 6)}`;
    const { bundle, ms } = await createStart(env, id, ["/bin/sleep", "100"]);
    times.push(ms);
    await env.runtime.stop(id, { bundle, timeoutSeconds: 0 });
    await env.runtime.delete(id);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)], min: times[0] };
}

for (const name of Object.keys(RUNTIMES)) {
  Deno.test({
    name: `conmon + ${name}: create, start, log, exec-sync, stop, delete, then nothing leaks`,
    ignore: !isRoot || !has(RUNTIMES[name]) || !has(CONMON),
    fn: async () => {
      const tmp = await Deno.makeTempDir({ prefix: `crio-deno-oci-${name}-` });
      let env: Env | undefined;
      try {
        const facts = await gatherHostFacts({ runtimePath: RUNTIMES[name] });
        const baselineFds = await fds();
        env = newEnv(name, tmp, { facts, rootfs: await busyboxRootfs(tmp) });
        await lifecycle(env);
        await failedCreate(env);
        const t = await timing(env, 5);
        const zombies = await leakCheck(env, baselineFds);
        // deno-lint-ignore no-console
        console.log(
          `${name}: create+start median ${t.median.toFixed(1)} ms, min ${t.min.toFixed(1)} ms ` +
            `(n=5); leak check clean (conmon zombies on the node, awaiting PID 1: ${zombies})`,
        );
      } finally {
        await cleanup(env, tmp);
      }
    },
  });
}
