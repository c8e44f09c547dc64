/**
 * The CRI gRPC server on a unix socket. The socket's directory is created, a stale socket left by
 * a crashed daemon is replaced, but a socket that a live daemon still answers on is never taken.
 */
import * as grpc from "@grpc/grpc-js";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { ConfigError, errorMessage, UnimplementedError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  type CallObserver,
  type StreamHandler,
  type UnaryHandler,
  wrapStream,
  wrapUnary,
} from "./edge.ts";
import { filteredConnection } from "./filtered_connection.ts";
import type { HandlerTable } from "./handlers.ts";
import { InflightCalls } from "./inflight.ts";
import type { Schema } from "./schema.ts";

export interface CriServerOptions {
  socket: string;
  schema: Schema;
  handlers: HandlerTable;
  log: Logger;
  observer?: CallObserver;
  maxRecvBytes: number;
  maxSendBytes: number;
}

/** Makes the socket path usable, or explains why it is not. */
export async function prepareSocket(path: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new ConfigError(`crio.api.listen: cannot create directory ${dir}: ${errorMessage(err)}`);
  }
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new ConfigError(`crio.api.listen: cannot inspect ${path}: ${errorMessage(err)}`);
  }
  if (!st.isSocket) {
    throw new ConfigError(
      `crio.api.listen: ${path} exists and is not a socket; refusing to replace it`,
    );
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    throw new ConfigError(`crio.api.listen: another daemon is already serving on ${path}`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Nobody answers: the socket was left behind by a daemon that did not shut down cleanly.
  }
  await Deno.remove(path);
}

export class CriServer {
  readonly #server: grpc.Server;
  readonly #opts: CriServerOptions;
  readonly #shutdown = new AbortController();
  readonly #endStreams = new AbortController();
  readonly #inflight = new InflightCalls();
  readonly #sockets = new Set<Socket>();
  #listener?: NetServer;

  constructor(opts: CriServerOptions) {
    this.#opts = opts;
    this.#server = new grpc.Server({
      "grpc.max_receive_message_length": opts.maxRecvBytes,
      "grpc.max_send_message_length": opts.maxSendBytes,
    });
    const edge = {
      log: opts.log,
      observer: opts.observer,
      shutdown: this.#shutdown.signal,
      endStreams: this.#endStreams.signal,
      inflight: this.#inflight,
    };
    for (const service of ["RuntimeService", "ImageService"] as const) {
      const impl: grpc.UntypedServiceImplementation = {};
      const table = opts.handlers[service] as Record<string, unknown>;
      for (const m of opts.schema.methods.filter((x) => x.service === service)) {
        const info = { ...m, name: `/runtime.v1.${service}/${m.name}` };
        const fn = table[m.name] as ((...a: unknown[]) => unknown) | undefined;
        const missing = () => {
          throw new UnimplementedError(`${service}.${m.name} is not implemented`);
        };
        impl[m.name] = m.responseStream
          ? wrapStream(info, (fn ?? missing) as StreamHandler, edge)
          : wrapUnary(info, (fn ?? missing) as UnaryHandler, edge);
      }
      this.#server.addService(opts.schema.definitions[service], impl);
    }
  }

  /**
   * The socket is accepted here rather than by grpc-js's own bind, so that each connection can go
   * through filteredConnection before the HTTP/2 session sees it.
   */
  async listen(): Promise<void> {
    const path = this.#opts.socket;
    await prepareSocket(path);
    const injector = this.#server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const listener = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      injector.injectConnection(filteredConnection(socket));
    });
    await new Promise<void>((resolve, reject) => {
      listener.once(
        "error",
        (err) =>
          reject(new ConfigError(`crio.api.listen: cannot listen on ${path}: ${err.message}`)),
      );
      listener.listen(path, () => resolve());
    });
    listener.on("error", (err) => this.#opts.log.warn("CRI socket error", { error: err.message }));
    this.#listener = listener;
    await Deno.chmod(path, 0o660);
  }

  /**
   * Stops accepting, ends the event streams, lets in-flight calls finish for up to `graceMs` (then
   * cancels them), and closes the connections without an HTTP/2 GOAWAY: a Deno client that gets a
   * GOAWAY can abort inside nghttp2 (the bug goaway_filter.ts works around on this side), and a
   * client sees the end of the connection either way and reconnects to the next daemon.
   */
  async close(graceMs = 5000): Promise<void> {
    this.#listener?.close();
    this.#endStreams.abort();
    const finished = await this.#inflight.idle(AbortSignal.timeout(graceMs));
    if (!finished) {
      this.#opts.log.warn("CRI calls still running at shutdown are cancelled", {
        calls: this.#inflight.count,
      });
      this.#shutdown.abort();
    }
    // The last responses leave the HTTP/2 layer a few ticks after their call ends; end() then
    // sends the FIN after them, and destroy() follows for a client that does not close its side.
    const pause = () => new Promise((r) => setTimeout(r, 100));
    await pause();
    for (const socket of this.#sockets) socket.end();
    await pause();
    for (const socket of this.#sockets) socket.destroy();
    this.#server.forceShutdown();
    this.#shutdown.abort();
    try {
      await Deno.remove(this.#opts.socket);
    } catch { /* already gone */ }
  }
}
