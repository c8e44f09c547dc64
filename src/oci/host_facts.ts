/**
 * Facts about the node the spec builders need, read once at start-up: the daemon's capabilities
 * and OOM score, the cgroup layout, what the runtime handler supports (`runtime features`), and
 * whether AppArmor is on.
 */
import { capabilitiesFromMask } from "./spec/capabilities.ts";
import type { HostFacts } from "./spec/build.ts";
import { denoHost, type OciHost, readSpecialFile } from "./host.ts";

const text = (path: string) => readSpecialFile(path).catch(() => undefined);
const exists = async (path: string) => (await text(path)) !== undefined;

/** The `CapXxx:` mask of /proc/<pid>/status. */
export function statusMask(status: string, field: "CapBnd" | "CapEff"): string | undefined {
  return new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status)?.[1];
}

/** `runtime features` (runc >= 1.1) lists "rro" among mountOptions; crun 1.8 has no features. */
export function featuresSupportRro(stdout: string): boolean {
  try {
    const f = JSON.parse(stdout) as { mountOptions?: string[] };
    return f.mountOptions?.includes("rro") ?? false;
  } catch {
    return false;
  }
}

/** Recursive read-only mounts need mount_setattr, Linux 5.12 or later. */
export function kernelHasRro(release: string): boolean {
  const [major, minor] = release.split(".").map((n) => parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 12);
}

export async function thermalThrottlePaths(): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir("/sys/devices/system/cpu")) {
      const p = `/sys/devices/system/cpu/${e.name}/thermal_throttle`;
      if (/^cpu\d+$/.test(e.name) && (await exists(`${p}/core_throttle_count`))) out.push(p);
    }
  } catch {
    // Deno refuses to list /sys without --allow-all; the per-CPU masks are then skipped.
  }
  return out.sort();
}

export async function gatherHostFacts(
  options: { runtimePath: string; host?: OciHost },
): Promise<HostFacts> {
  // /proc/<pid>, not /proc/self: the read may go through cat.
  const status = (await text(`/proc/${Deno.pid}/status`)) ?? "";
  const bnd = statusMask(status, "CapBnd");
  const eff = capabilitiesFromMask(statusMask(status, "CapEff") ?? "0");
  const cgroupV2 = await exists("/sys/fs/cgroup/cgroup.controllers");
  const features = await (options.host ?? denoHost).run(options.runtimePath, ["features"], {
    timeoutMs: 10_000,
  }).catch(() => undefined);
  const release = (await text("/proc/sys/kernel/osrelease")) ?? "0.0";
  return {
    arch: Deno.build.arch,
    lastCap: Number((await text("/proc/sys/kernel/cap_last_cap"))?.trim() ?? 40),
    bounding: bnd ? capabilitiesFromMask(bnd) : undefined,
    daemonOomScoreAdj: Number((await text(`/proc/${Deno.pid}/oom_score_adj`))?.trim() ?? 0),
    canLowerOomScore: eff.has("CAP_SYS_RESOURCE"),
    cgroupV2,
    swapAccounting: cgroupV2 || (await exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")),
    rroSupported: kernelHasRro(release) && features?.code === 0 &&
      featuresSupportRro(new TextDecoder().decode(features.stdout)),
    apparmorEnabled: (await text("/sys/module/apparmor/parameters/enabled"))?.trim() === "Y",
    extraMaskedPaths: await thermalThrottlePaths(),
  };
}
