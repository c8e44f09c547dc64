import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { toCriContainer } from "./container_view.ts";

export function listContainers(s: ContainerService): RuntimeServiceHandlers["ListContainers"] {
  return async (req) => ({ containers: (await s.list(req.filter ?? {})).map(toCriContainer) });
}
