/**
 * (c) 110 pods (the kubelet's default maximum) created 10 at a time, then all removed 10 at a
 * time; meanwhile (e) ListPodSandbox and ListContainers with every pod (and 3 containers per pod)
 * present, (d) ExecSync `true` in one of them, and (f) the daemon's and monitors' RSS idle and
 * with every pod present. One runtime after the other: 110 pods of both at once would measure
 * each under the other's load.
 */
import type { RuntimeName } from "../report.ts";
import { buildListClient, goList } from "../go_list.ts";
import { type ListedFloor, listFloorNote, listFloorRows, withListFloor } from "../list_floor.ts";
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
import { execRounds } from "./exec_rounds.ts";

const WIDTH = 10;
const CALLS = 200;
/** Direct runtime execs: fewer, they only set the floor under ExecSync. */
const DIRECT_CALLS = 50;
const CONTAINERS_PER_POD = 3;
/**
 * List calls start this long after the last container started, for either runtime. A node
 * that has just started 330 containers is busy for seconds (the kernel, the daemons' collections):
 * in a trial run the daemon's p99 was 11-28 ms in the first 5 s and 7.9 ~10 s after, containerd's
 * 11-23 ms throughout. The kubelet lists every second for as long as the containers live.
 */
const LIST_SETTLE_MS = 10_000;
/** List calls to the daemon and to its floor alternate in blocks, so both meet the same node. */
const LIST_BLOCKS = 4;

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

async function repeatCall(t: Target, o: { s: Samples; metric: string; method: string }) {
  for (let i = 0; i < CALLS; i++) {
    const [ms] = await timed(() => rt(t, o.method, {}));
    o.s.add(o.metric, t.name, ms);
  }
}

/**
 * List calls made by bench/cri_list, a Go client like the kubelet's (see go_list.ts): the
 * grpc-js client's own tail is larger than the 5 ms target.
 */
async function repeatList(
  t: Target,
  o: {
    ctx: WorkloadContext;
    s: Samples;
    method: "ListPodSandbox" | "ListContainers";
    want: number;
    calls?: number;
  },
): Promise<void> {
  const bin = await buildListClient(o.ctx.log);
  const res = await goList(bin, { socket: t.socket, method: o.method, calls: o.calls ?? CALLS });
  if (res.items < o.want) {
    throw new Error(`${t.name}: ${o.method} listed ${res.items} of ${o.want}`);
  }
  for (const ms of res.arrivedMs) o.s.add(o.method, t.name, ms);
  for (const ms of res.ms) o.s.add(`${o.method} decoded`, t.name, ms);
}

/** Both List calls, each alternating with the floor's in blocks. */
async function listsWithFloor(
  t: Target,
  o: { ctx: WorkloadContext; s: Samples; floor: ListedFloor; want: ListWant },
): Promise<void> {
  const calls = CALLS / LIST_BLOCKS;
  for (let b = 0; b < LIST_BLOCKS; b++) {
    for (const method of ["ListPodSandbox", "ListContainers"] as const) {
      await repeatList(t, { ...o, method, want: o.want[method], calls });
      await o.floor.list(method, calls);
    }
  }
}

type ListWant = Record<"ListPodSandbox" | "ListContainers", number>;

/**
 * (e), once every pod and container is up and LIST_SETTLE_MS has passed, for either runtime;
 * this daemon's calls alternate with its floor's.
 */
async function lists(t: Target, o: { ctx: WorkloadContext; s: Samples; want: ListWant }) {
  const listAt = Date.now() + LIST_SETTLE_MS;
  const settle = () => new Promise((r) => setTimeout(r, Math.max(0, listAt - Date.now())));
  if (t.name !== "crio-deno") {
    await settle();
    for (const method of ["ListPodSandbox", "ListContainers"] as const) {
      await repeatList(t, { ...o, method, want: o.want[method] });
    }
    return;
  }
  await withListFloor(t, o, async (floor) => {
    await settle();
    await listsWithFloor(t, { ...o, floor });
  });
}

async function memory(t: Target, o: { s: Samples; label: string; perContainer?: number }) {
  const monitors = await t.monitors();
  const mem = await readMem([t.pid, ...monitors]);
  const daemon = sumKiB(mem, [t.pid]) / KiB_PER_MiB;
  const mons = sumKiB(mem, monitors) / KiB_PER_MiB;
  o.s.add(`rss daemon ${o.label}`, t.name, daemon);
  o.s.add(`anon daemon ${o.label}`, t.name, (mem.get(t.pid)?.anonKiB ?? 0) / KiB_PER_MiB);
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
    if (t.containerSkip) {
      await repeatList(t, { ctx, s, method: "ListPodSandbox", want: pods.length });
      return;
    }
    const ids = await startContainers(t, { ...o, pods });
    await memory(t, { s, label: "containers", perContainer: ids.length });
    await lists(t, { ctx, s, want: { ListPodSandbox: pods.length, ListContainers: ids.length } });
    // What any unary call costs through the same client: ExecSync's share that is not exec.
    await repeatCall(t, { s, metric: "Version", method: "Version" });
    await execRounds(t, { ctx, s, containerId: ids[0], calls: CALLS, floorCalls: DIRECT_CALLS });
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
  const order = [...ctx.targets].sort((a, b) =>
    Number(b.name === ctx.burstFirst) - Number(a.name === ctx.burstFirst)
  );
  for (const t of order) {
    await burstOne(t, { ctx, s });
    if (t.containerSkip) {
      for (const m of CONTAINER_METRICS) s.add(m, t.name, t.containerSkip);
    }
    const fresh = ctx.idleMem[t.name];
    if (fresh) {
      s.add("rss daemon fresh", t.name, fresh.rssKiB / KiB_PER_MiB);
      s.add("anon daemon fresh", t.name, fresh.anonKiB / KiB_PER_MiB);
      s.add("file daemon fresh", t.name, (fresh.rssKiB - fresh.anonKiB) / KiB_PER_MiB);
    }
    if (t.name === "crio-deno" && ctx.profiledMem) {
      s.add("rss daemon fresh profiled", t.name, ctx.profiledMem.rssKiB / KiB_PER_MiB);
    }
  }
  return { rows: burstRows(ctx, s), notes: burstNotes(ctx) };
}

const CONTAINER_METRICS = [
  "container start",
  "containers total",
  "ListContainers",
  "ListContainers decoded",
  "Version",
  "ExecSync",
  "runtime exec",
  "conmon exec",
  "exec share",
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
    r("d", `Version ×${CALLS} through the same client (a call that does nothing)`, "Version", {
      unit: "ms",
    }),
    r("d", `the same \`true\` by the OCI runtime's exec alone ×${DIRECT_CALLS}`, "runtime exec", {
      unit: "ms",
    }),
    r(
      "d",
      `the same \`true\` by \`conmon -e --sync\` and the runtime ×${DIRECT_CALLS}`,
      "conmon exec",
      { unit: "ms" },
    ),
    r("d", "ExecSync minus the conmon exec right after it (paired)", "exec share", { unit: "ms" }),
    r("e", `ListPodSandbox ×${CALLS}, ${n} pods`, "ListPodSandbox", {
      unit: "ms",
      target: "p99 ≤ 5 ms",
    }),
    r("e", `ListContainers ×${CALLS}, ${c} containers`, "ListContainers", {
      unit: "ms",
      target: "p99 ≤ 5 ms",
    }),
    ...listFloorRows(s),
    r("e", "ListPodSandbox, decoded by the Go client too", "ListPodSandbox decoded", {
      unit: "ms",
    }),
    r("e", "ListContainers, decoded by the Go client too", "ListContainers decoded", {
      unit: "ms",
    }),
    r("f", "daemon RSS, fresh start (not profiled)", "rss daemon fresh", {
      unit: "MiB",
      target: "≤ 64 MiB",
    }),
    r(
      "f",
      "daemon RSS, fresh start under --cpu-prof (the run later RSS rows read)",
      "rss daemon fresh profiled",
      {
        unit: "MiB",
      },
    ),
    r("f", "daemon RSS, fresh start: anonymous (heaps, stacks)", "anon daemon fresh", {
      unit: "MiB",
    }),
    r(
      "f",
      "daemon RSS, fresh start: mapped files (its binary's code and data)",
      "file daemon fresh",
      {
        unit: "MiB",
      },
    ),
    r(
      "f",
      "a bare CriServer's RSS, fresh (Deno, grpc-js, the CRI schema, FFI)",
      "rss floor fresh",
      {
        unit: "MiB",
      },
    ),
    r("f", "a bare CriServer's RSS, fresh: anonymous", "anon floor fresh", { unit: "MiB" }),
    r("f", "daemon RSS, idle before the burst", "rss daemon idle", {
      unit: "MiB",
      target: "≤ 64 MiB",
    }),
    r("f", `daemon RSS, ${n} pods`, "rss daemon pods", { unit: "MiB", target: "≤ 160 MiB" }),
    r("f", `daemon RSS, ${n} pods: anonymous`, "anon daemon pods", { unit: "MiB" }),
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
    `c/d/e/f: one runtime after the other (${ctx.burstFirst} first; \`--burst-first\` picks), ` +
    "so the second runs on a node the first has just filled and emptied; pods created in " +
    `batches of ${WIDTH}; RSS is VmRSS from /proc; monitors are containerd's shims (one per pod) ` +
    "and this daemon's conmon processes (one per container).",
    "d: ExecSync's floor, part by part: the OCI runtime's exec alone, then `conmon -e --sync` " +
    "running it with this daemon's arguments (containerd has no such monitor; its shim runs the " +
    `exec itself), one of each after every ${CALLS / DIRECT_CALLS}th ExecSync, so all three ` +
    "rows see the node at the same time. The paired row (each ExecSync minus the conmon exec " +
    "right after it) minus Version (the bench's grpc-js client and the gRPC transport, which " +
    "every call pays) is this daemon's own share.",
    "e: List calls are made by bench/cri_list, a Go gRPC client like the kubelet's; pods and " +
    "containers carry the labels and annotations the kubelet sets. Each call is timed until its " +
    "answer has arrived (the target rows) and again once the client has decoded it (what the " +
    "kubelet sees; decoding is the client's CPU). The bench's grpc-js client alone has a p99 of " +
    "8-10 ms against either daemon, so it is not used here. Both List calls start " +
    `${LIST_SETTLE_MS / 1000} s after the last container started, for either runtime: right ` +
    "after 330 starts the node is still busy for seconds (a trial: this daemon's " +
    "ListContainers p99 11-28 ms in the first 5 s, 7.9 ~10 s after; containerd's 11-23 ms).",
    listFloorNote({ blocks: LIST_BLOCKS, calls: CALLS / LIST_BLOCKS }),
    "f, fresh start: this daemon is started once without the profiler, warmed up and read like " +
    "containerd, then stopped; the run that is profiled starts after it on the same root. The " +
    "CPU profiler's buffers and code map (the difference between the two fresh rows, and more " +
    "as samples pile up) are in every later RSS row of this daemon, so those are upper bounds. " +
    "Once it serves, the daemon drops the pages of Deno's binary that only start-up read " +
    "(madvise, src/util/startup_pages.ts; they stay in the page cache): its mapped-files row is " +
    "what it touched since, and the anonymous row is not changed by it.",
    ...(skipped.length
      ? [`container rows skipped for ${skipped.join(", ")}: CreateContainer answers UNIMPLEMENTED.`]
      : []),
  ];
}
