import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function reopenContainerLog(
  s: ContainerService,
): RuntimeServiceHandlers["ReopenContainerLog"] {
  return async (req) => {
    if (!req.containerId) throw new InvalidArgumentError("container_id is required");
    await s.reopenLog(req.containerId);
    return {};
  };
}
