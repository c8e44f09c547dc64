import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { toPodSandboxStatus, verboseInfo } from "./pod_sandbox_view.ts";

export function podSandboxStatus(s: SandboxService): RuntimeServiceHandlers["PodSandboxStatus"] {
  return async (req) => {
    const pod = await s.status(req.podSandboxId ?? "");
    return {
      status: toPodSandboxStatus(pod),
      info: req.verbose ? verboseInfo(pod) : {},
      containersStatuses: [],
      timestamp: (BigInt(Date.now()) * 1_000_000n).toString(),
    };
  };
}
