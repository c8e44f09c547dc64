/** The streaming RPCs (Exec, Attach, PortForward): each returns a URL on the streaming server. */
import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { Containers } from "../runtime/container/containers.ts";
import type { Sandboxes } from "../runtime/sandbox/sandboxes.ts";
import type { StreamServer } from "../stream/server.ts";
import { attach } from "./attach.ts";
import { exec } from "./exec.ts";
import { portForward } from "./port_forward.ts";

export function streamHandlers(
  s: { containers: Containers; sandboxes: Sandboxes },
  stream: StreamServer,
): Partial<RuntimeServiceHandlers> {
  return {
    Exec: exec(s.containers.service, stream),
    Attach: attach(s.containers.service, stream),
    PortForward: portForward(s.sandboxes.service, stream),
  };
}
