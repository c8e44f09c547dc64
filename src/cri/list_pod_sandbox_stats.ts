import type { RuntimeServiceHandlers } from "./gen/api.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import { podStats, type StatsSources } from "../runtime/sandbox/pod_stats.ts";

export function listPodSandboxStats(
  s: SandboxService,
  src: StatsSources,
): RuntimeServiceHandlers["ListPodSandboxStats"] {
  return async (req) => {
    const f = req.filter ?? {};
    const pods = s.list({ id: f.id ?? "", labelSelector: f.labelSelector ?? {} });
    return { stats: await Promise.all(pods.map((p) => podStats(p, src))) };
  };
}
