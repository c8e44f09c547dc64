/**
 * `crio config`: the effective configuration as commented TOML in CRI-O's layout. Feeding the
 * output back as /etc/crio/crio.conf yields the same output.
 */
import {
  type Config,
  type OptionSpec,
  RUNTIME_HANDLER_KEYS,
  SECTION_PROPERTY,
  type SectionName,
  SECTIONS,
} from "./options.ts";

function tomlString(s: string): string {
  // JSON escapes are a subset of TOML basic-string escapes, except for DEL and friends, which
  // JSON leaves raw and TOML forbids unescaped.
  return JSON.stringify(s).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function tomlValue(v: unknown): string {
  if (typeof v === "string") return tomlString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `  ${tomlValue(x)},`).join("\n")}\n]`;
  }
  if (v && typeof v === "object") {
    const kv = Object.entries(v).map(([k, x]) => `${tomlString(k)} = ${tomlValue(x)}`);
    return `{ ${kv.join(", ")} }`;
  }
  throw new Error(`cannot render ${String(v)} as TOML`);
}

function renderKeys(
  specs: Record<string, OptionSpec>,
  values: Record<string, unknown>,
): string[] {
  const out: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const note = spec.inert ? " (accepted; no effect in this daemon yet)" : "";
    out.push(`# ${spec.doc}${note}`);
    if (spec.allowed) {
      out.push(`# One of: ${spec.allowed.map((a) => JSON.stringify(a)).join(", ")}.`);
    }
    if (spec.reloadable) out.push("# Reloaded on SIGHUP.");
    out.push(`${key} = ${tomlValue(values[key])}`, "");
  }
  return out;
}

export function renderConfig(cfg: Config): string {
  const out = [
    "# The effective configuration of the crio daemon (CRI-O-compatible crio.conf).",
    "# Read from /etc/crio/crio.conf, then /etc/crio/crio.conf.d/* in lexical order, then flags.",
    "",
  ];
  for (const table of Object.keys(SECTIONS) as SectionName[]) {
    out.push(`[${table}]`, "");
    const values = cfg[SECTION_PROPERTY[table]] as unknown as Record<string, unknown>;
    out.push(...renderKeys(SECTIONS[table] as Record<string, OptionSpec>, values));
    if (table === "crio.runtime") {
      for (const [name, handler] of Object.entries(cfg.runtime.runtimes)) {
        out.push(`[crio.runtime.runtimes.${name}]`, "");
        out.push(
          ...renderKeys(
            RUNTIME_HANDLER_KEYS as Record<string, OptionSpec>,
            handler as unknown as Record<string, unknown>,
          ),
        );
      }
    }
  }
  return out.join("\n").replace(/\n+$/, "\n");
}
