/**
 * Builds the sandbox service from the configuration and the host seams: state under
 * <root>/pods, volatile files under <runroot>/pods, pins under namespaces_dir, infra containers
 * through the shared runtimes; then restores the pods of an earlier run. close() undoes
 * prepare()'s private bind mounts when no pin is left.
 */
import type { Config } from "../../config/options.ts";
import type { ImageService } from "../../image/image_service.ts";
import type { Logger } from "../../log.ts";
import { CniInvoker } from "../../net/cni_attach.ts";
import { workerDialer } from "../../net/netns_dial.ts";
import type { NetworkReadiness } from "../../net/cni_config.ts";
import { NamespaceManager } from "../../net/namespaces.ts";
import { type HostRunner, hostRunner } from "../../util/host_runner.ts";
import { readSpecialFile } from "../../oci/host.ts";
import { hostMountPoints } from "../../util/mountinfo.ts";
import { hostMountBinaries } from "../container/rootfs.ts";
import type { Runtimes } from "../runtimes.ts";
import type { SandboxDeps } from "./deps.ts";
import { needsInfra } from "./infra.ts";
import { InfraContainers } from "./infra_container.ts";
import { PodFiles } from "./pod_files.ts";
import type { StatsSources } from "./pod_stats.ts";
import { SandboxService } from "./sandbox_service.ts";
import { restorePods } from "./sandbox_restore.ts";
import { SandboxStore } from "./sandbox_store.ts";

export interface Sandboxes {
  service: SandboxService;
  stats: StatsSources;
  close(): Promise<void>;
}

/** Cgroup files: a missing one rejects (the stats readers treat it as "no such counter"). */
function cgroupFileReader(path: string): Promise<string> {
  return readSpecialFile(path).then((text) =>
    text ?? Promise.reject(new Deno.errors.NotFound(path))
  );
}

/** v1 when the per-controller hierarchies are mounted (this node), else the unified v2 one. */
async function cgroupVersion(mountPoints: () => Promise<Set<string>>): Promise<"v1" | "v2"> {
  return (await mountPoints()).has("/sys/fs/cgroup/cpuacct") ? "v1" : "v2";
}

export async function startSandboxes(
  config: () => Config,
  options: {
    log: Logger;
    network: () => NetworkReadiness;
    handlers: () => ReadonlySet<string>;
    runner?: HostRunner;
    /** Both or neither: without them a pod that needs an infra container is refused. */
    images?: ImageService;
    runtimes?: Runtimes;
  },
): Promise<Sandboxes> {
  const cfg = config();
  const runner = options.runner ?? hostRunner;
  const namespaces = new NamespaceManager({ dir: cfg.runtime.namespaces_dir, runner });
  await namespaces.prepare();
  // Paths are compared with mountinfo's, which has symlinks resolved.
  await Deno.mkdir(`${cfg.crio.runroot}/pods`, { recursive: true, mode: 0o711 });
  const runRoot = await Deno.realPath(`${cfg.crio.runroot}/pods`);
  const deps: SandboxDeps = {
    store: new SandboxStore(`${cfg.crio.root}/pods`),
    namespaces,
    files: new PodFiles({}),
    cni: new CniInvoker({ runner, pluginDirs: cfg.network.plugin_dirs }),
    network: options.network,
    mountPoints: hostMountPoints,
    dialer: workerDialer,
    runRoot,
    log: options.log,
  };
  const { images, runtimes } = options;
  if (images && runtimes) {
    deps.infra = new InfraContainers({
      config,
      images,
      runtime: (name) => runtimes.runtime(name),
      facts: (name) => runtimes.facts(name),
      mounts: hostMountBinaries(),
      storageRoot: `${cfg.crio.root}/pods`,
      log: options.log,
    });
  }
  const report = await restorePods(deps);
  options.log.info("pods restored", {
    restored: report.restored,
    cleaned: report.cleaned.length,
    not_ready: report.notReady.length,
  });
  const service = new SandboxService({
    deps,
    planContext: () => {
      const c = config();
      return {
        handlers: options.handlers(),
        defaultRuntime: c.runtime.default_runtime,
        cgroupDriver: c.runtime.cgroup_manager as "systemd" | "cgroupfs",
        defaultSysctls: c.runtime.default_sysctls,
        nodeHostname: Deno.hostname(),
        needsInfra: (pod) =>
          needsInfra({
            ...pod,
            runtimeType: c.runtime.runtimes[pod.handler]?.runtime_type ?? "oci",
            dropInfra: c.runtime.drop_infra_ctr,
          }),
      };
    },
  });
  return {
    service,
    stats: {
      readFile: cgroupFileReader,
      runner,
      nsenter: "/usr/bin/nsenter",
      cgroupRoot: "/sys/fs/cgroup",
      cgroupVersion: await cgroupVersion(hostMountPoints),
    },
    async close() {
      for (const p of await namespaces.release()) {
        options.log.debug("namespace dir kept mounted", { reason: p });
      }
    },
  };
}
