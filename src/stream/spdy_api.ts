/**
 * The shape of the SPDY/3.1 session (src/stream/spdy/) that the protocol handlers use, so that
 * they can be tested with a fake session and the server picks the real one in one place.
 */
import type { Duplex } from "./backend.ts";

export interface SpdyStreamLike {
  readonly id: number;
  /** Lower-cased names. */
  readonly headers: ReadonlyMap<string, string>;
  readonly readable: ReadableStream<Uint8Array>;
  write(data: Uint8Array): Promise<void>;
  /** Half-close: FIN. */
  close(): Promise<void>;
  reset(status?: number): void;
  readonly done: Promise<void>;
}

export interface SpdySessionLike {
  readonly closed: Promise<void>;
  close(o?: { now?: boolean }): Promise<void>;
}

export type SpdySessionFactory = (
  t: Duplex,
  o: { onStream(stream: SpdyStreamLike): boolean | void },
) => SpdySessionLike;
