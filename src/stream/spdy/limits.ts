/** The bounds of one SPDY session; every one has a safe default. */
import { DEFAULT_FRAME_LIMITS } from "./frames.ts";

export interface SpdyLimits {
  /** Largest control frame payload. DATA frames are streamed in pieces and need no bound. */
  maxFrameBytes: number;
  /** Largest decompressed header block (zlib bomb bound). */
  maxHeaderBlockBytes: number;
  maxHeaders: number;
  /** Most entries in one SETTINGS frame. */
  maxSettings: number;
  /** Most open streams at once; more SYN_STREAMs are refused (REFUSED_STREAM). */
  maxStreams: number;
  /** Unread bytes per stream before the session stops reading the transport. */
  maxBufferedBytesPerStream: number;
  /** The receive window we advertise, per stream and for the session. */
  initialWindowBytes: number;
  /** Largest DATA frame we send. */
  maxDataFrameBytes: number;
  /**
   * Control frames we owe the peer (PING echoes, resets, window updates) not yet taken by the
   * transport; a peer flooding us without reading loses its session past this.
   */
  maxQueuedControlBytes: number;
}

export const DEFAULT_LIMITS: SpdyLimits = {
  ...DEFAULT_FRAME_LIMITS,
  maxStreams: 128,
  maxBufferedBytesPerStream: 256 * 1024,
  initialWindowBytes: 64 * 1024,
  maxDataFrameBytes: 32 * 1024,
  maxQueuedControlBytes: 256 * 1024,
};
