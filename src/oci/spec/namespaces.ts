/**
 * The container's namespaces. Network, IPC and UTS are joined from the pod's pinned namespaces
 * (paths the sandbox service supplies), or shared with the host when the pod asks for NODE; the
 * PID namespace follows the container's NamespaceMode (POD joins the pod's, CONTAINER gets a new
 * one, NODE shares the host's, TARGET joins another container's); the mount namespace is always
 * new. Without a pod (tests, or a runtime used on its own) every namespace is new.
 */
import { InvalidArgumentError } from "../../errors.ts";
import { NamespaceMode, type NamespaceOption } from "../../cri/gen/api.ts";
import type { OciNamespace } from "./types.ts";

/** Paths of the pod's namespaces, e.g. `${namespaces_dir}/netns/<id>`. */
export interface PodNamespaces {
  net?: string;
  ipc?: string;
  uts?: string;
  /** The pod's PID namespace (its infra process), when the pod shares one. */
  pid?: string;
  user?: string;
}

export function buildNamespaces(
  options: NamespaceOption | undefined,
  pod: { namespaces?: PodNamespaces; targetPidPath?: string },
): OciNamespace[] {
  const o = options ?? {};
  const ns = pod.namespaces ?? {};
  const out: OciNamespace[] = [];
  const join = (type: OciNamespace["type"], path: string | undefined) =>
    out.push(path ? { type, path } : { type });
  const hostNet = o.network === NamespaceMode.NODE;
  if (!hostNet) join("network", ns.net);
  if (o.ipc !== NamespaceMode.NODE) join("ipc", ns.ipc);
  // A host-network pod has the node's hostname (Kubernetes), so it shares the host UTS too.
  if (!hostNet) join("uts", ns.uts);
  // proto3: an absent mode is 0, POD, as kubelet and crictl mean it.
  switch (o.pid ?? NamespaceMode.POD) {
    case NamespaceMode.NODE:
      break;
    case NamespaceMode.CONTAINER:
      join("pid", undefined);
      break;
    case NamespaceMode.POD:
      if (!ns.pid) {
        throw new InvalidArgumentError(
          "pod PID namespace requested but the pod does not share one",
        );
      }
      join("pid", ns.pid);
      break;
    case NamespaceMode.TARGET:
      if (!pod.targetPidPath) {
        throw new InvalidArgumentError(`target PID namespace of ${o.targetId ?? "?"} is unknown`);
      }
      join("pid", pod.targetPidPath);
      break;
    default:
      throw new InvalidArgumentError(`PID namespace mode ${o.pid} is unknown`);
  }
  if (ns.user) join("user", ns.user);
  join("mount", undefined);
  return out;
}
