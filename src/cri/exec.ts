import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import type { StreamServer } from "../stream/server.ts";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.ts";

/** The checks the kubelet's streaming server and CRI-O make before handing out an exec/attach URL. */
export async function streamTarget(
  s: ContainerService,
  req: { containerId?: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean },
): Promise<string> {
  if (!req.containerId) throw new InvalidArgumentError("missing required container_id");
  if (req.tty && req.stderr) throw new InvalidArgumentError("tty and stderr cannot both be true");
  if (!req.stdin && !req.stdout && !req.stderr) {
    throw new InvalidArgumentError("one of stdin, stdout, or stderr must be set");
  }
  const c = await s.get(req.containerId);
  if (c.status.state !== "running") {
    throw new FailedPreconditionError(
      `container is not created or running: ${c.id} is ${c.status.state}`,
    );
  }
  return c.id;
}

export function exec(s: ContainerService, stream: StreamServer): RuntimeServiceHandlers["Exec"] {
  return async (req) => {
    const containerId = await streamTarget(s, req);
    if (!req.cmd?.length) throw new InvalidArgumentError("cmd is required");
    return {
      url: stream.url({
        kind: "exec",
        containerId,
        cmd: req.cmd,
        tty: !!req.tty,
        stdin: !!req.stdin,
        stdout: !!req.stdout,
        stderr: !!req.stderr,
      }),
    };
  };
}
