/**
 * Port-forward over SPDY/3.1 (`portforward.k8s.io`, kubelet's portforward/httpstream.go): each
 * forwarded connection is a pair of client streams, streamType data and error, with the same port
 * and requestID headers. A complete pair is handed to the backend (which connects to localhost:port
 * inside the pod); a failure is written on the error stream. A half pair that waits longer than the
 * creation timeout gets an error and is dropped; at most `maxPending` half pairs are kept.
 */
import type { Duplex, StreamBackend } from "./backend.ts";
import { errorMessage } from "../errors.ts";
import type { SpdyStreamLike } from "./spdy_api.ts";
import { spdyHandshake, type SpdyServeOptions } from "./remotecommand_spdy.ts";

export const SPDY_PORTFORWARD_PROTOCOLS = ["portforward.k8s.io"];
const MAX_PENDING = 128;

interface Pair {
  data?: SpdyStreamLike;
  error?: SpdyStreamLike;
  timer?: ReturnType<typeof setTimeout>;
}

export async function servePortForwardSpdy(
  podId: string,
  o: SpdyServeOptions,
): Promise<void> {
  const protocol = await spdyHandshake(o.head, o.conn, SPDY_PORTFORWARD_PROTOCOLS);
  if (protocol) await runPortForwardSession(podId, o);
}

/** The SPDY session after the upgrade; also used for SPDY tunnelled in a WebSocket. */
export async function runPortForwardSession(
  podId: string,
  o: Pick<SpdyServeOptions, "conn" | "backend" | "newSession" | "creationTimeoutMs">,
): Promise<void> {
  const running = new Set<Promise<void>>();
  const aborted = new AbortController();
  const pairs = new PairTable(o.creationTimeoutMs, (pair) => {
    const p = forwardPair(podId, pair, { backend: o.backend, signal: aborted.signal });
    running.add(p);
    void p.finally(() => running.delete(p));
  });
  const session = o.newSession(o.conn, { onStream: (s) => pairs.add(s) });
  await session.closed.catch(() => {});
  aborted.abort();
  pairs.clear();
  await Promise.allSettled([...running]);
}

/** Half pairs waiting for their other stream, keyed by requestID. */
class PairTable {
  readonly #pending = new Map<string, Pair>();
  constructor(
    readonly timeoutMs: number,
    readonly onComplete: (p: { data: SpdyStreamLike; error: SpdyStreamLike }) => void,
  ) {}

  /** Takes a new client stream; false refuses it. */
  add(s: SpdyStreamLike): boolean {
    const port = Number(s.headers.get("port") ?? "");
    const type = s.headers.get("streamtype");
    if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
    if (type !== "data" && type !== "error") return false;
    // As the kubelet: without a requestID, the pair is told apart by stream ids.
    const id = s.headers.get("requestid") || String(type === "error" ? s.id : s.id - 2);
    let pair = this.#pending.get(id);
    if (!pair) {
      if (this.#pending.size >= MAX_PENDING) return false;
      const fresh: Pair = {};
      fresh.timer = setTimeout(() => {
        this.#pending.delete(id);
        void failHalf(fresh, `timed out waiting for streams of request ${id}`);
      }, this.timeoutMs);
      this.#pending.set(id, fresh);
      pair = fresh;
    }
    if (pair[type]) {
      const msg = `error processing stream for request ${id}: ${type} stream already assigned`;
      void pair.error?.write(enc(msg)).catch(() => {});
      return false;
    }
    pair[type] = s;
    // Nothing is read from the error stream; whatever a client sends there is discarded.
    if (type === "error") void s.readable.cancel().catch(() => {});
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      this.#pending.delete(id);
      this.onComplete({ data: pair.data, error: pair.error });
    }
    return true;
  }

  clear(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}

async function forwardPair(
  podId: string,
  pair: { data: SpdyStreamLike; error: SpdyStreamLike },
  o: { backend: StreamBackend; signal: AbortSignal },
): Promise<void> {
  const port = Number(pair.data.headers.get("port"));
  const conn: Duplex = {
    readable: pair.data.readable,
    writable: new WritableStream({
      write: (chunk) => pair.data.write(chunk),
      close: () => pair.data.close(),
    }),
  };
  try {
    await o.backend.portForward(podId, { port, conn, signal: o.signal });
    await pair.data.close().catch(() => {});
    await pair.error.close().catch(() => {});
  } catch (err) {
    const msg = `error forwarding port ${port} to pod ${podId}, uid : ${errorMessage(err)}`;
    // The kubelet resets both; ending the error stream with FIN instead lets every client read
    // the whole message before it sees the data stream reset.
    await pair.error.write(enc(msg)).catch(() => {});
    await pair.error.close().catch(() => {});
    pair.data.reset();
  }
}

async function failHalf(pair: Pair, msg: string): Promise<void> {
  if (pair.error) await pair.error.write(enc(msg)).catch(() => {});
  pair.error?.reset();
  pair.data?.reset();
}

function enc(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
