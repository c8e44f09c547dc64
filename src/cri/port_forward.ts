import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import type { StreamServer } from "../stream/server.ts";
import { InvalidArgumentError } from "../errors.ts";

export function portForward(
  s: SandboxService,
  stream: StreamServer,
): RuntimeServiceHandlers["PortForward"] {
  return (req) => {
    if (!req.podSandboxId) throw new InvalidArgumentError("missing required pod_sandbox_id");
    const ports = req.port ?? [];
    const bad = ports.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
    if (bad !== undefined) throw new InvalidArgumentError(`port ${bad} is not in 1-65535`);
    const pod = s.get(req.podSandboxId);
    return Promise.resolve({ url: stream.url({ kind: "portforward", podId: pod.id, ports }) });
  };
}
