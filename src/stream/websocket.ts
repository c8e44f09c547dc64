/**
 * RFC 6455 WebSocket, server side, written here: the streaming server reads its own HTTP heads
 * (SPDY needs the raw connection, see server.ts), and Deno.upgradeWebSocket only works inside
 * Deno.serve while npm:ws wants a node socket. The frame layer is small and bounded: client frames
 * must be masked, control frames short and unfragmented, reserved bits clear, opcodes known, and a
 * message at most `maxMessage` bytes. A violation closes the connection with the matching close
 * code (1002 protocol error, 1007 bad UTF-8, 1009 too big) and ends only that session.
 */
import { ByteReader } from "../storage/byte_reader.ts";
import { header, headerTokens, type RequestHead } from "./http_head.ts";
import { concatBytes } from "../util/bytes.ts";

export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
export const CLOSE = { normal: 1000, protocol: 1002, invalidData: 1007, tooBig: 1009 } as const;
export const DEFAULT_MAX_MESSAGE = 1 << 20;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export class WsProtocolError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export interface WsMessage {
  binary: boolean;
  data: Uint8Array;
}

export function isWebSocketRequest(h: RequestHead): boolean {
  return (header(h, "upgrade") ?? "").toLowerCase() === "websocket" &&
    headerTokens(h, "connection").some((t) => t.toLowerCase() === "upgrade");
}

/**
 * Checks the opening handshake and picks the subprotocol: the first the client offers that the
 * server supports ("" when the client offers none). Returns the 101 headers, or an error text.
 */
export async function acceptHandshake(
  h: RequestHead,
  supported: readonly string[],
): Promise<{ protocol: string; headers: [string, string][] } | { error: string }> {
  if (h.method !== "GET") return { error: "websocket upgrade needs GET" };
  if (header(h, "sec-websocket-version") !== "13") return { error: "websocket version 13 only" };
  const key = header(h, "sec-websocket-key") ?? "";
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return { error: "bad Sec-WebSocket-Key" };
  const offered = headerTokens(h, "sec-websocket-protocol");
  const protocol = offered.length === 0
    ? (supported.includes("") ? "" : undefined)
    : offered.find((p) => p !== "" && supported.includes(p));
  if (protocol === undefined) {
    return { error: `requested protocol(s) are not supported: [${offered.join(" ")}]` };
  }
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  const headers: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", btoa(String.fromCharCode(...new Uint8Array(digest)))],
  ];
  if (protocol) headers.push(["Sec-WebSocket-Protocol", protocol]);
  return { protocol, headers };
}

/** Encodes one unmasked, unfragmented server frame. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const extra = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + extra + n);
  out[0] = 0x80 | opcode;
  const view = new DataView(out.buffer);
  if (extra === 0) out[1] = n;
  else if (extra === 2) {
    out[1] = 126;
    view.setUint16(2, n);
  } else {
    out[1] = 127;
    view.setBigUint64(2, BigInt(n));
  }
  out.set(payload, 2 + extra);
  return out;
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Reads one frame, enforcing the client-side rules; null at a clean end of stream. */
export async function readFrame(r: ByteReader, maxPayload: number): Promise<Frame | null> {
  const h = await r.exact(2);
  if (!h) return null;
  const fin = (h[0] & 0x80) !== 0;
  const opcode = h[0] & 0x0f;
  if (h[0] & 0x70) throw new WsProtocolError(CLOSE.protocol, "reserved bits set");
  if (![0, 1, 2, 8, 9, 10].includes(opcode)) {
    throw new WsProtocolError(CLOSE.protocol, `unknown opcode ${opcode}`);
  }
  if (!(h[1] & 0x80)) throw new WsProtocolError(CLOSE.protocol, "client frame not masked");
  let len = h[1] & 0x7f;
  if (opcode >= 8 && (!fin || len > 125)) {
    throw new WsProtocolError(CLOSE.protocol, "control frame fragmented or longer than 125");
  }
  if (len === 126) len = new DataView((await need(r, 2)).slice().buffer).getUint16(0);
  else if (len === 127) {
    const big = new DataView((await need(r, 8)).slice().buffer).getBigUint64(0);
    len = big > BigInt(maxPayload) ? maxPayload + 1 : Number(big);
  }
  if (len > maxPayload) throw new WsProtocolError(CLOSE.tooBig, `frame larger than ${maxPayload}`);
  const mask = (await need(r, 4)).slice();
  const payload = (await need(r, len)).slice();
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  return { fin, opcode, payload };
}

async function need(r: ByteReader, n: number): Promise<Uint8Array> {
  if (n === 0) return new Uint8Array(0);
  const b = await r.exact(n);
  if (!b) throw new WsProtocolError(CLOSE.protocol, "connection closed inside a frame");
  return b;
}

/** One WebSocket connection after the handshake: whole messages in, frames out. */
export class WsConn {
  readonly #reader: ByteReader;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #maxMessage: number;
  #writing: Promise<void> = Promise.resolve();
  #closeSent = false;
  /** Called on every frame in or out, for the idle timeout. */
  onActivity: () => void = () => {};

  constructor(
    t: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
    o: { maxMessage?: number } = {},
  ) {
    this.#reader = new ByteReader(t.readable);
    this.#writer = t.writable.getWriter();
    this.#maxMessage = o.maxMessage ?? DEFAULT_MAX_MESSAGE;
  }

  /** The next data message; null once the peer closed (the close is answered). */
  async next(): Promise<WsMessage | null> {
    let parts: Uint8Array[] = [];
    let size = 0;
    let first: number | undefined;
    for (;;) {
      const f = await readFrame(this.#reader, this.#maxMessage);
      this.onActivity();
      if (!f) return null;
      if (f.opcode === OP.close) {
        await this.close(CLOSE.normal);
        return null;
      }
      if (f.opcode === OP.ping) {
        await this.#send(OP.pong, f.payload);
        continue;
      }
      if (f.opcode === OP.pong) continue;
      if ((f.opcode === OP.cont) !== (first !== undefined)) {
        throw new WsProtocolError(CLOSE.protocol, "unexpected continuation or missing one");
      }
      first ??= f.opcode;
      size += f.payload.length;
      if (size > this.#maxMessage) {
        throw new WsProtocolError(CLOSE.tooBig, `message larger than ${this.#maxMessage}`);
      }
      parts.push(f.payload);
      if (!f.fin) continue;
      const data = parts.length === 1 ? parts[0] : concatBytes(parts);
      parts = [];
      if (first === OP.text) {
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(data);
        } catch {
          throw new WsProtocolError(CLOSE.invalidData, "text message is not UTF-8");
        }
      }
      return { binary: first === OP.binary, data };
    }
  }

  send(binary: boolean, data: Uint8Array): Promise<void> {
    return this.#send(binary ? OP.binary : OP.text, data);
  }

  #send(opcode: number, data: Uint8Array): Promise<void> {
    if (this.#closeSent) return Promise.reject(new Error("websocket closed"));
    const frame = encodeFrame(opcode, data);
    this.#writing = this.#writing.then(() => {
      this.onActivity();
      return this.#writer.write(frame);
    });
    return this.#writing;
  }

  /** Sends a close frame once and closes the connection's write side. */
  async close(code: number = CLOSE.normal, reason = ""): Promise<void> {
    if (this.#closeSent) return;
    const text = new TextEncoder().encode(reason).subarray(0, 120);
    const body = new Uint8Array(2 + text.length);
    new DataView(body.buffer).setUint16(0, code);
    body.set(text, 2);
    await this.#send(OP.close, body).catch(() => {});
    this.#closeSent = true;
    await this.#writing.catch(() => {});
    await this.#writer.close().catch(() => {});
  }

  /** Drops the connection without a closing handshake (errors, idle timeout). */
  async abort(): Promise<void> {
    this.#closeSent = true;
    await this.#reader.cancel();
    await this.#writer.abort().catch(() => {});
  }
}
