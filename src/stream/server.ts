/**
 * The streaming server: `Exec`, `Attach` and `PortForward` hand out URLs on it, each with a
 * single-use token (tokens.ts), and the kubelet or crictl connects there to run the session over
 * SPDY/3.1 or WebSocket. Routes are the kubelet's: /exec/<token>, /attach/<token>,
 * /portforward/<token>, GET or POST.
 *
 * Why Deno.listen and a head parser of our own (http_head.ts) rather than Deno.serve or node:http:
 * Deno.serve cannot hand over the raw connection a SPDY upgrade needs, and node:http's 'upgrade'
 * event in Deno does, but measured on this machine echoing 64 KiB chunks over loopback it moved
 * 141 MB/s against 469 MB/s for a Deno.listen connection, and its head limits are not ours to set.
 * One listener serves both upgrades, so WebSocket framing is ours too (websocket.ts).
 *
 * Bounds: the head (16 KiB, 64 lines, 10 s to arrive), connections at once (`maxConnections`, then
 * 503), the client's stream creation (30 s, as the kubelet), idle sessions (`stream_idle_timeout`,
 * default 4 h as CRI-O), WebSocket messages (1 MiB) and buffered channel bytes (256 KiB each).
 */
import type { Logger } from "../log.ts";
import { errorMessage } from "../errors.ts";
import type { CachedRequest, Duplex, StreamBackend } from "./backend.ts";
import { HttpHeadError, readHead, type RequestHead } from "./http_head.ts";
import { servePortForwardSpdy } from "./portforward_spdy.ts";
import { servePortForwardWebSocket } from "./portforward_ws.ts";
import { serveCommandSpdy } from "./remotecommand_spdy.ts";
import { serveCommandWebSocket } from "./remotecommand_ws.ts";
import type { SpdySessionFactory } from "./spdy_api.ts";
import { TokenCache, type TokenCacheOptions } from "./tokens.ts";
import { isWebSocketRequest } from "./websocket.ts";
import { respond } from "./upgrade.ts";

export const DEFAULT_IDLE_TIMEOUT_MS = 4 * 3600_000;

export interface StreamServerOptions {
  address: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  idleTimeoutMs?: number;
  backend: StreamBackend;
  newSession: SpdySessionFactory;
  log: Logger;
  creationTimeoutMs?: number;
  headTimeoutMs?: number;
  maxConnections?: number;
  tokens?: TokenCacheOptions;
}

export class StreamServer {
  readonly baseUrl: string;
  readonly tokens: TokenCache<CachedRequest>;
  readonly #o: StreamServerOptions;
  readonly #listener: Deno.Listener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #handlers = new Set<Promise<void>>();
  #accepting: Promise<void>;

  private constructor(listener: Deno.Listener, o: StreamServerOptions) {
    this.#o = o;
    this.#listener = listener;
    this.tokens = new TokenCache(o.tokens);
    const addr = listener.addr as Deno.NetAddr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    this.baseUrl = `${o.tls ? "https" : "http"}://${host}:${addr.port}`;
    this.#accepting = this.#accept();
  }

  static async start(o: StreamServerOptions): Promise<StreamServer> {
    const where = { hostname: o.address || "0.0.0.0", port: o.port };
    const listener = o.tls
      ? Deno.listenTls({
        ...where,
        cert: await Deno.readTextFile(o.tls.certFile),
        key: await Deno.readTextFile(o.tls.keyFile),
      })
      : Deno.listen(where);
    return new StreamServer(listener, o);
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Sessions open now (for tests and the leak check). */
  get connections(): number {
    return this.#conns.size;
  }

  /** A URL for a validated request; throws ResourceExhausted at 1000 outstanding tokens. */
  url(req: CachedRequest): string {
    return `${this.baseUrl}/${req.kind}/${this.tokens.insert(req)}`;
  }

  /** Stops listening and drops every open session. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#accepting;
    for (const c of this.#conns) closeQuietly(c);
    // Sessions end once their connection is gone; a backend call that ignores that must not hold
    // up the daemon's shutdown (the steps after this one stop containers and unmount).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<string>((r) => (timer = setTimeout(() => r("late"), 3000)));
    const done = Promise.allSettled([...this.#handlers]).then(() => "done");
    if (await Promise.race([done, late]) === "late") {
      this.#o.log.warn("streaming sessions still running at shutdown", {
        sessions: this.#handlers.size,
      });
    }
    clearTimeout(timer);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      const h = this.#serve(conn).finally(() => this.#handlers.delete(h));
      this.#handlers.add(h);
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    this.#conns.add(conn);
    const idle = new IdleTimer(
      this.#o.idleTimeoutMs || DEFAULT_IDLE_TIMEOUT_MS,
      () => closeQuietly(conn),
    );
    try {
      await this.#session(conn, idle);
      this.#o.log.debug("streaming connection closed");
    } catch (err) {
      this.#o.log.debug("streaming connection ended", { error: errorMessage(err) });
    } finally {
      idle.stop();
      this.#conns.delete(conn);
      closeQuietly(conn);
    }
  }

  async #session(conn: Deno.Conn, idle: IdleTimer): Promise<void> {
    const reader = conn.readable.getReader();
    const headTimer = setTimeout(() => closeQuietly(conn), this.#o.headTimeoutMs ?? 10_000);
    let got: Awaited<ReturnType<typeof readHead>>;
    try {
      got = await readHead(reader);
    } catch (err) {
      if (err instanceof HttpHeadError) {
        const raw = tracked(conn, reader, new Uint8Array(0), idle);
        await respond(raw, err.status, { body: err.message + "\n" });
      }
      throw err;
    } finally {
      clearTimeout(headTimer);
    }
    if (!got) return;
    const duplex = tracked(conn, reader, got.rest, idle);
    if (this.#conns.size > (this.#o.maxConnections ?? 1024)) {
      await respond(duplex, 503, { body: "too many streaming sessions\n" });
      return;
    }
    await this.#route(got.head, duplex, idle);
  }

  async #route(head: RequestHead, conn: Duplex, idle: IdleTimer): Promise<void> {
    const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]{1,64})(?:\?.*)?$/.exec(head.target);
    if (!m) return await respond(conn, 404, { body: "404 page not found\n" });
    if (head.method !== "GET" && head.method !== "POST") {
      return await respond(conn, 405, { body: "405: Method Not Allowed\n" });
    }
    const req = this.tokens.consume(m[2]);
    if (!req || req.kind !== m[1]) {
      return await respond(conn, 404, { body: "404 page not found\n" });
    }
    const { backend, newSession } = this.#o;
    const creationTimeoutMs = this.#o.creationTimeoutMs ?? 30_000;
    const common = { head, conn, backend, newSession, creationTimeoutMs };
    const ws = isWebSocketRequest(head);
    this.#o.log.debug("streaming session", {
      kind: req.kind,
      transport: ws ? "websocket" : "spdy",
    });
    if (req.kind === "portforward") {
      if (ws) await servePortForwardWebSocket(req.podId, { ...common, ports: req.ports });
      else await servePortForwardSpdy(req.podId, common);
    } else if (ws) {
      await serveCommandWebSocket(req, { ...common, onActivity: () => idle.touch() });
    } else await serveCommandSpdy(req, common);
  }
}

/**
 * The connection after its head: the bytes that came with the head first, then the socket; every
 * chunk either way counts as activity for the idle timeout.
 */
function tracked(
  conn: Deno.Conn,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  rest: Uint8Array,
  idle: IdleTimer,
): Duplex {
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  const w = () => (writer ??= conn.writable.getWriter());
  return {
    readable: new ReadableStream<Uint8Array>({
      start(c) {
        if (rest.length) c.enqueue(rest);
      },
      async pull(c) {
        for (;;) {
          const { value, done } = await reader.read();
          idle.touch();
          if (done) return c.close();
          if (value.length) return c.enqueue(value);
        }
      },
      cancel: () => reader.cancel().catch(() => {}),
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        idle.touch();
        await w().write(chunk);
      },
      close: () => w().close().catch(() => {}),
      abort: () => closeQuietly(conn),
    }),
  };
}

/** Fires once nothing moved for `ms`; one timer re-armed for the time left, not one per chunk. */
export class IdleTimer {
  #last = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #ms: number;
  readonly #onIdle: () => void;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#arm(ms);
  }

  touch(): void {
    this.#last = performance.now();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const idleFor = performance.now() - this.#last;
      if (idleFor >= this.#ms) this.#onIdle();
      else this.#arm(this.#ms - idleFor);
    }, Math.max(1, Math.min(delay, 2 ** 31 - 1)));
  }
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch { /* closed already */ }
}
