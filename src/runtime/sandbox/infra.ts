/**
 * When a pod gets an infra ("pause") container, and what the sandbox service asks of it.
 *
 * Pods keep their network, IPC and UTS namespaces pinned by bind mounts, so like CRI-O with
 * `drop_infra_ctr = true` (its default) most pods need no process of their own. Two kinds do:
 * a pod whose containers share one PID namespace (`NamespaceOption.pid == POD`): someone must
 * be its PID 1, reap orphans and outlive the containers; and a pod whose runtime handler runs
 * the pod as a VM (`runtime_type = "vm"`, or a kata handler as CRI-O recognises one by name),
 * which boots with the infra container.
 */
import { NamespaceMode } from "../../cri/gen/api.ts";
import type { Rollback } from "../../util/rollback.ts";
import type { PodMeta } from "./pod_state.ts";

export interface InfraDecision {
  /** The pod's PID NamespaceMode (absent in the request means POD, proto3's zero). */
  pid: number;
  handler: string;
  /** The handler's runtime_type ("oci", "vm", "pod"). */
  runtimeType: string;
  dropInfra: boolean;
}

export function needsInfra(d: InfraDecision): boolean {
  if (!d.dropInfra) return true;
  if (d.pid === NamespaceMode.POD) return true;
  return d.runtimeType === "vm" || d.handler.toLowerCase().includes("kata");
}

/** What a pod's meta records about its infra container (its id is the pod's). */
export interface InfraMeta {
  /** pause_image as configured when the pod was created. */
  readonly image: string;
  /** The image's ID: RemoveImage refuses it while the pod exists. */
  readonly imageId: string;
  readonly args: readonly string[];
  /** false when the pod shares the host's PID namespace. */
  readonly newPidNamespace: boolean;
}

/** Paths of a pod's infra container, derived from the pod so restore needs nothing else. */
export function infraPaths(meta: Pick<PodMeta, "runDir">, storageDir: string) {
  return {
    bundle: `${meta.runDir}/infra`,
    rootfs: `${meta.runDir}/infra-rootfs`,
    /** Writable layer (upper, work, lower links); the pod's state dir holds it. */
    layer: `${storageDir}/layer`,
  };
}

export interface PodInfra {
  /** Resolves the pause image (pulled when missing) and the command; no side effect to undo. */
  prepare(o: { newPidNamespace: boolean }): Promise<InfraMeta>;
  /** Creates and starts the infra container; returns its pid. Every step registers its undo. */
  start(meta: PodMeta, rb: Rollback): Promise<number>;
  /** true while the infra process runs. */
  running(meta: PodMeta): Promise<boolean>;
  /** Stops the process and unmounts its rootfs; idempotent. */
  stop(meta: PodMeta): Promise<void>;
  /** Deletes the runtime's state, the bundle, the writable layer and the exit file; idempotent. */
  remove(meta: PodMeta): Promise<void>;
}
