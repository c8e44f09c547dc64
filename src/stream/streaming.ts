/**
 * The daemon's streaming server from crio.conf's [crio.api] stream_* keys, joined to the container
 * and sandbox services. SPDY sessions are src/stream/spdy's.
 */
import type { Config } from "../config/options.ts";
import { ConfigError } from "../errors.ts";
import { durationMs } from "../image/image_names.ts";
import type { Logger } from "../log.ts";
import type { StreamBackend } from "./backend.ts";
import { StreamServer } from "./server.ts";
import { SpdySession } from "./spdy/session.ts";
import type { SpdySessionFactory } from "./spdy_api.ts";

export const newSpdySession: SpdySessionFactory = (t, o) =>
  new SpdySession(t, { onStream: o.onStream, role: "server" });

export async function startStreaming(
  cfg: Config,
  deps: { backend: StreamBackend; log: Logger },
): Promise<StreamServer> {
  const api = cfg.api;
  let tls: { certFile: string; keyFile: string } | undefined;
  if (api.stream_enable_tls) {
    if (!api.stream_tls_cert || !api.stream_tls_key) {
      throw new ConfigError(
        "[crio.api] stream_enable_tls needs stream_tls_cert and stream_tls_key",
      );
    }
    tls = { certFile: api.stream_tls_cert, keyFile: api.stream_tls_key };
    if (api.stream_tls_ca) {
      // Deno's TLS listener cannot ask for client certificates; CRI-O only verifies them when a
      // client offers one, so clients without one are served the same either way.
      deps.log.warn("stream_tls_ca is not used: client certificates are not verified", {
        file: api.stream_tls_ca,
      });
    }
  }
  const server = await StreamServer.start({
    address: api.stream_address,
    port: Number(api.stream_port),
    tls,
    idleTimeoutMs: durationMs(api.stream_idle_timeout) || undefined,
    backend: deps.backend,
    newSession: newSpdySession,
    log: deps.log,
  });
  deps.log.info("streaming server listening", { url: server.baseUrl });
  return server;
}
