/**
 * Reads the daemon's V8 CPU profile (`deno run --cpu-prof`) and says where its CPU went: self
 * time per function and per module group, inclusive time per source file of this repository,
 * and the CPU the daemon's JavaScript used inside each workload's time window. Pure but for
 * finding and reading the file.
 */

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A workload's time window, in seconds since boot (the clock V8 stamps samples with). */
export interface Window {
  name: string;
  start: number;
  end: number;
}

export interface Hot {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  selfByFunction: Hot[];
  selfByGroup: Hot[];
  inclusiveBySourceFile: Hot[];
  windows: { name: string; busyMs: number; top: Hot[] }[];
}

const IDLE = new Set(["(idle)", "(root)"]);

/** `file:///…/src/net/cni_exec.ts` → `src/net/cni_exec.ts`; npm and Deno internals by package. */
export function shortUrl(url: string): string {
  if (!url) return "";
  const npm =
    /node_modules\/\.deno\/([^/]+?)@[^/]*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url) ??
      /npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[2] ?? npm[1]}`;
  const repo = /\/((?:src|bench|conformance)\/.+|main\.ts)$/.exec(url);
  if (repo) return repo[1];
  return url.replace(/^file:\/\//, "");
}

/** Self-time groups: this repo's folders, each npm package, Deno's runtime, GC and the VM. */
export function groupOf(frame: { functionName: string; url: string }): string {
  if (!frame.url) return frame.functionName.startsWith("(") ? frame.functionName : "Deno ops";
  const s = shortUrl(frame.url);
  if (s.startsWith("npm:")) return s;
  const m = /^(src\/[^/]+)\//.exec(s);
  if (m) return m[1];
  if (s === "main.ts") return "main.ts";
  if (/^(ext|node):/.test(frame.url)) return `deno ${frame.url.split("/")[0]}`;
  return s;
}

function frameName(f: { functionName: string; url: string; lineNumber: number }): string {
  if (!f.url) return f.functionName || "(anonymous)";
  return `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function top(map: Map<string, number>, o: { total: number; n: number }): Hot[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, o.n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: o.total ? us / o.total : 0 }));
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

export function summarizeProfile(p: CpuProfile, windows: readonly Window[] = []): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fn = new Map<string, number>();
  const group = new Map<string, number>();
  const incl = new Map<string, number>();
  const win = windows.map((w) => ({ ...w, busy: 0, fn: new Map<string, number>() }));
  let t = p.startTime;
  let busy = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    const node = byId.get(id);
    if (!node || IDLE.has(node.callFrame.functionName)) return;
    busy += dt;
    const name = frameName(node.callFrame);
    add(fn, name, dt);
    add(group, groupOf(node.callFrame), dt);
    const files = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = shortUrl(byId.get(cur)?.callFrame.url ?? "");
      if (/^(src\/|main\.ts)/.test(f)) files.add(f);
    }
    for (const f of files) add(incl, f, dt);
    const w = win.find((w) => t / 1e6 >= w.start && t / 1e6 < w.end);
    if (w) {
      w.busy += dt;
      add(w.fn, name, dt);
    }
  });
  return {
    totalMs: (p.endTime - p.startTime) / 1000,
    busyMs: busy / 1000,
    selfByFunction: top(fn, { total: busy, n: 15 }),
    selfByGroup: top(group, { total: busy, n: 12 }),
    inclusiveBySourceFile: top(incl, { total: busy, n: 12 }),
    windows: win.map((w) => ({
      name: w.name,
      busyMs: w.busy / 1000,
      top: top(w.fn, { total: w.busy, n: 5 }),
    })),
  };
}

function hotTable(title: string, rows: Hot[]): string[] {
  return [
    `| ${title} | ms | share |`,
    "| --- | --- | --- |",
    ...rows.map((h) =>
      `| \`${h.name.replace(/\|/g, "\\|")}\` | ${h.ms.toFixed(0)} | ${
        (h.share * 100).toFixed(1)
      }% |`
    ),
  ];
}

export function profileMarkdown(s: ProfileSummary): string {
  const lines = [
    "## CPU profile of crio-deno (deno --cpu-prof)",
    "",
    `Profiled ${
      (s.totalMs / 1000).toFixed(1)
    } s of the daemon's life; its JavaScript thread was busy ` +
    `${(s.busyMs / 1000).toFixed(2)} s of it (samples other than idle). V8 samples the JS thread ` +
    "by wall clock: time inside a synchronous op (`op_spawn_child`: fork+exec; FFI calls) or " +
    "while the thread waits for a CPU counts as that frame's self time; `Deno ops` are native " +
    "ops called from JavaScript.",
    "",
    ...hotTable("self time by group", s.selfByGroup),
    "",
    ...hotTable("self time by function", s.selfByFunction),
    "",
    ...hotTable("inclusive time by source file", s.inclusiveBySourceFile),
  ];
  if (s.windows.length) {
    lines.push("", "| workload window | busy ms | top self time |", "| --- | --- | --- |");
    for (const w of s.windows) {
      const topText = w.top.map((h) => `\`${h.name}\` ${h.ms.toFixed(0)}`).join(", ");
      lines.push(`| ${w.name} | ${w.busyMs.toFixed(0)} | ${topText.replace(/\|/g, "\\|")} |`);
    }
  }
  return lines.join("\n");
}

/** The newest .cpuprofile in dir, if any. */
export async function newestProfile(dir: string): Promise<string | undefined> {
  let best: { path: string; mtime: number } | undefined;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.name.endsWith(".cpuprofile")) continue;
      const path = `${dir}/${e.name}`;
      const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
      if (!best || mtime > best.mtime) best = { path, mtime };
    }
  } catch {
    return undefined;
  }
  return best?.path;
}
