/** What every workload gets and gives back, and the helpers to turn samples into rows. */
import type { ProcMem } from "../procfs.ts";
import type { BuiltBenchImage } from "../images.ts";
import type { Cell, Row, RuntimeName, Unit } from "../report.ts";
import { summarize } from "../stats.ts";
import type { Target } from "../target.ts";

export interface WorkloadContext {
  /** This daemon first, then containerd. */
  targets: Target[];
  images: BuiltBenchImage[];
  /** The busybox reference containers run. */
  busybox: string;
  /** Where workloads may write scratch files (critest output). */
  scratch: string;
  critest: string;
  /** Samples per latency workload (b). */
  iterations: number;
  /** Pods in the burst (c). */
  pods: number;
  /** Pulls per image per runtime (g). */
  pullReps: number;
  /** The runtime whose burst (c, d, e, f) runs first; the other runs on the node it leaves. */
  burstFirst: RuntimeName;
  /** Fresh-start memory per runtime, taken right after start-up (this daemon not profiled). */
  idleMem: Partial<Record<RuntimeName, ProcMem>>;
  /** This daemon's fresh-start memory on the run --cpu-prof profiles, which later rows read. */
  profiledMem?: ProcMem;
  log(line: string): void;
}

export interface WorkloadResult {
  rows: Row[];
  notes: string[];
}

/** Per runtime: samples, or the reason there are none. */
export type PerRuntime = Partial<Record<RuntimeName, number[] | string>>;

export function cellOf(v: number[] | string | undefined): Cell | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") return { skipped: v };
  if (v.length === 0) return { skipped: "no samples" };
  const s = summarize(v);
  return v.length === 1 ? { median: s.median, n: 1 } : { median: s.median, p99: s.p99, n: s.n };
}

export function row(
  head: { workload: string; metric: string; unit: Unit; target?: string },
  data: PerRuntime,
): Row {
  const cells: Row["cells"] = {};
  for (const [name, v] of Object.entries(data) as [RuntimeName, number[] | string][]) {
    const c = cellOf(v);
    if (c) cells[name] = c;
  }
  return { ...head, cells };
}

/** Collects samples per runtime and metric, in the order metrics were first seen. */
export class Samples {
  readonly #data = new Map<string, PerRuntime>();

  add(metric: string, who: RuntimeName, value: number | string): void {
    const per = this.#data.get(metric) ?? {};
    if (typeof value === "string") per[who] = value;
    else {
      const prev = per[who];
      per[who] = Array.isArray(prev) ? [...prev, value] : [value];
    }
    this.#data.set(metric, per);
  }

  get(metric: string): PerRuntime {
    return this.#data.get(metric) ?? {};
  }
}

/** The targets in turn, alternating which goes first from one round to the next. */
export function alternate<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...items] : [...items].reverse();
}

export const KiB_PER_MiB = 1024;
