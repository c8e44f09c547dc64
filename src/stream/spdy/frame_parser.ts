/**
 * Incremental SPDY/3.1 frame parser. Bytes are pushed as the transport delivers them; `next()`
 * returns whole control frames, and DATA frames in pieces as their bytes arrive (so a DATA
 * frame of the protocol's 16 MiB maximum is never held at once and needs no bound of its own).
 * Control frames are held whole, bounded by `maxFrameBytes`. Anything malformed throws
 * SpdyProtocolError; the parser is then unusable, and the session drops.
 */
import { SpdyProtocolError } from "../../errors.ts";
import {
  decodeHeaderBlock,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  type Frame,
  type FrameLimits,
  FrameType,
  SPDY_VERSION,
} from "./frames.ts";
import type { HeaderDecompressor } from "./header_zlib.ts";
import { ByteQueue } from "./byte_queue.ts";

const ID_MASK = 0x7fffffff;

function fail(message: string): never {
  throw new SpdyProtocolError(message);
}

interface DataInProgress {
  streamId: number;
  remaining: number;
  fin: boolean;
}

export class FrameParser {
  private readonly queue = new ByteQueue();
  private data: DataInProgress | undefined;
  private failed = false;

  constructor(
    private readonly limits: FrameLimits,
    private readonly zlib: HeaderDecompressor,
  ) {}

  /** Bytes pushed but not yet returned as frames. */
  get buffered(): number {
    return this.queue.length;
  }

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /** The next frame, or undefined until more bytes are pushed. */
  next(): Frame | undefined {
    if (this.failed) fail("parser used after a protocol error");
    try {
      return this.data ? this.dataPiece(this.data) : this.frame();
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private frame(): Frame | undefined {
    if (this.queue.length < 8) return undefined;
    const h = this.queue.peek(8);
    const head = new DataView(h.buffer, h.byteOffset, 8);
    const first = head.getUint32(0);
    const flags = head.getUint8(4);
    const length = head.getUint32(4) & 0xffffff;
    if ((first & 0x80000000) === 0) {
      const streamId = first & ID_MASK;
      if (streamId === 0) fail("DATA frame on stream 0");
      if (flags & ~FLAG_FIN) fail(`DATA frame with unknown flags ${flags}`);
      this.queue.take(8);
      this.data = { streamId, remaining: length, fin: (flags & FLAG_FIN) !== 0 };
      return this.dataPiece(this.data);
    }
    const version = (first >>> 16) & 0x7fff;
    if (version !== SPDY_VERSION) fail(`SPDY version ${version} (only 3 is spoken)`);
    if (length > this.limits.maxFrameBytes) {
      fail(`control frame of ${length} bytes (max ${this.limits.maxFrameBytes})`);
    }
    if (this.queue.length < 8 + length) return undefined;
    this.queue.take(8);
    const payload = this.queue.take(length);
    return this.control(first & 0xffff, { flags, payload }) ?? this.frame();
  }

  private dataPiece(d: DataInProgress): Frame | undefined {
    if (this.queue.length === 0 && d.remaining > 0) return undefined;
    // Copied: the piece outlives the transport's chunk once it is queued on a stream.
    const data = this.queue.takeSome(d.remaining).slice();
    d.remaining -= data.length;
    const done = d.remaining === 0;
    if (done) this.data = undefined;
    return { type: "data", streamId: d.streamId, fin: done && d.fin, data };
  }

  /** Undefined for frame types SPDY/3 says to ignore (unknown ones). */
  private control(type: number, f: { flags: number; payload: Uint8Array }): Frame | undefined {
    const { flags, payload: p } = f;
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const exact = (n: number, name: string) => {
      if (p.length !== n) fail(`${name} frame of ${p.length} bytes (must be ${n})`);
    };
    const atLeast = (n: number, name: string) => {
      if (p.length < n) fail(`${name} frame of ${p.length} bytes (at least ${n})`);
    };
    const noFlags = (name: string) => {
      if (flags !== 0) fail(`${name} frame with flags ${flags}`);
    };
    const fin = (flags & FLAG_FIN) !== 0;
    switch (type) {
      case FrameType.SYN_STREAM: {
        atLeast(10, "SYN_STREAM");
        if (flags & ~(FLAG_FIN | FLAG_UNIDIRECTIONAL)) fail(`SYN_STREAM flags ${flags}`);
        return {
          type: "syn_stream",
          streamId: streamIdOf(view, "SYN_STREAM"),
          associatedId: view.getUint32(4) & ID_MASK,
          priority: view.getUint8(8) >>> 5,
          fin,
          unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
          headers: this.headerBlock(p.subarray(10)),
        };
      }
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        const name = type === FrameType.SYN_REPLY ? "SYN_REPLY" : "HEADERS";
        atLeast(4, name);
        if (flags & ~FLAG_FIN) fail(`${name} flags ${flags}`);
        const streamId = streamIdOf(view, name);
        const kind = type === FrameType.SYN_REPLY ? "syn_reply" : "headers";
        return { type: kind, streamId, fin, headers: this.headerBlock(p.subarray(4)) };
      }
      case FrameType.RST_STREAM: {
        exact(8, "RST_STREAM");
        noFlags("RST_STREAM");
        const status = view.getUint32(4);
        if (status === 0) fail("RST_STREAM with status 0");
        return { type: "rst_stream", streamId: streamIdOf(view, "RST_STREAM"), status };
      }
      case FrameType.SETTINGS:
        return this.settings(flags, p);
      case FrameType.PING:
        exact(4, "PING");
        noFlags("PING");
        return { type: "ping", id: view.getUint32(0) };
      case FrameType.GOAWAY:
        exact(8, "GOAWAY");
        noFlags("GOAWAY");
        return {
          type: "goaway",
          lastGoodStreamId: view.getUint32(0) & ID_MASK,
          status: view.getUint32(4),
        };
      case FrameType.WINDOW_UPDATE: {
        exact(8, "WINDOW_UPDATE");
        noFlags("WINDOW_UPDATE");
        const delta = view.getUint32(4) & ID_MASK;
        if (delta === 0) fail("WINDOW_UPDATE with delta 0");
        return { type: "window_update", streamId: view.getUint32(0) & ID_MASK, delta };
      }
      default:
        return undefined;
    }
  }

  private settings(flags: number, p: Uint8Array): Frame {
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    if (p.length < 4) fail("SETTINGS frame without a count");
    if (flags & ~1) fail(`SETTINGS flags ${flags}`);
    const count = view.getUint32(0);
    if (count > this.limits.maxSettings) {
      fail(`SETTINGS with ${count} entries (max ${this.limits.maxSettings})`);
    }
    if (p.length !== 4 + count * 8) fail(`SETTINGS of ${p.length} bytes for ${count} entries`);
    const entries = [];
    for (let i = 0; i < count; i++) {
      const word = view.getUint32(4 + i * 8);
      entries.push({ flags: word >>> 24, id: word & 0xffffff, value: view.getUint32(8 + i * 8) });
    }
    return { type: "settings", clear: (flags & 1) !== 0, entries };
  }

  private headerBlock(compressed: Uint8Array) {
    const block = this.zlib.decompress(compressed, this.limits.maxHeaderBlockBytes);
    return decodeHeaderBlock(block, this.limits);
  }
}

function streamIdOf(view: DataView, name: string): number {
  const id = view.getUint32(0) & ID_MASK;
  if (id === 0) fail(`${name} on stream 0`);
  return id;
}
