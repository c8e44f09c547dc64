/**
 * Undoes what a ready pod holds on the host, in the reverse order of creation: the infra
 * container (stopped, rootfs unmounted; its runtime state and dirs go at removal), CNI DEL (with the
 * cached config and result; an empty CNI_NETNS when the netns is already gone, so IPAM is still
 * released), /dev/shm, the pinned namespaces. Every step tolerates its work being done already,
 * so Stop is idempotent and restore can run it on half-made pods.
 */
import { FailedPreconditionError } from "../../errors.ts";
import type { PodRef } from "../../net/cni_attach.ts";
import type { SandboxDeps } from "./deps.ts";
import type { PodMeta } from "./pod_state.ts";

export function podRef(meta: PodMeta, netns: string): PodRef {
  const m = meta.config.metadata ?? {};
  return {
    id: meta.id,
    name: m.name ?? "",
    namespace: m.namespace ?? "",
    uid: m.uid ?? "",
    netns,
  };
}

export async function teardownPod(meta: PodMeta, deps: SandboxDeps): Promise<void> {
  if (meta.infra) await infraOf(deps).stop(meta);
  const mounted = await deps.mountPoints();
  const netnsPath = meta.nsPaths.net;
  const netns = netnsPath && mounted.has(netnsPath) ? netnsPath : "";
  const net = await deps.store.readNetwork(meta.id).catch(() => ({}));
  if ("network" in net && net.network) {
    await deps.cni.del(podRef(meta, netns), net.network);
  }
  if ("loopback" in net && net.loopback && netns) {
    await deps.cni.del(podRef(meta, netns), net.loopback);
  }
  if (Object.keys(net).length) await deps.store.writeNetwork(meta.id, {});
  if (meta.shmPath) await deps.files.unmountShm(meta.shmPath, mounted.has(meta.shmPath));
  for (const path of Object.values(meta.nsPaths)) await deps.namespaces.unpin(path);
}

function infraOf(deps: SandboxDeps) {
  if (!deps.infra) throw new FailedPreconditionError("the pod has an infra container; no runtime");
  return deps.infra;
}

/** Removes the pod's infra container (runtime state, bundle, layer); the pod is stopped. */
export async function removeInfra(meta: PodMeta, deps: SandboxDeps): Promise<void> {
  if (meta.infra) await infraOf(deps).remove(meta);
}

/** Removes the pod's run dir (hostname, hosts, resolv.conf); called once it holds no mount. */
export async function removeRunDir(meta: PodMeta): Promise<void> {
  await Deno.remove(meta.runDir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}
