import { assertEquals } from "../src/testing/asserts.ts";
import { execSplitNote, listSplitNotes, splitNotes } from "./derive.ts";
import type { Cell, Row } from "./report.ts";

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

function row(metric: string, crio: Cell | undefined, ctd?: Cell): Row {
  return {
    workload: "x",
    metric,
    unit: "ms",
    cells: { ...(crio ? { "crio-deno": crio } : {}), ...(ctd ? { containerd: ctd } : {}) },
  };
}

const EXEC_ROWS: Row[] = [
  row("ExecSync true ×200 (110 pods, 330 containers)", { median: 44.9 }, { median: 50.5 }),
  row("Version ×200 through the same client (a call that does nothing)", { median: 1.11 }),
  row("the same `true` by the OCI runtime's exec alone ×50", { median: 36.7 }, { median: 41.8 }),
  row("the same `true` by `conmon -e --sync` and the runtime ×50", { median: 41.7 }),
];

Deno.test("execSplitNote: the runtime's exec, conmon's part and the rest, against containerd", () => {
  assertEquals(execSplitNote(EXEC_ROWS), [
    "split, ExecSync: crio-deno's median 44.9 ms is the OCI runtime's exec (36.7), conmon's " +
    "part (5.00: its exec with the runtime, 41.7, minus the runtime's) and 3.20 for the daemon " +
    "and the gRPC transport (Version alone: 1.11); against containerd's ExecSync (50.5) the " +
    "runtime's exec alone is 0.73× and conmon's exec 0.83×.",
  ]);
  // A skipped or missing part: no note rather than a wrong one.
  assertEquals(execSplitNote(EXEC_ROWS.slice(0, 3)), []);
  assertEquals(
    execSplitNote([row("ExecSync true ×2", { skipped: "no" }, { median: 9 }), ...EXEC_ROWS]),
    [],
  );
});

const listRows = (m: string, own: number, floors: number[]): Row[] => [
  row(`${m} ×200, 330 containers`, { median: 1, p99: own }, { median: 1, p99: 6.09 }),
  ...["a bare CriServer", "Deno's node:http2 without grpc-js", "a Go gRPC server"].map((w, i) =>
    row(`${m}: the same answer from ${w}`, { median: 1, p99: floors[i] })
  ),
];

Deno.test("listSplitNotes: each List p99 beside its floors', and which side of 5 ms they are", () => {
  assertEquals(
    listSplitNotes([
      ...listRows("ListPodSandbox", 3.2, [3.3, 3.1, 2.6]),
      ...listRows("ListContainers", 7.08, [7.94, 7.44, 6.31]),
    ]),
    [
      "split, ListPodSandbox p99: crio-deno 3.20 ms; the same answer from a bare CriServer 3.30, " +
      "from Deno's node:http2 without grpc-js 3.10, from a Go gRPC server that does no work " +
      "2.60; containerd 6.09.",
      "split, ListContainers p99: crio-deno 7.08 ms; the same answer from a bare CriServer 7.94, " +
      "from Deno's node:http2 without grpc-js 7.44, from a Go gRPC server that does no work " +
      "6.31; containerd 6.09: what the machine gives any server of these bytes is above the 5 ms " +
      "target.",
    ],
  );
  assertEquals(listSplitNotes(listRows("ListContainers", 6.5, [6.0, 5.5, 4.0])), [
    "split, ListContainers p99: crio-deno 6.50 ms; the same answer from a bare CriServer 6.00, " +
    "from Deno's node:http2 without grpc-js 5.50, from a Go gRPC server that does no work " +
    "4.00; containerd 6.09: 2.50 ms above what the machine gives a server of these bytes.",
  ]);
  // Without the floors' rows (a run without the burst), nothing is said.
  assertEquals(listSplitNotes(listRows("ListContainers", 6.5, [6.0, 5.5, 4.0]).slice(0, 2)), []);
});
