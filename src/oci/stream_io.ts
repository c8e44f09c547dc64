/**
 * The streams a streaming session (exec, attach) hands the runtime, and the pump that joins them to
 * a conmon attach socket. conmon's protocol on that SOCK_SEQPACKET socket: each message it sends
 * starts with one byte naming the pipe (2 stdout, 3 stderr) followed by the data; each message the
 * client sends is written to the process's stdin; a client's shutdown(SHUT_WR) closes that stdin
 * unless conmon was told --leave-stdin-open. Resizes go through the `ctl` FIFO of conmon's bundle
 * as "1 <height> <width>\n".
 */
import type { PacketConn } from "../util/fd_socket.ts";

export interface TerminalSize {
  width: number;
  height: number;
}

export interface StreamIO {
  /** Absent when the client sent no stdin. */
  stdin?: ReadableStream<Uint8Array>;
  stdout?: WritableStream<Uint8Array>;
  /** Absent with tty (output merged into stdout). */
  stderr?: WritableStream<Uint8Array>;
  tty: boolean;
  resize?: ReadableStream<TerminalSize>;
  /** The client went away: stop forwarding; for exec, kill the exec'd process tree. */
  signal?: AbortSignal;
}

const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;

/** conmon refuses sizes above 1000 (ctrl.c); clamp rather than lose the resize. */
export function resizeMessage(size: TerminalSize): string {
  const clamp = (n: number) => Math.max(0, Math.min(1000, Math.floor(n) || 0));
  return `1 ${clamp(size.height)} ${clamp(size.width)}\n`;
}

export interface JoinOptions {
  /** Writes one control line to conmon's ctl FIFO. */
  writeCtl: (line: string) => Promise<void>;
  /** Called (once) when the client side ends: the signal aborted. */
  onAbort?: () => void;
  /**
   * Resizes wait for this (exec: the process, and so its terminal, exists; conmon drops a size
   * that comes earlier); the latest one held back is sent then.
   */
  resizeReady?: Promise<void>;
}

/**
 * Forwards until conmon ends the socket (the process exited and its output is drained) or the
 * signal aborts; then it stops reading the caller's stdin and resize streams and closes the
 * socket. The caller's writable streams are released, not closed: the caller still has the exit
 * status to send after them.
 */
export async function joinConmonSocket(
  conn: PacketConn,
  io: StreamIO,
  o: JoinOptions,
): Promise<void> {
  const out = io.stdout?.getWriter();
  const err = io.stderr?.getWriter();
  const stdin = io.stdin?.getReader();
  const resize = io.resize?.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    stdin?.cancel().catch(() => {});
    resize?.cancel().catch(() => {});
    void conn.close();
  };
  const onAbort = () => {
    o.onAbort?.();
    finish();
  };
  if (io.signal?.aborted) onAbort();
  io.signal?.addEventListener("abort", onAbort, { once: true });
  const input = (async () => {
    if (!stdin) return;
    for (;;) {
      const r = await stdin.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done || finished) break;
      if (r.value.length) await conn.write(r.value);
    }
    // End of the client's stdin: conmon closes the process's stdin (unless told to keep it).
    if (!finished) conn.closeWrite();
  })().catch(() => {});
  const resizing = forwardResizes(resize, {
    tty: io.tty,
    ready: o.resizeReady,
    send: (size) => o.writeCtl(resizeMessage(size)).catch(() => {}),
    finished: () => finished,
  });
  try {
    for (;;) {
      const msg = await conn.read();
      if (!msg) break;
      if (msg.length < 2) continue;
      const data = msg.slice(1);
      const target = msg[0] === STDERR_PIPE ? (err ?? (io.tty ? out : undefined)) : msg[0] ===
          STDOUT_PIPE
        ? out
        : undefined;
      // Backpressure: while the caller's stream is full, conmon's socket fills and conmon waits.
      if (!target) continue;
      try {
        await target.write(data);
      } catch {
        break; // the caller's stream is gone: the session is over
      }
    }
  } finally {
    io.signal?.removeEventListener("abort", onAbort);
    finish();
    await Promise.allSettled([input, resizing]);
    await conn.close();
    out?.releaseLock();
    err?.releaseLock();
    stdin?.releaseLock();
    resize?.releaseLock();
  }
}

/**
 * Resizes to conmon. Without a terminal there is nothing to resize, and conmon would only queue
 * the line in a FIFO nobody reads, so they are dropped; before `ready` only the latest is kept.
 */
export async function forwardResizes(
  resize: ReadableStreamDefaultReader<TerminalSize> | undefined,
  o: {
    tty: boolean;
    ready?: Promise<void>;
    send: (size: TerminalSize) => Promise<void>;
    finished: () => boolean;
  },
): Promise<void> {
  if (!resize) return;
  let ready = o.ready === undefined;
  let held: TerminalSize | undefined;
  o.ready?.then(async () => {
    while (held && !o.finished()) {
      const size = held;
      held = undefined;
      await o.send(size);
    }
    ready = true; // no await since the loop saw `held` empty: nothing can slip in between
  }, () => {});
  for (;;) {
    const r = await resize.read().catch(() => ({ done: true as const, value: undefined }));
    if (r.done || o.finished()) break;
    if (!o.tty) continue;
    if (ready) await o.send(r.value);
    else held = r.value;
  }
}
