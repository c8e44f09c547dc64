/**
 * A SPDY/3.1 client for streaming-server tests: the HTTP upgrade over TCP, then a client-role
 * session from src/stream/spdy, as client-go's SPDY executor and port-forward dialer use it.
 */
import { ByteReader } from "../storage/byte_reader.ts";
import { readResponseHead } from "./http_head.ts";
import { SpdySession } from "../stream/spdy/session.ts";
import type { SpdyStream } from "../stream/spdy/stream.ts";

export interface SpdyTestClient {
  status: number;
  headers: string;
  session?: SpdySession;
  conn: Deno.Conn;
}

export async function spdyConnect(
  url: string,
  o: { protocols: string[] },
): Promise<SpdyTestClient> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const head = [
    `POST ${u.pathname} HTTP/1.1`,
    `Host: ${u.host}`,
    "Connection: Upgrade",
    "Upgrade: SPDY/3.1",
    ...o.protocols.map((p) => `X-Stream-Protocol-Version: ${p}`),
  ];
  await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
  const reader = new ByteReader(conn.readable);
  const { status, head: text } = await readResponseHead(reader);
  if (status !== 101) return { status, headers: text, conn };
  const readable = new ReadableStream<Uint8Array>({
    async pull(c) {
      const chunk = await reader.some(64 * 1024).catch(() => null);
      if (chunk) c.enqueue(chunk.slice());
      else c.close();
    },
  });
  const session = new SpdySession({ readable, writable: conn.writable }, {
    role: "client",
    onStream: () => false,
  });
  return { status, headers: text, session, conn };
}

export async function readText(s: SpdyStream): Promise<string> {
  let out = "";
  const dec = new TextDecoder();
  try {
    for await (const chunk of s.readable) out += dec.decode(chunk, { stream: true });
  } catch { /* reset at the end of the session */ }
  return out;
}
