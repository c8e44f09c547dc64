/**
 * The Deno permissions the daemon needs for a given configuration, and nothing wider: the socket,
 * the metrics address, the daemon's own directories, the runtime and monitor binaries. bin/crio
 * asks for this list, then starts the daemon with it (no -A, no unscoped write or run).
 */
import type { Config } from "../config/options.ts";
import { lookPath } from "../oci/runtime_handlers.ts";
import { HELPER_BINARIES } from "../oci/host.ts";
import { libcPath } from "../storage/libc.ts";
import { libzPath } from "../stream/spdy/header_zlib.ts";

function dirOf(path: string): string {
  if (path === "") return "";
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function uniq(xs: Iterable<string>): string[] {
  return [...new Set([...xs].filter((x) => x !== ""))].sort();
}

/** Environment variables read by the daemon and its libraries (grpc-js tracing knobs). */
const ENV = [
  "PATH",
  "HOME",
  "CRIO_K8S_MINOR",
  "CRIO_CACHE_DIR",
  "CONTAINER_CONFIG",
  "CONTAINER_CONFIG_DIR",
  "CONTAINERS_REGISTRIES_CONF",
  "CONTAINERS_REGISTRIES_CONF_DIR",
  "GRPC_*",
  "NODE_*",
];

/** Pod sandboxes (issue #4): the node files copied into pods. */
const POD_HOST_FILES = ["/etc/resolv.conf", "/etc/hosts"];

/** Where pod namespaces are pinned: only these three dirs of namespaces_dir are written. */
function podPinDirs(c: Config): string[] {
  const d = c.runtime.namespaces_dir.replace(/\/$/, "");
  const dirs = ["netns", "ipcns", "utsns"].map((k) => `${d}/${k}`);
  // mountinfo names /run/…, not /var/run/…: grant the resolved path too.
  return dirs.flatMap((x) => [x, realPathOr(x)]);
}

function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path.replace(/^\/var\/run\//, "/run/");
  }
}

/**
 * Binaries pods need: util-linux for namespaces and mounts, nsenter for pod network stats, and
 * every CNI plugin file in plugin_dirs (by the listed path and its link target). A plugin added
 * to plugin_dirs later is usable after a restart.
 */
function podBinaries(c: Config): string[] {
  const out = ["unshare", "mount", "nsenter"].map((b) => lookPath(b) ?? "");
  for (const dir of c.network.plugin_dirs) {
    const d = dir.replace(/\/$/, "");
    try {
      for (const e of Deno.readDirSync(d)) {
        if (e.isDirectory) continue;
        out.push(`${d}/${e.name}`, realPathOr(`${d}/${e.name}`));
      }
    } catch { /* a missing plugin dir grants nothing */ }
  }
  return out;
}

export interface PermissionInputs {
  config: Config;
  configFile: string;
  configDir: string;
  /** The repository's cache (schema files). */
  cacheDir: string;
  /** The environment (CONTAINERS_REGISTRIES_CONF may name a registries.conf anywhere). */
  env?: (key: string) => string | undefined;
}

/**
 * Cloud metadata endpoints: an image reference naming one must not turn the daemon into an SSRF
 * proxy for node credentials.
 */
const DENY_NET = ["169.254.169.254", "[fd00:ec2::254]"];

/** Files the image service reads besides /etc/containers. */
function imageReads(p: PermissionInputs): string[] {
  const env = p.env ?? (() => undefined);
  const img = p.config.image;
  return [
    env("CONTAINERS_REGISTRIES_CONF") ?? "",
    env("CONTAINERS_REGISTRIES_CONF_DIR") ?? "",
    img.global_auth_file,
    img.signature_policy,
    img.signature_policy_dir.replace(/\/$/, ""),
  ];
}

export function daemonPermissions(p: PermissionInputs): string[] {
  const c = p.config;
  const owned = [
    c.crio.root,
    c.crio.runroot,
    c.crio.log_dir,
    dirOf(c.crio.version_file),
    dirOf(c.crio.version_file_persist),
    dirOf(c.crio.clean_shutdown_file),
    c.runtime.container_exits_dir,
    c.runtime.container_attach_socket_dir,
    dirOf(c.api.listen),
    c.network.network_dir.replace(/\/$/, ""),
    ...podPinDirs(c),
  ];
  // Containers: CRI mount sources and seccomp profiles may be anywhere on the node (hostPath
  // volumes), so reads are not scoped; writes are only where the kubelet and critest keep pod
  // logs and mount sources a container asks to be created (CRI-O creates absent sources).
  const containerWrites = ["/var/log/pods", "/var/lib/kubelet", "/tmp"];
  const binaries = [] as string[];
  for (const [name, h] of Object.entries(c.runtime.runtimes)) {
    binaries.push(lookPath(h.runtime_path || name) ?? "");
    binaries.push(lookPath(h.monitor_path || c.runtime.conmon || "conmon") ?? "");
  }
  binaries.push(...podBinaries(c));
  // The OCI code reads /proc and /sys, and signals, through these (Deno refuses it directly).
  binaries.push(...Object.values(HELPER_BINARIES));
  const read = [
    "/",
    ...owned,
    p.configFile,
    p.configDir,
    "/etc/containers",
    ...c.network.plugin_dirs.map((d) => d.replace(/\/$/, "")),
    "/proc",
    "/sys/fs/cgroup",
    "/run/systemd/system",
    p.cacheDir,
    ...binaries,
    ...imageReads(p),
    ...POD_HOST_FILES,
  ];
  // Unscoped: the kubelet may name any registry, token realms and blob redirects (CDNs) are
  // chosen by the registry at run time, and registries.conf changes on SIGHUP; a fixed host list
  // would break pulls that CRI-O allows. Cloud metadata addresses stay denied.
  return [
    `--allow-read=${uniq(read).join(",")}`,
    `--allow-write=${uniq([...owned, ...containerWrites]).join(",")}`,
    "--allow-net",
    `--deny-net=${DENY_NET.join(",")}`,
    // libc: layer extraction (open/fchown/futimens/lsetxattr/mknod), kernel files and mounts,
    // conmon's attach socket (socket/connect/recv/send) and port-forward's setns on a worker
    // thread; libz: SPDY header compression needs zlib's dictionary, which node:zlib lacks here.
    `--allow-ffi=${libcPath()},${libzPath()}`,
    `--allow-env=${ENV.join(",")}`,
    "--allow-sys=hostname,osRelease,uid,gid,loadavg,networkInterfaces,systemMemoryInfo",
    ...(binaries.some((b) => b) ? [`--allow-run=${uniq(binaries).join(",")}`] : []),
  ];
}
