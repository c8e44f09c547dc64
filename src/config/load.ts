/**
 * Builds the effective configuration the way CRI-O does: embedded defaults, then the main file,
 * then every drop-in in lexical order (last wins), then command-line flags. Unknown keys are
 * warnings that name the file; a bad value is a ConfigError naming file, key, value and what is
 * allowed.
 */
import { parse as parseToml } from "smol-toml";
import { ConfigError, errorMessage } from "../errors.ts";
import {
  type Config,
  defaultConfig,
  GO_DURATION,
  type OptionSpec,
  RUNTIME_HANDLER_KEYS,
  RUNTIME_NAME,
  type RuntimeHandler,
  SECTION_PROPERTY,
  type SectionName,
  SECTIONS,
} from "./options.ts";

export const DEFAULT_CONFIG_FILE = "/etc/crio/crio.conf";
export const DEFAULT_CONFIG_DIR = "/etc/crio/crio.conf.d";

export interface LoadOptions {
  /** Main file; `undefined` means the default, which may be absent. */
  configFile?: string;
  configDir?: string;
  /** Already-validated `table.key` overrides from flags, applied last. */
  overrides?: ReadonlyArray<FlagOverride>;
  /** Read a file; a seam for tests. */
  readFile?: (path: string) => Promise<string>;
  readDir?: (path: string) => Promise<string[]>;
}

export interface FlagOverride {
  readonly table: SectionName;
  readonly key: string;
  readonly value: unknown;
  readonly flag: string;
  /** For list flags given several times: append rather than replace. */
  readonly append?: boolean;
}

export interface LoadResult {
  config: Config;
  warnings: string[];
  /** Files that were read, in order. */
  sources: string[];
}

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** Checks one value against its spec; returns it normalised or throws naming where it came from. */
export function checkValue(spec: OptionSpec, value: unknown, where: string): unknown {
  const bad = (allowed: string) =>
    new ConfigError(`${where} = ${describe(value)} is not valid: expected ${allowed}`);
  switch (spec.kind) {
    case "bool":
      if (typeof value !== "boolean") throw bad("true or false");
      break;
    case "int":
      if (typeof value === "bigint") throw bad("an integer in range");
      if (typeof value !== "number" || !Number.isInteger(value)) throw bad("an integer");
      if (spec.min !== undefined && value < spec.min) throw bad(`an integer >= ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) throw bad(`an integer <= ${spec.max}`);
      break;
    case "strings":
      if (!Array.isArray(value) || value.some((x) => typeof x !== "string")) {
        throw bad("an array of strings");
      }
      break;
    case "duration":
      if (typeof value !== "string" || !GO_DURATION.test(value)) {
        throw bad('a duration such as "30s", "5m" or "1h30m"');
      }
      break;
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw bad("a table of strings");
      }
      break;
    default:
      if (typeof value !== "string") throw bad("a string");
  }
  if (spec.allowed && !spec.allowed.includes(value as string)) {
    throw bad(`one of ${spec.allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  const refused = spec.check?.(value);
  if (refused) throw bad(refused);
  return Array.isArray(value) ? [...value] : value;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const SUBTABLES: Record<string, SectionName> = {
  api: "crio.api",
  runtime: "crio.runtime",
  image: "crio.image",
  network: "crio.network",
  metrics: "crio.metrics",
  stats: "crio.stats",
  tracing: "crio.tracing",
  nri: "crio.nri",
};

/** Tables CRI-O has that this daemon accepts without acting on them. */
const KNOWN_IGNORED = new Set(["crio.runtime.workloads", "crio.checkpoint_restore"]);

function applySection(
  cfg: Config,
  table: SectionName,
  values: Record<string, unknown>,
  ctx: { file: string; warnings: string[] },
): void {
  const specs = SECTIONS[table] as Record<string, OptionSpec>;
  const target = cfg[SECTION_PROPERTY[table]] as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    const path = `${table}.${key}`;
    if (table === "crio" && key in SUBTABLES && isTable(value)) {
      applySection(cfg, SUBTABLES[key], value, ctx);
    } else if (table === "crio.runtime" && key === "runtimes" && isTable(value)) {
      applyRuntimes(cfg, value, ctx);
    } else if (KNOWN_IGNORED.has(path)) {
      ctx.warnings.push(`${ctx.file}: table ${path} is not supported yet and is ignored`);
    } else if (!(key in specs)) {
      ctx.warnings.push(`${ctx.file}: unknown key ${path} is ignored`);
    } else {
      target[key] = checkValue(specs[key], value, `${ctx.file}: ${path}`);
    }
  }
}

function applyRuntimes(
  cfg: Config,
  runtimes: Record<string, unknown>,
  ctx: { file: string; warnings: string[] },
): void {
  const specs = RUNTIME_HANDLER_KEYS as Record<string, OptionSpec>;
  for (const [name, table] of Object.entries(runtimes)) {
    const where = `${ctx.file}: crio.runtime.runtimes.${name}`;
    if (!RUNTIME_NAME.test(name)) {
      throw new ConfigError(
        `${where}: runtime handler name is not valid: expected ${RUNTIME_NAME}`,
      );
    }
    if (!isTable(table)) throw new ConfigError(`${where} must be a table`);
    const handler = (cfg.runtime.runtimes[name] ??= Object.fromEntries(
      Object.entries(specs).map(([k, s]) => [k, structuredClone(s.default)]),
    ) as RuntimeHandler) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(table)) {
      if (!(key in specs)) {
        ctx.warnings.push(`${where}.${key}: unknown key is ignored`);
        continue;
      }
      handler[key] = checkValue(specs[key], value, `${where}.${key}`);
    }
  }
}

/** Applies one TOML document to cfg. */
export function applyToml(
  cfg: Config,
  text: string,
  ctx: { file: string; warnings: string[] },
): void {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${ctx.file}: not valid TOML: ${errorMessage(err)}`);
  }
  for (const [key, value] of Object.entries(doc)) {
    if (key === "crio" && isTable(value)) applySection(cfg, "crio", value, ctx);
    else ctx.warnings.push(`${ctx.file}: unknown key ${key} is ignored`);
  }
}

/** Checks that hold between keys, after every source was applied. */
export function validateConfig(cfg: Config, origin = "configuration"): void {
  const names = Object.keys(cfg.runtime.runtimes);
  if (!cfg.runtime.runtimes[cfg.runtime.default_runtime]) {
    throw new ConfigError(
      `${origin}: crio.runtime.default_runtime = ${describe(cfg.runtime.default_runtime)} ` +
        `names no runtime handler: expected one of ${names.join(", ")}`,
    );
  }
  for (const [name, h] of Object.entries(cfg.runtime.runtimes)) {
    const where = `${origin}: crio.runtime.runtimes.${name}`;
    const mc = h.monitor_cgroup;
    if (cfg.runtime.cgroup_manager === "cgroupfs" && mc !== "" && mc !== "pod") {
      throw new ConfigError(
        `${where}.monitor_cgroup = ${describe(mc)} is not valid with cgroup_manager "cgroupfs": ` +
          `expected "pod" or ""`,
      );
    }
    if (
      cfg.runtime.cgroup_manager === "systemd" && mc !== "" && mc !== "pod" &&
      !mc.endsWith(".slice")
    ) {
      throw new ConfigError(
        `${where}.monitor_cgroup = ${describe(mc)} is not valid with cgroup_manager "systemd": ` +
          `expected "pod" or a name ending in .slice`,
      );
    }
    if (h.runtime_config_path !== "" && h.runtime_type !== "vm") {
      throw new ConfigError(`${where}.runtime_config_path is only allowed with runtime_type "vm"`);
    }
  }
  if (cfg.metrics.enable_metrics && cfg.metrics.metrics_host === "") {
    throw new ConfigError(`${origin}: crio.metrics.metrics_host must not be empty`);
  }
}

async function defaultReadDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) {
    if (e.isFile || e.isSymlink) names.push(e.name);
  }
  return names;
}

function isNotFound(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound;
}

/** Reads a file of the configuration; the error names the file. */
async function readSource(path: string, read: (p: string) => Promise<string>): Promise<string> {
  try {
    return await read(path);
  } catch (err) {
    if (isNotFound(err)) throw err;
    throw new ConfigError(`${path}: cannot be read: ${errorMessage(err)}`);
  }
}

export async function loadConfig(options: LoadOptions = {}): Promise<LoadResult> {
  const read = options.readFile ?? Deno.readTextFile;
  const readDir = options.readDir ?? defaultReadDir;
  const cfg = defaultConfig();
  const warnings: string[] = [];
  const sources: string[] = [];
  const main = options.configFile ?? DEFAULT_CONFIG_FILE;
  try {
    applyToml(cfg, await readSource(main, read), { file: main, warnings });
    sources.push(main);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    if (options.configFile !== undefined) {
      throw new ConfigError(`${main}: configuration file does not exist`);
    }
  }
  const dir = options.configDir ?? DEFAULT_CONFIG_DIR;
  let entries: string[] = [];
  try {
    entries = (await readDir(dir)).sort();
  } catch (err) {
    if (!isNotFound(err)) {
      throw new ConfigError(`${dir}: drop-in directory cannot be read: ${errorMessage(err)}`);
    }
  }
  for (const name of entries) {
    const file = `${dir.replace(/\/$/, "")}/${name}`;
    applyToml(cfg, await readSource(file, read), { file, warnings });
    sources.push(file);
  }
  for (const o of options.overrides ?? []) {
    const specs = SECTIONS[o.table] as Record<string, OptionSpec>;
    const section = cfg[SECTION_PROPERTY[o.table]] as unknown as Record<string, unknown>;
    const value = checkValue(specs[o.key], o.value, `flag --${o.flag}`);
    section[o.key] = o.append && Array.isArray(section[o.key])
      ? [...(section[o.key] as string[]), ...(value as string[])]
      : value;
  }
  validateConfig(cfg, sources.at(-1) ?? "configuration");
  return { config: cfg, warnings, sources };
}
