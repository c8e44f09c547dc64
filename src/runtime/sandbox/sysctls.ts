/**
 * Pod sysctls. Only sysctls the kernel namespaces are accepted, so a pod can never change a host
 * value; keys and values are checked character by character before anything reaches a process
 * (CVE-2022-0811: CRI-O joined sysctls with "+" for pinns, and a "+" inside a value injected
 * kernel.core_pattern on the host). Values are later passed as separate argv entries, never joined.
 */
import { InvalidArgumentError } from "../../errors.ts";

export interface Sysctl {
  /** Dotted form, e.g. kernel.shm_rmid_forced. */
  readonly key: string;
  readonly value: string;
  /** Path under /proc/sys. */
  readonly path: string;
  readonly namespace: "net" | "ipc";
}

/** Kubernetes' sysctl name grammar (dots or slashes as separators), at most 253 characters. */
const KEY = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
/**
 * Tokens of a conservative charset separated by single spaces: kernel.sem takes four numbers and
 * net.ipv4.ip_local_port_range two, so a space must pass, but no "+", "=", newline, tab, NUL or
 * leading/trailing blank does.
 */
const VALUE = /^[A-Za-z0-9._:,/-]+( [A-Za-z0-9._:,/-]+)*$/;

/** The namespace a sysctl lives in, or undefined when it is a host-wide one. */
export function sysctlNamespace(key: string): "net" | "ipc" | undefined {
  if (key.startsWith("net.")) return "net";
  if (key === "kernel.sem" || key.startsWith("fs.mqueue.")) return "ipc";
  if (/^kernel\.(shm|msg)[a-z_]*$/.test(key)) return "ipc";
  return undefined;
}

/** Slash form (net/ipv4/conf/eth0.100/forwarding) to dotted form with the dots swapped. */
function dotted(key: string): string {
  if (!key.includes("/")) return key;
  return [...key].map((c) => (c === "/" ? "." : c === "." ? "/" : c)).join("");
}

/** Validates one sysctl; throws InvalidArgumentError naming key, value and the rule broken. */
export function parseSysctl(key: string, value: string): Sysctl {
  const show = `sysctl ${JSON.stringify(key)}=${JSON.stringify(value)}`;
  if (key.length > 253 || !KEY.test(key)) {
    throw new InvalidArgumentError(`${show}: invalid key (lowercase letters, digits, -_./)`);
  }
  if (value.length > 4096 || !VALUE.test(value)) {
    throw new InvalidArgumentError(
      `${show}: invalid value (letters, digits, ._:,/- and single spaces; no + = newline NUL)`,
    );
  }
  const name = dotted(key);
  const namespace = sysctlNamespace(name);
  if (!namespace) {
    throw new InvalidArgumentError(
      `${show}: not a namespaced sysctl (allowed: kernel.shm*, kernel.msg*, kernel.sem, ` +
        `fs.mqueue.*, net.*)`,
    );
  }
  const path = key.includes("/") ? key : key.replaceAll(".", "/");
  return { key: name, value, path, namespace };
}

export interface SysctlPlan {
  apply: Sysctl[];
  /** Valid sysctls not applied because the pod shares that namespace with the host. */
  skipped: Sysctl[];
}

/**
 * Validates every sysctl (config defaults "key=value" first, the pod's own override them) and
 * drops those whose namespace is the host's: writing them would change the node.
 */
export function planSysctls(
  podSysctls: Record<string, string>,
  options: { defaults?: readonly string[]; hostNetwork: boolean; hostIpc: boolean },
): SysctlPlan {
  const merged = new Map<string, string>();
  for (const d of options.defaults ?? []) {
    const i = d.indexOf("=");
    if (i <= 0) throw new InvalidArgumentError(`default_sysctls entry ${JSON.stringify(d)}`);
    merged.set(d.slice(0, i).trim(), d.slice(i + 1).trim());
  }
  for (const [k, v] of Object.entries(podSysctls)) merged.set(k, v);
  const plan: SysctlPlan = { apply: [], skipped: [] };
  for (const [k, v] of merged) {
    const s = parseSysctl(k, v);
    const shared = s.namespace === "net" ? options.hostNetwork : options.hostIpc;
    (shared ? plan.skipped : plan.apply).push(s);
  }
  return plan;
}
