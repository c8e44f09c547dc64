import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { RuntimeInfo } from "../runtime/runtime_info.ts";

export function status(info: RuntimeInfo): RuntimeServiceHandlers["Status"] {
  return (req) =>
    Promise.resolve({
      status: { conditions: info.conditions() },
      runtimeHandlers: info.handlerFeatures().map((h) => ({
        name: h.name,
        features: {
          recursiveReadOnlyMounts: h.recursiveReadOnlyMounts,
          userNamespaces: h.userNamespaces,
        },
      })),
      features: { supplementalGroupsPolicy: false },
      info: req.verbose ? info.verboseInfo() : {},
    });
}
