/** The benchmark's markdown table and JSON document. Pure formatting: no I/O. */
import { ratio } from "./stats.ts";

export const RUNTIMES = ["crio-deno", "containerd"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export type Unit = "µs" | "ms" | "s" | "MiB" | "cpu-s" | "cpu-ms" | "count";

/** One runtime's result for one metric: a measured value, or why there is none. */
export interface Cell {
  median?: number;
  p99?: number;
  n?: number;
  skipped?: string;
}

export interface Row {
  /** Workload letter and name from issue 7, e.g. `b-pod`. */
  workload: string;
  metric: string;
  unit: Unit;
  cells: Partial<Record<RuntimeName, Cell>>;
  /** The target from the issue, as text (e.g. `≤ 0.7×`), when there is one. */
  target?: string;
}

export interface Machine {
  nproc: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  versions: Record<string, string>;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  loadAverage?: number;
}

export interface BenchResult {
  startedAt: string;
  seconds: number;
  command: string;
  machine: Machine;
  rows: Row[];
  notes: string[];
  /** Hot spots of this daemon's CPU profile, already formatted. */
  profile?: string;
}

/** Numbers as the table shows them: few digits, never exponent notation. */
export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  if (unit === "count" || value === 0) return String(Math.round(value));
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toFixed(digits);
}

export function formatRatio(r: number | undefined): string {
  return r === undefined ? "—" : `${r.toFixed(2)}×`;
}

/** The ratio of the medians, ours over containerd's. */
export function rowRatio(row: Row): number | undefined {
  const ours = row.cells["crio-deno"];
  const theirs = row.cells.containerd;
  if (ours?.skipped || theirs?.skipped) return undefined;
  return ratio(ours?.median, theirs?.median);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function cellTexts(cell: Cell | undefined, unit: Unit): [string, string] {
  if (!cell) return ["—", "—"];
  if (cell.skipped) return [`skipped: ${cell.skipped}`, "—"];
  return [formatValue(cell.median, unit), formatValue(cell.p99, unit)];
}

export function markdownTable(rows: readonly Row[]): string {
  const header = [
    "workload",
    "metric",
    "unit",
    "crio-deno median",
    "crio-deno p99",
    "containerd median",
    "containerd p99",
    "ratio",
    "target",
  ];
  const lines = [header, header.map(() => "---")].map((c) => `| ${c.join(" | ")} |`);
  for (const row of rows) {
    const [om, op] = cellTexts(row.cells["crio-deno"], row.unit);
    const [tm, tp] = cellTexts(row.cells.containerd, row.unit);
    const cols = [row.workload, row.metric, row.unit, om, op, tm, tp, formatRatio(rowRatio(row))];
    cols.push(row.target ?? "");
    lines.push(`| ${cols.map(escapeCell).join(" | ")} |`);
  }
  return lines.join("\n");
}

export function machineLine(m: Machine): string {
  const versions = Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(", ");
  const load = m.loadAverage === undefined ? "" : `, load average ${m.loadAverage.toFixed(2)}`;
  return `${m.nproc} CPUs, ${m.memoryGiB.toFixed(1)} GiB, ${m.os}, kernel ${m.kernel}${load}; ` +
    versions;
}

/** The whole report: machine, command, table, notes and profile hot spots. */
export function renderReport(result: BenchResult): string {
  const parts = [
    `# Benchmark: crio-deno vs containerd`,
    "",
    `- started: ${result.startedAt} (${Math.round(result.seconds)} s)`,
    `- machine: ${machineLine(result.machine)}`,
    `- command: \`${result.command}\``,
    "",
    markdownTable(result.rows),
  ];
  if (result.notes.length) parts.push("", ...result.notes.map((n) => `- ${n}`));
  if (result.profile) parts.push("", result.profile);
  return parts.join("\n") + "\n";
}
