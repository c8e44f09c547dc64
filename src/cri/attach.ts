import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import type { StreamServer } from "../stream/server.ts";
import { streamTarget } from "./exec.ts";

export function attach(
  s: ContainerService,
  stream: StreamServer,
): RuntimeServiceHandlers["Attach"] {
  return async (req) => {
    const containerId = await streamTarget(s, req);
    return {
      url: stream.url({
        kind: "attach",
        containerId,
        tty: !!req.tty,
        stdin: !!req.stdin,
        stdout: !!req.stdout,
        stderr: !!req.stderr,
      }),
    };
  };
}
