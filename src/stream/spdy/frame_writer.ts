/**
 * The session's one writer: frames leave in the order they were queued (header blocks share one
 * compression context, so order is part of correctness), and a broken transport is reported once.
 */
import { SpdyProtocolError } from "../../errors.ts";

export class FrameWriter {
  private chain: Promise<void> = Promise.resolve();
  private aborted = false;

  constructor(
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly onBroken: () => void,
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
      this.onBroken();
    });
    return p;
  }

  /** For frames nobody waits on (replies, window updates, resets). */
  sendQuiet(bytes: Uint8Array): void {
    this.send(bytes).catch(() => {});
  }

  /** Drops queued frames and errors the transport; also rejects a write the peer never reads. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.writer.abort().catch(() => {});
  }

  /**
   * Flushes and closes the transport. After an abort, a write the peer never reads stays pending
   * until the caller drops the connection (a WritableStream waits for it before aborting), so
   * nothing here waits for it.
   */
  async finish(): Promise<void> {
    if (this.aborted) return;
    await this.chain;
    if (!this.aborted) await this.writer.close().catch(() => {});
  }
}
