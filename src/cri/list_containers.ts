import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { toCriContainer } from "./container_view.ts";
import { listMemo } from "./view_memo.ts";

export function listContainers(s: ContainerService): RuntimeServiceHandlers["ListContainers"] {
  const views = listMemo(toCriContainer);
  return async (req) => ({ containers: [...views(await s.list(req.filter ?? {}))] });
}
