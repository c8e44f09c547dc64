import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { toContainerStatus, verboseInfo } from "./container_view.ts";

export function containerStatus(s: ContainerService): RuntimeServiceHandlers["ContainerStatus"] {
  return async (req) => {
    const c = await s.get(req.containerId ?? "");
    return { status: toContainerStatus(c), info: req.verbose ? await verboseInfo(c) : {} };
  };
}
