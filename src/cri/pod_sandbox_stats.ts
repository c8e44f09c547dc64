import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { podStats, type StatsSources } from "../runtime/sandbox/pod_stats.ts";

export function podSandboxStats(
  s: SandboxService,
  src: StatsSources,
): RuntimeServiceHandlers["PodSandboxStats"] {
  return async (req) => ({ stats: await podStats(s.get(req.podSandboxId ?? ""), src) });
}
