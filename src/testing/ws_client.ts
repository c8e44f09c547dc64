/**
 * A small WebSocket client for tests of the streaming server: masked frames out (as a browser or
 * client-go must send them), unmasked frames in, plus raw writes for malformed frames.
 */
import { ByteReader } from "../storage/byte_reader.ts";
import { readResponseHead } from "./http_head.ts";

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

export class WsTestClient {
  readonly #conn: Deno.Conn;
  readonly #reader: ByteReader;
  readonly status: number;
  readonly headers: string;

  private constructor(conn: Deno.Conn, reader: ByteReader, status: number, headers: string) {
    this.#conn = conn;
    this.#reader = reader;
    this.status = status;
    this.headers = headers;
  }

  static async connect(
    url: string,
    o: { protocols?: string[]; extraHeaders?: string[] } = {},
  ): Promise<WsTestClient> {
    const u = new URL(url);
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const lines = [
      `GET ${u.pathname}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      ...(o.protocols ? [`Sec-WebSocket-Protocol: ${o.protocols.join(", ")}`] : []),
      ...(o.extraHeaders ?? []),
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const reader = new ByteReader(conn.readable);
    const { status, head } = await readResponseHead(reader);
    return new WsTestClient(conn, reader, status, head);
  }

  /** One masked frame; `mask: false` sends it unmasked (a protocol error from a client). */
  async send(opcode: number, payload: Uint8Array, o: { fin?: boolean; mask?: boolean } = {}) {
    await this.raw(frame(opcode, payload, o));
  }

  async raw(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** The next frame from the server; null when the connection ended. */
  async frame(): Promise<WsFrame | null> {
    const h = await this.#reader.exact(2).catch(() => null);
    if (!h) return null;
    let len = h[1] & 0x7f;
    if (len === 126) len = new DataView((await this.#reader.exact(2))!.slice().buffer).getUint16(0);
    else if (len === 127) {
      len = Number(new DataView((await this.#reader.exact(8))!.slice().buffer).getBigUint64(0));
    }
    const payload = len ? (await this.#reader.exact(len))!.slice() : new Uint8Array(0);
    return { fin: (h[0] & 0x80) !== 0, opcode: h[0] & 0x0f, payload };
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

export function frame(
  opcode: number,
  payload: Uint8Array,
  o: { fin?: boolean; mask?: boolean } = {},
): Uint8Array {
  const mask = o.mask ?? true;
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (mask ? 4 : 0) + n);
  out[0] = ((o.fin ?? true) ? 0x80 : 0) | opcode;
  out[1] = (mask ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  const v = new DataView(out.buffer);
  if (ext === 2) v.setUint16(2, n);
  if (ext === 8) v.setBigUint64(2, BigInt(n));
  let off = 2 + ext;
  const key = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  if (mask) {
    out.set(key, off);
    off += 4;
  }
  for (let i = 0; i < n; i++) out[off + i] = mask ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}
