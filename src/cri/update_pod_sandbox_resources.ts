import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function updatePodSandboxResources(
  s: SandboxService,
): RuntimeServiceHandlers["UpdatePodSandboxResources"] {
  return (req) => {
    if (!req.podSandboxId) throw new InvalidArgumentError("pod_sandbox_id is required");
    s.noteResources(req.podSandboxId, { overhead: req.overhead, resources: req.resources });
    return Promise.resolve({});
  };
}
