/**
 * deno run -A conformance/pod_churn.ts [--runtime runc|crun] [--rounds 3] [--pods 110]
 *   [--containers 1] [--list-calls 0]
 *
 * The daemon's memory under pod churn (issue #7: RSS ≤ 160 MiB with 110 pods): a daemon under
 * the harness's isolated set-up, then rounds of N pods with busybox containers, created 10 at a
 * time, listed, and removed. RSS is read with the pods up and a few seconds after they are gone,
 * so growth from round to round shows. With --list-calls, each round also times that many
 * Version, ListPodSandbox and ListContainers calls from a Go client (bench/cri_list) and prints
 * them beside the daemon's own latency quantiles for the same calls (from its metrics), which
 * leave out gRPC transport and encoding. Prints the figures; everything started is stopped by
 * PID and removed.
 */
import { DEFAULT_MINOR } from "../src/cri/k8s_versions.ts";
import type { CriTestClient } from "../src/testing/cri_client.ts";
import { withToolDaemon } from "./tool_daemon.ts";
import { jsMemory } from "./stream_soak.ts";
import { buildListClient, goList } from "../bench/go_list.ts";

const BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
const WIDTH = 10;

function say(s: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
}

function parseArgs(argv: string[]) {
  const o = {
    runtime: "runc",
    rounds: 3,
    pods: 110,
    containers: 1,
    listCalls: 0,
    k8s: DEFAULT_MINOR,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--runtime") o.runtime = value();
    else if (flag === "--rounds") o.rounds = Number(value());
    else if (flag === "--pods") o.pods = Number(value());
    else if (flag === "--containers") o.containers = Number(value());
    else if (flag === "--list-calls") o.listCalls = Number(value());
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

async function podUp(cri: CriTestClient, o: { n: number; containers: number }): Promise<string> {
  const n = o.n;
  const config = {
    metadata: { name: `churn-${n}`, uid: `churn-uid-${n}`, namespace: "churn" },
    linux: {},
  };
  const pod = await cri.call<{ podSandboxId: string }>("RuntimeService", "RunPodSandbox", {
    config,
  });
  for (let k = 0; k < o.containers; k++) {
    const c = await cri.call<{ containerId: string }>("RuntimeService", "CreateContainer", {
      podSandboxId: pod.podSandboxId,
      config: {
        metadata: { name: `c${k}` },
        image: { image: BUSYBOX },
        command: ["sleep", "3600"],
      },
      sandboxConfig: config,
    });
    await cri.call("RuntimeService", "StartContainer", { containerId: c.containerId });
  }
  return pod.podSandboxId;
}

async function podDown(cri: CriTestClient, id: string): Promise<void> {
  await cri.call("RuntimeService", "StopPodSandbox", { podSandboxId: id });
  await cri.call("RuntimeService", "RemovePodSandbox", { podSandboxId: id });
}

/** The daemon's own quantiles for one RPC, in ms (its metrics summary, handler time only). */
async function daemonQuantiles(metricsPort: number, method: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: metricsPort });
  await conn.write(new TextEncoder().encode("GET /metrics HTTP/1.0\r\n\r\n"));
  const text = await new Response(conn.readable).text();
  const re = new RegExp(
    `^\\w+operations_latency_seconds_total\\{quantile="([\\d.]+)",operation="[^"]*/${method}"\\} (\\S+)$`,
    "gm",
  );
  return [...text.matchAll(re)].map((m) =>
    `p${Number(m[1]) * 100} ${(Number(m[2]) * 1000).toFixed(2)}`
  )
    .join(", ");
}

/** Round trips from a Go client like the kubelet's (bench/cri_list), against the daemon's view. */
async function timeCalls(
  o: {
    socket: string;
    method: "Version" | "ListPodSandbox" | "ListContainers";
    calls: number;
    metricsPort: number;
  },
): Promise<string> {
  const bin = await buildListClient(say);
  const ms = (await goList(bin, o)).arrivedMs;
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)].toFixed(2);
  return `  ${o.method} ×${o.calls}: round trip p50 ${at(0.5)} ms, p99 ${at(0.99)}; ` +
    `in the daemon ${await daemonQuantiles(o.metricsPort, o.method)}`;
}

const LISTED = ["Version", "ListPodSandbox", "ListContainers"] as const;

async function churn(
  cri: CriTestClient,
  o: {
    socket: string;
    pid: number;
    metricsPort: number;
    rounds: number;
    pods: number;
    containers: number;
    listCalls: number;
  },
) {
  const mib = async () => {
    const js = await jsMemory(o.metricsPort);
    const m = (kib?: number) => kib === undefined ? "?" : (kib / 1024).toFixed(1);
    return `${(await rssMiB(o.pid)).toFixed(1)} (heap ${m(js.heapKiB)}, ext ${m(js.externalKiB)})`;
  };
  say(`fresh: RSS ${await mib()} MiB`);
  for (let r = 1; r <= o.rounds; r++) {
    const t0 = performance.now();
    const ids = await inBatches([...Array(o.pods).keys()], (n) => podUp(cri, { ...o, n }));
    const up = await mib();
    for (let i = 0; i < 20; i++) await cri.call("RuntimeService", "ListContainers", {});
    for (const m of o.listCalls ? LISTED : []) {
      say(await timeCalls({ ...o, method: m, calls: o.listCalls }));
    }
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
  await withToolDaemon({ ...args, prefix: "crio-churn-" }, async ({ daemon, cri }) => {
    await cri.call("ImageService", "PullImage", { image: { image: BUSYBOX } });
    await churn(cri, {
      socket: daemon.socket,
      pid: daemon.child.pid,
      metricsPort: daemon.metricsPort,
      rounds: args.rounds,
      pods: args.pods,
      containers: args.containers,
      listCalls: args.listCalls,
    });
  });
}

if (import.meta.main) await main();
