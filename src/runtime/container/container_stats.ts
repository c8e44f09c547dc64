/**
 * Container stats: CPU, memory and pids from the container's own cgroup (below the pod's, named
 * as cgroupsPath() names it for the driver), and the writable layer's usage (the overlay upper
 * dir, measured like du and cached briefly, as the kubelet asks every few seconds).
 */
import type { ContainerStats } from "../../cri/gen/api.ts";
import { UsageCache } from "../../storage/fs_usage.ts";
import { cgroupStats, type StatsSources } from "../sandbox/pod_stats.ts";
import type { Pod } from "../sandbox/pod_state.ts";
import type { Container } from "./container_state.ts";

const layerUsage = new Map<string, UsageCache>();

export function containerCgroupPath(
  c: Container,
  o: { pod: Pod | undefined; driver: "systemd" | "cgroupfs" },
): string {
  const parent = o.pod?.meta.cgroupPath ?? "/crio";
  return o.driver === "systemd" ? `${parent}/crio-${c.id}.scope` : `${parent}/crio-${c.id}`;
}

export async function containerStats(
  c: Container,
  o: { src: StatsSources; cgroupPath: string },
): Promise<ContainerStats> {
  const ts = (BigInt(Date.now()) * 1_000_000n).toString();
  const out: ContainerStats = {
    attributes: {
      id: c.id,
      metadata: c.meta.config.metadata ?? {},
      labels: c.meta.config.labels ?? {},
      annotations: c.meta.config.annotations ?? {},
    },
  };
  if (c.status.state === "running") {
    const s = await cgroupStats(o.cgroupPath, o.src, ts);
    if (s.cpu) out.cpu = s.cpu;
    if (s.memory) out.memory = s.memory;
  }
  const upper = `${c.meta.storageDir}/layer/upper`;
  let cache = layerUsage.get(c.id);
  if (!cache) layerUsage.set(c.id, cache = new UsageCache(upper));
  const usage = await cache.get().catch(() => undefined);
  out.writableLayer = {
    timestamp: usage?.timestampNs ?? ts,
    fsId: { mountpoint: upper },
    usedBytes: { value: String(usage?.usedBytes ?? 0) },
    inodesUsed: { value: String(usage?.inodesUsed ?? 0) },
  };
  return out;
}

/** Drops the cached measurement of a removed container. */
export function forgetLayerUsage(id: string): void {
  layerUsage.delete(id);
}
