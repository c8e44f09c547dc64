/**
 * The OCI spec of a pod's infra ("pause") container. It only holds the pod's PID namespace open
 * (and, for VM runtimes, stands for the pod), so it gets as little as a process can run with:
 * read-only root, no capabilities, no new privileges, the pod's seccomp choice, and an OOM score
 * that keeps it alive longer than its containers (CRI-O's -998). It joins the
 * pod's pinned network, IPC and UTS namespaces (or the host's when the pod asks for NODE) and
 * gets a PID namespace of its own, which the pod's containers then join through its pid.
 */
import { ANN } from "./annotations.ts";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "./mounts.ts";
import { cgroupsPath } from "./paths.ts";
import {
  OCI_VERSION,
  type OciMount,
  type OciNamespace,
  type OciSeccomp,
  type OciSpec,
} from "./types.ts";

/** CRI-O's PodInfraOOMAdj: the infra dies after the containers it holds together. */
export const INFRA_OOM_SCORE_ADJ = -998;

export interface InfraSpecInput {
  podId: string;
  /** k8s_<name>_<namespace>_<uid>_<attempt>. */
  podName: string;
  rootfs: string;
  args: string[];
  user: { uid: number; gid: number };
  /** Pinned namespaces of the pod; an absent one is shared with the host. */
  namespaces: { net?: string; ipc?: string; uts?: string };
  /** false when the pod shares the host's PID namespace. */
  newPidNamespace: boolean;
  hostname: string;
  shmPath?: string;
  cgroupParent: string;
  cgroupDriver: "systemd" | "cgroupfs";
  /** infra_ctr_cpuset; empty leaves the pod's. */
  cpuset?: string;
  seccomp?: OciSeccomp;
  /** INFRA_OOM_SCORE_ADJ, or the daemon's own score when the node cannot go lower. */
  oomScoreAdj: number;
  image: string;
  created: Date;
}

function mounts(shmPath: string | undefined): OciMount[] {
  const m = (destination: string, type: string, options: string[]) => ({
    destination,
    type,
    source: type,
    options,
  });
  const out = [
    m("/proc", "proc", ["nosuid", "noexec", "nodev"]),
    m("/dev", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
    m("/dev/pts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
    m("/dev/mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
    m("/sys", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
  ];
  if (shmPath) {
    out.push({ destination: "/dev/shm", type: "bind", source: shmPath, options: ["rw", "bind"] });
  } else {
    out.push(m("/dev/shm", "tmpfs", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]));
  }
  return out;
}

function namespaces(input: InfraSpecInput): OciNamespace[] {
  const ns = input.namespaces;
  const out: OciNamespace[] = [];
  if (ns.net) out.push({ type: "network", path: ns.net });
  if (ns.ipc) out.push({ type: "ipc", path: ns.ipc });
  if (ns.uts) out.push({ type: "uts", path: ns.uts });
  if (input.newPidNamespace) out.push({ type: "pid" });
  out.push({ type: "mount" });
  return out;
}

export function buildInfraSpec(input: InfraSpecInput): OciSpec {
  const none: string[] = [];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid },
      args: input.args,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: "/",
      capabilities: {
        bounding: none,
        effective: none,
        inheritable: none,
        permitted: none,
        ambient: none,
      },
      noNewPrivileges: true,
      oomScoreAdj: input.oomScoreAdj,
    },
    root: { path: input.rootfs, readonly: true },
    // runc refuses a hostname without a UTS namespace of the pod's own (host network).
    ...(input.namespaces.uts ? { hostname: input.hostname } : {}),
    mounts: mounts(input.shmPath),
    annotations: {
      [ANN.containerType]: "sandbox",
      [ANN.containerId]: input.podId,
      [ANN.sandboxId]: input.podId,
      [ANN.name]: input.podName,
      [ANN.sandboxName]: input.podName,
      [ANN.image]: input.image,
      [ANN.created]: input.created.toISOString(),
      [ANN.containerManager]: "cri-o",
      "io.kubernetes.container.name": "POD",
    },
    linux: {
      namespaces: namespaces(input),
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        ...(input.cpuset ? { cpu: { cpus: input.cpuset } } : {}),
      },
      cgroupsPath: cgroupsPath(input.cgroupDriver, {
        parent: input.cgroupParent,
        containerId: input.podId,
      }),
      maskedPaths: DEFAULT_MASKED_PATHS,
      readonlyPaths: DEFAULT_READONLY_PATHS,
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
    },
  };
}
