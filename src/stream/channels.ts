/**
 * The Kubernetes channel protocol over one WebSocket (k8s.io/streaming wsstream): every message
 * starts with a channel number (binary protocols) or its ASCII digit followed by base64 (the
 * base64.* protocols). v5.channel.k8s.io adds the close signal: [255, channel] half-closes what the
 * client writes on that channel. Channels the client writes are ReadableStreams here, bounded by
 * `maxBuffered` bytes each: past that the reader stops taking messages from the socket until the
 * consumer catches up, so a client cannot grow the daemon's memory.
 */
import { CLOSE, type WsConn, WsProtocolError } from "./websocket.ts";

export const STREAM_CLOSE = 255;

export interface ChannelOptions {
  base64: boolean;
  closeSignal: boolean;
  /** Channels the client may write (stdin, resize, port data). */
  readable: readonly number[];
  maxBuffered?: number;
}

export class ChannelConn {
  readonly ws: WsConn;
  readonly #o: ChannelOptions;
  readonly #in = new Map<number, InChannel>();

  constructor(ws: WsConn, o: ChannelOptions) {
    this.ws = ws;
    this.#o = o;
    for (const ch of o.readable) this.#in.set(ch, new InChannel(o.maxBuffered ?? 256 * 1024));
  }

  /** What the client writes on a channel; an empty stream for one it may not write. */
  readable(ch: number): ReadableStream<Uint8Array> {
    const c = this.#in.get(ch);
    if (!c) throw new Error(`channel ${ch} is not readable`);
    return c.stream;
  }

  write(ch: number, data: Uint8Array): Promise<void> {
    if (!this.#o.base64) {
      const frame = new Uint8Array(data.length + 1);
      frame[0] = ch;
      frame.set(data, 1);
      return this.ws.send(true, frame);
    }
    const text = String.fromCharCode(48 + ch) + toBase64(data);
    return this.ws.send(false, new TextEncoder().encode(text));
  }

  /** A WritableStream onto a channel; closing it sends nothing (channels have no half-close). */
  writable(ch: number): WritableStream<Uint8Array> {
    return new WritableStream({ write: (chunk) => this.write(ch, chunk) });
  }

  /**
   * Reads messages until the client closes or breaks the protocol, feeding the readable channels.
   * Resolves when the connection is done; every readable channel is then closed.
   */
  async run(): Promise<void> {
    try {
      for (;;) {
        const m = await this.ws.next();
        if (!m) break;
        if (m.data.length === 0) continue;
        if (this.#o.closeSignal && m.data[0] === STREAM_CLOSE) {
          if (m.data.length !== 2) throw new WsProtocolError(CLOSE.protocol, "bad close signal");
          this.#in.get(m.data[1])?.end();
          continue;
        }
        const ch = this.#o.base64 ? m.data[0] - 48 : m.data[0];
        const target = this.#in.get(ch);
        // As wsstream: data for a channel the client may not write is dropped.
        if (!target) continue;
        const body = this.#o.base64 ? fromBase64(m.data.subarray(1)) : m.data.subarray(1);
        await target.push(body);
      }
    } catch (err) {
      const code = err instanceof WsProtocolError ? err.code : CLOSE.protocol;
      await this.ws.close(code, err instanceof Error ? err.message : "").catch(() => {});
      throw err;
    } finally {
      for (const c of this.#in.values()) c.end();
    }
  }
}

/** A readable channel with a byte bound; push waits while the consumer is behind. */
class InChannel {
  readonly stream: ReadableStream<Uint8Array>;
  #ctl!: ReadableStreamDefaultController<Uint8Array>;
  #ended = false;
  #space?: PromiseWithResolvers<void>;

  constructor(maxBuffered: number) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => void (this.#ctl = c),
      pull: () => this.#space?.resolve(),
      cancel: () => {
        this.#ended = true;
        this.#space?.resolve();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: maxBuffered }));
  }

  async push(data: Uint8Array): Promise<void> {
    if (this.#ended) return;
    this.#ctl.enqueue(data);
    while (!this.#ended && (this.#ctl.desiredSize ?? 0) <= 0) {
      this.#space = Promise.withResolvers();
      await this.#space.promise;
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#space?.resolve();
    try {
      this.#ctl.close();
    } catch { /* already closed or cancelled */ }
  }
}

function toBase64(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: Uint8Array): Uint8Array {
  try {
    const bin = atob(new TextDecoder().decode(text));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    throw new WsProtocolError(CLOSE.invalidData, "bad base64 in channel message");
  }
}
