import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { toPodSandbox } from "./pod_sandbox_view.ts";
import { listMemo } from "./view_memo.ts";

export function listPodSandbox(s: SandboxService): RuntimeServiceHandlers["ListPodSandbox"] {
  const views = listMemo(toPodSandbox);
  return (req) => Promise.resolve({ items: [...views(s.list(req.filter ?? {}))] });
}
