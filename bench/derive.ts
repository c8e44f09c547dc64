/** Notes derived from several rows: where a pod lifecycle's time and CPU go. Pure. */
import type { Row, RuntimeName } from "./report.ts";

function median(
  rows: readonly Row[],
  o: { metric: string; who: RuntimeName },
): number | undefined {
  const cell = rows.find((r) => r.metric === o.metric)?.cells[o.who];
  return cell?.skipped ? undefined : cell?.median;
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
