/** `deno task bench [WORKLOAD...] [flags]`: which workloads, how many samples. */

export const WORKLOAD_ORDER = ["pull", "critest", "pod", "ctr", "cni", "burst"] as const;
export type WorkloadName = (typeof WORKLOAD_ORDER)[number];

/** Issue 7's letters (and `b-pod`-style names) to the workloads that measure them. */
const ALIASES: Record<string, WorkloadName[]> = {
  a: ["critest"],
  b: ["pod", "ctr"],
  "b-pod": ["pod"],
  "b-ctr": ["ctr"],
  c: ["burst"],
  d: ["burst"],
  e: ["burst"],
  f: ["pod", "cni", "burst"],
  g: ["pull"],
};

export interface BenchArgs {
  workloads: WorkloadName[];
  iterations: number;
  pods: number;
  pullReps: number;
  runtime: "runc" | "crun";
  keep: boolean;
  /** Which runtime the burst (one runtime after the other) runs first. */
  burstFirst: "crio-deno" | "containerd";
}

export const USAGE =
  `usage: deno task bench [WORKLOAD...] [--iterations N] [--pods N] [--pull-reps N]
                       [--runtime runc|crun] [--burst-first crio-deno|containerd] [--keep]

workloads (default: all, run in this order):
  pull     (g) PullImage of the small, medium and large bench images
  critest  (a) critest -benchmark: pod, image and (where supported) container suites
  pod      (b-pod, f) RunPodSandbox, StopPodSandbox+RemovePodSandbox, CPU per lifecycle
  ctr      (b-ctr) one pod with one busybox container
  cni      (f) the CNI plugins' own cost per pod, measured directly
  burst    (c, d, e, f) 110 pods 10 at a time, List*, ExecSync, RSS, then all removed
Issue 7's letters a..g select the workloads that measure them.`;

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, not ${v}`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = {
    workloads: [],
    iterations: 20,
    pods: 110,
    pullReps: 3,
    runtime: "runc",
    keep: false,
    burstFirst: "crio-deno",
  };
  const picked = new Set<WorkloadName>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--iterations") out.iterations = positiveInt(flag, value());
    else if (flag === "--pods") out.pods = positiveInt(flag, value());
    else if (flag === "--pull-reps") out.pullReps = positiveInt(flag, value());
    else if (flag === "--keep") out.keep = true;
    else if (flag === "--burst-first") {
      const v = value();
      if (v !== "crio-deno" && v !== "containerd") {
        throw new Error(`--burst-first must be crio-deno or containerd, not ${v}`);
      }
      out.burstFirst = v;
    } else if (flag === "--runtime") {
      const v = value();
      if (v !== "runc" && v !== "crun") throw new Error(`--runtime must be runc or crun, not ${v}`);
      out.runtime = v;
    } else if (flag.startsWith("-")) throw new Error(`unknown flag ${flag}\n${USAGE}`);
    else {
      const names = ALIASES[flag] ??
        ((WORKLOAD_ORDER as readonly string[]).includes(flag) ? [flag as WorkloadName] : undefined);
      if (!names) throw new Error(`unknown workload ${flag}\n${USAGE}`);
      for (const n of names) picked.add(n);
    }
  }
  out.workloads = WORKLOAD_ORDER.filter((w) => picked.size === 0 || picked.has(w));
  return out;
}
