import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function stopContainer(s: ContainerService): RuntimeServiceHandlers["StopContainer"] {
  return async (req) => {
    if (!req.containerId) throw new InvalidArgumentError("container_id is required");
    await s.stop(req.containerId, Number(req.timeout ?? 0));
    return {};
  };
}
