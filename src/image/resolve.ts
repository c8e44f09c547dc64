/**
 * From a reference to the places it may be pulled from: short names through aliases and
 * unqualified-search-registries (short_name_mode), then each candidate through the longest
 * matching `[[registry]]` prefix: blocked, mirrors (pull-from-mirror), location and insecure.
 */
import { FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import { formatRef, type ImageRef, type ParsedRef, parseReference } from "./reference.ts";
import type { RegistriesConf, RegistryTable } from "./registries_conf.ts";

export interface PullSource {
  /** The reference rewritten to the location (or mirror) it is fetched from. */
  ref: ImageRef;
  insecure: boolean;
  /** A mirror, not the primary location; logged when used. */
  mirror: boolean;
}

/** Candidates for a reference: one for a qualified name; for a short name, per the mode. */
export function candidates(
  ref: ParsedRef,
  options: { conf: RegistriesConf; shortNameMode: string },
): ImageRef[] {
  if (!ref.short) return [ref];
  const { conf } = options;
  const bare = ref.path.startsWith("library/") && ref.domain === "docker.io"
    ? ref.path.slice(8)
    : ref.path;
  const alias = conf.aliases[bare] ?? conf.aliases[ref.path];
  if (alias !== undefined) {
    const target = parseReference(alias);
    return [{ domain: target.domain, path: target.path, tag: ref.tag, digest: ref.digest }];
  }
  const search = conf.unqualifiedSearch;
  if (search.length === 0) {
    throw new InvalidArgumentError(
      `short name ${JSON.stringify(bare)} did not resolve to an alias and no ` +
        "unqualified-search-registries are defined in registries.conf",
    );
  }
  const mode = conf.shortNameMode ?? options.shortNameMode;
  if (mode === "enforcing" && search.length > 1) {
    throw new InvalidArgumentError(
      `short name ${JSON.stringify(bare)} is ambiguous: short_name_mode is enforcing and ` +
        `${search.length} unqualified-search-registries are defined (${search.join(", ")}); ` +
        "use a fully qualified name or add an alias",
    );
  }
  return search.map((domain) => {
    const path = domain === "docker.io" && !bare.includes("/") ? `library/${bare}` : bare;
    return { domain, path, tag: ref.tag, digest: ref.digest };
  });
}

/** True when prefix covers the reference string at a component boundary. */
function prefixMatches(refString: string, domain: string, prefix: string): boolean {
  if (prefix.startsWith("*.")) {
    return domain.endsWith(prefix.slice(1));
  }
  if (!refString.startsWith(prefix)) return false;
  const next = refString[prefix.length];
  return next === undefined || next === "/" || next === ":" || next === "@";
}

/** The table with the longest matching prefix, as containers/image picks it. */
export function findRegistry(conf: RegistriesConf, ref: ImageRef): RegistryTable | undefined {
  const s = formatRef(ref);
  let best: RegistryTable | undefined;
  for (const r of conf.registries) {
    if (!prefixMatches(s, ref.domain, r.prefix)) continue;
    if (!best || r.prefix.length > best.prefix.length) best = r;
  }
  return best;
}

function rewrite(ref: ImageRef, prefix: string, location: string): ImageRef {
  if (prefix.startsWith("*.")) return ref;
  const name = `${ref.domain}/${ref.path}`;
  const rewritten = location + name.slice(prefix.length);
  const slash = rewritten.indexOf("/");
  if (slash < 0) throw new InvalidArgumentError(`location ${location} leaves no repository path`);
  return {
    domain: rewritten.slice(0, slash),
    path: rewritten.slice(slash + 1),
    tag: ref.tag,
    digest: ref.digest,
  };
}

/** Where to fetch ref from, mirrors first; refuses a blocked registry. */
export function pullSources(conf: RegistriesConf, ref: ImageRef): PullSource[] {
  const r = findRegistry(conf, ref);
  if (!r) return [{ ref, insecure: false, mirror: false }];
  if (r.blocked) {
    throw new FailedPreconditionError(
      `registry ${r.prefix} is blocked in registries.conf; ${formatRef(ref)} cannot be pulled`,
    );
  }
  const byDigest = ref.digest !== undefined;
  const out: PullSource[] = [];
  for (const m of r.mirrors) {
    if (r.mirrorByDigestOnly && !byDigest) continue;
    if (m.pullFromMirror === "digest-only" && !byDigest) continue;
    if (m.pullFromMirror === "tag-only" && byDigest) continue;
    out.push({ ref: rewrite(ref, r.prefix, m.location), insecure: m.insecure, mirror: true });
  }
  out.push({ ref: rewrite(ref, r.prefix, r.location), insecure: r.insecure, mirror: false });
  return out;
}
