/** The pod sandbox RPCs, grouped so handlers.ts gains one line for them. */
import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { Sandboxes } from "../runtime/sandbox/sandboxes.ts";
import { listPodSandbox } from "./list_pod_sandbox.ts";
import { listPodSandboxStats } from "./list_pod_sandbox_stats.ts";
import { podSandboxStats } from "./pod_sandbox_stats.ts";
import { podSandboxStatus } from "./pod_sandbox_status.ts";
import { removePodSandbox } from "./remove_pod_sandbox.ts";
import { runPodSandbox } from "./run_pod_sandbox.ts";
import { stopPodSandbox } from "./stop_pod_sandbox.ts";
import { updatePodSandboxResources } from "./update_pod_sandbox_resources.ts";

export function sandboxHandlers(s: Sandboxes): Partial<RuntimeServiceHandlers> {
  return {
    RunPodSandbox: runPodSandbox(s.service),
    StopPodSandbox: stopPodSandbox(s.service),
    UpdatePodSandboxResources: updatePodSandboxResources(s.service),
    RemovePodSandbox: removePodSandbox(s.service),
    PodSandboxStatus: podSandboxStatus(s.service),
    ListPodSandbox: listPodSandbox(s.service),
    PodSandboxStats: podSandboxStats(s.service, s.stats),
    ListPodSandboxStats: listPodSandboxStats(s.service, s.stats),
  };
}
