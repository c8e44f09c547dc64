/**
 * The session's one writer: frames leave in the order they were queued (header blocks share one
 * compression context, so order is part of correctness), and a broken transport is reported once.
 */
import { SpdyProtocolError } from "../../errors.ts";

export class FrameWriter {
  private chain: Promise<void> = Promise.resolve();
  private aborted = false;
  private quietQueued = 0;
  private signalAbort!: () => void;
  private readonly abortSignal = new Promise<void>((r) => this.signalAbort = r);

  /**
   * `maxQuietBytes` bounds frames sent on the peer's behalf (PING echoes, resets, window
   * updates) that the transport has not taken yet: a peer that floods PINGs or SYN_STREAMs
   * without reading would otherwise grow this queue without end. Past it, `onBroken` runs.
   */
  constructor(
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly options: { maxQuietBytes: number; onBroken: (why: string) => void },
  ) {}

  get isAborted(): boolean {
    return this.aborted;
  }

  /** Resolves once the transport took the bytes (its backpressure reaches the caller). */
  send(bytes: Uint8Array): Promise<void> {
    if (this.aborted) return Promise.reject(new SpdyProtocolError("session closed"));
    const p = this.chain.then(() => {
      if (this.aborted) throw new SpdyProtocolError("session closed");
      return this.writer.write(bytes);
    });
    this.chain = p.catch(() => {
      // The transport is broken: nothing more can be said to this peer.
      this.options.onBroken("connection lost");
    });
    return p;
  }

  /** For frames nobody waits on (replies, window updates, resets). */
  sendQuiet(bytes: Uint8Array): void {
    if (this.quietQueued + bytes.length > this.options.maxQuietBytes) {
      this.options.onBroken("the peer does not read the replies it asks for");
      return;
    }
    this.quietQueued += bytes.length;
    this.send(bytes).catch(() => {}).finally(() => this.quietQueued -= bytes.length);
  }

  /** Drops queued frames and errors the transport; also rejects a write the peer never reads. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.signalAbort();
    this.writer.abort().catch(() => {});
  }

  /**
   * Flushes and closes the transport; an abort (even one during the flush) ends the wait. After
   * an abort, a write the peer never reads stays pending until the caller drops the connection
   * (a WritableStream waits for it before aborting), so nothing here waits for it.
   */
  async finish(): Promise<void> {
    await Promise.race([this.chain, this.abortSignal]);
    if (this.aborted) return;
    await Promise.race([this.writer.close().catch(() => {}), this.abortSignal]);
  }
}
