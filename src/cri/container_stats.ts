import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function containerStats(s: ContainerService): RuntimeServiceHandlers["ContainerStats"] {
  return async (req) => {
    if (!req.containerId) throw new InvalidArgumentError("container_id is required");
    return { stats: await s.stats(req.containerId) };
  };
}

export function listContainerStats(
  s: ContainerService,
): RuntimeServiceHandlers["ListContainerStats"] {
  return async (req) => ({ stats: await s.listStats(req.filter ?? {}) });
}
