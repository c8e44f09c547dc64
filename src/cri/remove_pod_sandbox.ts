import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function removePodSandbox(s: SandboxService): RuntimeServiceHandlers["RemovePodSandbox"] {
  return async (req) => {
    if (!req.podSandboxId) throw new InvalidArgumentError("pod_sandbox_id is required");
    await s.remove(req.podSandboxId);
    return {};
  };
}
