/** A PodInfra that runs nothing: records what the sandbox service asked, for unit tests. */
import type { InfraMeta, PodInfra } from "../runtime/sandbox/infra.ts";
import type { PodMeta } from "../runtime/sandbox/pod_state.ts";
import type { Rollback } from "../util/rollback.ts";

export class FakeInfra implements PodInfra {
  readonly events: string[] = [];
  /** Pods whose infra process runs. */
  readonly live = new Set<string>();
  /** Pods whose infra container exists (created, not yet removed). */
  readonly made = new Set<string>();
  failStart = false;
  /** Called at start and stop, so a test can see what had happened by then. */
  onEvent: (event: string) => void = () => {};

  #note(event: string) {
    this.events.push(event);
    this.onEvent(event);
  }

  prepare(o: { newPidNamespace: boolean }): Promise<InfraMeta> {
    this.#note("prepare");
    return Promise.resolve({
      image: "registry.test/pause:1",
      imageId: "f".repeat(64),
      args: ["/pause"],
      newPidNamespace: o.newPidNamespace,
    });
  }

  start(meta: PodMeta, rb: Rollback): Promise<number> {
    rb.add("infra container", async () => {
      await this.stop(meta);
      await this.remove(meta);
    });
    this.made.add(meta.id);
    this.#note("start");
    if (this.failStart) return Promise.reject(new Error("injected infra failure"));
    this.live.add(meta.id);
    return Promise.resolve(4242);
  }

  running(meta: PodMeta): Promise<boolean> {
    return Promise.resolve(this.live.has(meta.id));
  }

  stop(meta: PodMeta): Promise<void> {
    this.#note("stop");
    this.live.delete(meta.id);
    return Promise.resolve();
  }

  remove(meta: PodMeta): Promise<void> {
    this.#note("remove");
    this.made.delete(meta.id);
    return Promise.resolve();
  }
}
