/**
 * Builds the container service: one OciRuntime per runtime handler (conmon + runc/crun), state
 * under <root>/containers, bundles and mount points under <runroot>/containers; restores the
 * containers of an earlier run and watches the exits dir so a container's exit is recorded as
 * soon as conmon writes it.
 */
import { hostMounter } from "../../util/libc_io.ts";
import type { Config } from "../../config/options.ts";
import { errorMessage, FailedPreconditionError } from "../../errors.ts";
import type { ImageService } from "../../image/image_service.ts";
import type { Logger } from "../../log.ts";
import { gatherHostFacts } from "../../oci/host_facts.ts";
import { OciRuntime } from "../../oci/runtime.ts";
import { lookPath, type ResolvedHandler } from "../../oci/runtime_handlers.ts";
import type { HostFacts } from "../../oci/spec/build.ts";
import { hostRunner } from "../../util/host_runner.ts";
import type { SandboxService } from "../sandbox/sandbox_service.ts";
import type { StatsSources } from "../sandbox/pod_stats.ts";
import { ContainerService } from "./container_service.ts";
import { restoreContainers } from "./container_restore.ts";
import { ContainerStore } from "./container_store.ts";
import type { ContainerDeps } from "./deps.ts";
import { EventHub } from "../events.ts";

export interface Containers {
  service: ContainerService;
  /** GetContainerEvents' source; the sandbox service reports into it too. */
  events: EventHub;
  close(): void;
}

function makeRuntime(cfg: Config, h: ResolvedHandler, log: Logger): OciRuntime {
  const rt = cfg.runtime;
  return new OciRuntime({
    name: h.name,
    runtimePath: h.path,
    runtimeRoot: h.config.runtime_root || `/run/${h.name}`,
    conmonPath: lookPath(h.config.monitor_path || rt.conmon || "conmon") ?? "/usr/bin/conmon",
    conmonEnv: h.config.monitor_env.length ? h.config.monitor_env : rt.conmon_env,
    exitsDir: rt.container_exits_dir,
    attachSocketDir: rt.container_attach_socket_dir,
    cgroupManager: rt.cgroup_manager as "systemd" | "cgroupfs",
    logSizeMax: rt.log_size_max,
    noSyncLog: h.config.no_sync_log,
    log,
  });
}

export async function startContainers(
  config: () => Config,
  o: {
    log: Logger;
    sandboxes: SandboxService;
    images: ImageService;
    handlers: () => ReadonlyMap<string, ResolvedHandler>;
    stats: StatsSources;
  },
): Promise<Containers> {
  const cfg = config();
  const runtimes = new Map<string, OciRuntime>();
  const facts = new Map<string, Promise<HostFacts>>();
  const handler = (name: string) => {
    const h = o.handlers().get(name);
    if (!h) throw new FailedPreconditionError(`runtime handler ${JSON.stringify(name)} is unknown`);
    return h;
  };
  await Deno.mkdir(`${cfg.crio.runroot}/containers`, { recursive: true, mode: 0o711 });
  const store = new ContainerStore(`${cfg.crio.root}/containers`);
  const events = new EventHub({
    snapshot: (podId) => ({
      pod: o.sandboxes.list({ id: podId })[0],
      containers: store.byPod(podId),
    }),
    enabled: () => config().runtime.enable_pod_events,
    log: o.log,
  });
  await Deno.mkdir(cfg.runtime.container_exits_dir, { recursive: true, mode: 0o700 });
  const deps: ContainerDeps = {
    store,
    events,
    sandboxes: o.sandboxes,
    images: o.images,
    config,
    handler,
    runtime: (name) => {
      let r = runtimes.get(name);
      if (!r) runtimes.set(name, r = makeRuntime(config(), handler(name), o.log));
      return r;
    },
    facts: (name) => {
      let f = facts.get(name);
      if (!f) facts.set(name, f = gatherHostFacts({ runtimePath: handler(name).path }));
      return f;
    },
    mounts: {
      runner: hostRunner,
      mount: lookPath("mount") ?? "/usr/bin/mount",
      mounter: hostMounter,
    },
    storageRoot: `${cfg.crio.root}/containers`,
    runRoot: await Deno.realPath(`${cfg.crio.runroot}/containers`),
    stats: o.stats,
    log: o.log,
  };
  const report = await restoreContainers(deps);
  o.log.info("containers restored", { restored: report.restored, cleaned: report.cleaned.length });
  const service = new ContainerService(deps);
  const watcher = watchExits(cfg.runtime.container_exits_dir, { service, log: o.log });
  return { service, events, close: () => watcher.close() };
}

/** Each exit file conmon writes names its container; refresh() records the exit. */
function watchExits(dir: string, o: { service: ContainerService; log: Logger }) {
  const w = Deno.watchFs(dir, { recursive: false });
  (async () => {
    try {
      for await (const ev of w) {
        if (ev.kind !== "create" && ev.kind !== "modify") continue;
        for (const p of ev.paths) {
          const id = p.slice(p.lastIndexOf("/") + 1);
          if (/^[0-9a-f]{64}$/.test(id)) await o.service.refresh(id);
        }
      }
    } catch (err) {
      o.log.warn("exit watcher stopped", { error: errorMessage(err) });
    }
  })();
  return { close: () => w.close() };
}
