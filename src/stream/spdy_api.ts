/**
 * The shape of the SPDY/3.1 session (src/stream/spdy/) that the protocol handlers use, so that
 * they can be tested with a fake session and the server picks the real one in one place.
 */
import type { Duplex } from "./backend.ts";
import type { SpdyStream } from "./spdy/stream.ts";

/** The session's stream (src/stream/spdy/stream.ts). */
export type SpdyStreamLike = SpdyStream;

export interface SpdySessionLike {
  readonly closed: Promise<void>;
  close(o?: { now?: boolean }): Promise<void>;
}

export type SpdySessionFactory = (
  t: Duplex,
  o: { onStream(stream: SpdyStreamLike): boolean | void },
) => SpdySessionLike;
