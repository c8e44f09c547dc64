import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { RuntimeInfo } from "../runtime/runtime_info.ts";

/** The CRI API version this server speaks to clients that ask with "0.1.0" (the kubelet does). */
const KUBE_API_VERSION = "0.1.0";

export function version(info: RuntimeInfo): RuntimeServiceHandlers["Version"] {
  return () => {
    const v = info.version();
    return Promise.resolve({
      version: KUBE_API_VERSION,
      runtimeName: v.name,
      runtimeVersion: v.version,
      runtimeApiVersion: v.apiVersion,
    });
  };
}
