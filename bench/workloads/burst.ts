/**
 * (c) 110 pods (the kubelet's default maximum) created 10 at a time, then all removed 10 at a
 * time; meanwhile (e) ListPodSandbox and ListContainers with every pod (and 3 containers per pod)
 * present, (d) ExecSync `true` in one of them, and (f) the daemon's and monitors' RSS idle and
 * with every pod present. One runtime after the other: 110 pods of both at once would measure
 * each under the other's load.
 */
import type { RuntimeName } from "../report.ts";
import { readMem, sumKiB } from "../procfs.ts";
import {
  cpuSample,
  createStartContainer,
  ensureImage,
  inBatches,
  monitorCpu,
  podConfig,
  rt,
  runPod,
  stopRemovePod,
  type Target,
  timed,
} from "../target.ts";
import { KiB_PER_MiB, row, Samples, type WorkloadContext, type WorkloadResult } from "./common.ts";

const WIDTH = 10;
const CALLS = 200;
/** Direct runtime execs: fewer, they only set the floor under ExecSync. */
const DIRECT_CALLS = 50;
const CONTAINERS_PER_POD = 3;

interface Pod {
  id: string;
  config: Record<string, unknown>;
}

async function startPods(t: Target, o: { ctx: WorkloadContext; s: Samples }): Promise<Pod[]> {
  const configs = Array.from({ length: o.ctx.pods }, () => podConfig("bench-burst"));
  const before = await cpuSample(t);
  const [totalMs, pods] = await timed(() =>
    inBatches(configs, {
      width: WIDTH,
      fn: async (config) => {
        const [ms, id] = await timed(() => runPod(t, config));
        o.s.add("pod start", t.name, ms);
        return { id, config };
      },
    })
  );
  const after = await cpuSample(t);
  const mon = await monitorCpu(t);
  const n = pods.length;
  o.s.add("burst total", t.name, totalMs / 1000);
  o.s.add("cpu daemon", t.name, ((after.daemon - before.daemon) / n) * 1000);
  o.s.add("cpu helpers", t.name, ((after.helpers - before.helpers) / n) * 1000);
  o.s.add("cpu monitors", t.name, ((mon.monitors + mon.runtime) / n) * 1000);
  return pods;
}

async function repeatCall(
  t: Target,
  o: { s: Samples; metric: string; method: string; req?: Record<string, unknown> },
): Promise<void> {
  for (let i = 0; i < CALLS; i++) {
    const [ms] = await timed(() => rt(t, o.method, o.req ?? {}));
    o.s.add(o.metric, t.name, ms);
  }
}

/**
 * A List call timed until its last byte has arrived, not decoded: protobufjs in this client takes
 * ~4 ms to decode 330 containers, which neither daemon's answer includes (the kubelet decodes in
 * Go). One decoded call afterwards checks that the list holds every item.
 */
async function repeatList(
  t: Target,
  o: { s: Samples; method: "ListPodSandbox" | "ListContainers"; want: number },
): Promise<void> {
  for (let i = 0; i < CALLS; i++) {
    const [ms] = await timed(() => t.client.callRaw("RuntimeService", o.method, {}));
    o.s.add(o.method, t.name, ms);
  }
  const res = await rt(t, o.method);
  const items = (o.method === "ListPodSandbox" ? res.items : res.containers) as unknown[];
  if (items.length < o.want) {
    throw new Error(`${t.name}: ${o.method} listed ${items.length} of ${o.want}`);
  }
}

/**
 * The floor under ExecSync: the same `true` through the OCI runtime's own `exec`, run by the bench
 * itself (no daemon, no monitor). ExecSync minus this is what the daemon and its monitor add.
 */
async function directExec(t: Target, o: { s: Samples; containerId: string }): Promise<void> {
  const { binary, root } = t.ociRuntime;
  for (let i = 0; i < DIRECT_CALLS; i++) {
    const [ms, out] = await timed(() =>
      new Deno.Command(binary, {
        args: ["--root", root, "exec", o.containerId, "true"],
        stdout: "null",
        stderr: "piped",
      }).output()
    );
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim();
      throw new Error(`${binary} exec in ${t.name}'s container ${o.containerId}: ${why}`);
    }
    o.s.add("runtime exec", t.name, ms);
  }
}

async function memory(t: Target, o: { s: Samples; label: string; perContainer?: number }) {
  const monitors = await t.monitors();
  const mem = await readMem([t.pid, ...monitors]);
  const daemon = sumKiB(mem, [t.pid]) / KiB_PER_MiB;
  const mons = sumKiB(mem, monitors) / KiB_PER_MiB;
  o.s.add(`rss daemon ${o.label}`, t.name, daemon);
  o.s.add(`rss monitors ${o.label}`, t.name, mons);
  o.s.add(`rss node ${o.label}`, t.name, daemon + mons);
  if (o.perContainer) o.s.add("rss per container", t.name, mons / o.perContainer);
}

async function startContainers(t: Target, o: { ctx: WorkloadContext; s: Samples; pods: Pod[] }) {
  await ensureImage(t, o.ctx.busybox);
  const work = o.pods.flatMap((p) =>
    Array.from({ length: CONTAINERS_PER_POD }, (_, i) => ({ ...p, name: `c${i}` }))
  );
  const [totalMs, ids] = await timed(() =>
    inBatches(work, {
      width: WIDTH,
      fn: async (w) => {
        const [ms, id] = await timed(() =>
          createStartContainer(t, {
            podId: w.id,
            podConfig: w.config,
            name: w.name,
            image: o.ctx.busybox,
          })
        );
        o.s.add("container start", t.name, ms);
        return id;
      },
    })
  );
  o.s.add("containers total", t.name, totalMs / 1000);
  return ids;
}

async function burstOne(t: Target, o: { ctx: WorkloadContext; s: Samples }): Promise<void> {
  const { ctx, s } = o;
  await memory(t, { s, label: "idle" });
  const pods = await startPods(t, o);
  try {
    await memory(t, { s, label: "pods" });
    await repeatList(t, { s, method: "ListPodSandbox", want: pods.length });
    if (t.containerSkip) return;
    const ids = await startContainers(t, { ...o, pods });
    await memory(t, { s, label: "containers", perContainer: ids.length });
    await repeatList(t, { s, method: "ListContainers", want: ids.length });
    await repeatCall(t, {
      s,
      metric: "ExecSync",
      method: "ExecSync",
      req: { containerId: ids[0], cmd: ["true"], timeout: 10 },
    });
    await directExec(t, { s, containerId: ids[0] });
  } finally {
    const [ms] = await timed(() =>
      inBatches(pods, { width: WIDTH, fn: (p) => stopRemovePod(t, p.id) })
    );
    s.add("remove total", t.name, ms / 1000);
    ctx.log(`  ${t.name}: ${pods.length} pods up and down`);
  }
}

export async function burst(ctx: WorkloadContext): Promise<WorkloadResult> {
  const s = new Samples();
  for (const t of ctx.targets) {
    await burstOne(t, { ctx, s });
    if (t.containerSkip) {
      for (const m of CONTAINER_METRICS) s.add(m, t.name, t.containerSkip);
    }
    const fresh = ctx.idleRssKiB[t.name];
    if (fresh !== undefined) s.add("rss daemon fresh", t.name, fresh / KiB_PER_MiB);
  }
  return { rows: burstRows(ctx, s), notes: burstNotes(ctx) };
}

const CONTAINER_METRICS = [
  "container start",
  "containers total",
  "ListContainers",
  "ExecSync",
  "runtime exec",
  "rss per container",
  "rss node containers",
];

function burstRows(ctx: WorkloadContext, s: Samples) {
  const n = ctx.pods;
  const c = n * CONTAINERS_PER_POD;
  const r = (
    workload: string,
    metric: string,
    key: string,
    more: { unit: "ms" | "s" | "MiB" | "cpu-ms"; target?: string },
  ) => row({ workload, metric, ...more }, s.get(key));
  return [
    r("c", `${n} pods, ${WIDTH} at a time: total`, "burst total", { unit: "s", target: "≤ 0.7×" }),
    r("c", "RunPodSandbox in the burst", "pod start", { unit: "ms" }),
    r("c", `remove ${n} pods, ${WIDTH} at a time: total`, "remove total", { unit: "s" }),
    r("c", `${c} containers, ${WIDTH} at a time: total`, "containers total", { unit: "s" }),
    r("c", "CreateContainer+StartContainer in the burst", "container start", { unit: "ms" }),
    r("d", `ExecSync true ×${CALLS} (${n} pods, ${c} containers)`, "ExecSync", {
      unit: "ms",
      target: "≤ 0.8×",
    }),
    r("d", `the same \`true\` by the OCI runtime's exec alone ×${DIRECT_CALLS}`, "runtime exec", {
      unit: "ms",
    }),
    r("e", `ListPodSandbox ×${CALLS}, ${n} pods`, "ListPodSandbox", {
      unit: "ms",
      target: "p99 ≤ 5 ms",
    }),
    r("e", `ListContainers ×${CALLS}, ${c} containers`, "ListContainers", {
      unit: "ms",
      target: "p99 ≤ 5 ms",
    }),
    r("f", "daemon RSS, fresh start", "rss daemon fresh", { unit: "MiB", target: "≤ 64 MiB" }),
    r("f", "daemon RSS, idle before the burst", "rss daemon idle", {
      unit: "MiB",
      target: "≤ 64 MiB",
    }),
    r("f", `daemon RSS, ${n} pods`, "rss daemon pods", { unit: "MiB", target: "≤ 160 MiB" }),
    r("f", `monitors RSS, ${n} pods`, "rss monitors pods", { unit: "MiB" }),
    r("f", `node overhead (daemon + monitors), ${n} pods`, "rss node pods", {
      unit: "MiB",
      target: "≤ 0.2×",
    }),
    r("f", `node overhead, ${n} pods + ${c} containers`, "rss node containers", { unit: "MiB" }),
    r("f", "monitor RSS per container", "rss per container", { unit: "MiB" }),
    r("f", "CPU per pod start in the burst: daemon", "cpu daemon", { unit: "cpu-ms" }),
    r("f", "CPU per pod start in the burst: helpers", "cpu helpers", { unit: "cpu-ms" }),
    r("f", "CPU per pod start in the burst: monitors + OCI runtime", "cpu monitors", {
      unit: "cpu-ms",
    }),
  ];
}

function burstNotes(ctx: WorkloadContext): string[] {
  const names = (pred: (t: Target) => boolean): RuntimeName[] =>
    ctx.targets.filter(pred).map((t) => t.name);
  const skipped = names((t) => t.containerSkip !== undefined);
  return [
    `c/e/f: one runtime after the other (${names(() => true).join(", ")}); pods created in ` +
    `batches of ${WIDTH}; RSS is VmRSS from /proc; monitors are containerd's shims (one per pod) ` +
    "and this daemon's conmon processes (one per container).",
    "e: each List call is timed until its response has fully arrived; the bench client does not " +
    "decode it (protobufjs here takes ~4 ms for 330 containers, the kubelet decodes in Go).",
    ...(skipped.length
      ? [`container rows skipped for ${skipped.join(", ")}: CreateContainer answers UNIMPLEMENTED.`]
      : []),
  ];
}
