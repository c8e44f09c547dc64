/**
 * Answers what the kubelet asks about the runtime as a whole: version, readiness conditions,
 * handlers and their features, cgroup driver.
 */
import type { Config } from "../config/options.ts";
import type { Logger } from "../log.ts";
import type { NetworkStatus } from "../net/network_status.ts";
import type { ResolvedHandler } from "../oci/runtime_handlers.ts";
import { daemonVersion, RUNTIME_NAME } from "../version.ts";

export interface Condition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface HandlerFeatures {
  name: string;
  recursiveReadOnlyMounts: boolean;
  userNamespaces: boolean;
}

export interface RuntimeInfoDeps {
  config: () => Config;
  handlers: () => ReadonlyMap<string, ResolvedHandler>;
  network: NetworkStatus;
  minor: string;
  log: Logger;
}

export class RuntimeInfo {
  readonly #deps: RuntimeInfoDeps;

  constructor(deps: RuntimeInfoDeps) {
    this.#deps = deps;
  }

  version(): { name: string; version: string; apiVersion: string } {
    return { name: RUNTIME_NAME, version: daemonVersion(this.#deps.minor), apiVersion: "v1" };
  }

  conditions(): Condition[] {
    const def = this.#deps.config().runtime.default_runtime;
    const runtimeOk = this.#deps.handlers().has(def);
    const net = this.#deps.network.current;
    return [
      {
        type: "RuntimeReady",
        status: runtimeOk,
        reason: runtimeOk ? "" : "RuntimeNotReady",
        message: runtimeOk ? "" : `default runtime ${def} is not available`,
      },
      {
        type: "NetworkReady",
        status: net.ready,
        reason: net.ready ? "" : net.reason,
        message: net.ready ? "" : net.message,
      },
    ];
  }

  /**
   * One entry per usable handler, plus the default again under the empty name, as the kubelet
   * looks features up by RuntimeClass handler and "" means the default. Features are reported
   * only once the container path implements them.
   */
  handlerFeatures(): HandlerFeatures[] {
    const def = this.#deps.config().runtime.default_runtime;
    const names = [...this.#deps.handlers().keys()];
    const list = names.includes(def) ? ["", ...names] : names;
    return list.map((name) => ({ name, recursiveReadOnlyMounts: false, userNamespaces: false }));
  }

  cgroupDriver(): "systemd" | "cgroupfs" {
    return this.#deps.config().runtime.cgroup_manager as "systemd" | "cgroupfs";
  }

  /** The verbose Status info: the effective config, as CRI-O gives it. */
  verboseInfo(): Record<string, string> {
    return { config: JSON.stringify(this.#deps.config()) };
  }

  /** The kubelet sends the pod CIDR; like CRI-O, the CNI config owns addressing, so it is logged. */
  noteRuntimeConfig(podCidr: string): void {
    if (podCidr) this.#deps.log.info("kubelet reported pod CIDR", { pod_cidr: podCidr });
  }
}
