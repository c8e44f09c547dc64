/**
 * Prometheus metrics with CRI-O's names (subsystem `container_runtime`), served on
 * metrics_host:metrics_port at /metrics when enable_metrics is set.
 */
import client from "prom-client";
import type { ErrorKind } from "../errors.ts";
import type { CallObserver } from "../cri/edge.ts";
import type { ImageMetrics } from "../image/image_service.ts";
import { registerProcessMetrics, REPLACED_DEFAULTS } from "./process_metrics.ts";

const PREFIX = "container_runtime_crio_";

export class Metrics implements CallObserver, ImageMetrics {
  readonly registry = new client.Registry();
  readonly #ops: client.Counter<"operation">;
  readonly #errors: client.Counter<"operation">;
  readonly #latencyTotal: client.Summary<"operation">;
  readonly #latency: client.Gauge<"operation">;
  readonly #pullBytes: client.Counter<"mediatype">;
  readonly #pullSuccess: client.Counter;
  readonly #pullFailure: client.Counter<"error">;
  readonly #layerReuse: client.Counter;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#ops = new client.Counter({
      name: `${PREFIX}operations_total`,
      help: "Cumulative number of CRI operations by operation type.",
      labelNames: ["operation"],
      registers,
    });
    this.#errors = new client.Counter({
      name: `${PREFIX}operations_errors_total`,
      help: "Cumulative number of CRI operation errors by operation type.",
      labelNames: ["operation"],
      registers,
    });
    this.#latencyTotal = new client.Summary({
      name: `${PREFIX}operations_latency_seconds_total`,
      help: "Latency in seconds of CRI operations, by operation type.",
      labelNames: ["operation"],
      percentiles: [0.5, 0.9, 0.99],
      registers,
    });
    this.#latency = new client.Gauge({
      name: `${PREFIX}operations_latency_seconds`,
      help: "Latency in seconds of the last CRI operation of each type.",
      labelNames: ["operation"],
      registers,
    });
    this.#pullBytes = new client.Counter({
      name: `${PREFIX}image_pulls_bytes_total`,
      help: "Bytes downloaded by image pulls, by layer media type.",
      labelNames: ["mediatype"],
      registers,
    });
    this.#pullSuccess = new client.Counter({
      name: `${PREFIX}image_pulls_success_total`,
      help: "Successful image pulls.",
      registers,
    });
    this.#pullFailure = new client.Counter({
      name: `${PREFIX}image_pulls_failure_total`,
      help: "Failed image pulls, by error.",
      labelNames: ["error"],
      registers,
    });
    this.#layerReuse = new client.Counter({
      name: `${PREFIX}image_layer_reuse_total`,
      help: "Layers reused instead of pulled.",
      registers,
    });
    if (options.processMetrics ?? true) {
      client.collectDefaultMetrics({ register: this.registry });
      for (const name of REPLACED_DEFAULTS) this.registry.removeSingleMetric(name);
      registerProcessMetrics(this.registry);
    }
  }

  observe(method: string, seconds: number, kind: ErrorKind | undefined): void {
    const labels = { operation: method };
    this.#ops.inc(labels);
    if (kind !== undefined) this.#errors.inc(labels);
    this.#latencyTotal.observe(labels, seconds);
    this.#latency.set(labels, seconds);
  }

  pullBytes(mediaType: string, n: number): void {
    this.#pullBytes.inc({ mediatype: mediaType }, n);
  }

  pullSucceeded(): void {
    this.#pullSuccess.inc();
  }

  pullFailed(error: string): void {
    this.#pullFailure.inc({ error });
  }

  layerReused(): void {
    this.#layerReuse.inc();
  }

  async text(): Promise<string> {
    return await this.registry.metrics();
  }
}

export interface MetricsServer {
  readonly addr: Deno.NetAddr;
  close(): Promise<void>;
}

/** Serves /metrics; anything else is 404. */
export function serveMetrics(
  metrics: Metrics,
  options: { hostname: string; port: number },
): MetricsServer {
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {},
  }, async (req) => {
    if (new URL(req.url).pathname !== "/metrics") {
      return new Response("not found\n", { status: 404 });
    }
    return new Response(await metrics.text(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  });
  return {
    addr: server.addr as Deno.NetAddr,
    close: () => server.shutdown(),
  };
}
