/**
 * What the daemon knows about a container: immutable metadata written once at creation, and a
 * small mutable status changed only through ContainerStore.update (copy, apply, write atomically,
 * then swap in memory).
 *
 *     CreateContainer: reserve name, write meta + status "creating"
 *            │
 *            ▼
 *        creating ──any step fails──► rolled back: runtime delete, unmount, dirs, name released
 *            │  rootfs mounted, bundle written, conmon ran `runtime create`
 *            ▼
 *        created ──StartContainer──► running ──exit file / StopContainer──► exited
 *            │                                                               ▲
 *            └──StopContainer (killed before start), restore: runtime lost ──┘
 *
 *   RemoveContainer from any committed state: stop if needed, runtime delete, unmount, forget.
 *   restore finds "creating" (daemon killed half-way) → everything undone and the record removed.
 */
import type { ContainerConfig, Mount } from "../../cri/gen/api.ts";

export type ContainerStateName = "creating" | "created" | "running" | "exited";

export interface ContainerImage {
  /** As the request named it. */
  readonly requested: string;
  /** The image's first tag, else the request. */
  readonly name: string;
  /** repo@digest when known, else the id: CRI imageRef. */
  readonly ref: string;
  readonly id: string;
}

export interface ContainerMeta {
  readonly id: string;
  /** k8s_<ctr>_<pod>_<ns>_<uid>_<attempt>: the reserved name (never a path). */
  readonly name: string;
  /** Hash of the request; a retry with the same hash gets this container back. */
  readonly requestHash: string;
  readonly podId: string;
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly createdAt: string;
  readonly config: ContainerConfig;
  readonly image: ContainerImage;
  readonly runtimeHandler: string;
  readonly logPath: string;
  /** <root>/containers/<id>: layer links, upper and work dirs. */
  readonly storageDir: string;
  /** <runroot>/containers/<id>: bundle and the merged rootfs. */
  readonly runDir: string;
  readonly bundle: string;
  readonly rootfs: string;
  readonly stopSignal?: string;
  /** The CRI mounts as resolved on the host, for ContainerStatus. */
  readonly mounts: Mount[];
}

export interface ContainerStatusRecord {
  readonly state: ContainerStateName;
  readonly pid?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly message?: string;
}

export interface Container {
  readonly id: string;
  readonly meta: ContainerMeta;
  readonly status: ContainerStatusRecord;
}

export function canStart(s: ContainerStatusRecord): boolean {
  return s.state === "created";
}

/** Stop acts on what may still have a process; on an exited container it is a no-op. */
export function needsStop(s: ContainerStatusRecord): boolean {
  return s.state === "created" || s.state === "running";
}

export function isHalfMade(s: ContainerStatusRecord | undefined): boolean {
  return !s || s.state === "creating";
}

/** The exited status for an exit code, with CRI-O's reasons. */
export function exitedStatus(
  prev: ContainerStatusRecord,
  exit: { exitCode: number; finishedAt: Date; oomKilled?: boolean; message?: string },
): ContainerStatusRecord {
  const reason = exit.oomKilled ? "OOMKilled" : exit.exitCode === 0 ? "Completed" : "Error";
  return {
    ...prev,
    state: "exited",
    exitCode: exit.exitCode,
    finishedAt: nanos(exit.finishedAt),
    reason,
    ...(exit.message ? { message: exit.message } : {}),
  };
}

/** Nanoseconds since the epoch as a decimal string (CRI timestamps exceed 2^53). */
export function nanos(d: Date = new Date()): string {
  return (BigInt(d.getTime()) * 1_000_000n).toString();
}
