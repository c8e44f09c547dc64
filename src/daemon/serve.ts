/**
 * The daemon's lifecycle: configuration → handlers → CRI server → metrics, and the reverse on
 * shutdown. Every step that starts something registers how to stop it, so a failure half-way
 * leaves nothing running and the socket removed.
 */
import type { ParsedArgs } from "../config/flags.ts";
import type { LoadResult } from "../config/load.ts";
import type { Config } from "../config/options.ts";
import { loadSchema } from "../cri/schema.ts";
import { buildHandlers } from "../cri/handlers.ts";
import { CriServer, prepareSocket } from "../cri/server.ts";
import { DEFAULT_MINOR } from "../cri/k8s_versions.ts";
import { errorMessage } from "../errors.ts";
import { type LogFormat, type Logger, type LogLevel } from "../log.ts";
import { Metrics, type MetricsServer, serveMetrics } from "../metrics/metrics.ts";
import { NetworkStatus } from "../net/network_status.ts";
import { type ResolvedHandler, resolveHandlers } from "../oci/runtime_handlers.ts";
import { RuntimeInfo } from "../runtime/runtime_info.ts";
import { ImageFilesystems } from "../image/image_fs.ts";
import { ImageService } from "../image/image_service.ts";
import { daemonVersion } from "../version.ts";
import { reload } from "./reload.ts";
import { type Sandboxes, startSandboxes } from "../runtime/sandbox/sandboxes.ts";
import { Runtimes } from "../runtime/runtimes.ts";
import { type Containers, startContainers } from "../runtime/container/containers.ts";
import { installDefaultNetwork } from "../net/default_network.ts";
import { startStreaming } from "../stream/streaming.ts";
import { collectGarbage } from "../util/memory.ts";
import { dropExecutablePages } from "../util/startup_pages.ts";

export interface DaemonOptions {
  loaded: LoadResult;
  /** Re-reads every source; used by SIGHUP. */
  load: () => Promise<LoadResult>;
  log: Logger;
  /** Kubernetes minor whose schema is served. */
  minor?: string;
}

export class Daemon {
  readonly config: Config;
  readonly #opts: DaemonOptions;
  readonly #undo: (() => Promise<void> | void)[] = [];
  #handlers = new Map<string, ResolvedHandler>();
  #metricsServer?: MetricsServer;
  /** Services that re-read their own files on SIGHUP (registries.conf, auth file). */
  readonly #onReload: (() => Promise<void>)[] = [];

  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    this.config = opts.loaded.config;
  }

  get metricsAddr(): Deno.NetAddr | undefined {
    return this.#metricsServer?.addr;
  }

  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #start(): Promise<void> {
    const { log } = this.#opts;
    const cfg = this.config;
    const minor = this.#opts.minor ?? DEFAULT_MINOR;
    log.configure({
      level: cfg.runtime.log_level as LogLevel,
      format: cfg.runtime.log_format as LogFormat,
    });
    for (const w of this.#opts.loaded.warnings) log.warn(w);
    log.info("starting", {
      version: daemonVersion(minor),
      sources: this.#opts.loaded.sources.join(",") || "embedded defaults",
    });
    // Refuse a socket a live daemon answers on before anything else starts.
    await prepareSocket(cfg.api.listen);
    const resolved = resolveHandlers(cfg.runtime.runtimes, {
      defaultRuntime: cfg.runtime.default_runtime,
    });
    for (const w of resolved.warnings) log.warn(w);
    this.#handlers = resolved.handlers;
    const network = new NetworkStatus({
      networkDir: cfg.network.network_dir,
      pluginDirs: cfg.network.plugin_dirs,
      defaultNetwork: cfg.network.cni_default_network,
      log,
    });
    await network.watch();
    this.#undo.push(() => network.close());
    const metrics = cfg.metrics.enable_metrics ? new Metrics() : undefined;
    const runtimeInfo = new RuntimeInfo({
      config: () => this.config,
      handlers: () => this.#handlers,
      network,
      minor,
      log,
    });
    // Bound late: the container service is built on the image and sandbox services.
    const late: { containers?: Containers; sandboxes?: Sandboxes } = {};
    const images = new ImageService({
      root: cfg.crio.root,
      log,
      imageInUse: (id) =>
        (late.containers?.service.imageInUse(id) || late.sandboxes?.service.imageInUse(id)) ??
          false,
      config: () => this.config,
      metrics,
    });
    await images.init();
    this.#onReload.push(() => images.reload());
    const runtimes = new Runtimes(() => this.config, { handlers: () => this.#handlers, log });
    const sandboxes = await startSandboxes(() => this.config, {
      log,
      network: () => network.current,
      handlers: () => new Set(this.#handlers.keys()),
      images,
      runtimes,
    });
    late.sandboxes = sandboxes;
    this.#undo.push(() => sandboxes.close());
    const containers = await startContainers(() => this.config, {
      log,
      sandboxes: sandboxes.service,
      images,
      runtimes,
      stats: sandboxes.stats,
    });
    sandboxes.service.containers = containers.service;
    sandboxes.service.events = containers.events;
    late.containers = containers;
    this.#undo.push(() => containers.close());
    const stream = await startStreaming(cfg, {
      log,
      backend: {
        exec: (id, o) => containers.service.exec(id, o),
        attach: (id, o) => containers.service.attach(id, o),
        portForward: (podId, o) => sandboxes.service.portForward(podId, o),
      },
    });
    this.#undo.push(() => stream.close());
    const server = new CriServer({
      socket: cfg.api.listen,
      schema: loadSchema(minor),
      handlers: buildHandlers({
        runtimeInfo,
        imageFilesystems: new ImageFilesystems(cfg.crio.root),
        images,
        sandboxes,
        containers,
        stream,
      }),
      log,
      observer: metrics,
      maxRecvBytes: cfg.api.grpc_max_recv_msg_size,
      maxSendBytes: cfg.api.grpc_max_send_msg_size,
    });
    await server.listen();
    this.#undo.push(() => server.close());
    if (metrics) {
      this.#metricsServer = serveMetrics(metrics, {
        hostname: cfg.metrics.metrics_host,
        port: cfg.metrics.metrics_port,
      });
      this.#undo.push(() => this.#metricsServer?.close());
      log.info("metrics served", {
        addr: `${cfg.metrics.metrics_host}:${this.#metricsServer.addr.port}`,
      });
    }
    await this.#writeVersionFile(minor);
    log.info("serving CRI", { socket: cfg.api.listen, kubernetes: minor });
    // Start-up's garbage (schema, config, restore): 3 MiB of RSS.
    collectGarbage();
    // Start-up read ~20 MiB of Deno's binary that serving does not (src/util/startup_pages.ts).
    log.info("start-up pages of the executable released", { kib: dropExecutablePages() });
  }

  async #writeVersionFile(minor: string): Promise<void> {
    const path = this.config.crio.version_file;
    if (!path) return;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, `${daemonVersion(minor)}\n`);
    await Deno.rename(tmp, path);
  }

  async reload(): Promise<unknown> {
    const outcome = await reload(this.config, { load: this.#opts.load, log: this.#opts.log });
    for (const r of this.#onReload) await r();
    return outcome;
  }

  /** Stops everything started, newest first; safe to call twice. */
  async stop(): Promise<void> {
    while (this.#undo.length) {
      const undo = this.#undo.pop()!;
      try {
        await undo();
      } catch (err) {
        this.#opts.log.warn("shutdown step failed", { error: errorMessage(err) });
      }
    }
  }
}

/** Runs the daemon until SIGTERM or SIGINT. SIGHUP reloads. */
export async function serve(
  args: ParsedArgs,
  deps: { log: Logger; load: () => Promise<LoadResult> },
) {
  void args;
  const loaded = await deps.load();
  // The serve path (not Daemon.start, which tests drive) gives a bare node a pod network.
  const installed = await installDefaultNetwork(loaded.config.network.network_dir);
  if (installed) deps.log.info("installed the default CNI network", { file: installed });
  const daemon = new Daemon({
    loaded,
    load: deps.load,
    log: deps.log,
    minor: Deno.env.get("CRIO_K8S_MINOR") ?? DEFAULT_MINOR,
  });
  await daemon.start();
  const stopped = Promise.withResolvers<string>();
  const onStop = (sig: Deno.Signal) => () => stopped.resolve(sig);
  const term = onStop("SIGTERM");
  const int = onStop("SIGINT");
  const hup = () => void daemon.reload();
  Deno.addSignalListener("SIGTERM", term);
  Deno.addSignalListener("SIGINT", int);
  Deno.addSignalListener("SIGHUP", hup);
  const sig = await stopped.promise;
  deps.log.info("shutting down", { signal: sig });
  Deno.removeSignalListener("SIGHUP", hup);
  await daemon.stop();
  await writeCleanShutdown(daemon.config);
  Deno.removeSignalListener("SIGTERM", term);
  Deno.removeSignalListener("SIGINT", int);
  deps.log.info("stopped");
}

async function writeCleanShutdown(cfg: Config): Promise<void> {
  const path = cfg.crio.clean_shutdown_file;
  if (!path) return;
  try {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
    await Deno.writeTextFile(path, "");
  } catch { /* best effort: its absence only means the next start checks the store */ }
}
