/** How a pod is shown over CRI: the ListPodSandbox item and the PodSandboxStatus message. */
import { NamespaceMode, type PodSandbox, type PodSandboxStatus } from "./gen/api.ts";
import type { Pod } from "../runtime/sandbox/pod_state.ts";
import { criState } from "../runtime/sandbox/sandbox_service.ts";
import { ViewMemo } from "./view_memo.ts";

const views = new ViewMemo<Pod["meta"], PodSandbox["state"], PodSandbox>();

export function toPodSandbox(p: Pod): PodSandbox {
  const state = criState(p);
  return views.get(p.meta, state, () => podSandbox(p, state));
}

function podSandbox(p: Pod, state: PodSandbox["state"]): PodSandbox {
  const c = p.meta.config;
  return {
    id: p.id,
    metadata: c.metadata ?? {},
    state,
    createdAt: p.meta.createdAt,
    labels: c.labels ?? {},
    annotations: c.annotations ?? {},
    runtimeHandler: p.meta.runtimeHandler,
  };
}

export function toPodSandboxStatus(p: Pod): PodSandboxStatus {
  const [ip, ...more] = p.status.ips;
  const ns = p.meta.config.linux?.securityContext?.namespaceOptions ?? {};
  return {
    ...toPodSandbox(p),
    network: { ip: ip ?? "", additionalIps: more.map((x) => ({ ip: x })) },
    linux: {
      namespaces: {
        options: {
          network: p.meta.modes.network as NamespaceMode,
          pid: p.meta.modes.pid as NamespaceMode,
          ipc: p.meta.modes.ipc as NamespaceMode,
          targetId: ns.targetId ?? "",
        },
      },
    },
  };
}

/** Verbose info, as CRI-O gives it: one "info" key holding JSON. */
export function verboseInfo(p: Pod): Record<string, string> {
  return {
    info: JSON.stringify({
      id: p.id,
      name: p.meta.name,
      runtimeHandler: p.meta.runtimeHandler,
      hostname: p.meta.hostname,
      namespaces: p.meta.nsPaths,
      cgroupParent: p.meta.cgroupParent,
      cgroupPath: p.meta.cgroupPath,
      runDir: p.meta.runDir,
      shmPath: p.meta.shmPath ?? "",
      resolvConf: `${p.meta.runDir}/resolv.conf`,
      hostsFile: `${p.meta.runDir}/hosts`,
      hostnameFile: `${p.meta.runDir}/hostname`,
      state: p.status.state,
      ips: p.status.ips,
      infraContainer: p.meta.infra
        ? {
          id: p.id,
          image: p.meta.infra.image,
          imageId: p.meta.infra.imageId,
          command: p.meta.infra.args,
          pid: p.status.infraPid ?? 0,
          pidNamespace: p.status.infraPid ? `/proc/${p.status.infraPid}/ns/pid` : "",
        }
        : null,
    }),
  };
}
