/**
 * What the daemon knows about a pod: immutable metadata written once at creation, and a small
 * mutable status changed only through SandboxStore.update (copy, apply, write atomically, then swap
 * in memory: a failed write leaves memory as it was).
 *
 * Lifecycle (the pinned namespaces are the sandbox; an infra container, when the pod needs one
 * (infra.ts), is started last at creation and stopped first at teardown):
 *
 *     RunPodSandbox: reserve name, write meta + status "creating"
 *            │
 *            ▼
 *        creating ──any step fails──► rolled back: no netns, mount, veth, IP, dir; name released
 *            │  namespaces pinned, files written, /dev/shm mounted, CNI ADD done
 *            ▼
 *         ready ──StopPodSandbox──► notready ──RemovePodSandbox──► (gone: dirs removed,
 *            │   (CNI DEL, umount,     ▲  │                         name released)
 *            │    unpin; idempotent)   │  └─StopPodSandbox again: teardown re-run, no-op
 *            └──restore: netns gone────┘
 *
 *   restore finds "creating" (daemon killed half-way) → everything undone and the record removed.
 */
import type { PodSandboxConfig } from "../../cri/gen/api.ts";
import type { NsKind } from "../../net/namespaces.ts";
import type { CniAttachment } from "../../net/cni_attach.ts";
import type { InfraMeta } from "./infra.ts";

export type PodState = "creating" | "ready" | "notready";

export interface PodMeta {
  readonly id: string;
  /** k8s_<name>_<namespace>_<uid>_<attempt>: the reserved name (never a path). */
  readonly name: string;
  /** Hash of the request; a retry with the same hash gets this pod back. */
  readonly requestHash: string;
  /** Nanoseconds since the epoch, as a decimal string (exceeds 2^53). */
  readonly createdAt: string;
  readonly config: PodSandboxConfig;
  readonly runtimeHandler: string;
  readonly modes: { network: number; pid: number; ipc: number };
  readonly nsPaths: Partial<Record<NsKind, string>>;
  readonly hostname: string;
  /** Volatile per-pod dir under runroot: hostname, hosts, resolv.conf, shm. */
  readonly runDir: string;
  /** Mount point of the pod's /dev/shm tmpfs; absent with host IPC. */
  readonly shmPath?: string;
  /** As containers will pass it to the OCI runtime (path or slice). */
  readonly cgroupParent: string;
  /** The cgroup's path below each hierarchy's root, for stats. */
  readonly cgroupPath: string;
  /** Present when the pod has an infra container (its container id is the pod's id). */
  readonly infra?: InfraMeta;
}

export interface PodStatusRecord {
  readonly state: PodState;
  readonly ips: readonly string[];
  /** The infra process while the pod is ready; its containers join /proc/<pid>/ns/pid. */
  readonly infraPid?: number;
}

/** The per-pod CNI cache: exactly what ADD used, for DEL. */
export interface PodNetworkRecord {
  readonly loopback?: CniAttachment;
  readonly network?: CniAttachment;
}

export interface Pod {
  readonly id: string;
  readonly meta: PodMeta;
  readonly status: PodStatusRecord;
}

/** Stop runs on ready pods and, as a no-op re-run of the teardown, on notready ones. */
export function canStop(s: PodStatusRecord): boolean {
  return s.state === "ready" || s.state === "notready";
}

/** A pod being created cannot be removed; its creator finishes or rolls it back first. */
export function canRemove(s: PodStatusRecord): boolean {
  return s.state !== "creating";
}

export function isHalfMade(s: PodStatusRecord | undefined): boolean {
  return !s || s.state === "creating";
}
