/**
 * Capability sets for the container process: CRI-O's default set (default_capabilities) plus the
 * CRI add list minus the drop list, `ALL` on either side, everything for privileged containers.
 * Inheritable and ambient stay empty (CVE-2022-27652) unless add_inheritable_capabilities asks
 * for the inheritable set.
 */
import { InvalidArgumentError } from "../../errors.ts";
import type { OciCapabilities } from "./types.ts";

/** Capability names by number, as in linux/capability.h (0..40 on 6.x kernels). */
export const CAPABILITY_NAMES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
].map((n) => `CAP_${n}`);

export interface CapabilityRequest {
  add?: string[];
  drop?: string[];
  /** The daemon's default_capabilities. */
  defaults: string[];
  privileged?: boolean;
  addInheritable?: boolean;
}

export interface HostCapabilities {
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number;
  /**
   * The daemon's own bounding set (CapBnd of /proc/self/status). A capability the daemon lacks
   * cannot be granted: runc would fail the whole container, so it is left out with a warning.
   */
  bounding?: ReadonlySet<string>;
}

/** "chown", "CAP_CHOWN" and "cap_chown" all name CAP_CHOWN. */
export function normalizeCapability(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

export function buildCapabilities(
  req: CapabilityRequest,
  host: HostCapabilities,
): { capabilities: OciCapabilities; warnings: string[] } {
  const known = CAPABILITY_NAMES.slice(0, host.lastCap + 1);
  const isAll = (c: string) => c.toUpperCase() === "ALL";
  const check = (c: string, what: string) => {
    const n = normalizeCapability(c);
    if (!CAPABILITY_NAMES.includes(n)) {
      throw new InvalidArgumentError(`unknown capability ${JSON.stringify(c)} to ${what}`);
    }
    return n;
  };
  const add = req.add ?? [];
  const drop = req.drop ?? [];
  const set = new Set<string>();
  if (req.privileged || add.some(isAll)) { for (const c of known) set.add(c); }
  if (!req.privileged) {
    if (!add.some(isAll) && !drop.some(isAll)) {
      for (const c of req.defaults) set.add(check(c, "add"));
    }
    if (drop.some(isAll)) set.clear();
    for (const c of add) if (!isAll(c)) set.add(check(c, "add"));
    for (const c of drop) if (!isAll(c)) set.delete(check(c, "drop"));
  }
  const warnings: string[] = [];
  const granted = known.filter((c) => set.has(c)).filter((c) => {
    if (!host.bounding || host.bounding.has(c)) return true;
    // Only worth a warning when it was asked for by name; ALL and privileged mean "what there is".
    if (add.some((a) => !isAll(a) && normalizeCapability(a) === c) || req.defaults.includes(c)) {
      warnings.push(`capability ${c} is not in the daemon's bounding set; it is not granted`);
    }
    return false;
  });
  return {
    capabilities: {
      bounding: granted,
      effective: granted,
      permitted: granted,
      inheritable: req.addInheritable ? granted : [],
      ambient: [],
    },
    warnings,
  };
}

/** Decodes the CapBnd/CapEff hex mask of /proc/<pid>/status into capability names. */
export function capabilitiesFromMask(hex: string): Set<string> {
  const mask = BigInt(`0x${hex.trim()}`);
  const out = new Set<string>();
  CAPABILITY_NAMES.forEach((name, bit) => {
    if ((mask >> BigInt(bit)) & 1n) out.add(name);
  });
  return out;
}
