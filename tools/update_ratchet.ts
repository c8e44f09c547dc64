/**
 * Maintainer's tool: rewrites conformance/expected-failures from the latest harness results, so the
 * list matches what fails now. Specs that pass are dropped; new failures are added with a reason
 * taken from the first unimplemented RPC in their failure, or marked for a human to explain.
 * CI never runs this: there, the ratchet only checks.
 *
 *   deno run -A tools/update_ratchet.ts conformance/results/1.37-runc [more result dirs...]
 */
import { parseJunit, type TestResult } from "../conformance/junit.ts";
import { type Expected, parseExpected } from "../conformance/ratchet.ts";

const FILE = new URL("../conformance/expected-failures", import.meta.url).pathname;

/** Which open issue brings each RPC, so the reason says what the spec waits for. */
const ISSUE_OF: [RegExp, string][] = [
  [/^(PullImage|ImageStatus|ListImages|RemoveImage)$/, "#3 image service"],
  [/PodSandbox|^UpdatePodSandboxResources$/, "#4 pod sandboxes"],
  [/^(Exec|Attach|PortForward)$/, "#6 streaming"],
  [/Container|^ExecSync$/, "#5 containers"],
];

export function reasonFor(r: TestResult): string {
  const m = /desc = (\w+Service)\.(\w+) is not implemented/.exec(r.detail);
  if (!m) return `TODO explain: ${r.message.slice(0, 120)}`;
  const issue = ISSUE_OF.find(([re]) => re.test(m[2]))?.[1] ?? "an open issue";
  return `${m[2]} is not implemented yet (${issue})`;
}

async function main(dirs: string[]): Promise<void> {
  const results: TestResult[] = [];
  for (const d of dirs) {
    results.push(...parseJunit(await Deno.readTextFile(`${d}/junit/junit.xml`)));
  }
  const old = parseExpected(await Deno.readTextFile(FILE).catch(() => ""));
  const byName = new Map<string, Expected>(
    old.filter((e) => !e.runtime && !e.k8s && !e.flaky).map((e) => [e.name, e]),
  );
  const failing = new Map<string, TestResult>();
  for (const r of results) if (r.outcome === "failed") failing.set(r.name, r);
  const lines = [
    "# critest specs that do not pass yet, one a line: [qualifiers] <spec> :: <reason>",
    "# The harness fails when a spec outside this list fails, and when a listed spec passes.",
    "# Format and qualifiers: conformance/ratchet.ts. Regenerate: tools/update_ratchet.ts.",
    "",
  ];
  const special = new Set(old.filter((e) => e.runtime || e.k8s || e.flaky).map((e) => e.name));
  for (const name of [...failing.keys()].filter((n) => !special.has(n)).sort()) {
    const kept = byName.get(name)?.reason;
    lines.push(
      `${name} :: ${
        kept && !kept.includes("is not implemented yet") ? kept : reasonFor(failing.get(name)!)
      }`,
    );
  }
  for (const e of old.filter((e) => e.runtime || e.k8s || e.flaky)) {
    const q = [
      e.flaky ? "[flaky]" : "",
      e.runtime ? `[runtime=${e.runtime}]` : "",
      e.k8s ? `[k8s=${e.k8s}]` : "",
    ].filter(Boolean).join(" ");
    lines.push(`${q} ${e.name} :: ${e.reason}`);
  }
  await Deno.writeTextFile(FILE, lines.join("\n") + "\n");
}

if (import.meta.main) await main(Deno.args);
