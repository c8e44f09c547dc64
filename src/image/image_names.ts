/**
 * Small pure helpers of the image service: pinned-image patterns, the image's user as the CRI
 * reports it, and which stored names a lookup string may mean.
 */
import { formatRef, type ImageRef, type ParsedRef, parseReference } from "./reference.ts";

/**
 * CRI-O's pinned_images patterns: exact (`registry.k8s.io/pause:3.10`), glob with `*` at the end
 * (`registry.k8s.io/*`) or keyword with `*` at both ends (`*pause*`).
 */
export function matchesPinned(tag: string, pattern: string): boolean {
  if (pattern.length > 1 && pattern.startsWith("*") && pattern.endsWith("*")) {
    return tag.includes(pattern.slice(1, -1));
  }
  if (pattern.endsWith("*")) return tag.startsWith(pattern.slice(0, -1));
  if (tag === pattern) return true;
  try {
    return formatRef(parseReference(pattern)) === tag;
  } catch {
    return false;
  }
}

/** The config's User as CRI's uid/username: `1002`, `1002:g` → uid; `www-data[:g]` → name. */
export function imageUser(user: string): { uid?: number; username: string } {
  const u = user.split(":")[0];
  if (u === "") return { username: "" };
  if (/^\d+$/.test(u) && Number(u) <= 0xffffffff) return { uid: Number(u), username: "" };
  return { username: u };
}

/** Names a stored image may carry for a reference: a short name also as each search registry. */
export function localCandidates(ref: ParsedRef, search: readonly string[]): ImageRef[] {
  if (!ref.short) return [ref];
  const out: ImageRef[] = [ref];
  const bare = ref.path.startsWith("library/") ? ref.path.slice(8) : ref.path;
  for (const domain of search) {
    if (domain === ref.domain) continue;
    out.push({ ...ref, domain, path: bare });
  }
  return out;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration string ("30s", "1m30s", "0") in milliseconds, as crio.conf writes them. */
export function durationMs(d: string): number {
  let ms = 0;
  for (const m of d.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(m[1]) * UNIT_MS[m[2]];
  }
  return ms;
}
