/**
 * The container's mounts: the standard /proc, /dev, /sys set, the pod's files (/dev/shm,
 * /etc/resolv.conf, /etc/hostname, /etc/hosts), the CRI volume mounts with their propagation and
 * (recursive) read-only flags, image volumes in bind mode, and the masked and read-only paths.
 * Host-side checks (symlinked sources, shared propagation of the source) are in host_mounts.ts.
 */
import { InvalidArgumentError } from "../../errors.ts";
import { type Mount, MountPropagation } from "../../cri/gen/api.ts";
import type { OciMount } from "./types.ts";

/** CRI-O's default masked paths (containers/common's list plus /proc/asound and /proc/interrupts). */
export const DEFAULT_MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/dev/block",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
  "/sys/fs/selinux",
];

export const DEFAULT_READONLY_PATHS = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** Files the pod sandbox prepared for its containers; absent ones are not mounted. */
export interface PodFiles {
  shmPath?: string;
  resolvPath?: string;
  hostnamePath?: string;
  hostsPath?: string;
}

/** One entry of the io.kubernetes.cri-o.Volumes annotation (CRI-O's JSON names). */
export interface ContainerVolume {
  container_path: string;
  host_path: string;
  readonly: boolean;
  recursive_read_only: boolean;
  propagation: number;
  selinux_relabel: boolean;
}

export interface MountsInput {
  /** CRI mounts whose host paths host_mounts.ts has already resolved. */
  criMounts: Mount[];
  pod: PodFiles;
  privileged: boolean;
  readonlyRootfs: boolean;
  /** crio.runtime.read_only: tmpfs on /run, /tmp and /var/tmp. */
  daemonReadOnly: boolean;
  rroSupported: boolean;
  /** The image store: a private mount of it would pin layers, so it is made rslave (CRI-O). */
  storageRoot?: string;
  /** image_volumes = "bind": a directory per image volume, made by the caller. */
  imageVolumeBinds?: { destination: string; source: string }[];
}

export interface MountsResult {
  mounts: OciMount[];
  rootfsPropagation?: string;
  volumes: ContainerVolume[];
}

const clean = (p: string) => ("/" + p.split("/").filter((c) => c && c !== ".").join("/"));
const depth = (p: string) => clean(p).split("/").length;

function standardMounts(privileged: boolean): OciMount[] {
  const m = (destination: string, type: string, options: string[]) => ({
    destination,
    type,
    source: type,
    options,
  });
  return [
    m("/proc", "proc", ["nosuid", "noexec", "nodev"]),
    m("/dev", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
    m("/dev/pts", "devpts", [
      "nosuid",
      "noexec",
      "newinstance",
      "ptmxmode=0666",
      "mode=0620",
      "gid=5",
    ]),
    m("/dev/mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
    m("/dev/shm", "tmpfs", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    privileged
      ? m("/sys", "sysfs", ["nosuid", "noexec", "nodev", "rw", "rslave"])
      : m("/sys", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
    m("/sys/fs/cgroup", "cgroup", [
      "nosuid",
      "noexec",
      "nodev",
      "relatime",
      privileged ? "rw" : "ro",
    ]),
  ];
}

function tmpfsForReadOnly(): OciMount[] {
  const opts = ["rw", "noexec", "nosuid", "nodev", "tmpcopyup"];
  return [["/run", "mode=0755"], ["/tmp", "mode=1777"], ["/var/tmp", "mode=1777"]].map((
    [destination, mode],
  ) => ({ destination, type: "tmpfs", source: "tmpfs", options: [...opts, mode] }));
}

function podFileMounts(pod: PodFiles, readonly: boolean): OciMount[] {
  const rw = readonly ? "ro" : "rw";
  const out: OciMount[] = [];
  const bind = (destination: string, source: string | undefined, options: string[]) => {
    if (source) out.push({ destination, type: "bind", source, options });
  };
  bind("/dev/shm", pod.shmPath, ["rw", "bind"]);
  bind("/etc/resolv.conf", pod.resolvPath, [rw, "bind", "nodev", "nosuid", "noexec"]);
  bind("/etc/hostname", pod.hostnamePath, [rw, "bind"]);
  bind("/etc/hosts", pod.hostsPath, [rw, "bind"]);
  return out;
}

/** Privileged containers see the host's /sys and cgroups writable, like the rest (CRI-O). */
function clearReadOnly(m: OciMount): OciMount {
  const options = (m.options ?? []).filter((o) => o !== "ro");
  if (!options.includes("rw")) options.push("rw");
  return { ...m, options };
}

function propagationOption(m: Mount, storageRoot?: string): { option: string; root?: string } {
  let p = m.propagation ?? MountPropagation.PROPAGATION_PRIVATE;
  const host = clean(m.hostPath ?? "");
  if (
    p === MountPropagation.PROPAGATION_PRIVATE && storageRoot &&
    (clean(storageRoot) + "/").startsWith(host === "/" ? "/" : host + "/")
  ) p = MountPropagation.PROPAGATION_HOST_TO_CONTAINER;
  switch (p) {
    case MountPropagation.PROPAGATION_PRIVATE:
      return { option: "rprivate" };
    case MountPropagation.PROPAGATION_HOST_TO_CONTAINER:
      return { option: "rslave", root: "rslave" };
    case MountPropagation.PROPAGATION_BIDIRECTIONAL:
      return { option: "rshared", root: "rshared" };
  }
  throw new InvalidArgumentError(`mount ${m.containerPath}: unknown propagation ${p}`);
}

function readOnlyOption(m: Mount, rroSupported: boolean): string {
  const where = `mount ${m.containerPath}`;
  if (!m.recursiveReadOnly) return m.readonly ? "ro" : "rw";
  if (!m.readonly) throw new InvalidArgumentError(`${where}: recursive_read_only needs readonly`);
  if ((m.propagation ?? 0) !== MountPropagation.PROPAGATION_PRIVATE) {
    throw new InvalidArgumentError(`${where}: recursive_read_only needs private propagation`);
  }
  if (!rroSupported) {
    throw new InvalidArgumentError(
      `${where}: the runtime does not support recursive read-only mounts`,
    );
  }
  return "rro";
}

function criBindMounts(input: MountsInput): MountsResult {
  const mounts: OciMount[] = [];
  const volumes: ContainerVolume[] = [];
  let rootfsPropagation: string | undefined;
  for (const m of input.criMounts) {
    const dest = m.containerPath ?? "";
    if (!dest.startsWith("/") || dest.includes("\0")) {
      throw new InvalidArgumentError(
        `mount container_path ${JSON.stringify(dest)} must be absolute`,
      );
    }
    if (!m.hostPath) throw new InvalidArgumentError(`mount ${dest}: host_path is empty`);
    if (m.image?.image) {
      mounts.push(imageVolumeMount(dest, m.hostPath));
      volumes.push(volumeOf({ ...m, readonly: true, recursiveReadOnly: false }));
      continue;
    }
    const prop = propagationOption(m, input.storageRoot);
    if (prop.root === "rshared" || (prop.root === "rslave" && rootfsPropagation !== "rshared")) {
      rootfsPropagation = prop.root;
    }
    const ro = readOnlyOption(m, input.rroSupported);
    mounts.push({
      destination: dest,
      type: "bind",
      source: m.hostPath,
      options: ["rbind", prop.option, ro],
    });
    volumes.push(volumeOf(m));
  }
  return { mounts, volumes, rootfsPropagation };
}

function volumeOf(m: Mount): ContainerVolume {
  return {
    container_path: m.containerPath ?? "",
    host_path: m.hostPath ?? "",
    readonly: !!m.readonly,
    recursive_read_only: !!m.recursiveReadOnly,
    propagation: m.propagation ?? 0,
    selinux_relabel: !!m.selinuxRelabel,
  };
}

/**
 * An image volume: the host mount of the image (made by the container service) bound read-only,
 * without suid or device files; executables in it run (critest's image volume spec checks).
 */
export function imageVolumeMount(destination: string, source: string): OciMount {
  return {
    destination,
    type: "bind",
    source,
    options: ["rbind", "rprivate", "ro", "nosuid", "nodev"],
  };
}

export function buildMounts(input: MountsInput): MountsResult {
  const cri = criBindMounts(input);
  const criDests = new Set(cri.mounts.map((m) => clean(m.destination)));
  const shadowed = (dest: string) =>
    criDests.has(clean(dest)) ||
    (criDests.has("/dev") && dest.startsWith("/dev/")) ||
    (criDests.has("/sys") && dest.startsWith("/sys/"));
  const pod = podFileMounts(input.pod, input.readonlyRootfs);
  const podDests = new Set(pod.map((m) => m.destination));
  let base = [
    ...standardMounts(input.privileged).filter((m) => !podDests.has(m.destination)),
    ...(input.daemonReadOnly ? tmpfsForReadOnly() : []),
    ...pod,
  ].filter((m) => !shadowed(m.destination));
  if (input.privileged) base = base.map(clearReadOnly);
  const volumeBinds = (input.imageVolumeBinds ?? [])
    .filter((v) => !criDests.has(clean(v.destination)))
    .map((v) => ({
      destination: v.destination,
      type: "bind",
      source: v.source,
      options: ["rbind", "rprivate", "rw"],
    }));
  // Parents before children, so a shallow mount never hides a deeper one (the sort is stable).
  const binds = [...cri.mounts, ...volumeBinds].sort((a, b) =>
    depth(a.destination) - depth(b.destination)
  );
  return {
    mounts: [...base, ...binds],
    rootfsPropagation: cri.rootfsPropagation,
    volumes: cri.volumes,
  };
}

/** Masked and read-only paths: the defaults plus the CRI's, none for privileged containers. */
export function protectedPaths(
  sc: { privileged?: boolean; maskedPaths?: string[]; readonlyPaths?: string[] },
  options: { extraMasked?: string[] } = {},
): { maskedPaths: string[]; readonlyPaths: string[] } {
  if (sc.privileged) return { maskedPaths: [], readonlyPaths: [] };
  const uniq = (xs: string[]) => [...new Set(xs)];
  return {
    maskedPaths: uniq([
      ...DEFAULT_MASKED_PATHS,
      ...(options.extraMasked ?? []),
      ...(sc.maskedPaths ?? []),
    ]),
    readonlyPaths: uniq([...DEFAULT_READONLY_PATHS, ...(sc.readonlyPaths ?? [])]),
  };
}

/**
 * The image config's Volumes, checked: each must be an absolute path without `..`, or a crafted
 * image could aim a volume outside its rootfs (CVE-2022-23648).
 */
export function imageVolumeTargets(volumes: Record<string, unknown> | null | undefined): string[] {
  const out: string[] = [];
  for (const v of Object.keys(volumes ?? {})) {
    if (!v.startsWith("/") || v.split("/").includes("..") || clean(v) === "/" || v.includes("\0")) {
      throw new InvalidArgumentError(`image volume ${JSON.stringify(v)} is not a valid path`);
    }
    out.push(clean(v));
  }
  return [...new Set(out)].sort();
}
