/**
 * deno run -A conformance/stream_soak.ts [--runtime runc|crun] [--sessions 500] [--k8s 1.37]
 *
 * The streaming leak check of issue #6: a daemon under the harness's isolated set-up, one running
 * busybox container, then N exec sessions: a third succeed, a third fail (a non-zero exit, or a
 * command that cannot start), a third are TTY sessions that send resizes; SPDY and WebSocket
 * alternate. The daemon's open fds and RSS are taken after a warm-up and again after the run;
 * the check fails when fds grow or RSS grows past the allowance. Prints the figures and a closing
 * line; everything started is stopped by PID and removed.
 */
import { cacheDir, DEFAULT_MINOR, k8sMinor } from "../src/cri/k8s_versions.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { buildAndPushCritestImages, registriesConf } from "./images/critest_images.ts";
import { drainPods, removeBridge, startDaemon } from "./daemon.ts";
import { startRegistry } from "./registry.ts";
import { LATE_RESIZE, runSession, type SessionKind } from "./stream_sessions.ts";

const BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
/** Noise between two readings of a Deno process's RSS; growth past it in the second half leaks. */
const RSS_ALLOWANCE_KIB = 32 * 1024;

function say(s: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
}

function parseArgs(argv: string[]) {
  const o = { runtime: "runc", sessions: 500, k8s: DEFAULT_MINOR };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--runtime") o.runtime = value();
    else if (flag === "--sessions") o.sessions = Number(value());
    else if (flag === "--k8s") o.k8s = value();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

export interface Footprint {
  fds: number;
  rssKiB: number;
  /** exec conmons of this daemon still running (each exec session has one while it runs). */
  execMonitors: number;
}

export async function footprint(pid: number, dir: string): Promise<Footprint> {
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  let execMonitors = 0;
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    if (cmd.includes("--exec-attach") && cmd.includes(dir)) execMonitors++;
  }
  return { fds, rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN), execMonitors };
}

/** i mod 3 picks what a session does; i mod 2 picks the transport. */
export function kindOf(i: number): SessionKind {
  const ws = i % 2 === 1;
  if (i % 3 === 0) return { cmd: ["echo", "hello"], tty: false, ws, expect: 0 };
  if (i % 3 === 1) {
    return i % 2 === 0
      ? { cmd: ["/no/such/command"], tty: false, ws, expect: "fail" }
      : { cmd: ["sh", "-c", "echo bye; exit 3"], tty: false, ws, expect: 3 };
  }
  return { cmd: ["sh", "-c", "read x; stty size"], tty: true, ws, expect: 0, resize: true };
}

/**
 * One gRPC connection per call: with one long-lived connection, Deno's HTTP/2 (nghttp2) aborted the
 * process that received the GOAWAY at the end of ~530 calls (the daemon once, this script once).
 */
async function withCri<T>(socket: string, k8s: string, fn: (c: CriTestClient) => Promise<T>) {
  const c = new CriTestClient(socket, loadSchema(k8s));
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function runAll(
  exec: (req: Record<string, unknown>) => Promise<string>,
  o: { containerId: string; from: number; count: number; parallel: number },
): Promise<string[]> {
  const failures: string[] = [];
  let next = o.from;
  const end = o.from + o.count;
  const worker = async () => {
    while (next < end) {
      const i = next++;
      const err = await runSession(exec, o.containerId, kindOf(i)).catch((e) => String(e));
      if (err) failures.push(`session ${i}: ${err}`);
    }
  };
  await Promise.all(Array.from({ length: o.parallel }, worker));
  return failures;
}

async function settle(pid: number, dir: string, base?: Footprint): Promise<Footprint> {
  let now = await footprint(pid, dir);
  for (let i = 0; i < 20 && (now.fds > (base?.fds ?? Infinity) || now.execMonitors > 0); i++) {
    await new Promise((r) => setTimeout(r, 500));
    now = await footprint(pid, dir);
  }
  return now;
}

async function main(): Promise<boolean> {
  const args = parseArgs(Deno.args);
  const pins = k8sMinor(args.k8s);
  const crictl = `${cacheDir()}/cri-tools/${pins.criTools}/crictl`;
  const undo: (() => Promise<unknown>)[] = [];
  const dir = await Deno.makeTempDir({ prefix: "crio-soak-" });
  undo.push(() => Deno.remove(dir, { recursive: true }));
  try {
    const registry = await startRegistry();
    undo.push(() => registry.stop());
    const images = await buildAndPushCritestImages({
      registry: registry.host,
      critestVersion: pins.criTools,
    });
    await Deno.writeTextFile(`${dir}/registries.conf`, registriesConf(images.hosts, registry.host));
    const daemon = await startDaemon(dir, {
      runtime: args.runtime,
      k8s: args.k8s,
      registriesConf: `${dir}/registries.conf`,
    });
    undo.push(() => removeBridge());
    undo.push(() => daemon.child.stop(15_000));
    undo.push(() => drainPods(daemon.endpoint, crictl));
    const cri = <T>(fn: (c: CriTestClient) => Promise<T>) => withCri(daemon.socket, args.k8s, fn);
    const { podId, containerId } = await cri(startContainer);
    undo.push(() =>
      cri(async (c) => {
        await c.call("RuntimeService", "StopPodSandbox", { podSandboxId: podId });
        await c.call("RuntimeService", "RemovePodSandbox", { podSandboxId: podId });
      })
    );
    const exec = (req: Record<string, unknown>) =>
      cri(async (c) => (await c.call<{ url: string }>("RuntimeService", "Exec", req)).url);
    const warm = await runAll(exec, { containerId, from: 0, count: 30, parallel: 6 });
    const pid = daemon.child.pid;
    const base = await settle(pid, dir);
    const t0 = performance.now();
    const half = Math.floor(args.sessions / 2);
    const failures = [
      ...warm,
      ...await runAll(exec, { containerId, from: 30, count: half, parallel: 8 }),
    ];
    const mid = await settle(pid, dir, base);
    failures.push(
      ...await runAll(exec, {
        containerId,
        from: 30 + half,
        count: args.sessions - half,
        parallel: 8,
      }),
    );
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const after = await settle(pid, dir, base);
    const { passed, failed } = report({
      sessions: args.sessions,
      secs,
      base,
      mid,
      after,
      failures,
    });
    say(`${passed} passed, ${failed} failed`);
    return failed === 0;
  } finally {
    for (const u of undo.reverse()) await u().catch((e) => say(`cleanup: ${e}`));
  }
}

/** Prints the figures and failures; the leak checks count as one test each. */
function report(
  r: {
    sessions: number;
    secs: string;
    base: Footprint;
    mid: Footprint;
    after: Footprint;
    failures: string[];
  },
): { passed: number; failed: number } {
  const { base, mid, after, failures } = r;
  const half = Math.floor(r.sessions / 2);
  const mib = (f: Footprint) =>
    `${f.fds} fds, RSS ${(f.rssKiB / 1024).toFixed(1)} MiB, ${f.execMonitors} exec conmons`;
  say(`${r.sessions} sessions in ${r.secs}s`);
  say(`baseline (after 30 warm-up sessions): ${mib(base)}`);
  say(`after ${half}: ${mib(mid)}`);
  say(`after ${r.sessions}: ${mib(after)}`);
  const kinds = new Map<string, number>();
  for (const f of failures) {
    const what = f.replace(/^session \d+: /, "").split(":")[0];
    kinds.set(what, (kinds.get(what) ?? 0) + 1);
  }
  for (const [what, n] of kinds) say(`  ${n} × ${what}`);
  for (const f of failures.slice(0, 5)) say(`  e.g. ${f}`);
  // A size sent before the exec's terminal exists is lost in conmon, and under load the command
  // may print its size before the last one lands: a few misses are that race, many a regression.
  const late = failures.filter((f) => f.includes(LATE_RESIZE)).length;
  const ttySessions = Math.ceil((r.sessions + 30) / 3);
  const tolerated = late <= ttySessions / 10 ? late : 0;
  if (tolerated) say(`  (${tolerated} late resizes tolerated: at most 10% of the TTY sessions)`);
  const fdOk = after.fds <= base.fds && after.execMonitors === 0;
  // V8 frees its heap lazily, so RSS is compared with the highest earlier reading: a leak keeps
  // growing through the second half, garbage waiting for a collection does not.
  const rssOk = after.rssKiB <= Math.max(base.rssKiB, mid.rssKiB) + RSS_ALLOWANCE_KIB;
  if (!fdOk) say(`fds grew by ${after.fds - base.fds}; ${after.execMonitors} exec conmons left`);
  if (!rssOk) say(`RSS grew past the allowance in the second half`);
  const failed = failures.length - tolerated;
  return {
    passed: r.sessions + 30 - failed + (fdOk ? 1 : 0) + (rssOk ? 1 : 0),
    failed: failed + (fdOk ? 0 : 1) + (rssOk ? 0 : 1),
  };
}

async function startContainer(
  cri: CriTestClient,
): Promise<{ podId: string; containerId: string }> {
  const config = {
    metadata: { name: "soak", uid: "soak-uid", namespace: "soak" },
    linux: {},
  };
  await cri.call("ImageService", "PullImage", { image: { image: BUSYBOX } });
  const pod = await cri.call<{ podSandboxId: string }>("RuntimeService", "RunPodSandbox", {
    config,
  });
  const c = await cri.call<{ containerId: string }>("RuntimeService", "CreateContainer", {
    podSandboxId: pod.podSandboxId,
    config: { metadata: { name: "sh" }, image: { image: BUSYBOX }, command: ["sleep", "3600"] },
    sandboxConfig: config,
  });
  await cri.call("RuntimeService", "StartContainer", { containerId: c.containerId });
  return { podId: pod.podSandboxId, containerId: c.containerId };
}

if (import.meta.main) Deno.exit((await main()) ? 0 : 1);
