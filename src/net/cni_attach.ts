/**
 * Attaches a pod to a CNI network list and detaches it: plugins in order for ADD with each one's
 * result as the next one's prevResult, in reverse for DEL; runtimeConfig only for the capabilities a
 * plugin declares (portMappings). The caller caches the list and the ADD result, so DEL
 * gets exactly the config ADD used, even after the config dir changed.
 */
import { findPlugin, hostCniFs } from "./cni_config.ts";
import type { CniFs } from "./cni_config.ts";
import { type CniCall, CniPluginError, execPlugin } from "./cni_exec.ts";
import type { HostRunner } from "../util/host_runner.ts";

export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
  hostIP?: string;
}

/** What DEL needs later; persisted per pod. */
export interface CniAttachment {
  /** The conflist as used (name, cniVersion, plugins). */
  list: Record<string, unknown>;
  ifName: string;
  runtimeConfig: { portMappings?: CniPortMapping[] };
  result?: Record<string, unknown>;
}

export interface CniInvokerOptions {
  runner: HostRunner;
  pluginDirs: readonly string[];
  fs?: CniFs;
}

export interface PodRef {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  netns: string;
}

export class CniInvoker {
  readonly #o: CniInvokerOptions;

  constructor(o: CniInvokerOptions) {
    this.#o = o;
  }

  #call(pod: PodRef, command: CniCall["command"], ifName: string): CniCall {
    return {
      command,
      containerId: pod.id,
      netns: pod.netns,
      ifName,
      pluginDirs: this.#o.pluginDirs,
      args: [
        ["K8S_POD_NAMESPACE", pod.namespace],
        ["K8S_POD_NAME", pod.name],
        ["K8S_POD_INFRA_CONTAINER_ID", pod.id],
        ["K8S_POD_UID", pod.uid],
      ],
    };
  }

  #pluginConfig(a: CniAttachment, plugin: Record<string, unknown>, prev?: unknown) {
    const config: Record<string, unknown> = {
      ...plugin,
      name: a.list.name,
      cniVersion: a.list.cniVersion,
    };
    const caps = (plugin.capabilities ?? {}) as Record<string, unknown>;
    const rc: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a.runtimeConfig)) if (caps[k] && v !== undefined) rc[k] = v;
    delete config.capabilities;
    if (Object.keys(rc).length) config.runtimeConfig = rc;
    if (prev !== undefined) config.prevResult = prev;
    return config;
  }

  async #path(type: unknown): Promise<string> {
    const path = await findPlugin(this.#o.fs ?? hostCniFs, this.#o.pluginDirs, String(type));
    if (!path) {
      throw new CniPluginError(`CNI plugin ${type} not found in ${this.#o.pluginDirs.join(", ")}`);
    }
    return path;
  }

  #plugins(a: CniAttachment): Record<string, unknown>[] {
    return (a.list.plugins ?? []) as Record<string, unknown>[];
  }

  /** ADD through the chain; returns the last plugin's result. */
  async add(pod: PodRef, a: CniAttachment): Promise<Record<string, unknown>> {
    let prev: Record<string, unknown> | undefined;
    for (const p of this.#plugins(a)) {
      const out = await execPlugin(this.#o.runner, await this.#path(p.type), {
        call: this.#call(pod, "ADD", a.ifName),
        config: this.#pluginConfig(a, p, prev),
      });
      prev = out;
    }
    return prev ?? {};
  }

  /** DEL in reverse order with the cached result; every plugin is tried, the first error thrown. */
  async del(pod: PodRef, a: CniAttachment): Promise<void> {
    let first: unknown;
    for (const p of this.#plugins(a).toReversed()) {
      try {
        await execPlugin(this.#o.runner, await this.#path(p.type), {
          call: this.#call(pod, "DEL", a.ifName),
          config: this.#pluginConfig(a, p, a.result),
        });
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}

/** The loopback network every pod gets (brings lo up in the pod's netns). */
export function loopbackList(): Record<string, unknown> {
  return { cniVersion: "1.0.0", name: "cni-loopback", plugins: [{ type: "loopback" }] };
}
