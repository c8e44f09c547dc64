import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import { InvalidArgumentError } from "../errors.ts";

export function execSync(s: ContainerService): RuntimeServiceHandlers["ExecSync"] {
  return async (req) => {
    if (!req.containerId) throw new InvalidArgumentError("container_id is required");
    const r = await s.execSync(req.containerId, {
      cmd: req.cmd ?? [],
      timeoutSeconds: Number(req.timeout ?? 0),
    });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  };
}
