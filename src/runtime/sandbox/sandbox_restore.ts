/**
 * Rebuilds the pod index from disk at start. Invariants it restores:
 * - a record without readable meta, or with status "creating" (the daemon died half-way), is
 *   undone entirely: CNI DEL from the cache, /dev/shm unmounted, namespaces unpinned, dirs removed;
 * - a "ready" pod whose netns is no longer pinned (reboot, someone ran umount) has its leftovers
 *   released the same way and becomes "notready", so the kubelet stops and removes it;
 * - a "ready" pod whose infra container exited while the daemon was down becomes "notready" (its
 *   containers died with their PID namespace); one still running keeps its pid;
 * - every kept pod has its name reserved again, with its request hash;
 * - a run dir with no record is an orphan and is removed (after unmounting its shm).
 */
import { errorMessage } from "../../errors.ts";
import { NS_KINDS } from "../../net/namespaces.ts";
import type { SandboxDeps } from "./deps.ts";
import { isHalfMade, type PodMeta, type PodStatusRecord } from "./pod_state.ts";
import { removeInfra, teardownPod } from "./pod_teardown.ts";

export interface RestoreReport {
  restored: number;
  cleaned: string[];
  notReady: string[];
}

async function cleanupById(id: string, deps: SandboxDeps): Promise<void> {
  const runDir = `${deps.runRoot}/${id}`;
  const mounted = await deps.mountPoints();
  await deps.files.unmountShm(`${runDir}/shm`, mounted.has(`${runDir}/shm`));
  for (const k of NS_KINDS) await deps.namespaces.unpin(deps.namespaces.pathOf(k, id));
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
}

async function readRecord(id: string, deps: SandboxDeps) {
  try {
    const meta = await deps.store.records.read<PodMeta>(id, "meta");
    const status = await deps.store.records.read<PodStatusRecord>(id, "status");
    return { meta, status };
  } catch {
    return { meta: undefined, status: undefined };
  }
}

async function restoreOne(id: string, deps: SandboxDeps, report: RestoreReport): Promise<void> {
  const { meta, status } = await readRecord(id, deps);
  if (!meta || isHalfMade(status)) {
    if (meta) {
      await teardownPod(meta, deps);
      await removeInfra(meta, deps);
    }
    await cleanupById(id, deps);
    await deps.store.records.remove(id);
    report.cleaned.push(id);
    return;
  }
  let st = status!;
  const net = meta.nsPaths.net;
  if (st.state === "ready" && net && !(await deps.namespaces.isPinned(net))) {
    await teardownPod(meta, deps);
    st = { state: "notready", ips: [] };
    await deps.store.records.write(id, "status", st);
    report.notReady.push(id);
  } else if (st.state === "ready" && meta.infra && !(await deps.infra?.running(meta))) {
    st = { state: "notready", ips: st.ips };
    await deps.store.records.write(id, "status", st);
    report.notReady.push(id);
  }
  deps.store.index.add({ id, meta, status: st });
  deps.store.names.reserve(meta.name, { id, key: meta.requestHash });
  report.restored++;
}

export async function restorePods(deps: SandboxDeps): Promise<RestoreReport> {
  const report: RestoreReport = { restored: 0, cleaned: [], notReady: [] };
  const { ids } = await deps.store.records.ids();
  for (const id of ids) {
    try {
      await restoreOne(id, deps, report);
    } catch (err) {
      deps.log.error("cannot restore pod; left for the next start", {
        pod: id,
        error: errorMessage(err),
      });
    }
  }
  try {
    for await (const e of Deno.readDir(deps.runRoot)) {
      if (!/^[0-9a-f]{64}$/.test(e.name) || deps.store.index.find(e.name)) continue;
      if (ids.includes(e.name) && !report.cleaned.includes(e.name)) continue;
      await cleanupById(e.name, deps).catch(() => {});
      report.cleaned.push(e.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return report;
}
