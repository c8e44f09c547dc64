/**
 * Every crio.conf key this daemon knows, with CRI-O's table and key names, its default, how it is
 * checked and whether SIGHUP reloads it. The loader, the renderer (`crio config`) and the flag parser
 * are all driven by this one table, so they cannot drift apart.
 */
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";

export type Kind = "string" | "bool" | "int" | "strings" | "duration" | "map";

export interface OptionSpec {
  readonly kind: Kind;
  readonly default: unknown;
  readonly doc: string;
  /** For strings: the only values accepted. */
  readonly allowed?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Extra check; returns what is allowed when the value is refused. */
  readonly check?: (v: unknown) => string | undefined;
  /** SIGHUP applies it without a restart. */
  readonly reloadable?: boolean;
  /** Accepted for compatibility with CRI-O configs but has no effect in this daemon yet. */
  readonly inert?: boolean;
}

type Extra = Partial<Omit<OptionSpec, "kind" | "default" | "doc">>;

const str = (d: string, doc: string, extra: Extra = {}) => ({
  kind: "string" as const,
  default: d,
  doc,
  ...extra,
});
const bool = (d: boolean, doc: string, extra: Extra = {}) => ({
  kind: "bool" as const,
  default: d,
  doc,
  ...extra,
});
const int = (d: number, doc: string, extra: Extra = {}) => ({
  kind: "int" as const,
  default: d,
  doc,
  ...extra,
});
const list = (d: string[], doc: string, extra: Extra = {}) => ({
  kind: "strings" as const,
  default: d,
  doc,
  ...extra,
});
const dur = (d: string, doc: string, extra: Extra = {}) => ({
  kind: "duration" as const,
  default: d,
  doc,
  ...extra,
});

const absolute = (v: unknown) =>
  typeof v === "string" && v !== "" && !v.startsWith("/") ? "an absolute path" : undefined;
const absoluteOrEmpty = absolute;
/** Go's time.ParseDuration syntax, as CRI-O's duration keys take it. */
export const GO_DURATION = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/;
const durationOrEmpty = (v: unknown) =>
  v === "" || (typeof v === "string" && GO_DURATION.test(v))
    ? undefined
    : 'a duration such as "30m" or "4h", or "" for the kubelet\'s default (4h)';
const portString = (v: unknown) =>
  /^\d{1,5}$/.test(String(v)) && Number(v) <= 65535 ? undefined : "a port number 0-65535";

/** Default cgroup manager: CRI-O's is systemd; a node without systemd as init cannot use it. */
export function hostCgroupManager(): "systemd" | "cgroupfs" {
  try {
    Deno.statSync("/run/systemd/system");
    return "systemd";
  } catch {
    return "cgroupfs";
  }
}

export const SECTIONS = {
  "crio": {
    root: str("/var/lib/crio/storage", "Where images and container layers are stored.", {
      check: absolute,
    }),
    runroot: str("/run/crio/storage", "Where volatile state (mounts, bundles) is kept.", {
      check: absolute,
    }),
    storage_driver: str("overlay", "Storage driver for container root filesystems.", {
      allowed: ["overlay"],
    }),
    storage_option: list([], "Storage driver options.", { inert: true }),
    log_dir: str("/var/log/crio/pods", "Default directory for container logs.", {
      check: absolute,
    }),
    version_file: str("/var/run/crio/version", "Written at start; its absence means a reboot.", {
      check: absoluteOrEmpty,
    }),
    version_file_persist: str("", "Like version_file, but survives reboots (used by wipe).", {
      check: absoluteOrEmpty,
    }),
    clean_shutdown_file: str("/var/lib/crio/clean.shutdown", "Written on a clean shutdown.", {
      check: absoluteOrEmpty,
    }),
    internal_wipe: bool(true, "Wipe stale state internally on version change.", { inert: true }),
    internal_repair: bool(true, "Repair the store after an unclean shutdown.", { inert: true }),
  },
  "crio.api": {
    listen: str("/var/run/crio/crio.sock", "The unix socket the CRI gRPC server listens on.", {
      check: (v) => (typeof v === "string" && v.startsWith("/") ? undefined : "an absolute path"),
    }),
    stream_address: str("127.0.0.1", "IP address of the streaming server."),
    stream_port: str("0", "Port of the streaming server; 0 picks a free one.", {
      check: portString,
    }),
    stream_enable_tls: bool(false, "Serve streaming over TLS."),
    stream_idle_timeout: str("", "Idle time after which a stream is closed (Go duration).", {
      check: durationOrEmpty,
    }),
    stream_tls_cert: str("", "Certificate for the streaming server.", { check: absoluteOrEmpty }),
    stream_tls_key: str("", "Key for the streaming server.", { check: absoluteOrEmpty }),
    stream_tls_ca: str("", "CA bundle for client certificates.", { check: absoluteOrEmpty }),
    grpc_max_send_msg_size: int(83886080, "Largest gRPC message sent, in bytes.", { min: 1 }),
    grpc_max_recv_msg_size: int(83886080, "Largest gRPC message received, in bytes.", {
      min: 1,
    }),
  },
  "crio.runtime": {
    default_runtime: str("crun", "Runtime handler used when the RuntimeClass names none."),
    cgroup_manager: str(hostCgroupManager(), "cgroup driver.", {
      allowed: ["systemd", "cgroupfs"],
    }),
    conmon: str("", "Deprecated: use monitor_path of the runtime handler.", {
      check: absoluteOrEmpty,
    }),
    conmon_cgroup: str("", "Deprecated: use monitor_cgroup of the runtime handler."),
    conmon_env: list([], "Deprecated: use monitor_env of the runtime handler."),
    selinux: bool(false, "Label containers with SELinux.", { inert: true }),
    seccomp_profile: str("", "Default seccomp profile; empty means the built-in one.", {
      check: absoluteOrEmpty,
      reloadable: true,
    }),
    apparmor_profile: str("crio-default", "Default AppArmor profile.", { reloadable: true }),
    default_capabilities: list(
      ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP"].concat(
        ["NET_BIND_SERVICE", "KILL"],
      ),
      "Capabilities given to containers by default.",
    ),
    add_inheritable_capabilities: bool(false, "Also add the capabilities to the inheritable set."),
    default_env: list([], "Environment added to every container."),
    default_sysctls: list([], "Sysctls applied to every pod."),
    default_ulimits: list([], "Ulimits applied to every container."),
    allowed_devices: list(["/dev/fuse", "/dev/net/tun"], "Devices pods may ask for."),
    additional_devices: list([], "Devices added to every container."),
    device_ownership_from_security_context: bool(false, "Chown devices to the container user."),
    hooks_dir: list(["/usr/share/containers/oci/hooks.d"], "OCI hooks directories."),
    pids_limit: int(-1, "Default pids limit; -1 leaves it to the runtime.", { min: -1 }),
    log_size_max: int(-1, "Largest container log before rotation; -1 means no limit.", {
      min: -1,
    }),
    log_to_journald: bool(false, "Also log container output to journald.", { inert: true }),
    log_level: str("info", "Log verbosity.", { allowed: LOG_LEVELS, reloadable: true }),
    log_filter: str("", "Only log lines matching this regular expression.", {
      reloadable: true,
    }),
    log_format: str("text", "Log format.", { allowed: LOG_FORMATS }),
    container_exits_dir: str("/var/run/crio/exits", "Where conmon writes exit files.", {
      check: absolute,
    }),
    container_attach_socket_dir: str("/var/run/crio", "Where conmon's attach sockets live.", {
      check: absolute,
    }),
    bind_mount_prefix: str("", "Prefix added to bind mount sources.", { check: absoluteOrEmpty }),
    read_only: bool(false, "Run every container with a read-only root filesystem."),
    ctr_stop_timeout: int(30, "Seconds a container gets to stop before SIGKILL.", { min: 30 }),
    drop_infra_ctr: bool(true, "Create no infra container unless the pod needs one."),
    infra_ctr_cpuset: str("", "CPU set of the infra container."),
    namespaces_dir: str("/var/run", "Where pod namespaces are pinned.", { check: absolute }),
    pinns_path: str("", "Path of pinns (unused: namespaces are pinned by the daemon)", {
      inert: true,
    }),
    enable_pod_events: bool(false, "Serve GetContainerEvents."),
    timezone: str("", "Timezone of containers; empty keeps the image's."),
    absent_mount_sources_to_reject: list([], "Mount sources that must exist."),
    decryption_keys_path: str("/etc/crio/keys/", "Keys for encrypted images.", {
      inert: true,
      reloadable: true,
    }),
  },
  "crio.image": {
    default_transport: str("docker://", "Transport prefixed to image names."),
    global_auth_file: str("", "containers-auth.json used for every pull.", {
      check: absoluteOrEmpty,
    }),
    namespaced_auth_dir: str("/etc/crio/auth", "Per-namespace auth files.", { check: absolute }),
    pause_image: str("registry.k8s.io/pause:3.10.1", "Image of the infra container.", {
      reloadable: true,
    }),
    pause_image_auth_file: str("", "Auth file for the pause image.", { check: absoluteOrEmpty }),
    pause_command: str("/pause", "Command of the infra container."),
    pinned_images: list([], "Images that image GC must keep (exact, glob or keyword).", {
      reloadable: true,
    }),
    signature_policy: str("", "policy.json; empty means /etc/containers/policy.json.", {
      check: absoluteOrEmpty,
    }),
    signature_policy_dir: str("/etc/crio/policies", "Per-namespace signature policies.", {
      check: absolute,
    }),
    insecure_registries: list([], "Deprecated: set insecure in registries.conf.", {
      inert: true,
    }),
    image_volumes: str("mkdir", "What to do with image VOLUMEs.", {
      allowed: ["mkdir", "bind", "ignore"],
    }),
    big_files_temporary_dir: str("", "Where large temporary files go.", {
      check: absoluteOrEmpty,
    }),
    auto_reload_registries: bool(false, "Reload registries.conf when it changes."),
    pull_progress_timeout: dur("0s", "Abort a pull that makes no progress for this long."),
    short_name_mode: str("enforcing", "How short names are resolved.", {
      allowed: ["enforcing", "permissive", "disabled"],
    }),
  },
  "crio.network": {
    cni_default_network: str("", "CNI network to use; empty means the first config found."),
    network_dir: str("/etc/cni/net.d/", "Where CNI configs are read.", { check: absolute }),
    plugin_dirs: list(["/opt/cni/bin/"], "Where CNI plugins are looked up."),
  },
  "crio.metrics": {
    enable_metrics: bool(false, "Serve Prometheus metrics."),
    metrics_host: str("127.0.0.1", "Address the metrics server listens on."),
    metrics_port: int(9090, "Port the metrics server listens on.", { min: 0, max: 65535 }),
    metrics_socket: str("", "Unix socket for metrics instead of TCP.", { inert: true }),
    metrics_cert: str("", "TLS certificate for metrics.", { inert: true }),
    metrics_key: str("", "TLS key for metrics.", { inert: true }),
    metrics_collectors: list([], "Collectors to enable; empty enables all.", { inert: true }),
  },
  "crio.stats": {
    stats_collection_period: int(0, "Seconds between stats collections; 0 means on demand.", {
      min: 0,
      inert: true,
    }),
    collection_period: int(0, "Seconds between pod metrics collections.", {
      min: 0,
      inert: true,
    }),
  },
  "crio.tracing": {
    enable_tracing: bool(false, "Export OpenTelemetry traces.", { inert: true }),
    tracing_endpoint: str("127.0.0.1:4317", "OTLP endpoint.", { inert: true }),
    tracing_sampling_rate_per_million: int(0, "Sampling rate.", { min: 0, inert: true }),
  },
  "crio.nri": {
    enable_nri: bool(false, "Node Resource Interface (not supported yet).", { inert: true }),
  },
} as const satisfies Record<string, Record<string, OptionSpec>>;

export type SectionName = keyof typeof SECTIONS;

type ValueOf<S> = S extends { kind: "bool" } ? boolean
  : S extends { kind: "int" } ? number
  : S extends { kind: "strings" } ? string[]
  : S extends { kind: "map" } ? Record<string, string>
  : string;

type Section<N extends SectionName> = {
  -readonly [K in keyof (typeof SECTIONS)[N]]: ValueOf<(typeof SECTIONS)[N][K]>;
};

/** `[crio.runtime.runtimes.NAME]` */
export const RUNTIME_HANDLER_KEYS = {
  runtime_path: str("", "Runtime binary; empty looks the handler name up in $PATH.", {
    check: absoluteOrEmpty,
  }),
  runtime_type: str("oci", "How the runtime is driven.", { allowed: ["oci", "vm", "pod"] }),
  runtime_root: str("", "The runtime's state root (--root).", { check: absoluteOrEmpty }),
  runtime_config_path: str("", "Runtime config file (vm only).", { check: absoluteOrEmpty }),
  monitor_path: str("", "conmon binary; empty looks it up in $PATH.", {
    check: absoluteOrEmpty,
  }),
  monitor_cgroup: str("", "cgroup of the monitor: pod, a .slice (systemd) or empty."),
  monitor_exec_cgroup: str("", "cgroup of exec processes: empty or container.", {
    allowed: ["", "container"],
  }),
  monitor_env: list(
    ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Environment of the monitor.",
  ),
  privileged_without_host_devices: bool(false, "Privileged containers get no host devices."),
  allowed_annotations: list([], "Annotations this handler honours."),
  container_min_memory: str("", "Smallest memory limit a container may set."),
  no_sync_log: bool(false, "Do not fsync logs when a container exits."),
  inherit_default_runtime: bool(false, "Copy path, type, root and config from the default."),
} as const satisfies Record<string, OptionSpec>;

export type RuntimeHandler = {
  -readonly [K in keyof typeof RUNTIME_HANDLER_KEYS]: ValueOf<(typeof RUNTIME_HANDLER_KEYS)[K]>;
};

export interface Config {
  crio: Section<"crio">;
  api: Section<"crio.api">;
  runtime: Section<"crio.runtime"> & { runtimes: Record<string, RuntimeHandler> };
  image: Section<"crio.image">;
  network: Section<"crio.network">;
  metrics: Section<"crio.metrics">;
  stats: Section<"crio.stats">;
  tracing: Section<"crio.tracing">;
  nri: Section<"crio.nri">;
}

/** Config property for each TOML table. */
export const SECTION_PROPERTY: Record<SectionName, keyof Config> = {
  "crio": "crio",
  "crio.api": "api",
  "crio.runtime": "runtime",
  "crio.image": "image",
  "crio.network": "network",
  "crio.metrics": "metrics",
  "crio.stats": "stats",
  "crio.tracing": "tracing",
  "crio.nri": "nri",
};

export const RUNTIME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

function defaultHandler(overrides: Partial<RuntimeHandler>): RuntimeHandler {
  const h = Object.fromEntries(
    Object.entries(RUNTIME_HANDLER_KEYS).map(([k, s]) => [k, structuredClone(s.default)]),
  ) as RuntimeHandler;
  return { ...h, ...overrides };
}

export function defaultRuntimeHandler(name: string): RuntimeHandler {
  const roots: Record<string, string> = { crun: "/run/crun", runc: "/run/runc" };
  return defaultHandler({ runtime_root: roots[name] ?? `/run/${name}` });
}

export function defaultConfig(): Config {
  const cfg: Record<string, unknown> = {};
  for (const [table, keys] of Object.entries(SECTIONS)) {
    cfg[SECTION_PROPERTY[table as SectionName]] = Object.fromEntries(
      Object.entries(keys).map(([k, s]) => [k, structuredClone(s.default)]),
    );
  }
  const c = cfg as unknown as Config;
  c.runtime.runtimes = {
    crun: defaultRuntimeHandler("crun"),
    runc: defaultRuntimeHandler("runc"),
  };
  return c;
}
