import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { RuntimeInfo } from "../runtime/runtime_info.ts";

export function updateRuntimeConfig(
  info: RuntimeInfo,
): RuntimeServiceHandlers["UpdateRuntimeConfig"] {
  return (req) => {
    info.noteRuntimeConfig(req.runtimeConfig?.networkConfig?.podCidr ?? "");
    return Promise.resolve({});
  };
}
