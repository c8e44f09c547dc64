/**
 * CRI-O's command-line flags for the options this daemon implements. Each flag maps to one
 * crio.conf key, so a flag is just the last, highest-priority source of that key.
 */
import { ConfigError } from "../errors.ts";
import type { FlagOverride } from "./load.ts";
import type { SectionName } from "./options.ts";

interface FlagSpec {
  readonly table: SectionName;
  readonly key: string;
  readonly kind: "string" | "bool" | "int" | "strings";
  readonly short?: string;
}

const f = (table: SectionName, key: string, kind: FlagSpec["kind"] = "string", short?: string) => ({
  table,
  key,
  kind,
  short,
});

export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  "listen": f("crio.api", "listen"),
  "root": f("crio", "root", "string", "r"),
  "runroot": f("crio", "runroot"),
  "storage-driver": f("crio", "storage_driver"),
  "log-dir": f("crio", "log_dir"),
  "version-file": f("crio", "version_file"),
  "version-file-persist": f("crio", "version_file_persist"),
  "clean-shutdown-file": f("crio", "clean_shutdown_file"),
  "log-level": f("crio.runtime", "log_level", "string", "l"),
  "log-format": f("crio.runtime", "log_format"),
  "log-filter": f("crio.runtime", "log_filter"),
  "cgroup-manager": f("crio.runtime", "cgroup_manager"),
  "default-runtime": f("crio.runtime", "default_runtime"),
  "conmon": f("crio.runtime", "conmon"),
  "conmon-cgroup": f("crio.runtime", "conmon_cgroup"),
  "default-capabilities": f("crio.runtime", "default_capabilities", "strings"),
  "default-sysctls": f("crio.runtime", "default_sysctls", "strings"),
  "pids-limit": f("crio.runtime", "pids_limit", "int"),
  "log-size-max": f("crio.runtime", "log_size_max", "int"),
  "ctr-stop-timeout": f("crio.runtime", "ctr_stop_timeout", "int"),
  "drop-infra-ctr": f("crio.runtime", "drop_infra_ctr", "bool"),
  "namespaces-dir": f("crio.runtime", "namespaces_dir"),
  "exits-dir": f("crio.runtime", "container_exits_dir"),
  "container-attach-socket-dir": f("crio.runtime", "container_attach_socket_dir"),
  "enable-pod-events": f("crio.runtime", "enable_pod_events", "bool"),
  "read-only": f("crio.runtime", "read_only", "bool"),
  "seccomp-profile": f("crio.runtime", "seccomp_profile"),
  "apparmor-profile": f("crio.runtime", "apparmor_profile"),
  "pause-image": f("crio.image", "pause_image"),
  "pause-command": f("crio.image", "pause_command"),
  "pinned-images": f("crio.image", "pinned_images", "strings"),
  "global-auth-file": f("crio.image", "global_auth_file"),
  "signature-policy": f("crio.image", "signature_policy"),
  "signature-policy-dir": f("crio.image", "signature_policy_dir"),
  "image-volumes": f("crio.image", "image_volumes"),
  "pull-progress-timeout": f("crio.image", "pull_progress_timeout"),
  "short-name-mode": f("crio.image", "short_name_mode"),
  "cni-default-network": f("crio.network", "cni_default_network"),
  "cni-config-dir": f("crio.network", "network_dir"),
  "cni-plugin-dir": f("crio.network", "plugin_dirs", "strings"),
  "enable-metrics": f("crio.metrics", "enable_metrics", "bool"),
  "metrics-host": f("crio.metrics", "metrics_host"),
  "metrics-port": f("crio.metrics", "metrics_port", "int"),
  "stream-address": f("crio.api", "stream_address"),
  "stream-port": f("crio.api", "stream_port"),
  "stream-idle-timeout": f("crio.api", "stream_idle_timeout"),
  "stream-enable-tls": f("crio.api", "stream_enable_tls", "bool"),
  "stream-tls-cert": f("crio.api", "stream_tls_cert"),
  "stream-tls-key": f("crio.api", "stream_tls_key"),
  "stream-tls-ca": f("crio.api", "stream_tls_ca"),
};

/** Flags that choose files rather than set a key. */
const FILE_FLAGS: Record<string, string> = { config: "c", "config-dir": "d" };

export interface ParsedArgs {
  command: string;
  /** Arguments after the subcommand that are not global flags (e.g. `--default`). */
  commandArgs: string[];
  configFile?: string;
  configDir?: string;
  overrides: FlagOverride[];
  help: boolean;
}

const SHORT: Record<string, string> = Object.fromEntries([
  ...Object.entries(FLAGS).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]),
  ...Object.entries(FILE_FLAGS).map(([n, s]) => [s, n]),
]);

function toValue(spec: FlagSpec, name: string, raw: string): unknown {
  switch (spec.kind) {
    case "bool":
      if (raw !== "true" && raw !== "false") {
        throw new ConfigError(`flag --${name}: ${JSON.stringify(raw)} is not true or false`);
      }
      return raw === "true";
    case "int":
      if (!/^-?\d+$/.test(raw)) {
        throw new ConfigError(`flag --${name}: ${JSON.stringify(raw)} is not an integer`);
      }
      return Number(raw);
    case "strings":
      return raw === "" ? [] : raw.split(",");
    default:
      return raw;
  }
}

/** Parses `crio [global flags] [command] [command flags]`, like CRI-O's command line. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: "", commandArgs: [], overrides: [], help: false };
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      out.help = true;
      continue;
    }
    const m = /^(--?)([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      if (out.command === "") out.command = arg;
      else out.commandArgs.push(arg);
      continue;
    }
    const name = m[1] === "-" ? SHORT[m[2]] ?? m[2] : m[2];
    const spec = FLAGS[name];
    if (!spec && !(name in FILE_FLAGS)) {
      if (out.command === "") throw new ConfigError(`unknown flag ${arg}`);
      out.commandArgs.push(arg);
      continue;
    }
    let raw = m[3];
    if (raw === undefined) {
      if (spec?.kind === "bool") raw = "true";
      else if (i + 1 < argv.length) raw = argv[++i];
      else throw new ConfigError(`flag --${name} needs a value`);
    }
    if (name === "config") out.configFile = raw;
    else if (name === "config-dir") out.configDir = raw;
    else if (spec.kind === "strings") {
      const prev = lists.get(name) ?? [];
      lists.set(name, [...prev, ...(toValue(spec, name, raw) as string[])]);
    } else {
      out.overrides.push({
        table: spec.table,
        key: spec.key,
        value: toValue(spec, name, raw),
        flag: name,
      });
    }
  }
  for (const [name, values] of lists) {
    const spec = FLAGS[name];
    out.overrides.push({ table: spec.table, key: spec.key, value: values, flag: name });
  }
  return out;
}

export function flagHelp(): string {
  const lines = Object.entries(FLAGS).map(([name, s]) =>
    `  ${s.short ? `-${s.short}, ` : "    "}--${name}${s.kind === "bool" ? "" : " value"}` +
    `\t[${s.table}] ${s.key}`
  );
  return [
    "  -c, --config value\tmain configuration file (default /etc/crio/crio.conf)",
    "  -d, --config-dir value\tdrop-in directory (default /etc/crio/crio.conf.d)",
    ...lines,
  ].join("\n");
}
