/**
 * SPDY/3.1 frame codec: frame types, header blocks and encoders. The incremental parser is in
 * frame_parser.ts. Every length and count is checked before it is used; a malformed header block
 * throws SpdyProtocolError.
 */
import { SpdyProtocolError } from "../../errors.ts";
import type { HeaderCompressor } from "./header_zlib.ts";

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

export const Settings = { MAX_CONCURRENT_STREAMS: 4, INITIAL_WINDOW_SIZE: 7 } as const;

export type Headers = Map<string, string>;
export interface SettingEntry {
  flags: number;
  id: number;
  value: number;
}

export type Frame =
  | { type: "data"; streamId: number; fin: boolean; data: Uint8Array }
  | {
    type: "syn_stream";
    streamId: number;
    associatedId: number;
    priority: number;
    fin: boolean;
    unidirectional: boolean;
    headers: Headers;
  }
  | { type: "syn_reply" | "headers"; streamId: number; fin: boolean; headers: Headers }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "settings"; clear: boolean; entries: SettingEntry[] }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "window_update"; streamId: number; delta: number };

export interface FrameLimits {
  /** Largest control frame payload (DATA frames are streamed, not bounded by this). */
  maxFrameBytes: number;
  /** Largest decompressed header block. */
  maxHeaderBlockBytes: number;
  maxHeaders: number;
  maxSettings: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxFrameBytes: 1 << 20,
  maxHeaderBlockBytes: 256 * 1024,
  maxHeaders: 256,
  maxSettings: 32,
};

const MAX_LENGTH = 0xffffff;
const ID_MASK = 0x7fffffff;

function fail(message: string): never {
  throw new SpdyProtocolError(message);
}

/** Decodes a decompressed header block: count, then length-prefixed names and values. */
export function decodeHeaderBlock(block: Uint8Array, limits: FrameLimits): Headers {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let at = 0;
  const u32 = (what: string): number => {
    if (at + 4 > block.length) fail(`header block truncated in ${what}`);
    at += 4;
    return view.getUint32(at - 4);
  };
  const bytes = (n: number, what: string): Uint8Array => {
    if (n > block.length - at) fail(`header ${what} length ${n} exceeds the block`);
    at += n;
    return block.subarray(at - n, at);
  };
  const count = u32("count");
  if (count > limits.maxHeaders) {
    fail(`header block has ${count} headers (max ${limits.maxHeaders})`);
  }
  const headers: Headers = new Map();
  const text = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < count; i++) {
    const nameBytes = bytes(u32("name length"), "name");
    if (nameBytes.length === 0) fail("empty header name");
    for (const b of nameBytes) {
      if (b === 0 || (b >= 0x41 && b <= 0x5a) || b < 0x20 || b === 0x7f) {
        fail("header name is not lower-case printable text");
      }
    }
    const name = decode(text, nameBytes);
    const value = decode(text, bytes(u32("value length"), "value"));
    if (headers.has(name)) fail(`duplicate header ${name}`);
    headers.set(name, value);
  }
  if (at !== block.length) fail("bytes after the header block");
  return headers;
}

function decode(text: TextDecoder, b: Uint8Array): string {
  try {
    return text.decode(b);
  } catch {
    return fail("header is not UTF-8");
  }
}

export function encodeHeaderBlock(headers: Iterable<[string, string]>): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let count = 0;
  for (const [name, value] of headers) {
    const n = enc.encode(name.toLowerCase());
    if (n.length === 0 || n.includes(0)) throw new RangeError(`bad header name ${name}`);
    parts.push(n, enc.encode(value));
    count++;
  }
  const out = new Uint8Array(4 + parts.reduce((s, p) => s + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, count);
  let at = 4;
  for (const p of parts) {
    view.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

function controlFrame(
  type: number,
  f: { payload: Uint8Array; flags?: number },
): Uint8Array<ArrayBuffer> {
  const { payload, flags = 0 } = f;
  if (payload.length > MAX_LENGTH) throw new RangeError("control frame too large");
  const out = new Uint8Array(8 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0x8000 | SPDY_VERSION);
  view.setUint16(2, type);
  view.setUint32(4, ((flags & 0xff) << 24 | payload.length) >>> 0);
  out.set(payload, 8);
  return out;
}

function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0));
  return out;
}

function withBlock(prefix: Uint8Array, block: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + block.length);
  out.set(prefix);
  out.set(block, prefix.length);
  return out;
}

/** Frame encoders. Header frames go through the session's one compressor, in send order. */
export const encode = {
  data(streamId: number, data: Uint8Array, f: { fin?: boolean } = {}): Uint8Array<ArrayBuffer> {
    const fin = f.fin ?? false;
    if (data.length > MAX_LENGTH) throw new RangeError("DATA frame too large");
    const out = new Uint8Array(8 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, streamId & ID_MASK);
    view.setUint32(4, ((fin ? FLAG_FIN : 0) << 24 | data.length) >>> 0);
    out.set(data, 8);
    return out;
  },
  synStream(
    z: HeaderCompressor,
    f: { streamId: number; headers: Iterable<[string, string]>; fin?: boolean; priority?: number },
  ): Uint8Array<ArrayBuffer> {
    const prefix = new Uint8Array(10);
    prefix.set(words(f.streamId & ID_MASK, 0));
    prefix[8] = ((f.priority ?? 0) & 7) << 5;
    const block = z.compress(encodeHeaderBlock(f.headers));
    return controlFrame(FrameType.SYN_STREAM, {
      flags: f.fin ? FLAG_FIN : 0,
      payload: withBlock(prefix, block),
    });
  },
  synReply(
    z: HeaderCompressor,
    f: { streamId: number; headers: Iterable<[string, string]>; fin?: boolean },
  ): Uint8Array<ArrayBuffer> {
    const block = z.compress(encodeHeaderBlock(f.headers));
    const payload = withBlock(words(f.streamId & ID_MASK), block);
    return controlFrame(FrameType.SYN_REPLY, { flags: f.fin ? FLAG_FIN : 0, payload });
  },
  headers(
    z: HeaderCompressor,
    f: { streamId: number; headers: Iterable<[string, string]>; fin?: boolean },
  ): Uint8Array<ArrayBuffer> {
    const block = z.compress(encodeHeaderBlock(f.headers));
    const payload = withBlock(words(f.streamId & ID_MASK), block);
    return controlFrame(FrameType.HEADERS, { flags: f.fin ? FLAG_FIN : 0, payload });
  },
  rstStream(streamId: number, status: number): Uint8Array<ArrayBuffer> {
    return controlFrame(FrameType.RST_STREAM, { payload: words(streamId & ID_MASK, status) });
  },
  settings(entries: SettingEntry[], clear = false): Uint8Array<ArrayBuffer> {
    const flat = entries.flatMap((
      e,
    ) => [((e.flags & 0xff) << 24 | e.id & 0xffffff) >>> 0, e.value]);
    return controlFrame(FrameType.SETTINGS, {
      flags: clear ? 1 : 0,
      payload: words(entries.length, ...flat),
    });
  },
  ping(id: number): Uint8Array<ArrayBuffer> {
    return controlFrame(FrameType.PING, { payload: words(id) });
  },
  goaway(lastGoodStreamId: number, status: number): Uint8Array<ArrayBuffer> {
    return controlFrame(FrameType.GOAWAY, { payload: words(lastGoodStreamId & ID_MASK, status) });
  },
  windowUpdate(streamId: number, delta: number): Uint8Array<ArrayBuffer> {
    return controlFrame(FrameType.WINDOW_UPDATE, {
      payload: words(streamId & ID_MASK, delta & ID_MASK),
    });
  },
};
