/**
 * A bounded HTTP/1.1 request-head parser for the streaming server. Deno.serve cannot hand over the
 * raw connection that a SPDY/3.1 upgrade needs, so the server reads the head itself: one request per
 * connection (every route upgrades), the head at most `maxBytes`, at most `maxHeaders` lines, no
 * obsolete line folding, no body. Anything else is a HttpHeadError carrying the status to answer.
 */

export interface HeadLimits {
  maxBytes: number;
  maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = { maxBytes: 16 * 1024, maxHeaders: 64 };

export interface RequestHead {
  method: string;
  /** The request target as sent: path and query. */
  target: string;
  /** Lower-cased names; repeated headers keep every value in order. */
  headers: Map<string, string[]>;
}

export class HttpHeadError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CRLFCRLF = [13, 10, 13, 10];

/** The first value of a header, or undefined. */
export function header(h: RequestHead, name: string): string | undefined {
  return h.headers.get(name)?.[0];
}

/** Every comma-separated token of a header, over all its lines, trimmed. */
export function headerTokens(h: RequestHead, name: string): string[] {
  return (h.headers.get(name) ?? []).flatMap((v) => v.split(",")).map((t) => t.trim()).filter(
    Boolean,
  );
}

/**
 * Reads one request head. Returns the head and the bytes that arrived after it (the start of the
 * upgraded protocol), or null when the peer closed before sending anything.
 */
export async function readHead(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): Promise<{ head: RequestHead; rest: Uint8Array } | null> {
  let buf = new Uint8Array(0);
  let scanned = 0;
  for (;;) {
    const end = findSeq(buf, CRLFCRLF, Math.max(0, scanned - 3));
    if (end >= 0) {
      if (end + 4 > limits.maxBytes) break;
      return { head: parseHead(buf.subarray(0, end), limits), rest: buf.slice(end + 4) };
    }
    if (buf.length >= limits.maxBytes) break;
    scanned = buf.length;
    const { value, done } = await reader.read();
    if (done) {
      if (buf.length === 0) return null;
      throw new HttpHeadError(400, "connection closed inside the request head");
    }
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    buf = joined;
  }
  throw new HttpHeadError(431, `request head larger than ${limits.maxBytes} bytes`);
}

export function parseHead(
  bytes: Uint8Array,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): RequestHead {
  for (const b of bytes) {
    // NUL and bare control bytes have no place in a head; refusing them avoids smuggling tricks.
    if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13) || b === 127) {
      throw new HttpHeadError(400, "control byte in request head");
    }
  }
  const lines = new TextDecoder("latin1").decode(bytes).split("\r\n");
  const m = /^([A-Z]+) (\/[^ ]*) HTTP\/1\.([01])$/.exec(lines[0]);
  if (!m) throw new HttpHeadError(400, "malformed request line");
  if (lines.length - 1 > limits.maxHeaders) {
    throw new HttpHeadError(431, `more than ${limits.maxHeaders} header lines`);
  }
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line.includes("\n") || line.includes("\r")) throw new HttpHeadError(400, "bare CR or LF");
    if (line.startsWith(" ") || line.startsWith("\t")) {
      throw new HttpHeadError(400, "obsolete header line folding");
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new HttpHeadError(400, "malformed header line");
    const key = name.toLowerCase();
    const list = headers.get(key) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(key, list);
  }
  const head = { method: m[1], target: m[2], headers };
  if (headers.has("transfer-encoding") || Number(header(head, "content-length") ?? "0") > 0) {
    throw new HttpHeadError(400, "streaming requests carry no body");
  }
  return head;
}

function findSeq(buf: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i + seq.length <= buf.length; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A response head, and a plain-text body when one is given (then the connection closes). */
export function responseBytes(
  status: number,
  o: { headers?: [string, string][]; body?: string } = {},
): Uint8Array {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}`];
  for (const [k, v] of o.headers ?? []) lines.push(`${k}: ${v}`);
  if (status !== 101) {
    const body = o.body ?? "";
    lines.push("Content-Type: text/plain; charset=utf-8");
    lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`, "Connection: close");
    return new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n" + body);
  }
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
}
