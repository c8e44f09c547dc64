/**
 * The container half of the runtime service: Create, Start, Stop, Remove, Status, List, ExecSync,
 * ReopenContainerLog. Handlers in src/cri/ call it; it throws the typed errors of src/errors.ts.
 * Exits are learnt from conmon's exit files: a watcher on the exits dir, and a check on each
 * status or list call (so a missed event only delays, never loses, an exit).
 */
import type {
  ContainerFilter,
  ContainerStats,
  ContainerStatsFilter,
  CreateContainerRequest,
  LinuxContainerResources,
} from "../../cri/gen/api.ts";
import { buildResources, minMemoryBytes } from "../../oci/spec/resources.ts";
import { containerCgroupPath, containerStats, forgetLayerUsage } from "./container_stats.ts";
import { ContainerState } from "../../cri/gen/api.ts";
import { errorMessage, FailedPreconditionError } from "../../errors.ts";
import type { ExecSyncResult } from "../../oci/exec_sync.ts";
import type { StreamIO } from "../../oci/stream_io.ts";
import { CreateOnce } from "../../storage/create_once.ts";
import { createContainer, planContainer, removeContainerDirs } from "./container_create.ts";
import { canStart, type Container, exitedStatus, nanos, needsStop } from "./container_state.ts";
import type { ContainerDeps } from "./deps.ts";
import { unmountRootfs } from "./rootfs.ts";
import { exists } from "../../util/exists.ts";
import { listDirNames } from "../../util/libc_io.ts";
import { unmountImageVolumes } from "./image_volumes.ts";
import type { EventKind } from "../events.ts";

export class ContainerService {
  readonly #deps: ContainerDeps;
  readonly #creator: CreateOnce<Container>;

  constructor(deps: ContainerDeps) {
    this.#deps = deps;
    this.#creator = new CreateOnce(deps.store.names, { kind: "container" });
  }

  /** Creates a container, or returns the one a same-config earlier request created. */
  async create(req: CreateContainerRequest): Promise<string> {
    const plan = await planContainer(req, this.#deps);
    const { store } = this.#deps;
    return await this.#creator.create(plan, {
      existing: (id) => store.index.find(id),
      build: async (id, rb) => {
        const c = await createContainer(plan, { id, deps: this.#deps, rollback: rb });
        this.#emit("created", c);
        return c;
      },
      onUndoFailure: (id, failures) =>
        this.#deps.log.error("container rollback incomplete", { id, failures }),
    });
  }

  async start(idOrPrefix: string): Promise<void> {
    const found = this.#deps.store.index.get(idOrPrefix);
    await this.#deps.store.withLock(found.id, async () => {
      const c = this.#deps.store.index.get(found.id);
      if (!canStart(c.status)) {
        throw new FailedPreconditionError(
          `container ${c.id} is ${c.status.state}, not created; it cannot be started`,
        );
      }
      const runtime = this.#deps.runtime(c.meta.runtimeHandler);
      try {
        await runtime.start(c.id);
      } catch (err) {
        await this.#deps.store.update(
          c.id,
          (s) =>
            exitedStatus(s, { exitCode: 128, finishedAt: new Date(), message: errorMessage(err) }),
        );
        this.#emit("stopped", c);
        throw err;
      }
      await this.#deps.store.update(c.id, (s) => ({ ...s, state: "running", startedAt: nanos() }));
      this.#emit("started", c);
    });
    await this.refresh(found.id);
  }

  /** Stops a container: its stop signal, SIGKILL after timeoutSeconds. Unknown ids succeed. */
  async stop(idOrPrefix: string, timeoutSeconds: number): Promise<void> {
    const found = this.#deps.store.index.find(idOrPrefix);
    if (!found) return;
    await this.#deps.store.withLock(found.id, async () => {
      const c = this.#deps.store.index.find(found.id);
      if (!c || !needsStop(c.status)) return;
      const runtime = this.#deps.runtime(c.meta.runtimeHandler);
      const exit = await runtime.stop(c.id, {
        bundle: c.meta.bundle,
        signal: c.meta.stopSignal,
        timeoutSeconds: Math.max(0, timeoutSeconds),
      });
      await this.#deps.store.update(c.id, (s) => exitedStatus(s, exit));
      this.#emit("stopped", c);
    });
  }

  /** Removes a container (stopping it first); unknown ids succeed. */
  async remove(idOrPrefix: string): Promise<void> {
    const found = this.#deps.store.index.find(idOrPrefix);
    if (!found) return;
    await this.stop(found.id, 0);
    await this.#deps.store.withLock(found.id, async () => {
      const c = this.#deps.store.index.find(found.id);
      if (!c) return;
      await this.#deps.runtime(c.meta.runtimeHandler).delete(c.id);
      await unmountRootfs(c.meta.rootfs, this.#deps.mounts);
      await unmountImageVolumes(c.meta.runDir, this.#deps.mounts);
      await removeContainerDirs(c.meta);
      const cfg = this.#deps.config();
      await Deno.remove(`${cfg.runtime.container_exits_dir}/${c.id}`).catch(() => {});
      await this.#deps.store.forget(c);
      forgetLayerUsage(c.id);
      this.#emit("deleted", c);
    });
  }

  /** Picks up an exit conmon recorded; never throws (a status call must not fail on it). */
  async refresh(id: string): Promise<Container | undefined> {
    const c = this.#deps.store.index.find(id);
    if (!c || c.status.state !== "running") return c;
    try {
      const exit = await this.#deps.runtime(c.meta.runtimeHandler).exitRecord(c.id);
      if (!exit) return c;
      // An unreadable cgroup must not hold back the exit itself.
      const oomKilled = await this.#oomKilled(c).catch(() => false);
      return await this.#deps.store.withLock(c.id, async () => {
        const now = this.#deps.store.index.find(c.id);
        if (!now || now.status.state !== "running") return now;
        const exited = await this.#deps.store.update(
          c.id,
          (s) => exitedStatus(s, { ...exit, oomKilled }),
        );
        this.#emit("stopped", c);
        return exited;
      });
    } catch (err) {
      this.#deps.log.warn("reading a container's exit failed", { id, error: errorMessage(err) });
      return c;
    }
  }

  /**
   * conmon's `oom` file when it saw the event; else the cgroup's own count (v1 oom_control
   * `oom_kill`, v2 memory.events), read before `runtime delete` removes the cgroup.
   */
  async #oomKilled(c: Container): Promise<boolean> {
    if (await exists(`${c.meta.bundle}/oom`)) return true;
    const src = this.#deps.stats;
    const pod = this.#deps.sandboxes.list({ id: c.meta.podId })[0];
    const driver = this.#deps.config().runtime.cgroup_manager as "systemd" | "cgroupfs";
    const rel = containerCgroupPath(c, { pod, driver });
    const file = src.cgroupVersion === "v1"
      ? `${src.cgroupRoot}/memory${rel}/memory.oom_control`
      : `${src.cgroupRoot}${rel}/memory.events`;
    const text = await src.readFile(file).catch(() => "");
    return /^oom_kill\s+[1-9]/m.test(text);
  }

  /**
   * Ids that have an exit file now; undefined when the dir cannot be read (refresh all). Read on
   * the JS thread through libc: each List call does this, and Deno.readDir's async ops (a thread
   * hop per batch) were most of a ListContainers call's own time with 330 containers.
   */
  #exitFileIds(): Set<string> | undefined {
    try {
      const names = listDirNames(this.#deps.config().runtime.container_exits_dir);
      return names && new Set(names);
    } catch {
      return undefined;
    }
  }

  async get(idOrPrefix: string): Promise<Container> {
    const c = this.#deps.store.index.get(idOrPrefix);
    return (await this.refresh(c.id)) ?? c;
  }

  /** Oldest first (the index's order). */
  async list(filter: ContainerFilter = {}): Promise<readonly Container[]> {
    const { store } = this.#deps;
    let all = store.index.list();
    if (filter.id) all = all.filter((c) => c.id.startsWith(filter.id!));
    if (filter.podSandboxId) all = all.filter((c) => c.meta.podId.startsWith(filter.podSandboxId!));
    // The exit watcher applies exits as conmon writes them; this catches one it has not yet,
    // with one read of the exits dir rather than a read per running container. Found through
    // the exit files, not by a pass over every container: the kubelet lists every second.
    const exited = this.#exitFileIds();
    const stale = exited
      ? [...exited].map((id) => store.index.exact(id)).filter((c): c is Container =>
        c !== undefined && c.status.state === "running" &&
        (!filter.id || c.id.startsWith(filter.id)) &&
        (!filter.podSandboxId || c.meta.podId.startsWith(filter.podSandboxId))
      )
      : all.filter((c) => c.status.state === "running");
    if (stale.length) {
      const fresh = new Map<string, Container>();
      await Promise.all(stale.map(async (c) => fresh.set(c.id, (await this.refresh(c.id)) ?? c)));
      all = all.map((c) => fresh.get(c.id) ?? c);
    }
    if (filter.state) {
      const want = filter.state.state ?? ContainerState.CONTAINER_CREATED;
      all = all.filter((c) => criState(c) === want);
    }
    const sel = Object.entries(filter.labelSelector ?? {});
    if (sel.length) all = all.filter((c) => sel.every(([k, v]) => c.meta.config.labels?.[k] === v));
    return all;
  }

  /** UpdateContainerResources: limits applied through the runtime, then kept in the metadata. */
  async updateResources(idOrPrefix: string, linux: LinuxContainerResources): Promise<void> {
    const found = this.#deps.store.index.get(idOrPrefix);
    await this.#deps.store.withLock(found.id, async () => {
      const c = this.#deps.store.index.get(found.id);
      if (!needsStop(c.status)) {
        throw new FailedPreconditionError(`container ${c.id} is ${c.status.state}`);
      }
      const handler = this.#deps.handler(c.meta.runtimeHandler);
      const built = buildResources(linux, await this.#deps.facts(c.meta.runtimeHandler), {
        pidsLimit: this.#deps.config().runtime.pids_limit,
        minMemory: minMemoryBytes(handler.config.container_min_memory, handler.name),
      });
      for (const w of built.warnings) this.#deps.log.warn(w, { container: c.id });
      await this.#deps.runtime(c.meta.runtimeHandler).update(c.id, {
        bundle: c.meta.bundle,
        resources: built.resources,
      });
      const config = { ...c.meta.config, linux: { ...c.meta.config.linux, resources: linux } };
      const meta = { ...c.meta, config };
      await this.#deps.store.records.write(c.id, "meta", meta);
      this.#deps.store.index.add({ ...c, meta });
    });
  }

  async execSync(
    idOrPrefix: string,
    o: { cmd: string[]; timeoutSeconds: number },
  ): Promise<ExecSyncResult> {
    const c = await this.get(idOrPrefix);
    if (c.status.state !== "running") {
      throw new FailedPreconditionError(`container ${c.id} is not running`);
    }
    return await this.#deps.runtime(c.meta.runtimeHandler).execSync(c.id, {
      bundle: c.meta.bundle,
      cmd: o.cmd,
      timeoutSeconds: o.timeoutSeconds,
    });
  }

  /** The running container of a streaming call; unknown → NotFound, not running → precondition. */
  async #running(idOrPrefix: string): Promise<Container> {
    const c = await this.get(idOrPrefix);
    if (c.status.state !== "running") {
      throw new FailedPreconditionError(`container ${c.id} is not running`);
    }
    return c;
  }

  /** Exec (streaming): the command's exit code; 126/127 when it cannot be started. */
  async exec(
    containerId: string,
    options: { cmd: string[]; io: StreamIO },
  ): Promise<{ exitCode: number }> {
    const c = await this.#running(containerId);
    return await this.#deps.runtime(c.meta.runtimeHandler).execStream(c.id, {
      bundle: c.meta.bundle,
      cmd: options.cmd,
      io: options.io,
    });
  }

  /** Attach: joins the container's stdio until it exits or the client goes away. */
  async attach(containerId: string, options: { io: StreamIO }): Promise<void> {
    const c = await this.#running(containerId);
    await this.#deps.runtime(c.meta.runtimeHandler).attach(c.id, {
      bundle: c.meta.bundle,
      io: options.io,
    });
  }

  async reopenLog(idOrPrefix: string): Promise<void> {
    const c = await this.get(idOrPrefix);
    if (c.status.state !== "running") {
      throw new FailedPreconditionError(`container ${c.id} is not running`);
    }
    await this.#deps.runtime(c.meta.runtimeHandler).reopenLog(c.id, {
      bundle: c.meta.bundle,
      logPath: c.meta.logPath,
    });
  }

  /** StopPodSandbox: the pod's containers stop first (CRI-O gives them no grace period). */
  async stopPod(podId: string): Promise<void> {
    for (const c of this.#deps.store.byPod(podId)) await this.stop(c.id, 0);
  }

  async removePod(podId: string): Promise<void> {
    for (const c of this.#deps.store.byPod(podId)) await this.remove(c.id);
  }

  async stats(idOrPrefix: string): Promise<ContainerStats> {
    const c = await this.get(idOrPrefix);
    const pod = this.#deps.sandboxes.list({ id: c.meta.podId })[0];
    const driver = this.#deps.config().runtime.cgroup_manager as "systemd" | "cgroupfs";
    return await containerStats(c, {
      src: this.#deps.stats,
      cgroupPath: containerCgroupPath(c, { pod, driver }),
    });
  }

  async listStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    const all = await this.list(filter);
    return await Promise.all(all.map((c) => this.stats(c.id)));
  }

  /** Tells GetContainerEvents subscribers; a state change is recorded before it is told. */
  #emit(kind: EventKind, c: Container): void {
    this.#deps.events?.emit(kind, { id: c.id, podId: c.meta.podId });
  }

  /** As the container's own image, or as an image volume (its mount's image_ref is the id). */
  imageInUse(imageId: string): boolean {
    return this.#deps.store.index.list().some((c) =>
      c.meta.image.id === imageId || c.meta.mounts.some((m) => m.image?.imageRef === imageId)
    );
  }
}

export function criState(c: Container): ContainerState {
  switch (c.status.state) {
    case "running":
      return ContainerState.CONTAINER_RUNNING;
    case "exited":
      return ContainerState.CONTAINER_EXITED;
    case "created":
      return ContainerState.CONTAINER_CREATED;
    default:
      return ContainerState.CONTAINER_UNKNOWN;
  }
}
