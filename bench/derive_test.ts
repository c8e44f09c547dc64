import { assertEquals } from "../src/testing/asserts.ts";
import { splitNotes } from "./derive.ts";
import type { Row } from "./report.ts";

const cells = (a: number, b: number) => ({ "crio-deno": { median: a }, containerd: { median: b } });
const ROWS: Row[] = [
  {
    workload: "b-pod",
    metric: "pod lifecycle (run+stop+remove)",
    unit: "ms",
    cells: cells(250, 320),
  },
  {
    workload: "f",
    metric: "CNI plugins per pod lifecycle (direct): wall",
    unit: "ms",
    cells: cells(125, 125),
  },
  {
    workload: "f",
    metric: "CNI plugins per pod lifecycle (direct): CPU",
    unit: "cpu-ms",
    cells: cells(80, 80),
  },
  {
    workload: "f",
    metric: "CPU per pod lifecycle: helpers (CNI plugins, ns tools, shim start)",
    unit: "cpu-ms",
    cells: cells(130, 120),
  },
];

Deno.test("splitNotes: CNI share of wall time and helpers CPU, per runtime", () => {
  assertEquals(splitNotes(ROWS, ["crio-deno", "containerd"]), [
    "split, crio-deno: the CNI plugins take ~50% of a pod lifecycle's wall time (125 of 250 ms); " +
    "of its 130 cpu-ms in helpers, ~80 are CNI plugins and ~50 unshare/mount/nsenter/findmnt/cat.",
    "split, containerd: the CNI plugins take ~39% of a pod lifecycle's wall time (125 of 320 ms); " +
    "of its 120 cpu-ms in helpers, ~80 are CNI plugins and ~40 shim start-up.",
  ]);
});

Deno.test("splitNotes: nothing without the rows it needs", () => {
  assertEquals(splitNotes(ROWS.slice(0, 1), ["crio-deno"]), []);
});
