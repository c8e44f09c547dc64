/**
 * Our send windows toward the peer (SPDY/3.1: one per stream and one for the session).
 * Counted from the first byte but only enforced once the peer shows it keeps windows (a SETTINGS
 * INITIAL_WINDOW_SIZE or any WINDOW_UPDATE): moby/spdystream never sends either and would stall
 * after 64 KiB if we waited for it, while a flow-controlled peer announces itself up front.
 */
import { SpdyProtocolError } from "../../errors.ts";

/** SPDY's window before any SETTINGS, for streams and for the session. */
export const DEFAULT_WINDOW = 64 * 1024;
const MAX_WINDOW = 0x7fffffff;

export interface WindowedStream {
  readonly id: number;
  sendWindow: number;
}

export class SendWindows {
  /** What a new stream starts with. */
  initial = DEFAULT_WINDOW;
  private session = DEFAULT_WINDOW;
  private enforced = false;
  private waiters: (() => void)[] = [];

  /**
   * How many of `want` bytes the stream may send now (waiting while the windows are shut);
   * `check` throws once the stream or session can no longer send. The bytes are then counted.
   */
  async take(s: WindowedStream, f: { want: number; check: () => void }): Promise<number> {
    const { want, check } = f;
    while (want > 0 && this.enforced && Math.min(s.sendWindow, this.session) <= 0) {
      check();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    check();
    const n = this.enforced ? Math.min(want, s.sendWindow, this.session) : want;
    s.sendWindow -= n;
    this.session -= n;
    return n;
  }

  /** SETTINGS INITIAL_WINDOW_SIZE: every open stream's window moves by the difference. */
  setInitial(value: number, open: Iterable<WindowedStream>): void {
    if (value > MAX_WINDOW) throw new SpdyProtocolError(`initial window ${value}`);
    const delta = value - this.initial;
    this.initial = value;
    for (const s of open) s.sendWindow += delta;
    this.enforced = true;
    this.wake();
  }

  /**
   * WINDOW_UPDATE for the session or a stream (undefined: one already gone); false when a
   * stream's window overflows (that stream must be reset).
   */
  update(target: WindowedStream | "session" | undefined, delta: number): boolean {
    this.enforced = true;
    this.wake();
    const stream = target === "session" ? undefined : target;
    if (target === "session") {
      this.session += delta;
      if (this.session > MAX_WINDOW) throw new SpdyProtocolError("session window overflow");
      return true;
    }
    if (!stream) return true;
    stream.sendWindow += delta;
    return stream.sendWindow <= MAX_WINDOW;
  }

  /** Lets waiting writers look again (a window opened, or a stream or the session ended). */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
