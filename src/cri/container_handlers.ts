/** The container RPCs, grouped so handlers.ts gains one line for them. */
import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { Containers } from "../runtime/container/containers.ts";
import { containerStatus } from "./container_status.ts";
import { containerStats, listContainerStats } from "./container_stats.ts";
import { createContainer } from "./create_container.ts";
import { execSync } from "./exec_sync.ts";
import { getContainerEvents } from "./get_container_events.ts";
import { listContainers } from "./list_containers.ts";
import { removeContainer } from "./remove_container.ts";
import { reopenContainerLog } from "./reopen_container_log.ts";
import { startContainer } from "./start_container.ts";
import { stopContainer } from "./stop_container.ts";
import { updateContainerResources } from "./update_container_resources.ts";

export function containerHandlers(c: Containers): Partial<RuntimeServiceHandlers> {
  const s = c.service;
  return {
    CreateContainer: createContainer(s),
    StartContainer: startContainer(s),
    StopContainer: stopContainer(s),
    RemoveContainer: removeContainer(s),
    ContainerStatus: containerStatus(s),
    ListContainers: listContainers(s),
    ExecSync: execSync(s),
    ReopenContainerLog: reopenContainerLog(s),
    UpdateContainerResources: updateContainerResources(s),
    ContainerStats: containerStats(s),
    ListContainerStats: listContainerStats(s),
    GetContainerEvents: getContainerEvents(c.events),
  };
}
