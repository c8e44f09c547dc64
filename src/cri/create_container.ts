import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";

export function createContainer(s: ContainerService): RuntimeServiceHandlers["CreateContainer"] {
  return async (req) => ({ containerId: await s.create(req) });
}
