import { assertEquals, assertStringIncludes } from "../src/testing/asserts.ts";
import {
  formatRatio,
  formatValue,
  machineLine,
  markdownTable,
  renderReport,
  type Row,
  rowRatio,
} from "./report.ts";

const ROWS: Row[] = [
  {
    workload: "b-pod",
    metric: "RunPodSandbox",
    unit: "ms",
    cells: {
      "crio-deno": { median: 50, p99: 80.25, n: 20 },
      containerd: { median: 200, p99: 400 },
    },
    target: "≤ 0.7×",
  },
  {
    workload: "d",
    metric: "ExecSync | true",
    unit: "ms",
    cells: {
      "crio-deno": { skipped: "CreateContainer not implemented" },
      containerd: { median: 12.345, p99: 20 },
    },
  },
];

Deno.test("formatValue: digits shrink as values grow; missing is a dash", () => {
  assertEquals(formatValue(0.01234, "ms"), "0.012");
  assertEquals(formatValue(1.234, "ms"), "1.23");
  assertEquals(formatValue(12.34, "ms"), "12.3");
  assertEquals(formatValue(1234.5, "ms"), "1235");
  assertEquals(formatValue(110.4, "count"), "110");
  assertEquals(formatValue(undefined, "ms"), "—");
  assertEquals(formatValue(NaN, "MiB"), "—");
});

Deno.test("rowRatio: medians, none when a side is skipped", () => {
  assertEquals(rowRatio(ROWS[0]), 0.25);
  assertEquals(rowRatio(ROWS[1]), undefined);
  assertEquals(formatRatio(0.25), "0.25×");
  assertEquals(formatRatio(undefined), "—");
});

Deno.test("markdownTable: header, one line per row, pipes escaped, skips shown", () => {
  const lines = markdownTable(ROWS).split("\n");
  assertEquals(lines.length, 4);
  assertEquals(lines[1].split("|").length, lines[0].split("|").length);
  assertEquals(
    lines[2],
    "| b-pod | RunPodSandbox | ms | 50.0 | 80.3 | 200 | 400 | 0.25× | ≤ 0.7× |",
  );
  assertStringIncludes(lines[3], "ExecSync \\| true");
  assertStringIncludes(
    lines[3],
    "skipped: CreateContainer not implemented | — | 12.3 | 20.0 | — |",
  );
});

Deno.test("renderReport: machine, command and table", () => {
  const machine = {
    nproc: 2,
    memoryGiB: 23.5,
    kernel: "6.1.0",
    os: "Debian 12",
    versions: { containerd: "1.6.20", runc: "1.1.5" },
    loadAverage: 1.5,
  };
  assertEquals(
    machineLine(machine),
    "2 CPUs, 23.5 GiB, Debian 12, kernel 6.1.0, load average 1.50; containerd 1.6.20, runc 1.1.5",
  );
  const text = renderReport({
    startedAt: "2026-01-01T00:00:00Z",
    seconds: 600.4,
    command: "deno task bench",
    machine,
    rows: ROWS,
    notes: ["a note"],
    profile: "## Profile",
  });
  assertStringIncludes(text, "(600 s)");
  assertStringIncludes(text, "`deno task bench`");
  assertStringIncludes(text, "- a note\n\n## Profile\n");
});
