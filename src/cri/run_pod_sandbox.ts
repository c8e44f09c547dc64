import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";

export function runPodSandbox(s: SandboxService): RuntimeServiceHandlers["RunPodSandbox"] {
  return async (req) => ({ podSandboxId: await s.run(req) });
}
