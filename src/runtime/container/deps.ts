/** What the container steps need from the rest of the daemon, each behind a seam tests fake. */
import type { Config } from "../../config/options.ts";
import type { Logger } from "../../log.ts";
import type { ImageService } from "../../image/image_service.ts";
import type { HostFacts } from "../../oci/spec/build.ts";
import type { OciRuntime } from "../../oci/runtime.ts";
import type { ResolvedHandler } from "../../oci/runtime_handlers.ts";
import type { SandboxService } from "../sandbox/sandbox_service.ts";
import type { ContainerStore } from "./container_store.ts";
import type { MountBinaries } from "./rootfs.ts";
import type { StatsSources } from "../sandbox/pod_stats.ts";
import type { EventSink } from "../events.ts";

export interface ContainerDeps {
  store: ContainerStore;
  sandboxes: SandboxService;
  images: ImageService;
  config: () => Config;
  /** The runtime of a handler; throws when the handler is not configured. */
  runtime: (handler: string) => OciRuntime;
  handler: (handler: string) => ResolvedHandler;
  /** Node facts for a handler, gathered once. */
  facts: (handler: string) => Promise<HostFacts>;
  mounts: MountBinaries;
  /** <root>/containers: per-container writable layers. */
  storageRoot: string;
  /** <runroot>/containers: bundles and mount points. */
  runRoot: string;
  /** cgroup readers shared with the pod stats. */
  stats: StatsSources;
  log: Logger;
  /** Lifecycle events for GetContainerEvents; absent in tests that do not watch them. */
  events?: EventSink;
}
