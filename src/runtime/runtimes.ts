/**
 * One OciRuntime (conmon + runc/crun) per configured runtime handler, built on first use, and the
 * node facts each handler's binary reports, gathered once. Shared by the pod infra containers and
 * the container service, so both drive a handler the same way.
 */
import type { Config } from "../config/options.ts";
import { FailedPreconditionError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { gatherHostFacts } from "../oci/host_facts.ts";
import { OciRuntime } from "../oci/runtime.ts";
import { lookPath, type ResolvedHandler } from "../oci/runtime_handlers.ts";
import type { HostFacts } from "../oci/spec/build.ts";

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

export class Runtimes {
  readonly #config: () => Config;
  readonly #handlers: () => ReadonlyMap<string, ResolvedHandler>;
  readonly #log: Logger;
  readonly #runtimes = new Map<string, OciRuntime>();
  readonly #facts = new Map<string, Promise<HostFacts>>();

  constructor(
    config: () => Config,
    o: { handlers: () => ReadonlyMap<string, ResolvedHandler>; log: Logger },
  ) {
    this.#config = config;
    this.#handlers = o.handlers;
    this.#log = o.log;
  }

  /** The handler; throws when it is not configured (or its binary was missing at start). */
  handler(name: string): ResolvedHandler {
    const h = this.#handlers().get(name);
    if (!h) throw new FailedPreconditionError(`runtime handler ${JSON.stringify(name)} is unknown`);
    return h;
  }

  runtime(name: string): OciRuntime {
    let r = this.#runtimes.get(name);
    if (!r) {
      this.#runtimes.set(name, r = makeRuntime(this.#config(), this.handler(name), this.#log));
    }
    return r;
  }

  facts(name: string): Promise<HostFacts> {
    let f = this.#facts.get(name);
    if (!f) this.#facts.set(name, f = gatherHostFacts({ runtimePath: this.handler(name).path }));
    return f;
  }
}
