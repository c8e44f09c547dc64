/**
 * Notes derived from several rows: where the time of a pod lifecycle, an ExecSync and a List call
 * goes. Pure.
 */
import type { Row, RuntimeName } from "./report.ts";

/** who's cell in the first row whose metric is `metric` or, with `starts`, begins with it. */
function cellOf(
  rows: readonly Row[],
  o: { metric: string; who: RuntimeName; starts?: boolean },
): { median: number; p99?: number } | undefined {
  const row = rows.find((r) => o.starts ? r.metric.startsWith(o.metric) : r.metric === o.metric);
  const cell = row?.cells[o.who];
  return cell?.skipped || cell?.median === undefined ? undefined : { ...cell, median: cell.median };
}

function median(
  rows: readonly Row[],
  o: { metric: string; who: RuntimeName },
): number | undefined {
  return cellOf(rows, o)?.median;
}

const LIFECYCLE = "pod lifecycle (run+stop+remove)";
const CNI_WALL = "CNI plugins per pod lifecycle (direct): wall";
const CNI_CPU = "CNI plugins per pod lifecycle (direct): CPU";
const HELPERS = "CPU per pod lifecycle: helpers (CNI plugins, ns tools, shim start)";
const OTHER: Record<RuntimeName, string> = {
  "crio-deno": "unshare/mount/nsenter/findmnt/cat",
  containerd: "shim start-up",
};

/** The split of a pod lifecycle into CNI plugins and the rest, per runtime, as sentences. */
export function splitNotes(rows: readonly Row[], runtimes: readonly RuntimeName[]): string[] {
  const out: string[] = [];
  for (const who of runtimes) {
    const life = median(rows, { metric: LIFECYCLE, who });
    const cniWall = median(rows, { metric: CNI_WALL, who });
    const cniCpu = median(rows, { metric: CNI_CPU, who });
    const helpers = median(rows, { metric: HELPERS, who });
    if (life === undefined || cniWall === undefined) continue;
    let text = `split, ${who}: the CNI plugins take ~${Math.round((cniWall / life) * 100)}% of a ` +
      `pod lifecycle's wall time (${cniWall.toFixed(0)} of ${life.toFixed(0)} ms)`;
    if (cniCpu !== undefined && helpers !== undefined) {
      text += `; of its ${helpers.toFixed(0)} cpu-ms in helpers, ~${cniCpu.toFixed(0)} are CNI ` +
        `plugins and ~${Math.max(0, helpers - cniCpu).toFixed(0)} ${OTHER[who]}`;
    }
    out.push(text + ".");
  }
  return out;
}

const fmt = (n: number) => (n >= 10 ? n.toFixed(1) : n.toFixed(2));

/**
 * Where this daemon's ExecSync goes, from the rows of its floor (d): the OCI runtime's exec
 * alone, conmon's part (its exec minus the runtime's), and the rest (the daemon and the gRPC
 * transport, which Version alone measures), set against containerd's ExecSync.
 */
export function execSplitNote(rows: readonly Row[]): string[] {
  const own = (metric: string) => cellOf(rows, { metric, who: "crio-deno", starts: true })?.median;
  const exec = own("ExecSync true");
  const runtime = own("the same `true` by the OCI runtime's exec alone");
  const conmon = own("the same `true` by `conmon -e --sync`");
  const version = own("Version ×");
  const peer = cellOf(rows, { metric: "ExecSync true", who: "containerd", starts: true })?.median;
  if ([exec, runtime, conmon, version, peer].some((v) => v === undefined)) return [];
  const [e, r, c, v, p] = [exec!, runtime!, conmon!, version!, peer!];
  return [
    `split, ExecSync: crio-deno's median ${fmt(e)} ms is the OCI runtime's exec (${fmt(r)}), ` +
    `conmon's part (${fmt(Math.max(0, c - r))}: its exec with the runtime, ${fmt(c)}, minus ` +
    `the runtime's) and ${fmt(e - c)} for the daemon and the gRPC transport (Version alone: ` +
    `${fmt(v)}); against containerd's ExecSync (${fmt(p)}) the runtime's exec alone is ` +
    `${(r / p).toFixed(2)}× and conmon's exec ${(c / p).toFixed(2)}×.`,
  ];
}

export const LIST_METHODS = ["ListPodSandbox", "ListContainers"] as const;

/**
 * The List floors, in the order they are called: the samples' key, what the row names, and how
 * a note says it. list_floor.ts makes the rows from this too.
 */
export const LIST_FLOORS = [
  { key: "floor", what: "a bare CriServer", said: "from a bare CriServer" },
  {
    key: "http2 floor",
    what: "Deno's node:http2 without grpc-js",
    said: "from Deno's node:http2 without grpc-js",
  },
  { key: "go floor", what: "a Go gRPC server", said: "from a Go gRPC server that does no work" },
] as const;

/** Each List call's p99 beside its floors' (e), against the 5 ms target. */
export function listSplitNotes(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const m of LIST_METHODS) {
    const row = (metric: string, who: RuntimeName) => cellOf(rows, { metric, who, starts: true });
    const own = row(`${m} ×`, "crio-deno")?.p99;
    const peer = row(`${m} ×`, "containerd")?.p99;
    const floors = LIST_FLOORS.map(({ what, said }) => ({
      said,
      p99: row(`${m}: the same answer from ${what}`, "crio-deno")?.p99,
    }));
    if (own === undefined || floors.some((f) => f.p99 === undefined)) continue;
    let text = `split, ${m} p99: crio-deno ${fmt(own)} ms; the same answer ` +
      floors.map((f) => `${f.said} ${fmt(f.p99!)}`).join(", ") +
      (peer === undefined ? "" : `; containerd ${fmt(peer)}`);
    // The last floor is the Go server: what the machine gives any server of these bytes.
    const machine = floors[floors.length - 1].p99!;
    if (own > 5 && machine > 5) {
      text += ": what the machine gives any server of these bytes is above the 5 ms target";
    } else if (own > 5) {
      text += `: ${fmt(own - machine)} ms above what the machine gives a server of these bytes`;
    }
    out.push(text + ".");
  }
  return out;
}
