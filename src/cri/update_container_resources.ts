import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function updateContainerResources(
  s: ContainerService,
): RuntimeServiceHandlers["UpdateContainerResources"] {
  return async (req) => {
    if (!req.containerId) throw new InvalidArgumentError("container_id is required");
    if (!req.linux) throw new InvalidArgumentError("linux resources are required");
    await s.updateResources(req.containerId, req.linux);
    return {};
  };
}
