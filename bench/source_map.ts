/**
 * Source maps (v3) for the daemon's CPU profile: the daemon runs from bin/bundle's minified file,
 * so V8 names its frames `main.js:1:48213` and by minified names. The bundle's map (written beside
 * it, not linked, so the daemon never loads it) turns each frame back into its source file, line
 * and, where the map records one, its original name. Pure but for reading the map file.
 */
import type { CpuProfile } from "./profile.ts";

export interface SourceMapV3 {
  version: number;
  sources: string[];
  names?: string[];
  mappings: string;
  sourceRoot?: string;
}

export interface Original {
  url: string;
  line: number;
  column: number;
  name?: string;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

/** One segment's base64 VLQ fields (each relative to the previous segment's). */
export function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of segment) {
    const d = DIGIT.get(c);
    if (d === undefined) throw new Error(`source map: '${c}' is not a base64 VLQ digit`);
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
      continue;
    }
    out.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  if (shift) throw new Error(`source map: segment '${segment}' ends inside a number`);
  return out;
}

/** Segments per generated line: [column, source, line, column, name?] with absolute values. */
type Segment = [number, number, number, number, number];

export class SourceMapIndex {
  readonly #lines: Segment[][] = [];
  readonly #sources: string[];
  readonly #names: string[];
  readonly #code: string[];
  readonly #byMinified: Map<string, Set<string>>;

  /**
   * mapUrl resolves the map's relative `sources`; code is the generated file, which tells which
   * named segment is the function's own name (below).
   */
  constructor(map: SourceMapV3, o: { mapUrl: string; code: string }) {
    const mapUrl = o.mapUrl;
    this.#code = o.code.split("\n");
    if (map.version !== 3) throw new Error(`source map: version ${map.version}, want 3`);
    const root = new URL(map.sourceRoot ?? "", mapUrl);
    this.#sources = map.sources.map((s) => new URL(s, root).href);
    this.#names = map.names ?? [];
    let [src, line, col, name] = [0, 0, 0, 0];
    for (const text of map.mappings.split(";")) {
      const segs: Segment[] = [];
      let gen = 0;
      for (const raw of text ? text.split(",") : []) {
        const f = decodeVlq(raw);
        gen += f[0] ?? 0;
        if (f.length < 4) continue;
        src += f[1]!;
        line += f[2]!;
        col += f[3]!;
        if (f.length >= 5) name += f[4]!;
        segs.push([gen, src, line, col, f.length >= 5 ? name : -1]);
      }
      this.#lines.push(segs);
    }
    this.#byMinified = this.#collectNames();
  }

  /**
   * Minified identifier → the original names its named segments carry. A class's constructor
   * frame has the class's name, which is nowhere near the constructor; top-level minified names
   * are unique in the bundle, so one original name for it is that name.
   */
  #collectNames(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    this.#lines.forEach((segs, line) => {
      const text = this.#code[line] ?? "";
      for (const s of segs) {
        if (s[4] < 0) continue;
        const id = /^[\w$]+/.exec(text.slice(s[0], s[0] + 64))?.[0];
        const name = this.#names[s[4]];
        if (!id || !name) continue;
        const set = out.get(id) ?? new Set();
        set.add(name);
        out.set(id, set);
      }
    });
    return out;
  }

  /**
   * The original position of a 0-based generated line and column: the last segment at or before
   * it. A function's frame points at its start (`function`, `async`, a method's name, an arrow's
   * parameters after `name=`), and V8 names it by its minified name; the original name is that of
   * the first named segment near the start whose generated text is that minified name (a
   * parameter's segment is not).
   */
  lookup(line: number, column: number, minified = ""): Original | undefined {
    const segs = this.#lines[line];
    if (!segs?.length) return undefined;
    let lo = 0;
    let hi = segs.length - 1;
    if (segs[0]![0] > column) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]![0] <= column) lo = mid;
      else hi = mid - 1;
    }
    const at = segs[lo]!;
    const unique = this.#byMinified.get(minified);
    const text = this.#code[line] ?? "";
    const named = minified
      ? segs.slice(Math.max(0, lo - 3), lo + 4).find((s) =>
        s[4] >= 0 && text.startsWith(minified, s[0]) &&
        !/[\w$]/.test(text[s[0] + minified.length] ?? "")
      )
      : undefined;
    return {
      url: this.#sources[at[1]] ?? "",
      line: at[2],
      column: at[3],
      name: named ? this.#names[named[4]] : unique?.size === 1 ? [...unique][0] : undefined,
    };
  }
}

/** The map written beside a bundled file (`x.js` → `x.js.map`); undefined when there is none. */
export async function mapBeside(url: string): Promise<SourceMapIndex | undefined> {
  if (!url.startsWith("file://") || !url.endsWith(".js")) return undefined;
  const mapUrl = `${url}.map`;
  try {
    const map = JSON.parse(await Deno.readTextFile(new URL(mapUrl)));
    return new SourceMapIndex(map, { mapUrl, code: await Deno.readTextFile(new URL(url)) });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** The profile with every frame of a mapped script put back to its source; others as they were. */
export async function resolveProfile(
  p: CpuProfile,
  o: { load?: (url: string) => Promise<SourceMapIndex | undefined> } = {},
): Promise<CpuProfile> {
  const load = o.load ?? mapBeside;
  const maps = new Map<string, SourceMapIndex | undefined>();
  for (const n of p.nodes) {
    const url = n.callFrame.url;
    if (url && !maps.has(url)) maps.set(url, await load(url));
  }
  const nodes = p.nodes.map((n) => {
    const f = n.callFrame;
    const orig = maps.get(f.url)?.lookup(f.lineNumber, f.columnNumber ?? 0, f.functionName);
    if (!orig) return n;
    const callFrame = {
      ...f,
      functionName: orig.name ?? f.functionName,
      url: orig.url,
      lineNumber: orig.line,
      columnNumber: orig.column,
    };
    return { ...n, callFrame };
  });
  return { ...p, nodes };
}
