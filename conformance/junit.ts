/** Reads the JUnit XML that critest (Ginkgo v2) writes, just enough for the ratchet. */

export type Outcome = "passed" | "failed" | "skipped";

export interface TestResult {
  readonly name: string;
  readonly outcome: Outcome;
  readonly seconds: number;
  /** First lines of the failure message, for the report. */
  readonly message: string;
  /** The whole failure text (message and body), for tools that classify failures. */
  readonly detail: string;
}

const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&amp;": "&",
  "&quot;": '"',
  "&apos;": "'",
};

export function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (m) => {
    if (m in ENTITIES) return ENTITIES[m];
    const hex = m.startsWith("&#x");
    return String.fromCodePoint(parseInt(m.slice(hex ? 3 : 2, -1), hex ? 16 : 10));
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1]) : undefined;
}

/**
 * Ginkgo prefixes each case with its node type, and newer critest releases mark some specs
 * " [Serial]"; the ratchet keys on the spec text alone, so one list serves every pinned critest.
 */
export function specName(raw: string): string {
  return raw.replace(
    /^\[(It|BeforeSuite|AfterSuite|SynchronizedBeforeSuite|SynchronizedAfterSuite|ReportAfterSuite|DeferCleanup[^\]]*)\]\s*/,
    "",
  )
    .replaceAll(" [Serial]", "")
    .trim();
}

export function parseJunit(xml: string): TestResult[] {
  const out: TestResult[] = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const head = m[1];
    const body = m[3] ?? "";
    const status = attr(head, "status");
    let outcome: Outcome = "passed";
    let message = "";
    let detail = "";
    const failure = /<(failure|error)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    if (failure) {
      outcome = "failed";
      message = unescapeXml(attr(failure[2], "message") ?? failure[4] ?? "");
      detail = `${message}\n${unescapeXml(failure[4] ?? "")}`;
    } else if (/<skipped\b/.test(body) || status === "skipped" || status === "pending") {
      outcome = "skipped";
    }
    const name = specName(attr(head, "name") ?? "");
    // Suite set-up nodes are not specs: they have no name once the node type is stripped.
    if (name === "") continue;
    out.push({
      name,
      outcome,
      seconds: Number(attr(head, "time") ?? 0),
      message: message.split("\n").slice(0, 3).join(" ").slice(0, 300),
      detail,
    });
  }
  return out;
}
