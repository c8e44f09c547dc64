/** Writing a response head on the raw connection, and the WebSocket upgrade shared by all routes. */
import type { Duplex } from "./backend.ts";
import { type RequestHead, responseBytes } from "./http_head.ts";
import { acceptHandshake, WsConn } from "./websocket.ts";

export async function respond(
  conn: Duplex,
  status: number,
  o: { headers?: [string, string][]; body?: string } = {},
): Promise<void> {
  const w = conn.writable.getWriter();
  try {
    await w.write(responseBytes(status, o));
  } finally {
    w.releaseLock();
  }
}

/** Completes the WebSocket handshake, or answers 400/403 and returns undefined. */
export async function upgradeWebSocket(
  head: RequestHead,
  conn: Duplex,
  o: { protocols: readonly string[]; maxMessage?: number },
): Promise<{ ws: WsConn; protocol: string } | undefined> {
  const r = await acceptHandshake(head, o.protocols);
  if ("error" in r) {
    const status = r.error.startsWith("requested protocol") ? 403 : 400;
    await respond(conn, status, { body: `unable to upgrade: ${r.error}\n` });
    return undefined;
  }
  await respond(conn, 101, { headers: r.headers });
  return { ws: new WsConn(conn, { maxMessage: o.maxMessage }), protocol: r.protocol };
}

/** A WebSocket's binary messages as a byte stream, for SPDY tunnelled over WebSocket. */
export function wsByteStream(ws: WsConn): Duplex {
  return {
    readable: new ReadableStream<Uint8Array>({
      async pull(ctl) {
        // Go's SPDY framer writes a frame in pieces, some empty: a pull must not end without a
        // chunk, or the pending read is never served again.
        for (;;) {
          const m = await ws.next();
          if (!m) return ctl.close();
          if (!m.binary) throw new Error("text message in a SPDY tunnel");
          if (m.data.length) return ctl.enqueue(m.data);
        }
      },
      cancel: () => ws.abort(),
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => ws.send(true, chunk),
      close: () => ws.close(),
      abort: () => ws.abort(),
    }),
  };
}
