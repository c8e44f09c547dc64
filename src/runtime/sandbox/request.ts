/**
 * Checks a RunPodSandbox request and turns it into a plan, before any side effect: metadata (it
 * reaches CNI_ARGS and logs, never paths), runtime handler, namespaces, sysctls, DNS, ports,
 * cgroup parent. Every refusal is an InvalidArgument naming the field.
 */
import {
  NamespaceMode,
  type PodSandboxConfig,
  Protocol,
  type RunPodSandboxRequest,
} from "../../cri/gen/api.ts";
import { InvalidArgumentError } from "../../errors.ts";
import type { CniPortMapping } from "../../net/cni_attach.ts";
import { cgroupParent } from "./cgroup_parent.ts";
import { planSysctls, type SysctlPlan } from "./sysctls.ts";

export interface PodPlan {
  config: PodSandboxConfig;
  name: string;
  meta: { name: string; namespace: string; uid: string; attempt: number };
  runtimeHandler: string;
  hostNetwork: boolean;
  hostIpc: boolean;
  modes: { network: number; pid: number; ipc: number };
  hostname: string;
  sysctls: SysctlPlan;
  portMappings: CniPortMapping[];
  cgroup: { parent: string; path: string };
  shmSize: string;
  /** The pod gets an infra container (infra.ts needsInfra). */
  infra: boolean;
  requestHash: string;
}

export interface PlanContext {
  handlers: ReadonlySet<string>;
  defaultRuntime: string;
  cgroupDriver: "systemd" | "cgroupfs";
  defaultSysctls: readonly string[];
  nodeHostname: string;
  /** needsInfra() with the daemon's drop_infra_ctr and the handler's runtime_type. */
  needsInfra: (pod: { pid: number; handler: string }) => boolean;
}

/** Characters that would split CNI_ARGS (";", "=") or a log line are refused in metadata. */
const META = /^[^;=\s\0/]{1,253}$/;
const HOSTNAME = /^[A-Za-z0-9]([-A-Za-z0-9.]{0,62})$/;
const DNS_ENTRY = /^[^\s\0]{1,253}$/;
const SHM_SIZE = /^[1-9][0-9]{0,12}[kmgKMG]?$/;
export const SHM_SIZE_ANNOTATION = "io.kubernetes.cri-o.ShmSize";

function field(path: string, value: unknown, re: RegExp): string {
  if (typeof value !== "string" || !re.test(value)) {
    throw new InvalidArgumentError(`${path} ${JSON.stringify(value ?? "")} is missing or invalid`);
  }
  return value;
}

/** JSON with sorted keys, so two decodings of the same request hash alike. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function ports(config: PodSandboxConfig): CniPortMapping[] {
  const names = { [Protocol.TCP]: "tcp", [Protocol.UDP]: "udp", [Protocol.SCTP]: "sctp" } as const;
  return (config.portMappings ?? []).filter((p) => (p.hostPort ?? 0) > 0).map((p, i) => {
    const ok = (n: number | undefined) => Number.isInteger(n) && n! > 0 && n! <= 65535;
    if (!ok(p.hostPort) || !ok(p.containerPort)) {
      throw new InvalidArgumentError(`port_mappings[${i}]: ports must be 1-65535`);
    }
    const m: CniPortMapping = {
      hostPort: p.hostPort!,
      containerPort: p.containerPort!,
      protocol: names[p.protocol ?? Protocol.TCP] ?? "tcp",
    };
    if (p.hostIp) m.hostIP = field(`port_mappings[${i}].host_ip`, p.hostIp, /^[0-9a-fA-F.:]+$/);
    return m;
  });
}

function checkDns(config: PodSandboxConfig): void {
  const d = config.dnsConfig ?? {};
  for (const [k, list] of Object.entries({ servers: d.servers, searches: d.searches })) {
    (list ?? []).forEach((s, i) => field(`dns_config.${k}[${i}]`, s, DNS_ENTRY));
  }
  (d.options ?? []).forEach((s, i) => field(`dns_config.options[${i}]`, s, DNS_ENTRY));
}

export async function planPod(req: RunPodSandboxRequest, ctx: PlanContext): Promise<PodPlan> {
  const config = req.config ?? {};
  const m = config.metadata ?? {};
  const meta = {
    name: field("metadata.name", m.name, META),
    namespace: field("metadata.namespace", m.namespace, META),
    uid: field("metadata.uid", m.uid, META),
    attempt: m.attempt ?? 0,
  };
  const runtimeHandler = req.runtimeHandler || ctx.defaultRuntime;
  if (!ctx.handlers.has(runtimeHandler)) {
    throw new InvalidArgumentError(
      `runtime handler ${JSON.stringify(runtimeHandler)} is not configured ` +
        `(configured: ${[...ctx.handlers].sort().join(", ")})`,
    );
  }
  const ns = config.linux?.securityContext?.namespaceOptions ?? {};
  const modes = {
    network: ns.network ?? NamespaceMode.POD,
    // proto3: an unset mode is 0, POD, as CRI-O reads it (the kubelet always sets one).
    pid: ns.pid ?? NamespaceMode.POD,
    ipc: ns.ipc ?? NamespaceMode.POD,
  };
  const hostNetwork = modes.network === NamespaceMode.NODE;
  const hostIpc = modes.ipc === NamespaceMode.NODE;
  const hostname = hostNetwork
    ? ctx.nodeHostname
    : field("hostname", config.hostname || ctx.nodeHostname, HOSTNAME);
  checkDns(config);
  const shmSize = config.annotations?.[SHM_SIZE_ANNOTATION] ?? "64m";
  field(`annotations[${SHM_SIZE_ANNOTATION}]`, shmSize, SHM_SIZE);
  return {
    config,
    name: `k8s_${meta.name}_${meta.namespace}_${meta.uid}_${meta.attempt}`,
    meta,
    runtimeHandler,
    hostNetwork,
    hostIpc,
    modes,
    hostname,
    sysctls: planSysctls(config.linux?.sysctls ?? {}, {
      defaults: ctx.defaultSysctls,
      hostNetwork,
      hostIpc,
    }),
    portMappings: hostNetwork ? [] : ports(config),
    cgroup: cgroupParent(config.linux?.cgroupParent ?? "", { driver: ctx.cgroupDriver }),
    shmSize,
    infra: ctx.needsInfra({ pid: modes.pid, handler: runtimeHandler }),
    requestHash: await sha256(canonical({ config, runtimeHandler })),
  };
}
