/**
 * deno task conformance [--k8s 1.37] [--runtime runc|crun] [--focus RE] [--skip RE] [--keep]
 *
 * Runs the upstream CRI validation suite (critest, pinned per Kubernetes minor) against this
 * daemon: a local registry filled with images built here, a registries.conf that mirrors the
 * upstream hosts to it, the daemon on an isolated root and socket. Everything started is stopped
 * by PID and removed at the end. When streaming specs ran, they run a second time with critest's
 * -websocket-exec/-attach/-portforward (named "... [websocket]"). Writes
 * conformance/results/<k8s>-<runtime>/ and prints a table and the closing line; exits non-zero when the ratchet (conformance/expected-failures) is broken.
 */
import { cacheDir, DEFAULT_MINOR, k8sMinor } from "../src/cri/k8s_versions.ts";
import { drainPods, removeBridge, startDaemon } from "./daemon.ts";
import { buildAndPushCritestImages, registriesConf } from "./images/critest_images.ts";
import { parseJunit, type TestResult } from "./junit.ts";
import { spawnChild } from "./process.ts";
import { judge, parseExpected } from "./ratchet.ts";
import { closingLine, groupOf, summarize, table } from "./report.ts";
import { startRegistry } from "./registry.ts";
import { checkMountLeaks, type LeakReport, mountTargets } from "./leaks.ts";

const HERE = new URL(".", import.meta.url).pathname;
const encoder = new TextEncoder();
function say(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

export interface RunArgs {
  k8s: string;
  runtime: string;
  focus?: string;
  skip?: string;
  keep: boolean;
  timeoutMin: number;
}

export function parseRunArgs(argv: string[]): RunArgs {
  const out: RunArgs = { k8s: DEFAULT_MINOR, runtime: "runc", keep: false, timeoutMin: 45 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--k8s") out.k8s = value();
    else if (flag === "--runtime") out.runtime = value();
    else if (flag === "--focus") out.focus = value();
    else if (flag === "--skip") out.skip = value();
    else if (flag === "--timeout-min") out.timeoutMin = Number(value());
    else if (flag === "--keep") out.keep = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  k8sMinor(out.k8s);
  if (!["runc", "crun"].includes(out.runtime)) {
    throw new Error(`--runtime must be runc or crun, not ${JSON.stringify(out.runtime)}`);
  }
  return out;
}

/** critest's switches that move exec, attach and port-forward from SPDY to WebSocket. */
export const WEBSOCKET_FLAGS = ["-websocket-exec", "-websocket-attach", "-websocket-portforward"];
/** Appended to the name of each spec of the WebSocket pass, for the table and the ratchet. */
export const WEBSOCKET_SUFFIX = " [websocket]";

async function runCritest(
  args: RunArgs,
  opts: {
    critest: string;
    endpoint: string;
    reportDir: string;
    logFile: string;
    extraFlags?: string[];
  },
): Promise<number> {
  const flags = [
    ...(opts.extraFlags ?? []),
    `-runtime-endpoint=${opts.endpoint}`,
    `-image-endpoint=${opts.endpoint}`,
    `-ginkgo.junit-report=${opts.reportDir}/junit.xml`,
    "-ginkgo.no-color",
    "-ginkgo.v",
  ];
  if (args.focus) flags.push(`-ginkgo.focus=${args.focus}`);
  if (args.skip) flags.push(`-ginkgo.skip=${args.skip}`);
  const child = spawnChild(opts.critest, { args: flags, logFile: opts.logFile });
  const timer = setTimeout(() => {
    say(`critest: still running after ${args.timeoutMin} min; stopping it (pid ${child.pid})`);
    void child.stop(5000);
  }, args.timeoutMin * 60_000);
  const status = await child.status;
  clearTimeout(timer);
  return status.code;
}

async function readResults(reportDir: string): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for await (const e of Deno.readDir(reportDir)) {
    if (e.name.endsWith(".xml")) {
      results.push(...parseJunit(await Deno.readTextFile(`${reportDir}/${e.name}`)));
    }
  }
  return results;
}

/**
 * The streaming specs again with exec, attach and port-forward over WebSocket (the first pass
 * uses SPDY), when the first pass ran any. Only the Streaming group's specs that ran count, each named with a suffix so that
 * the ratchet and the table tell the two transports apart.
 */
async function webSocketPass(
  args: RunArgs,
  o: { critest: string; endpoint: string; results: string; tests: TestResult[] },
): Promise<TestResult[]> {
  if (!o.tests.some((t) => groupOf(t.name) === "Streaming" && t.outcome !== "skipped")) return [];
  const reportDir = `${o.results}/junit-websocket`;
  await Deno.mkdir(reportDir, { recursive: true });
  say("critest: the streaming specs again over WebSocket");
  await runCritest({ ...args, focus: args.focus ?? "Streaming" }, {
    critest: o.critest,
    endpoint: o.endpoint,
    reportDir,
    logFile: `${o.results}/critest-websocket.log`,
    extraFlags: WEBSOCKET_FLAGS,
  });
  return (await readResults(reportDir))
    .filter((t) => groupOf(t.name) === "Streaming" && t.outcome !== "skipped")
    .map((t) => ({ ...t, name: t.name + WEBSOCKET_SUFFIX }));
}

/** Runs fn with an undo stack; every undo runs, newest first, whatever happened. */
async function withCleanup<T>(fn: (defer: (u: () => Promise<unknown>) => void) => Promise<T>) {
  const undo: (() => Promise<unknown>)[] = [];
  try {
    return await fn((u) => undo.push(u));
  } finally {
    for (const u of undo.reverse()) {
      await u().catch((err) => say(`cleanup: ${err instanceof Error ? err.message : err}`));
    }
  }
}

export async function run(args: RunArgs): Promise<boolean> {
  const pins = k8sMinor(args.k8s);
  const critest = `${cacheDir()}/cri-tools/${pins.criTools}/critest`;
  const results = `${HERE}results/${args.k8s}-${args.runtime}`;
  await Deno.remove(results, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${results}/junit`, { recursive: true });
  const started = performance.now();
  let leaks: LeakReport = { removedCritest: 0, leaked: [] };
  const summary = await withCleanup(async (defer) => {
    const mountsBefore = await mountTargets();
    const dir = await Deno.makeTempDir({ prefix: "crio-conformance-" });
    // Undos run newest first: the directory goes last, and only when nothing is left mounted in
    // it; the leak check runs just before, after the daemon and its pods are gone.
    if (!args.keep) {
      defer(async () => {
        if (leaks.leaked.length === 0) await Deno.remove(dir, { recursive: true });
        else say(`cleanup: ${dir} kept: mounts are still in it`);
      });
    }
    defer(async () => (leaks = await checkMountLeaks(mountsBefore, { daemonDir: dir })));
    defer(() => Deno.copyFile(`${dir}/daemon.log`, `${results}/daemon.log`).catch(() => {}));
    const registry = await startRegistry();
    defer(() => registry.stop());
    const images = await buildAndPushCritestImages({
      registry: registry.host,
      critestVersion: pins.criTools,
    });
    const confPath = `${dir}/registries.conf`;
    await Deno.writeTextFile(confPath, registriesConf(images.hosts, registry.host));
    say(`registry ${registry.host}: ${images.images.length} images pushed`);
    const daemon = await startDaemon(dir, {
      runtime: args.runtime,
      k8s: args.k8s,
      registriesConf: confPath,
    });
    defer(() => removeBridge());
    defer(() => daemon.child.stop(15_000));
    defer(async () => {
      const left = await drainPods(
        daemon.endpoint,
        `${cacheDir()}/cri-tools/${pins.criTools}/crictl`,
      );
      if (left) say(`cleanup: removed ${left} pod(s) critest left behind`);
    });
    say(
      `daemon pid ${daemon.child.pid} on ${daemon.socket}; critest ${pins.criTools} (k8s ${args.k8s}, ${args.runtime})`,
    );
    const code = await runCritest(args, {
      critest,
      endpoint: daemon.endpoint,
      reportDir: `${results}/junit`,
      logFile: `${results}/critest.log`,
    });
    const tests = await readResults(`${results}/junit`);
    if (tests.length === 0) {
      throw new Error(`critest exited ${code} and reported no test; see ${results}/critest.log`);
    }
    tests.push(
      ...await webSocketPass(args, { critest, endpoint: daemon.endpoint, results, tests }),
    );
    const expected = parseExpected(await Deno.readTextFile(`${HERE}expected-failures`));
    const verdict = judge(tests, expected, args);
    const summary = summarize(tests, verdict, {
      k8s: args.k8s,
      runtime: args.runtime,
      critest: pins.criTools,
      seconds: Math.round((performance.now() - started) / 1000),
    });
    const tbl = table(tests, verdict);
    await Deno.writeTextFile(`${results}/table.md`, tbl + "\n");
    say(tbl);
    return summary;
  });
  if (leaks.removedCritest) say(`cleanup: unmounted ${leaks.removedCritest} mount(s) critest left`);
  for (const m of leaks.leaked) {
    summary.problems.push(`leaked mount after the daemon stopped: ${m}`);
    summary.failed++;
    summary.ratchetOk = false;
  }
  await Deno.writeTextFile(`${results}/summary.json`, JSON.stringify(summary, null, 2) + "\n");
  for (const p of summary.problems) say(`  ${p}`);
  say(closingLine(summary));
  return summary.ratchetOk;
}

if (import.meta.main) {
  let ok = false;
  try {
    ok = await run(parseRunArgs(Deno.args));
  } catch (err) {
    say(`conformance: ${err instanceof Error ? err.stack ?? err.message : err}`);
  }
  Deno.exit(ok ? 0 : 1);
}
