/**
 * The pod sandbox half of the runtime service: Run, Stop, Remove, Status, List. Handlers in
 * src/cri/ call it; it throws the typed errors of src/errors.ts.
 */
import { NamespaceMode, PodSandboxState, type RunPodSandboxRequest } from "../../cri/gen/api.ts";
import type { PodSandboxFilter } from "../../cri/gen/api.ts";
import { errorMessage, FailedPreconditionError } from "../../errors.ts";
import { type ClientConn, forwardConnection } from "../../net/port_forward.ts";
import { CreateOnce } from "../../storage/create_once.ts";
import type { EventSink } from "../events.ts";
import type { SandboxDeps } from "./deps.ts";
import { canRemove, canStop, type Pod } from "./pod_state.ts";
import { createPod } from "./pod_create.ts";
import { removeInfra, removeRunDir, teardownPod } from "./pod_teardown.ts";
import { type PlanContext, planPod } from "./request.ts";

export interface SandboxServiceOptions {
  deps: SandboxDeps;
  /** Handlers, default runtime, cgroup driver, default sysctls: read per call (SIGHUP). */
  planContext: () => PlanContext;
}

/** What the container service does to a pod's containers before the pod is stopped or removed. */
export interface PodContainerHooks {
  stopPod(podId: string): Promise<void>;
  removePod(podId: string): Promise<void>;
}

export class SandboxService {
  readonly #o: SandboxServiceOptions;
  /** Set once the container service exists (it is built on this one). */
  containers?: PodContainerHooks;
  /** Set with the container service: where pod lifecycle events go. */
  events?: EventSink;
  readonly #creator: CreateOnce<Pod>;

  constructor(o: SandboxServiceOptions) {
    this.#o = o;
    this.#creator = new CreateOnce(o.deps.store.names, { kind: "pod sandbox" });
  }

  get #deps(): SandboxDeps {
    return this.#o.deps;
  }

  /** Runs a pod, or returns the pod a same-config earlier request created or is creating. */
  async run(req: RunPodSandboxRequest): Promise<string> {
    const plan = await planPod(req, this.#o.planContext());
    const { store } = this.#deps;
    return await this.#creator.create(plan, {
      existing: (id) => {
        const pod = store.index.find(id);
        return pod?.status.state === "ready" ? pod : undefined;
      },
      build: async (id, rb) => {
        const pod = await createPod(plan, { id, deps: this.#deps, rollback: rb });
        // As CRI-O tells of its infra container: created, then started, under the pod's id.
        this.events?.emit("created", { id, podId: id });
        this.events?.emit("started", { id, podId: id });
        return pod;
      },
      onUndoFailure: (id, failures) =>
        this.#deps.log.error("pod rollback incomplete", { pod: id, failures }),
    });
  }

  /** Stops a pod: CNI DEL, shm, namespaces. Unknown ids succeed, as the kubelet expects. */
  async stop(idOrPrefix: string): Promise<void> {
    const found = this.#deps.store.index.find(idOrPrefix);
    if (!found) return;
    await this.containers?.stopPod(found.id);
    await this.#deps.store.withLock(found.id, async () => {
      const pod = this.#deps.store.index.find(found.id);
      if (!pod || !canStop(pod.status)) return;
      await teardownPod(pod.meta, this.#deps);
      if (pod.status.state !== "notready" || pod.status.ips.length || pod.status.infraPid) {
        await this.#deps.store.update(pod.id, () => ({ state: "notready", ips: [] }));
        this.events?.emit("stopped", { id: pod.id, podId: pod.id });
      }
    });
  }

  /** Removes a pod (stopping it first); unknown ids succeed. Releases name, IP, dirs. */
  async remove(idOrPrefix: string): Promise<void> {
    const found = this.#deps.store.index.find(idOrPrefix);
    if (!found) return;
    await this.stop(found.id);
    await this.containers?.removePod(found.id);
    await this.#deps.store.withLock(found.id, async () => {
      const pod = this.#deps.store.index.find(found.id);
      if (!pod) return;
      if (!canRemove(pod.status)) {
        throw new FailedPreconditionError(`pod sandbox ${pod.id} is being created`);
      }
      await removeInfra(pod.meta, this.#deps);
      await removeRunDir(pod.meta);
      await this.#deps.store.forget(pod);
    });
  }

  get(idOrPrefix: string): Pod {
    return this.#deps.store.index.get(idOrPrefix);
  }

  /**
   * PodSandboxStatus: a ready pod whose infra process has exited (killed, OOM) is not ready any
   * more, as in CRI-O, so the kubelet stops and recreates it.
   */
  async status(idOrPrefix: string): Promise<Pod> {
    const found = this.get(idOrPrefix);
    const infra = this.#deps.infra;
    if (found.status.state !== "ready" || !found.meta.infra || !infra) return found;
    if (await infra.running(found.meta)) return found;
    return await this.#deps.store.withLock(found.id, async () => {
      const pod = this.get(found.id);
      if (pod.status.state !== "ready") return pod;
      this.#deps.log.warn("the pod's infra container exited; the pod is not ready", {
        pod: pod.id,
      });
      return await this.#deps.store.update(pod.id, (s) => ({ state: "notready", ips: s.ips }));
    });
  }

  /** RemoveImage refuses the pause image while a pod made from it exists. */
  imageInUse(imageId: string): boolean {
    return this.#deps.store.index.list().some((p) => p.meta.infra?.imageId === imageId);
  }

  /**
   * UpdatePodSandboxResources: the kubelet owns the pod-level cgroup and has already resized it;
   * like CRI-O without NRI plugins, the runtime has nothing to apply, so it checks that the pod
   * exists and is not being torn down, and logs what the kubelet reported.
   */
  noteResources(idOrPrefix: string, resources: { overhead?: unknown; resources?: unknown }): Pod {
    const pod = this.get(idOrPrefix);
    if (pod.status.state !== "ready") {
      throw new FailedPreconditionError(`pod sandbox ${pod.id} is not ready`);
    }
    this.#deps.log.info("pod sandbox resources updated by the kubelet", {
      pod: pod.id,
      overhead: JSON.stringify(resources.overhead ?? {}),
      resources: JSON.stringify(resources.resources ?? {}),
    });
    return pod;
  }

  /**
   * PortForward: one connection to localhost:<port> inside the pod's network namespace (the
   * host's for a host-network pod), forwarded until either side closes or the signal aborts.
   */
  async portForward(
    podId: string,
    options: { port: number; conn: ClientConn; signal?: AbortSignal },
  ): Promise<void> {
    const pod = this.get(podId);
    if (pod.status.state !== "ready") {
      throw new FailedPreconditionError(`pod sandbox ${pod.id} is not ready`);
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new FailedPreconditionError(`port ${options.port} is not a TCP port`);
    }
    const netns = isHostNetwork(pod) ? undefined : pod.meta.nsPaths.net;
    const sock = await this.#deps.dialer.dial({ netns, port: options.port });
    await forwardConnection(sock, options.conn, options.signal);
  }

  /** Oldest first (the index's order). */
  list(filter: PodSandboxFilter = {}): readonly Pod[] {
    const { store } = this.#deps;
    let pods = store.index.list();
    if (filter.id) {
      try {
        const one = store.index.find(filter.id);
        pods = one ? [one] : [];
      } catch {
        pods = pods.filter((p) => p.id.startsWith(filter.id!));
      }
    }
    if (filter.state) {
      const want = filter.state.state ?? PodSandboxState.SANDBOX_READY;
      pods = pods.filter((p) => criState(p) === want);
    }
    const sel = Object.entries(filter.labelSelector ?? {});
    if (sel.length) {
      pods = pods.filter((p) => sel.every(([k, v]) => p.meta.config.labels?.[k] === v));
    }
    return pods;
  }

  /** Tells the log why a pod could not be stopped during a sweep; never throws. */
  async stopQuietly(id: string): Promise<void> {
    await this.stop(id).catch((err) =>
      this.#deps.log.warn("stopping pod failed", { pod: id, error: errorMessage(err) })
    );
  }
}

export function criState(p: Pod): PodSandboxState {
  return p.status.state === "ready"
    ? PodSandboxState.SANDBOX_READY
    : PodSandboxState.SANDBOX_NOTREADY;
}

export function isHostNetwork(p: Pod): boolean {
  return p.meta.modes.network === NamespaceMode.NODE;
}
