/**
 * Restores containers from disk at start-up. conmon outlives the daemon, so a running container
 * stays running; an exit that happened while the daemon was down is read from its exit file; a
 * container the runtime no longer knows is exited with code 137 (as CRI-O). A container whose
 * create was interrupted ("creating", or no meta) is undone: runtime delete, unmount, dirs.
 */
import { errorMessage } from "../../errors.ts";
import type { Container, ContainerMeta, ContainerStatusRecord } from "./container_state.ts";
import { exitedStatus, isHalfMade } from "./container_state.ts";
import { removeContainerDirs } from "./container_create.ts";
import type { ContainerDeps } from "./deps.ts";
import { unmountRootfs } from "./rootfs.ts";
import { unmountImageVolumes } from "./image_volumes.ts";

export interface ContainerRestoreReport {
  restored: number;
  cleaned: string[];
}

export async function restoreContainers(deps: ContainerDeps): Promise<ContainerRestoreReport> {
  const report: ContainerRestoreReport = { restored: 0, cleaned: [] };
  const { ids, strays } = await deps.store.records.ids();
  for (const s of strays) deps.log.warn("stray entry in the container state dir", { name: s });
  for (const id of ids) {
    try {
      const meta = await deps.store.records.read<ContainerMeta>(id, "meta");
      const status = await deps.store.records.read<ContainerStatusRecord>(id, "status");
      if (!meta || isHalfMade(status)) {
        await undoHalfMade(id, { meta, deps });
        report.cleaned.push(id);
        continue;
      }
      const next = await reconcile({ id, meta, status: status! }, deps);
      if (next !== status) await deps.store.records.write(id, "status", next);
      deps.store.index.add({ id, meta, status: next });
      deps.store.names.reserve(meta.name, { id, key: meta.requestHash });
      report.restored++;
    } catch (err) {
      deps.log.error("container could not be restored", { id, error: errorMessage(err) });
    }
  }
  return report;
}

/** The status the container has now, from its exit file or the runtime's state. */
async function reconcile(c: Container, deps: ContainerDeps): Promise<ContainerStatusRecord> {
  if (c.status.state === "exited") return c.status;
  const runtime = deps.runtime(c.meta.runtimeHandler);
  const exit = await runtime.exitRecord(c.id);
  if (exit) return exitedStatus(c.status, exit);
  const st = await runtime.state(c.id);
  if (!st || st.status === "stopped") {
    return exitedStatus(c.status, {
      exitCode: 137,
      finishedAt: new Date(),
      message: "the container's runtime state was lost while the daemon was down",
    });
  }
  return c.status;
}

async function undoHalfMade(
  id: string,
  o: { meta: ContainerMeta | undefined; deps: ContainerDeps },
): Promise<void> {
  const { deps, meta } = o;
  if (meta) {
    await deps.runtime(meta.runtimeHandler).delete(id).catch(() => {});
    await unmountRootfs(meta.rootfs, deps.mounts);
    await unmountImageVolumes(meta.runDir, deps.mounts);
    await removeContainerDirs(meta);
    await Deno.remove(deps.runtime(meta.runtimeHandler).exitFile(id)).catch(() => {});
  }
  await deps.store.records.remove(id);
}
