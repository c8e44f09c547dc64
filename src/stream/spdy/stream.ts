/**
 * One SPDY stream as the session sees it: a bounded receive queue read through a pull-based
 * ReadableStream (so the session knows exactly when bytes are consumed, for WINDOW_UPDATE and for
 * backpressure), and a write side serialised per stream so DATA frames leave in call order.
 */
import { SpdyProtocolError } from "../../errors.ts";
import { RstStatus } from "./frames.ts";

/** Bookkeeping cost counted per queued piece (see `isFull`). */
const PIECE_OVERHEAD = 64;

export interface SpdyStream {
  readonly id: number;
  /** Header names lower-cased, from the peer's SYN_STREAM. */
  readonly headers: ReadonlyMap<string, string>;
  /** Data from the peer; closes on the peer's FIN, errors on RST_STREAM or session loss. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Sends data (split into frames, honouring the peer's window once it shows it keeps one). */
  write(data: Uint8Array): Promise<void>;
  /** Half-closes our side (empty DATA frame with FLAG_FIN). Idempotent. */
  close(): Promise<void>;
  /** RST_STREAM (CANCEL unless given). */
  reset(status?: number): void;
  /** Resolves when both sides are closed or the stream was reset. */
  readonly done: Promise<void>;
}

/** What a stream needs from its session. */
export interface StreamHost {
  readonly maxBufferedBytes: number;
  sendData(stream: SessionStream, f: { data: Uint8Array; fin: boolean }): Promise<void>;
  sendReset(stream: SessionStream, status: number): void;
  consumed(stream: SessionStream, bytes: number): void;
  streamDone(stream: SessionStream): void;
}

export class SessionStream implements SpdyStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly done: Promise<void>;
  /** Bytes we may still send before the peer's next WINDOW_UPDATE (when it keeps windows). */
  sendWindow: number;
  /** Bytes the reader consumed and the peer was not yet told about. */
  unacked = 0;
  remoteClosed = false;
  private localClosed = false;
  private finSent = false;
  private error: Error | undefined;
  private ended = false;
  private readCanceled = false;
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queued = 0;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private wakeReader: (() => void) | undefined;
  private drainWaiters: (() => void)[] = [];
  private writeChain: Promise<void>;
  private resolveDone!: () => void;
  private resolveOpened!: () => void;
  private rejectOpened!: (e: Error) => void;
  /** Writes wait for this: our SYN_REPLY was queued, or the peer's SYN_REPLY arrived. */
  readonly opened: Promise<void>;

  readonly id: number;
  readonly headers: ReadonlyMap<string, string>;

  constructor(
    private readonly host: StreamHost,
    options: {
      id: number;
      headers: ReadonlyMap<string, string>;
      sendWindow: number;
      remoteClosed?: boolean;
      localClosed?: boolean;
    },
  ) {
    this.id = options.id;
    this.headers = options.headers;
    this.sendWindow = options.sendWindow;
    this.remoteClosed = options.remoteClosed ?? false;
    this.localClosed = this.finSent = options.localClosed ?? false;
    this.done = new Promise((r) => this.resolveDone = r);
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    // A write waiting on a stream that never opens must not surface as an unhandled rejection.
    this.opened.catch(() => {});
    this.writeChain = this.opened;
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      pull: (c) => this.pull(c),
      cancel: () => this.cancelRead(),
    }, { highWaterMark: 0 });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * True while the reader is behind by the per-stream bound: the session stops reading. Each
   * queued piece counts some bytes of overhead too, so a flood of 1-byte DATA frames is bounded
   * in pieces as well as in bytes.
   */
  get isFull(): boolean {
    if (this.ended || this.readCanceled) return false;
    const pieces = this.queue.length - this.queueHead;
    return this.queued + pieces * PIECE_OVERHEAD >= this.host.maxBufferedBytes;
  }

  markOpened(): void {
    this.resolveOpened();
    // A stream opened with FIN both ways (unidirectional) is done at once.
    this.checkDone();
  }

  whenDrained(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  /** Data from the peer. The session has checked that the stream is still open for it. */
  receive(data: Uint8Array, fin: boolean): void {
    if (this.ended && this.error) return;
    if (data.length > 0) {
      if (this.readCanceled) {
        this.host.consumed(this, data.length);
      } else {
        this.queue.push(data);
        this.queued += data.length;
      }
    }
    if (fin) this.remoteClosed = true;
    this.wake();
    if (fin) this.checkDone();
  }

  /** The peer half-closed by HEADERS or SYN_REPLY with FLAG_FIN. */
  remoteFin(): void {
    this.receive(new Uint8Array(0), true);
  }

  write(data: Uint8Array): Promise<void> {
    const p = this.writeChain.then(() => {
      if (this.error) throw this.error;
      if (this.localClosed) throw new SpdyProtocolError(`stream ${this.id} is closed for writing`);
      if (data.length === 0) return;
      return this.host.sendData(this, { data, fin: false });
    });
    this.writeChain = p.catch(() => {});
    return p;
  }

  close(): Promise<void> {
    if (this.localClosed || this.ended) return this.writeChain.catch(() => {});
    this.localClosed = true;
    const p = this.writeChain.then(async () => {
      if (this.error) return;
      await this.host.sendData(this, { data: new Uint8Array(0), fin: true });
      this.finSent = true;
      this.checkDone();
    }).catch(() => {});
    this.writeChain = p;
    return p;
  }

  reset(status: number = RstStatus.CANCEL): void {
    if (this.ended) return;
    this.host.sendReset(this, status);
    this.fail(new SpdyProtocolError(`stream ${this.id} reset`, { streamId: this.id, status }));
  }

  /**
   * Ends the stream at once (RST_STREAM either way, or the session is gone). Data the peer
   * finished sending stays readable; otherwise the readable errors.
   */
  fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    this.localClosed = true;
    this.rejectOpened(err);
    if (!this.remoteClosed) {
      this.queue = [];
      this.queueHead = 0;
      this.queued = 0;
      try {
        this.controller.error(err);
      } catch { /* already closed */ }
    }
    this.wake();
    this.finish();
  }

  private checkDone(): void {
    if (this.ended || !this.remoteClosed || !this.finSent) return;
    this.ended = true;
    this.finish();
  }

  private finish(): void {
    for (const w of this.drainWaiters.splice(0)) w();
    this.resolveDone();
    this.host.streamDone(this);
  }

  private wake(): void {
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }

  private async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const chunk = this.shift();
      if (chunk) {
        this.queued -= chunk.length;
        c.enqueue(chunk);
        if (!this.remoteClosed) this.host.consumed(this, chunk.length);
        if (!this.isFull) { for (const w of this.drainWaiters.splice(0)) w(); }
        return;
      }
      if (this.remoteClosed) return c.close();
      if (this.error) return;
      await new Promise<void>((r) => this.wakeReader = r);
    }
  }

  private shift(): Uint8Array | undefined {
    if (this.queueHead === this.queue.length) return undefined;
    const chunk = this.queue[this.queueHead++];
    // Drop consumed slots now and then: shift() per piece would be quadratic.
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return chunk;
  }

  private cancelRead(): void {
    this.readCanceled = true;
    if (this.queued > 0 && !this.remoteClosed) this.host.consumed(this, this.queued);
    this.queue = [];
    this.queueHead = 0;
    this.queued = 0;
    this.wake();
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
