/**
 * A SPDY/3.1 session over a byte transport, as Kubernetes' exec, attach and port-forward clients
 * (k8s.io/client-go over moby/spdystream) speak it.
 *
 * What spdystream does, and so what this session must tolerate: it never sends SETTINGS or
 * WINDOW_UPDATE and ignores ours, it writes DATA frames as large as the caller's buffer, it waits
 * for SYN_REPLY before writing, it echoes PINGs of the other side's parity, and it ends the
 * connection after GOAWAY once its streams finish. Hence:
 * - Peer flow control is "auto": our send windows are counted from the start, but only enforced
 *   once the peer shows it keeps windows (a SETTINGS INITIAL_WINDOW_SIZE or any WINDOW_UPDATE).
 *   We always advertise our window and send WINDOW_UPDATEs as bytes are consumed (per stream)
 *   or received (session), which flow-controlled peers need and spdystream ignores.
 * - Incoming data is bounded per stream by pausing the transport read while a stream's reader is
 *   `maxBufferedBytesPerStream` behind, which is what spdystream itself does (its frame handler
 *   blocks on the stream's channel); resetting instead would break kubectl cp-style bulk stdin.
 * - A malformed frame, a bad stream id or a broken bound ends this session only: GOAWAY
 *   PROTOCOL_ERROR, every stream's readable errors, the transport closes. Nothing throws out.
 * No timers: pings and idle timeouts belong to the caller.
 *
 * Written here rather than on npm's spdy-transport (3.0.0, 2018, the only SPDY/3.1 library):
 * tried under Deno against tools/spdy_interop, it drops the connection at the first SYN_STREAM
 * (it wants HTTP's :method and :path headers; Kubernetes streams carry streamtype and port), and
 * it has none of the frame, header or buffering bounds above.
 */
import { errorMessage, SpdyProtocolError } from "../../errors.ts";
import { encode, type Frame, GoAwayStatus, RstStatus, Settings } from "./frames.ts";
import { FrameParser } from "./frame_parser.ts";
import { FrameWriter } from "./frame_writer.ts";
import { HeaderCompressor, HeaderDecompressor } from "./header_zlib.ts";
import { DEFAULT_WINDOW, SendWindows } from "./send_windows.ts";
import { SessionStream, type SpdyStream, type StreamHost } from "./stream.ts";
import { DEFAULT_LIMITS, type SpdyLimits } from "./limits.ts";

export type { SpdyStream } from "./stream.ts";
export { DEFAULT_LIMITS, type SpdyLimits } from "./limits.ts";
export { RstStatus } from "./frames.ts";

export interface SpdyTransport {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export interface SpdySessionOptions {
  limits?: Partial<SpdyLimits>;
  /** Each peer-initiated stream; return false to refuse it (RST_STREAM REFUSED_STREAM). */
  onStream(stream: SpdyStream): boolean | void;
  /** client role for tests and tools: odd/even ids swap. Default "server". */
  role?: "server" | "client";
}

const MAX_STREAM_ID = 0x7fffffff;

interface PendingOpen {
  stream: SessionStream;
  resolve: (s: SpdyStream) => void;
  reject: (e: Error) => void;
}

export class SpdySession {
  readonly closed: Promise<void>;
  private readonly limits: SpdyLimits;
  private readonly host: StreamHost;
  private readonly onStream: SpdySessionOptions["onStream"];
  private readonly streams = new Map<number, SessionStream>();
  private readonly pending = new Map<number, PendingOpen>();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly parser: FrameParser;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly out: FrameWriter;
  private readonly peerParity: number;
  private nextId: number;
  private nextPingId: number;
  private readonly pings = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private lastPeerId = 0;
  private sentGoAway = false;
  private peerGoneAway = false;
  private ended = false;
  private readonly windows = new SendWindows();
  private sessionUnacked = 0;
  /** Ends the read in flight, so a shutdown need not wait for the peer's next bytes. */
  private stopRead: (() => void) | undefined;

  constructor(transport: SpdyTransport, options: SpdySessionOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.onStream = options.onStream;
    const client = options.role === "client";
    this.nextId = this.nextPingId = client ? 1 : 2;
    this.peerParity = client ? 0 : 1;
    this.parser = new FrameParser(this.limits, this.decompressor);
    this.host = {
      maxBufferedBytes: this.limits.maxBufferedBytesPerStream,
      sendData: (s, f) => this.sendData(s, f),
      sendReset: (s, status) => this.sendReset(s, status),
      consumed: (s, bytes) => this.consumed(s, bytes),
      streamDone: (s) => this.streamDone(s),
    };
    this.reader = transport.readable.getReader();
    this.out = new FrameWriter(transport.writable.getWriter(), {
      maxQuietBytes: this.limits.maxQueuedControlBytes,
      onBroken: (why) => this.shutdown(new SpdyProtocolError(why), true),
    });
    const settings = [
      { flags: 0, id: Settings.MAX_CONCURRENT_STREAMS, value: this.limits.maxStreams },
      { flags: 0, id: Settings.INITIAL_WINDOW_SIZE, value: this.limits.initialWindowBytes },
    ];
    this.sendQuiet(encode.settings(settings));
    const extra = this.limits.initialWindowBytes - DEFAULT_WINDOW;
    if (extra > 0) this.sendQuiet(encode.windowUpdate(0, extra));
    this.closed = this.run();
  }

  openStream(headers: Record<string, string>, options?: { fin?: boolean }): Promise<SpdyStream> {
    if (this.ended || this.sentGoAway || this.peerGoneAway) {
      return Promise.reject(new SpdyProtocolError("session is closing"));
    }
    if (this.nextId > MAX_STREAM_ID || this.streams.size >= this.limits.maxStreams) {
      return Promise.reject(new SpdyProtocolError("no stream ids or slots left"));
    }
    const id = this.nextId;
    this.nextId += 2;
    const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const stream = new SessionStream(this.host, {
      id,
      headers: lower,
      sendWindow: this.windows.initial,
      localClosed: options?.fin,
    });
    this.streams.set(id, stream);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { stream, resolve, reject });
      this.sendQuiet(
        encode.synStream(this.compressor, { streamId: id, headers: lower, ...options }),
      );
    });
  }

  close(options?: { now?: boolean }): Promise<void> {
    this.goAway(GoAwayStatus.OK);
    // With now, also after a graceful close began: its flush may wait on a peer that never reads.
    if (options?.now || this.streams.size === 0) {
      this.shutdown(new SpdyProtocolError("session closed"), options?.now ?? false);
    }
    return this.closed;
  }

  /**
   * Sends a PING and resolves when the peer echoes it (a keepalive for the caller to schedule);
   * rejects if the session ends first.
   */
  ping(): Promise<void> {
    if (this.ended) return Promise.reject(new SpdyProtocolError("session closed"));
    const id = this.nextPingId;
    // Ids are 32 bits; after a wrap, start again from the first id of our parity.
    this.nextPingId = id + 2 > 0xffffffff ? 2 - (id & 1) : id + 2;
    return new Promise((resolve, reject) => {
      this.pings.set(id, { resolve, reject });
      this.sendQuiet(encode.ping(id));
    });
  }

  // --- what streams ask of the session ---

  private async sendData(s: SessionStream, f: { data: Uint8Array; fin: boolean }): Promise<void> {
    const { data, fin } = f;
    let off = 0;
    do {
      const want = Math.min(data.length - off, this.limits.maxDataFrameBytes);
      const n = await this.windows.take(s, { want, check: () => this.checkWritable(s) });
      const last = off + n === data.length;
      await this.send(encode.data(s.id, data.subarray(off, off + n), { fin: fin && last }));
      off += n;
    } while (off < data.length);
  }

  private sendReset(s: SessionStream, status: number): void {
    if (!this.ended) this.sendQuiet(encode.rstStream(s.id, status));
  }

  private consumed(s: SessionStream, bytes: number): void {
    if (this.ended || s.isEnded || s.remoteClosed) return;
    s.unacked += bytes;
    if (s.unacked >= this.limits.initialWindowBytes / 2) {
      this.sendQuiet(encode.windowUpdate(s.id, s.unacked));
      s.unacked = 0;
    }
  }

  private streamDone(s: SessionStream): void {
    this.streams.delete(s.id);
    this.windows.wake();
    if ((this.sentGoAway || this.peerGoneAway) && this.streams.size === 0 && !this.ended) {
      this.shutdown(new SpdyProtocolError("session closed"), false);
    }
  }

  // --- the read loop ---

  private async run(): Promise<void> {
    let reason: Error = new SpdyProtocolError("connection closed by peer");
    try {
      await this.readFrames();
    } catch (err) {
      if (err instanceof SpdyProtocolError) {
        reason = err;
        if (!this.ended) this.goAway(GoAwayStatus.PROTOCOL_ERROR);
      } else {
        reason = new SpdyProtocolError(`connection lost: ${errorMessage(err)}`);
      }
    }
    this.shutdown(reason, false);
    await this.finishTransport();
  }

  private async readFrames(): Promise<void> {
    while (!this.ended) {
      // A fresh promise per read: racing every read against one long-lived "stopped" promise
      // would pile a reaction per read onto it for the whole life of the session.
      const { done, value } = await new Promise<ReadableStreamReadResult<Uint8Array>>(
        (resolve, reject) => {
          this.stopRead = () => resolve({ done: true, value: undefined });
          this.reader.read().then(resolve, reject);
        },
      );
      this.stopRead = undefined;
      if (done || this.ended) return;
      this.parser.push(value);
      for (let f = this.parser.next(); f && !this.ended; f = this.parser.next()) {
        await this.handle(f);
      }
    }
  }

  private async handle(f: Frame): Promise<void> {
    switch (f.type) {
      case "data":
        return await this.onData(f);
      case "syn_stream":
        return this.onSynStream(f);
      case "syn_reply": {
        const p = this.pending.get(f.streamId);
        if (!p) return; // a reply for a stream already gone, or a second one: ignored
        this.pending.delete(f.streamId);
        p.stream.markOpened();
        p.resolve(p.stream);
        if (f.fin) p.stream.remoteFin();
        return;
      }
      case "headers":
        if (f.fin) this.streams.get(f.streamId)?.remoteFin();
        return;
      case "rst_stream": {
        const err = new SpdyProtocolError(`stream ${f.streamId} reset by peer (${f.status})`, f);
        this.pending.get(f.streamId)?.reject(err);
        this.pending.delete(f.streamId);
        this.streams.get(f.streamId)?.fail(err);
        return;
      }
      case "settings":
        return this.onSettings(f.entries);
      case "ping":
        if ((f.id & 1) === this.peerParity) return this.sendQuiet(encode.ping(f.id));
        this.pings.get(f.id)?.resolve();
        this.pings.delete(f.id);
        return;
      case "goaway":
        return this.onGoAway(f.lastGoodStreamId);
      case "window_update":
        return this.onWindowUpdate(f.streamId, f.delta);
    }
  }

  private onSynStream(f: Extract<Frame, { type: "syn_stream" }>): void {
    if ((f.streamId & 1) !== this.peerParity) {
      throw new SpdyProtocolError(`SYN_STREAM ${f.streamId} has our parity`);
    }
    if (f.streamId <= this.lastPeerId) {
      throw new SpdyProtocolError(
        `SYN_STREAM ${f.streamId} reuses or goes back (${this.lastPeerId})`,
      );
    }
    this.lastPeerId = f.streamId;
    const refuse = (status: number) => this.sendQuiet(encode.rstStream(f.streamId, status));
    if (this.sentGoAway || this.streams.size >= this.limits.maxStreams) {
      return refuse(RstStatus.REFUSED_STREAM);
    }
    const stream = new SessionStream(this.host, {
      id: f.streamId,
      headers: f.headers,
      sendWindow: this.windows.initial,
      remoteClosed: f.fin,
      localClosed: f.unidirectional,
    });
    this.streams.set(f.streamId, stream);
    let accepted: boolean | void;
    try {
      accepted = this.onStream(stream);
    } catch {
      accepted = false;
    }
    if (accepted === false || this.ended) {
      refuse(RstStatus.REFUSED_STREAM);
      return stream.fail(new SpdyProtocolError(`stream ${f.streamId} refused`));
    }
    this.sendQuiet(encode.synReply(this.compressor, { streamId: f.streamId, headers: [] }));
    stream.markOpened();
  }

  private async onData(f: Extract<Frame, { type: "data" }>): Promise<void> {
    const { streamId: id, data, fin } = f;
    const stream = this.streams.get(id);
    this.sessionUnacked += data.length;
    if (this.sessionUnacked >= this.limits.initialWindowBytes / 2) {
      this.sendQuiet(encode.windowUpdate(0, this.sessionUnacked));
      this.sessionUnacked = 0;
    }
    if (!stream) {
      const ours = (id & 1) !== this.peerParity;
      if (ours ? id >= this.nextId : id > this.lastPeerId) {
        throw new SpdyProtocolError(`DATA on stream ${id}, never opened`);
      }
      return; // in flight when the stream ended: dropped, as spdystream does
    }
    if (stream.remoteClosed) {
      this.sendQuiet(encode.rstStream(id, RstStatus.STREAM_ALREADY_CLOSED));
      return stream.fail(new SpdyProtocolError(`DATA on stream ${id} after its FIN`));
    }
    stream.receive(data, fin);
    if (stream.isFull) await stream.whenDrained();
  }

  private onSettings(entries: { id: number; value: number }[]): void {
    for (const e of entries) {
      if (e.id === Settings.INITIAL_WINDOW_SIZE) {
        this.windows.setInitial(e.value, this.streams.values());
      }
    }
  }

  private onWindowUpdate(id: number, delta: number): void {
    const s = this.streams.get(id);
    if (!this.windows.update(id === 0 ? "session" : s, delta) && s) {
      this.sendReset(s, RstStatus.FLOW_CONTROL_ERROR);
      s.fail(new SpdyProtocolError(`stream ${id} window overflow`));
    }
  }

  private onGoAway(lastGood: number): void {
    this.peerGoneAway = true;
    const err = new SpdyProtocolError("peer went away before this stream was processed");
    for (const [id, p] of this.pending) {
      if (id > lastGood) p.reject(err);
    }
    for (const s of [...this.streams.values()]) {
      if ((s.id & 1) !== this.peerParity && s.id > lastGood) s.fail(err);
    }
    if (this.streams.size === 0) this.shutdown(new SpdyProtocolError("peer went away"), false);
  }

  // --- writing and ending ---

  private checkWritable(s: SessionStream): void {
    if (this.ended) throw new SpdyProtocolError("session closed");
    if (s.isEnded) throw new SpdyProtocolError(`stream ${s.id} has ended`);
  }

  private send(bytes: Uint8Array): Promise<void> {
    return this.out.send(bytes);
  }

  private sendQuiet(bytes: Uint8Array): void {
    this.out.sendQuiet(bytes);
  }

  private goAway(status: number): void {
    if (this.sentGoAway || this.ended || this.out.isAborted) return;
    this.sentGoAway = true;
    this.sendQuiet(encode.goaway(this.lastPeerId, status));
  }

  /** Ends every stream and the read loop; `now` also drops frames not yet written. */
  private shutdown(reason: Error, now: boolean): void {
    if (now) this.out.abort();
    if (this.ended) return;
    this.ended = true;
    for (const p of [...this.pending.values(), ...this.pings.values()]) p.reject(reason);
    this.pending.clear();
    this.pings.clear();
    for (const s of [...this.streams.values()]) s.fail(reason);
    this.windows.wake();
    this.stopRead?.();
  }

  private async finishTransport(): Promise<void> {
    await this.out.finish();
    await this.reader.cancel().catch(() => {});
    this.compressor.close();
    this.decompressor.close();
  }
}
