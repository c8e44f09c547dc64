/**
 * containers-registries.conf(5) version 2: where a reference is pulled from. Reads the main file
 * (CONTAINERS_REGISTRIES_CONF, else /etc/containers/registries.conf) and the drop-ins of
 * registries.conf.d in lexical order; later files override earlier ones per key, and a
 * `[[registry]]` with the same prefix replaces the earlier table, as containers/image does.
 */
import { parse } from "smol-toml";
import { ConfigError, errorMessage } from "../errors.ts";

export type PullFromMirror = "all" | "digest-only" | "tag-only";

export interface Mirror {
  location: string;
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

export interface RegistryTable {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: Mirror[];
}

export interface RegistriesConf {
  unqualifiedSearch: string[];
  shortNameMode?: string;
  aliases: Record<string, string>;
  registries: RegistryTable[];
  /** Files read, in order, for log lines and errors. */
  sources: string[];
}

export interface RegistriesConfPaths {
  file: string;
  dir?: string;
}

export const SYSTEM_FILE = "/etc/containers/registries.conf";
export const SYSTEM_DIR = "/etc/containers/registries.conf.d";

/** Paths as containers/image picks them: an explicit file turns the system drop-ins off. */
export function registriesConfPaths(env: (k: string) => string | undefined): RegistriesConfPaths {
  const file = env("CONTAINERS_REGISTRIES_CONF");
  const dir = env("CONTAINERS_REGISTRIES_CONF_DIR");
  if (file) return { file, dir };
  return { file: SYSTEM_FILE, dir: dir ?? SYSTEM_DIR };
}

export function emptyRegistriesConf(): RegistriesConf {
  return { unqualifiedSearch: [], aliases: {}, registries: [], sources: [] };
}

type Table = Record<string, unknown>;

function str(t: Table, key: string, where: string): string | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new ConfigError(`${where}: ${key} must be a string`);
  return v;
}

function bool(t: Table, key: string, where: string): boolean | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new ConfigError(`${where}: ${key} must be true or false`);
  return v;
}

function pullFromMirror(t: Table, where: string): PullFromMirror {
  const v = str(t, "pull-from-mirror", where) ?? "all";
  if (v === "" || v === "all") return "all";
  if (v === "digest-only" || v === "tag-only") return v;
  throw new ConfigError(`${where}: pull-from-mirror must be all, digest-only or tag-only`);
}

function registryTable(t: Table, where: string): RegistryTable {
  const location = (str(t, "location", where) ?? "").replace(/\/$/, "");
  const prefix = (str(t, "prefix", where) ?? location).replace(/\/$/, "");
  if (prefix === "") throw new ConfigError(`${where}: a [[registry]] needs prefix or location`);
  if (prefix.startsWith("*.") && location !== "" && location !== prefix) {
    throw new ConfigError(`${where}: a wildcard prefix ${prefix} cannot have a location`);
  }
  const mirrors = ((t.mirror ?? []) as Table[]).map((m, i) => {
    const at = `${where} ${prefix} mirror ${i}`;
    const loc = str(m, "location", at);
    if (!loc) throw new ConfigError(`${at}: location is required`);
    return {
      location: loc.replace(/\/$/, ""),
      insecure: bool(m, "insecure", at) ?? false,
      pullFromMirror: pullFromMirror(m, at),
    };
  });
  return {
    prefix,
    location: location || prefix,
    insecure: bool(t, "insecure", where) ?? false,
    blocked: bool(t, "blocked", where) ?? false,
    mirrorByDigestOnly: bool(t, "mirror-by-digest-only", where) ?? false,
    mirrors,
  };
}

/** Merges one parsed file into conf (later files win). */
export function mergeFile(conf: RegistriesConf, text: string, where: string): void {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    throw new ConfigError(`${where}: ${errorMessage(err)}`);
  }
  if (doc.registries !== undefined && !Array.isArray(doc.registries)) {
    throw new ConfigError(`${where}: registries.conf version 1 ([registries.*]) is not supported`);
  }
  if (doc["unqualified-search-registries"] !== undefined) {
    const v = doc["unqualified-search-registries"];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      throw new ConfigError(`${where}: unqualified-search-registries must be a list of strings`);
    }
    conf.unqualifiedSearch = v as string[];
  }
  const mode = str(doc, "short-name-mode", where);
  if (mode !== undefined) conf.shortNameMode = mode;
  for (const [k, v] of Object.entries((doc.aliases ?? {}) as Table)) {
    if (typeof v !== "string") throw new ConfigError(`${where}: alias ${k} must be a string`);
    conf.aliases[k] = v;
  }
  for (const t of (doc.registry ?? []) as Table[]) {
    const r = registryTable(t, where);
    conf.registries = conf.registries.filter((x) => x.prefix !== r.prefix);
    conf.registries.push(r);
  }
  conf.sources.push(where);
}

export interface ConfFs {
  readTextFile(path: string): Promise<string>;
  readDir(path: string): AsyncIterable<{ name: string; isFile: boolean }>;
}

const denoFs: ConfFs = {
  readTextFile: (p) => Deno.readTextFile(p),
  readDir: (p) => Deno.readDir(p),
};

/** Loads the configuration; a missing file or dir is no error, a malformed one is. */
export async function loadRegistriesConf(
  paths: RegistriesConfPaths,
  fs: ConfFs = denoFs,
): Promise<RegistriesConf> {
  const conf = emptyRegistriesConf();
  const files = [paths.file];
  if (paths.dir) {
    const dropIns: string[] = [];
    try {
      for await (const e of fs.readDir(paths.dir)) {
        if (e.isFile && e.name.endsWith(".conf")) dropIns.push(`${paths.dir}/${e.name}`);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    files.push(...dropIns.sort());
  }
  for (const f of files) {
    let text: string;
    try {
      text = await fs.readTextFile(f);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw new ConfigError(`${f}: ${errorMessage(err)}`);
    }
    mergeFile(conf, text, f);
  }
  return conf;
}
