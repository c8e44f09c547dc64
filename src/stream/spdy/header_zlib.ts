/**
 * SPDY/3 header block compression: one zlib stream per direction per session, primed with the
 * SPDY/3 dictionary, each block ended with Z_SYNC_FLUSH so the peer can decode it at once.
 *
 * Through FFI to the system libz rather than node:zlib. Measured under Deno 2.9.6: node:zlib's
 * inflate honours `dictionary`, but its deflate ignores it (deflateSync and createDeflate both emit
 * a 0x789c header without FDICT), the only synchronous entry point (`_processChunk`) closes the
 * handle after one block, and the streaming API is asynchronous with no cap on one block's
 * output. libz gives a synchronous, spec-conforming context that lives across blocks and lets
 * inflate stop the moment the output passes the bound (a zlib bomb costs at most the bound plus
 * one 16 KiB chunk). bin/crio grants --allow-ffi for this library's path only.
 */
import { SpdyProtocolError } from "../../errors.ts";
import { concatBytes } from "../../util/bytes.ts";
import { addressOf, systemLibPath } from "../../storage/libc.ts";
import { SPDY3_DICTIONARY } from "./dictionary.ts";
import { lazyLibrary } from "../../util/libc_io.ts";

/** Debian's zlib (package zlib1g, always installed). */
export function libzPath(): string {
  return systemLibPath("libz.so.1");
}

const SYMBOLS = {
  zlibVersion: { parameters: [], result: "pointer" },
  deflateInit2_: {
    parameters: ["buffer", "i32", "i32", "i32", "i32", "i32", "pointer", "i32"],
    result: "i32",
  },
  deflateSetDictionary: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  deflate: { parameters: ["buffer", "i32"], result: "i32" },
  deflateEnd: { parameters: ["buffer"], result: "i32" },
  inflateInit_: { parameters: ["buffer", "pointer", "i32"], result: "i32" },
  inflateSetDictionary: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  inflate: { parameters: ["buffer", "i32"], result: "i32" },
  inflateEnd: { parameters: ["buffer"], result: "i32" },
} as const;

const z = lazyLibrary(libzPath, SYMBOLS);

// z_stream on LP64 (x86_64, aarch64): the offsets of the fields this code touches.
const Z_STREAM_SIZE = 112;
const NEXT_IN = 0, AVAIL_IN = 8, NEXT_OUT = 24, AVAIL_OUT = 32;
const Z_OK = 0, Z_STREAM_END = 1, Z_NEED_DICT = 2, Z_BUF_ERROR = -5;
const Z_SYNC_FLUSH = 2, Z_BEST_COMPRESSION = 9, Z_DEFLATED = 8, Z_DEFAULT_STRATEGY = 0;
/**
 * A 2 KiB window (it still holds the 1423-byte dictionary) and a small hash: header blocks are a
 * few hundred bytes, and zlib's defaults would cost about 256 KiB per session instead of ~16 KiB.
 * Any inflater reads a smaller window than its own.
 */
const DEFLATE_WINDOW_BITS = 11, DEFLATE_MEM_LEVEL = 4;
const CHUNK = 16 * 1024;

/**
 * A copy in memory of its own: an ArrayBuffer's backing store is off the V8 heap, so the address
 * handed to zlib stays valid while other objects are allocated (small typed arrays created with
 * `new Uint8Array(n)` may live on the heap and move).
 */
function pinned(src: Uint8Array | number): Uint8Array<ArrayBuffer> {
  if (typeof src === "number") return new Uint8Array(new ArrayBuffer(src));
  const out = new Uint8Array(new ArrayBuffer(src.length));
  out.set(src);
  return out;
}

/**
 * One z_stream, pinned: zlib keeps a back pointer to it and checks it on every call.
 */
let live = 0;

/** zlib contexts not yet closed: each holds native memory, so tests check they all get freed. */
export function liveZlibContexts(): number {
  return live;
}

abstract class ZContext {
  protected readonly strm = pinned(Z_STREAM_SIZE);
  protected readonly view = new DataView(this.strm.buffer);
  private ended = false;

  protected setInput(input: Uint8Array<ArrayBuffer>): void {
    this.view.setBigUint64(NEXT_IN, addressOf(input), true);
    this.view.setUint32(AVAIL_IN, input.length, true);
  }

  protected setOutput(out: Uint8Array<ArrayBuffer>): void {
    this.view.setBigUint64(NEXT_OUT, addressOf(out), true);
    this.view.setUint32(AVAIL_OUT, out.length, true);
  }

  protected availIn(): number {
    return this.view.getUint32(AVAIL_IN, true);
  }

  protected availOut(): number {
    return this.view.getUint32(AVAIL_OUT, true);
  }

  /**
   * Feeds one block through `step` (one deflate or inflate call) in 16 KiB output chunks until
   * the input is used and the flush is complete; more than `maxBytes` of output throws.
   */
  protected pump(
    block: Uint8Array,
    f: { maxBytes: number; step: () => number },
  ): Uint8Array<ArrayBuffer> {
    const { maxBytes, step } = f;
    this.checkOpen();
    const input = pinned(block);
    this.setInput(input);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const out = pinned(CHUNK);
      this.setOutput(out);
      const rc = step();
      const n = CHUNK - this.availOut();
      total += n;
      if (total > maxBytes) {
        throw new SpdyProtocolError(`header block decompresses to more than ${maxBytes} bytes`);
      }
      parts.push(out.subarray(0, n));
      // Output space left over with all input used means the flush completed.
      if (rc === Z_STREAM_END || (this.availIn() === 0 && this.availOut() !== 0)) break;
      if (rc === Z_BUF_ERROR && n === 0) break;
    }
    return concatBytes(parts);
  }

  /** Frees zlib's state; idempotent, and every later use throws. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    live--;
    this.end();
  }

  protected checkOpen(): void {
    if (this.ended) throw new SpdyProtocolError("header compression context is closed");
  }

  protected abstract end(): void;
}

export class HeaderCompressor extends ZContext {
  constructor() {
    super();
    const version = z().zlibVersion();
    const rc = z().deflateInit2_(
      this.strm,
      Z_BEST_COMPRESSION,
      Z_DEFLATED,
      DEFLATE_WINDOW_BITS,
      DEFLATE_MEM_LEVEL,
      Z_DEFAULT_STRATEGY,
      version,
      Z_STREAM_SIZE,
    );
    if (rc !== Z_OK) throw new Error(`deflateInit failed: ${rc}`);
    const d = SPDY3_DICTIONARY;
    const rd = z().deflateSetDictionary(this.strm, d, d.length);
    if (rd !== Z_OK) {
      z().deflateEnd(this.strm);
      throw new Error(`deflateSetDictionary failed: ${rd}`);
    }
    live++;
  }

  /** Compresses one header block, flushed so that it decodes on its own given the history. */
  compress(block: Uint8Array): Uint8Array<ArrayBuffer> {
    return this.pump(block, {
      maxBytes: Infinity,
      step: () => {
        const rc = z().deflate(this.strm, Z_SYNC_FLUSH);
        if (rc !== Z_OK && rc !== Z_BUF_ERROR) throw new Error(`deflate failed: ${rc}`);
        return rc;
      },
    });
  }

  protected end(): void {
    z().deflateEnd(this.strm);
  }
}

export class HeaderDecompressor extends ZContext {
  constructor() {
    super();
    const rc = z().inflateInit_(this.strm, z().zlibVersion(), Z_STREAM_SIZE);
    if (rc !== Z_OK) throw new Error(`inflateInit failed: ${rc}`);
    live++;
  }

  /**
   * Decompresses one header block; more than `maxBytes` of output is a protocol error, as is
   * anything zlib rejects. After an error the context is out of step with the peer's, so the
   * caller must drop the session.
   */
  decompress(block: Uint8Array, maxBytes: number): Uint8Array<ArrayBuffer> {
    const out = this.pump(block, {
      maxBytes,
      step: () => {
        let rc = z().inflate(this.strm, Z_SYNC_FLUSH);
        if (rc === Z_NEED_DICT) {
          const d = SPDY3_DICTIONARY;
          if (z().inflateSetDictionary(this.strm, d, d.length) !== Z_OK) {
            throw new SpdyProtocolError("header block uses an unknown zlib dictionary");
          }
          rc = z().inflate(this.strm, Z_SYNC_FLUSH);
        }
        if (rc !== Z_OK && rc !== Z_BUF_ERROR && rc !== Z_STREAM_END) {
          throw new SpdyProtocolError(`header block does not decompress (zlib ${rc})`);
        }
        return rc;
      },
    });
    if (this.availIn() !== 0) {
      throw new SpdyProtocolError("header block has bytes after the end of the zlib stream");
    }
    return out;
  }

  protected end(): void {
    z().inflateEnd(this.strm);
  }
}
