import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { toPodSandbox } from "./pod_sandbox_view.ts";

export function listPodSandbox(s: SandboxService): RuntimeServiceHandlers["ListPodSandbox"] {
  return (req) => Promise.resolve({ items: s.list(req.filter ?? {}).map(toPodSandbox) });
}
