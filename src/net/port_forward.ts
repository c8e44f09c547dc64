/**
 * One port-forward connection: bytes both ways between the client's stream and a TCP socket in
 * the pod. The client's end of input half-closes the pod socket (an HTTP client may still wait for
 * its answer); the pod's end of output, a failure either way, or the signal ends the connection:
 * the socket is closed and the client's writable closed. Each direction holds one chunk at a time
 * (the socket reads at most 32 KiB; the next read waits for the write), so buffering is bounded.
 */
import type { PacketConn } from "../util/fd_socket.ts";

export interface ClientConn {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export async function forwardConnection(
  sock: PacketConn,
  conn: ClientConn,
  signal?: AbortSignal,
): Promise<void> {
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  let done = false;
  const stop = () => {
    if (done) return;
    done = true;
    reader.cancel().catch(() => {});
    void sock.close();
  };
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop, { once: true });
  const up = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done || done) break;
      if (r.value.length) await sock.write(r.value);
    }
    sock.closeWrite();
  })().catch(stop);
  try {
    for (;;) {
      const chunk = await sock.read();
      if (!chunk) break;
      await writer.write(chunk);
    }
  } catch {
    // The client's stream failed: the connection is over either way.
  } finally {
    signal?.removeEventListener("abort", stop);
    stop();
    await up;
    await sock.close();
    await writer.close().catch(() => {});
    writer.releaseLock();
    reader.releaseLock();
  }
}
