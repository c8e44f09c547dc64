import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function stopPodSandbox(s: SandboxService): RuntimeServiceHandlers["StopPodSandbox"] {
  return async (req) => {
    if (!req.podSandboxId) throw new InvalidArgumentError("pod_sandbox_id is required");
    await s.stop(req.podSandboxId);
    return {};
  };
}
