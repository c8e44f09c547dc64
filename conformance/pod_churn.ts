/**
 * deno run -A conformance/pod_churn.ts [--runtime runc|crun] [--rounds 3] [--pods 110]
 *
 * The daemon's memory under pod churn (issue #7: RSS ≤ 160 MiB with 110 pods): a daemon under
 * the harness's isolated set-up, then rounds of N pods with one busybox container each, created
 * 10 at a time, listed, and removed. RSS is read with the pods up and a few seconds after they
 * are gone, so growth from round to round shows. Prints the figures; everything started is
 * stopped by PID and removed.
 */
import { cacheDir, DEFAULT_MINOR, k8sMinor } from "../src/cri/k8s_versions.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { buildAndPushCritestImages, registriesConf } from "./images/critest_images.ts";
import { drainPods, removeBridge, startDaemon } from "./daemon.ts";
import { startRegistry } from "./registry.ts";
import { jsMemory } from "./stream_soak.ts";

const BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
const WIDTH = 10;

function say(s: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
}

function parseArgs(argv: string[]) {
  const o = { runtime: "runc", rounds: 3, pods: 110, k8s: DEFAULT_MINOR };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--runtime") o.runtime = value();
    else if (flag === "--rounds") o.rounds = Number(value());
    else if (flag === "--pods") o.pods = Number(value());
    else if (flag === "--k8s") o.k8s = value();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
}

async function inBatches<T, R>(items: T[], fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += WIDTH) {
    out.push(...await Promise.all(items.slice(i, i + WIDTH).map(fn)));
  }
  return out;
}

async function podUp(cri: CriTestClient, n: number): Promise<string> {
  const config = {
    metadata: { name: `churn-${n}`, uid: `churn-uid-${n}`, namespace: "churn" },
    linux: {},
  };
  const pod = await cri.call<{ podSandboxId: string }>("RuntimeService", "RunPodSandbox", {
    config,
  });
  const c = await cri.call<{ containerId: string }>("RuntimeService", "CreateContainer", {
    podSandboxId: pod.podSandboxId,
    config: { metadata: { name: "c" }, image: { image: BUSYBOX }, command: ["sleep", "3600"] },
    sandboxConfig: config,
  });
  await cri.call("RuntimeService", "StartContainer", { containerId: c.containerId });
  return pod.podSandboxId;
}

async function podDown(cri: CriTestClient, id: string): Promise<void> {
  await cri.call("RuntimeService", "StopPodSandbox", { podSandboxId: id });
  await cri.call("RuntimeService", "RemovePodSandbox", { podSandboxId: id });
}

async function churn(
  cri: CriTestClient,
  o: { pid: number; metricsPort: number; rounds: number; pods: number },
) {
  const mib = async () => {
    const js = await jsMemory(o.metricsPort);
    const m = (kib?: number) => kib === undefined ? "?" : (kib / 1024).toFixed(1);
    return `${(await rssMiB(o.pid)).toFixed(1)} (heap ${m(js.heapKiB)}, ext ${m(js.externalKiB)})`;
  };
  say(`fresh: RSS ${await mib()} MiB`);
  for (let r = 1; r <= o.rounds; r++) {
    const t0 = performance.now();
    const ids = await inBatches([...Array(o.pods).keys()], (n) => podUp(cri, n));
    const up = await mib();
    for (let i = 0; i < 20; i++) await cri.call("RuntimeService", "ListContainers", {});
    await new Promise((res) => setTimeout(res, 3000));
    const upLater = await mib();
    await inBatches(ids, (id) => podDown(cri, id));
    const down = await mib();
    await new Promise((res) => setTimeout(res, 3000));
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    say(
      `round ${r} (${secs}s): ${o.pods} pods up ${up} MiB, 3 s later ${upLater}; ` +
        `all removed ${down}, 3 s later ${await mib()}`,
    );
  }
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const pins = k8sMinor(args.k8s);
  const crictl = `${cacheDir()}/cri-tools/${pins.criTools}/crictl`;
  const undo: (() => Promise<unknown>)[] = [];
  const dir = await Deno.makeTempDir({ prefix: "crio-churn-" });
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
    const cri = new CriTestClient(daemon.socket, loadSchema(args.k8s));
    undo.push(() => Promise.resolve(cri.close()));
    await cri.call("ImageService", "PullImage", { image: { image: BUSYBOX } });
    await churn(cri, {
      pid: daemon.child.pid,
      metricsPort: daemon.metricsPort,
      rounds: args.rounds,
      pods: args.pods,
    });
  } finally {
    for (const u of undo.reverse()) await u().catch((e) => say(`cleanup: ${e}`));
  }
}

if (import.meta.main) await main();
