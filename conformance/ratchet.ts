/**
 * The ratchet: conformance/expected-failures lists every critest spec that does not pass yet, each
 * with a reason. A run fails when a spec outside the list fails, and when a listed spec passes, so
 * the list can only shrink.
 *
 * Format, one spec a line:  [qualifiers] <spec text> :: <reason>
 * Qualifiers (optional, any order) narrow an entry to a run: [runtime=crun] [k8s=1.35]; [flaky]
 * marks a spec whose outcome is a race until its feature lands, so neither outcome breaks the run.
 * Lines starting with # and blank lines are ignored.
 */
import { specName, type TestResult } from "./junit.ts";

export interface Expected {
  readonly name: string;
  readonly reason: string;
  readonly runtime?: string;
  readonly k8s?: string;
  readonly flaky?: boolean;
  readonly line: number;
}

export interface RunScope {
  readonly runtime: string;
  readonly k8s: string;
}

export interface Verdict {
  ok: boolean;
  /** Failed and not listed. */
  unexpected: TestResult[];
  /** Listed and passed: the entry must go. */
  fixed: Expected[];
  /** Failed and listed. */
  expected: TestResult[];
}

export function parseExpected(text: string): Expected[] {
  const out: Expected[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const parts = /^(.*)\s::(?:\s+(.*))?$/.exec(line);
    if (!parts) throw new Error(`expected-failures:${i + 1}: missing " :: <reason>"`);
    const reason = (parts[2] ?? "").trim();
    line = parts[1].trim();
    const q: Record<string, string> = {};
    let m: RegExpExecArray | null;
    while ((m = /^\[(runtime|k8s|flaky)(?:=([^\]]+))?\]\s*/.exec(line))) {
      q[m[1]] = m[2] ?? "true";
      line = line.slice(m[0].length);
    }
    if (!reason) throw new Error(`expected-failures:${i + 1}: empty reason`);
    out.push({
      name: specName(line),
      reason,
      runtime: q.runtime,
      k8s: q.k8s,
      flaky: q.flaky === "true",
      line: i + 1,
    });
  }
  return out;
}

function applies(e: Expected, scope: RunScope): boolean {
  return (!e.runtime || e.runtime === scope.runtime) && (!e.k8s || e.k8s === scope.k8s);
}

export function judge(results: TestResult[], expected: Expected[], scope: RunScope): Verdict {
  const listed = new Map<string, Expected>();
  for (const e of expected) if (applies(e, scope)) listed.set(e.name, e);
  const unexpected: TestResult[] = [];
  const expectedFailures: TestResult[] = [];
  const fixed: Expected[] = [];
  for (const r of results) {
    const e = listed.get(r.name);
    if (r.outcome === "failed") (e ? expectedFailures : unexpected).push(r);
    else if (r.outcome === "passed" && e && !e.flaky) fixed.push(e);
  }
  return {
    ok: unexpected.length === 0 && fixed.length === 0,
    unexpected,
    fixed,
    expected: expectedFailures,
  };
}
