/**
 * cgroup resources and the OOM score from the CRI LinuxContainerResources plus the daemon's
 * pids_limit and the handler's minimum memory. The OOM score cannot go below the daemon's own
 * without CAP_SYS_RESOURCE (which this node lacks) and runc refuses the whole container then, so
 * a lower request is clamped to the daemon's value with a warning.
 */
import { InvalidArgumentError } from "../../errors.ts";
import type { Int64, LinuxContainerResources } from "../../cri/gen/api.ts";
import type { OciResources } from "./types.ts";

export interface ResourceFacts {
  /** The daemon's /proc/self/oom_score_adj. */
  daemonOomScoreAdj: number;
  /** Whether the node can lower it (CAP_SYS_RESOURCE in the daemon's effective set). */
  canLowerOomScore: boolean;
  cgroupV2: boolean;
  /** cgroup v1 memory.memsw.* exist (swap accounting on). */
  swapAccounting: boolean;
}

export interface ResourceOptions {
  /** crio.runtime.pids_limit; -1 or 0 leaves it to the runtime. */
  pidsLimit: number;
  /** The handler's smallest accepted memory limit in bytes (CRI-O: 12 MiB runc, 500 KiB crun). */
  minMemory: number;
}

export function int64(v: Int64 | undefined): number {
  if (v === undefined || v === null || v === "") return 0;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${v} is not a number`);
  return n;
}

/** The handler's minimum memory: container_min_memory ("12MiB", "500KiB", bytes) or the default. */
export function minMemoryBytes(configured: string, runtimeName: string): number {
  if (configured === "") return runtimeName === "crun" ? 500 * 1024 : 12 * 1024 * 1024;
  const m = /^(\d+)\s*(|b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib)$/i.exec(configured.trim());
  if (!m) {
    throw new InvalidArgumentError(
      `container_min_memory ${JSON.stringify(configured)} is not a size`,
    );
  }
  const unit = m[2].toLowerCase()[0] ?? "";
  const mult: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Number(m[1]) * mult[unit];
}

function cpu(r: LinuxContainerResources): OciResources["cpu"] | undefined {
  const c: NonNullable<OciResources["cpu"]> = {};
  const shares = int64(r.cpuShares);
  const quota = int64(r.cpuQuota);
  const period = int64(r.cpuPeriod);
  if (shares > 0) c.shares = shares;
  if (quota !== 0) c.quota = quota;
  if (period > 0) c.period = period;
  if (r.cpusetCpus) c.cpus = r.cpusetCpus;
  if (r.cpusetMems) c.mems = r.cpusetMems;
  return Object.keys(c).length ? c : undefined;
}

function memory(
  r: LinuxContainerResources,
  facts: ResourceFacts,
  options: ResourceOptions,
): OciResources["memory"] | undefined {
  const limit = int64(r.memoryLimitInBytes);
  if (limit === 0) return undefined;
  if (limit > 0 && limit < options.minMemory) {
    throw new InvalidArgumentError(
      `memory limit ${limit} is too low; the runtime needs at least ${options.minMemory} bytes`,
    );
  }
  const swapLimit = int64(r.memorySwapLimitInBytes);
  if (swapLimit > 0 && limit > 0 && swapLimit < limit) {
    throw new InvalidArgumentError(
      `memory swap limit ${swapLimit} cannot be lower than the memory limit ${limit}`,
    );
  }
  // No swap unless asked (memory+swap = memory), as CRI-O; only where swap is accounted.
  const swap = swapLimit !== 0 ? swapLimit : limit;
  return facts.cgroupV2 || facts.swapAccounting ? { limit, swap } : { limit };
}

export function oomScoreAdj(
  requested: Int64 | undefined,
  facts: ResourceFacts,
): { value: number; warning?: string } {
  const value = int64(requested);
  if (value < -1000 || value > 1000) {
    throw new InvalidArgumentError(`oom_score_adj ${value} is outside -1000..1000`);
  }
  if (value < facts.daemonOomScoreAdj && !facts.canLowerOomScore) {
    return {
      value: facts.daemonOomScoreAdj,
      warning: `oom_score_adj ${value} raised to the daemon's ${facts.daemonOomScoreAdj}: ` +
        `lowering it needs CAP_SYS_RESOURCE`,
    };
  }
  return { value };
}

export function buildResources(
  r: LinuxContainerResources | undefined,
  facts: ResourceFacts,
  options: ResourceOptions,
): { resources: OciResources; oomScoreAdj: number; warnings: string[] } {
  const res = r ?? {};
  const warnings: string[] = [];
  const resources: OciResources = {};
  const c = cpu(res);
  if (c) resources.cpu = c;
  const m = memory(res, facts, options);
  if (m) resources.memory = m;
  if (options.pidsLimit > 0) resources.pids = { limit: options.pidsLimit };
  const huge = (res.hugepageLimits ?? []).map((h) => {
    if (!/^\d+(KB|MB|GB)$/.test(h.pageSize ?? "")) {
      throw new InvalidArgumentError(`hugepage size ${JSON.stringify(h.pageSize)} is invalid`);
    }
    return { pageSize: h.pageSize!, limit: int64(h.limit) };
  });
  if (huge.length) resources.hugepageLimits = huge;
  const unified = res.unified ?? {};
  if (Object.keys(unified).length) {
    if (facts.cgroupV2) resources.unified = { ...unified };
    else warnings.push("unified cgroup resources ignored: the node uses cgroup v1");
  }
  const oom = oomScoreAdj(res.oomScoreAdj, facts);
  if (oom.warning) warnings.push(oom.warning);
  return { resources, oomScoreAdj: oom.value, warnings };
}
