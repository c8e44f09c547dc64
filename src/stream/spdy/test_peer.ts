/**
 * Test helpers: an in-memory duplex pipe, and a raw SPDY peer that writes arbitrary bytes and
 * decodes what the session answers (for malformed-input tests that a well-behaved session could
 * never produce).
 */
import { DEFAULT_FRAME_LIMITS, encode, type Frame } from "./frames.ts";
import { FrameParser } from "./frame_parser.ts";
import { HeaderCompressor, HeaderDecompressor } from "./header_zlib.ts";
import type { SpdyStream, SpdyTransport } from "./session.ts";
import { concatBytes } from "../../util/bytes.ts";

/** Two transports joined back to back; `wire` counts bytes each way. */
export function pipePair(): {
  a: SpdyTransport;
  b: SpdyTransport;
  wire: { ab: number; ba: number };
} {
  const wire = { ab: 0, ba: 0 };
  const counted = (key: "ab" | "ba") =>
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        wire[key] += chunk.length;
        c.enqueue(chunk);
      },
    });
  const ab = counted("ab");
  const ba = counted("ba");
  return {
    a: { readable: ba.readable, writable: ab.writable },
    b: { readable: ab.readable, writable: ba.writable },
    wire,
  };
}

export async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of r) parts.push(p);
  return concatBytes(parts);
}

/** Server behaviour for tests: echoes a stream's data back after its "streamtype" and ":". */
export function echo(stream: SpdyStream): boolean {
  (async () => {
    await stream.write(new TextEncoder().encode(`${stream.headers.get("streamtype")}:`));
    for await (const chunk of stream.readable) await stream.write(chunk);
    await stream.close();
  })().catch(() => {});
  return true;
}

export function u32s(...v: number[]): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  v.forEach((x, i) => new DataView(out.buffer).setUint32(i * 4, x >>> 0));
  return out;
}

/** A control frame with any version, flags and payload, checked or not. */
export function rawControl(
  type: number,
  payload: Uint8Array,
  opts: { flags?: number; version?: number } = {},
): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x8000 | (opts.version ?? 3));
  v.setUint16(2, type);
  v.setUint32(4, ((opts.flags ?? 0) << 24 | payload.length) >>> 0);
  out.set(payload, 8);
  return out;
}

/** A peer that speaks raw bytes to a session under test. */
export class RawPeer {
  readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly parser = new FrameParser(DEFAULT_FRAME_LIMITS, this.decompressor);
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly frames: Frame[] = [];

  constructor(transport: SpdyTransport) {
    this.writer = transport.writable.getWriter();
    this.reader = transport.readable.getReader();
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.writer.write(bytes);
  }

  synStream(
    streamId: number,
    headers: Record<string, string>,
    options: { fin?: boolean } = {},
  ): Promise<void> {
    const h = Object.entries(headers);
    return this.write(encode.synStream(this.compressor, { streamId, headers: h, ...options }));
  }

  /** Reads frames until one matches (returned) or the session closes the pipe (undefined). */
  async until(match: (f: Frame) => boolean): Promise<Frame | undefined> {
    for (;;) {
      for (let f = this.parser.next(); f; f = this.parser.next()) {
        this.frames.push(f);
        if (match(f)) return f;
      }
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.parser.push(value);
    }
  }

  /** Reads to the end of the pipe. */
  async drain(): Promise<Frame[]> {
    await this.until(() => false);
    return this.frames;
  }

  async close(): Promise<void> {
    await this.writer.close().catch(() => {});
    await this.reader.cancel().catch(() => {});
    this.compressor.close();
    this.decompressor.close();
  }
}
