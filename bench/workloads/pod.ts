/**
 * (b) one pod at a time, N rounds, the runtimes alternating within each round:
 * b-pod: RunPodSandbox, then StopPodSandbox+RemovePodSandbox; with the CPU each lifecycle cost
 * (f), split into the daemon, the helpers it reaped (CNI plugins, unshare/mount, shim start-up),
 * the monitors (shims; conmon) and the OCI runtime (the monitors' reaped children).
 * b-ctr: the same with one busybox container created and started in the pod.
 */
import {
  cpuSample,
  createStartContainer,
  ensureImage,
  monitorCpu,
  podConfig,
  runPod,
  stopRemovePod,
  type Target,
  timed,
} from "../target.ts";
import { alternate, row, Samples, type WorkloadContext, type WorkloadResult } from "./common.ts";

const CPU_PARTS = [
  "daemon",
  "helpers (CNI plugins, ns tools, shim start)",
  "monitors",
  "OCI runtime",
];

async function podRound(t: Target, s: Samples): Promise<void> {
  const config = podConfig("bench-pod");
  const before = await cpuSample(t);
  const [runMs, id] = await timed(() => runPod(t, config));
  // Sampled while the pod's monitor is alive: a shim's CPU is lost once it exits.
  const mon = await monitorCpu(t);
  const [stopMs] = await timed(() => stopRemovePod(t, id));
  const after = await cpuSample(t);
  s.add("RunPodSandbox", t.name, runMs);
  s.add("StopPodSandbox+RemovePodSandbox", t.name, stopMs);
  s.add("pod lifecycle", t.name, runMs + stopMs);
  const parts = [
    after.daemon - before.daemon,
    after.helpers - before.helpers,
    mon.monitors,
    mon.runtime,
  ];
  parts.forEach((v, i) => s.add(`cpu ${CPU_PARTS[i]}`, t.name, v * 1000));
  s.add("cpu total", t.name, parts.reduce((a, b) => a + b, 0) * 1000);
}

export async function podLifecycle(ctx: WorkloadContext): Promise<WorkloadResult> {
  const s = new Samples();
  for (let i = 0; i < ctx.iterations; i++) {
    for (const t of alternate(ctx.targets, i)) await podRound(t, s);
  }
  const w = "b-pod";
  const rows = [
    row({ workload: w, metric: "RunPodSandbox", unit: "ms" }, s.get("RunPodSandbox")),
    row(
      { workload: w, metric: "StopPodSandbox+RemovePodSandbox", unit: "ms" },
      s.get("StopPodSandbox+RemovePodSandbox"),
    ),
    row(
      { workload: w, metric: "pod lifecycle (run+stop+remove)", unit: "ms", target: "≤ 0.7×" },
      s.get("pod lifecycle"),
    ),
    ...CPU_PARTS.map((p) =>
      row(
        { workload: "f", metric: `CPU per pod lifecycle: ${p}`, unit: "cpu-ms" },
        s.get(`cpu ${p}`),
      )
    ),
    row(
      { workload: "f", metric: "CPU per pod lifecycle: total", unit: "cpu-ms" },
      s.get("cpu total"),
    ),
  ];
  const notes = [
    `b-pod: ${ctx.iterations} rounds, runtimes alternating first place each round. CPU from ` +
    "/proc/PID/stat in clock ticks (10 ms), so per-lifecycle medians are coarse; a monitor's CPU " +
    "is read before StopPodSandbox (what it spends stopping is not counted).",
  ];
  return { rows, notes };
}

const CTR_METRICS = [
  "RunPodSandbox",
  "CreateContainer+StartContainer",
  "StopPodSandbox+RemovePodSandbox",
] as const;

async function ctrRound(t: Target, o: { s: Samples; image: string }): Promise<void> {
  const { s, image } = o;
  const config = podConfig("bench-ctr");
  const [runMs, id] = await timed(() => runPod(t, config));
  try {
    const [ctrMs] = await timed(() =>
      createStartContainer(t, { podId: id, podConfig: config, name: "busybox", image })
    );
    s.add("CreateContainer+StartContainer", t.name, ctrMs);
  } finally {
    const [stopMs] = await timed(() => stopRemovePod(t, id));
    s.add("RunPodSandbox", t.name, runMs);
    s.add("StopPodSandbox+RemovePodSandbox", t.name, stopMs);
  }
}

export async function containerLifecycle(ctx: WorkloadContext): Promise<WorkloadResult> {
  const s = new Samples();
  const able = ctx.targets.filter((t) => !t.containerSkip);
  for (const t of ctx.targets) {
    if (t.containerSkip) {
      for (const m of [...CTR_METRICS]) {
        s.add(m, t.name, t.containerSkip);
      }
    }
  }
  for (const t of able) await ensureImage(t, ctx.busybox);
  for (let i = 0; i < ctx.iterations; i++) {
    for (const t of alternate(able, i)) await ctrRound(t, { s, image: ctx.busybox });
  }
  const w = "b-ctr";
  const rows = [
    row({ workload: w, metric: "RunPodSandbox (pod for one container)", unit: "ms" }, {
      ...s.get(CTR_METRICS[0]),
    }),
    row(
      { workload: w, metric: "CreateContainer+StartContainer (busybox)", unit: "ms" },
      s.get(CTR_METRICS[1]),
    ),
    row(
      { workload: w, metric: "StopPodSandbox+RemovePodSandbox (1 container)", unit: "ms" },
      s.get(CTR_METRICS[2]),
    ),
  ];
  return { rows, notes: [] };
}
