import { type ContainerEventResponse, ContainerEventType } from "./gen/api.ts";
import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { EventHub, EventKind } from "../runtime/events.ts";
import { toContainerStatus } from "./container_view.ts";
import { toPodSandboxStatus } from "./pod_sandbox_view.ts";

const TYPE: Record<EventKind, ContainerEventType> = {
  created: ContainerEventType.CONTAINER_CREATED_EVENT,
  started: ContainerEventType.CONTAINER_STARTED_EVENT,
  stopped: ContainerEventType.CONTAINER_STOPPED_EVENT,
  deleted: ContainerEventType.CONTAINER_DELETED_EVENT,
};

/** Streams lifecycle events until the client cancels or the daemon stops. */
export function getContainerEvents(hub: EventHub): RuntimeServiceHandlers["GetContainerEvents"] {
  return async function* (_req, ctx): AsyncGenerator<ContainerEventResponse> {
    for await (const ev of hub.subscribe(ctx.signal)) {
      yield {
        containerId: ev.id,
        containerEventType: TYPE[ev.kind],
        createdAt: ev.at,
        podSandboxStatus: toPodSandboxStatus(ev.pod),
        containersStatuses: ev.containers.map(toContainerStatus),
      };
    }
  };
}
