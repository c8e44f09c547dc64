/** The harness's table and closing line. */
import type { TestResult } from "./junit.ts";
import type { Verdict } from "./ratchet.ts";

export interface Summary {
  k8s: string;
  runtime: string;
  critest: string;
  passed: number;
  /** Failures the ratchet does not cover, plus listed specs that now pass. */
  failed: number;
  /** Skipped by critest, plus known failures listed in expected-failures. */
  skipped: number;
  knownFailures: number;
  ratchetOk: boolean;
  problems: string[];
  seconds: number;
}

/** critest's Describe names, longest first, to group specs in the table. */
const GROUPS = [
  "Runtime info",
  "Image Manager",
  "Image Identifier Consistency",
  "Image Consistency",
  "Image benchmark",
  "PodSandbox",
  "Container Mount Propagation",
  "Container",
  "Security Context",
  "Networking",
  "Streaming",
  "Multiple Containers",
  "Idempotence",
  "AppArmor",
  "SELinux",
  "NRI",
  "Image Volume",
];

export function groupOf(name: string): string {
  const text = name.replace(/^\[k8s\.io\]\s*/, "");
  return GROUPS.find((g) => text.startsWith(g)) ?? "Other";
}

export function summarize(
  results: TestResult[],
  verdict: Verdict,
  meta: { k8s: string; runtime: string; critest: string; seconds: number },
): Summary {
  const count = (o: TestResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  const problems = [
    ...verdict.unexpected.map((r) => `unexpected failure: ${r.name}: ${r.message}`),
    ...verdict.fixed.map((e) =>
      `now passes, remove line ${e.line} of conformance/expected-failures: ${e.name}`
    ),
  ];
  return {
    ...meta,
    passed: count("passed"),
    failed: verdict.unexpected.length + verdict.fixed.length,
    skipped: count("skipped") + verdict.expected.length,
    knownFailures: verdict.expected.length,
    ratchetOk: verdict.ok,
    problems,
  };
}

export function table(results: TestResult[], verdict: Verdict): string {
  const known = new Set(verdict.expected.map((r) => r.name));
  const rows = new Map<string, number[]>();
  for (const r of results) {
    const row = rows.get(groupOf(r.name)) ?? [0, 0, 0, 0];
    const col = r.outcome === "passed"
      ? 0
      : r.outcome === "skipped"
      ? 3
      : known.has(r.name)
      ? 1
      : 2;
    row[col]++;
    rows.set(groupOf(r.name), row);
  }
  const head = ["group", "passed", "known-failing", "failed", "skipped"];
  const lines = [...rows.entries()].sort().map(([g, n]) => [g, ...n.map(String)]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    "| " +
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  return [fmt(head), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...lines.map(fmt)]
    .join("\n");
}

export function closingLine(s: Summary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}
