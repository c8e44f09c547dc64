/**
 * Builds the sandbox service from the configuration and the host seams: state under
 * <root>/pods, volatile files under <runroot>/pods, pins under namespaces_dir; then restores the
 * pods of an earlier run. close() undoes prepare()'s private bind mounts when no pin is left.
 */
import type { Config } from "../../config/options.ts";
import type { Logger } from "../../log.ts";
import { CniInvoker } from "../../net/cni_attach.ts";
import { workerDialer } from "../../net/netns_dial.ts";
import type { NetworkReadiness } from "../../net/cni_config.ts";
import { NamespaceManager } from "../../net/namespaces.ts";
import { type HostRunner, hostRunner } from "../../util/host_runner.ts";
import { readKernelFile } from "../../util/libc_io.ts";
import { hostMountPoints } from "../../util/mountinfo.ts";
import type { SandboxDeps } from "./deps.ts";
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

/**
 * Deno refuses reads under /sys and /proc without --allow-all (even with --allow-read=/sys), so
 * cgroup files are read by cat(1).
 */

/** Cgroup files through libc: Deno refuses /sys without --allow-all, and a cat per file was slow. */
function kernelFileReader(path: string): Promise<string> {
  try {
    const text = readKernelFile(path);
    return text === undefined
      ? Promise.reject(new Deno.errors.NotFound(path))
      : Promise.resolve(text);
  } catch (err) {
    return Promise.reject(err);
  }
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
      };
    },
  });
  return {
    service,
    stats: {
      readFile: kernelFileReader,
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
