/**
 * A deliberately unchecked tar writer for tests: it writes whatever names, link targets, types and
 * PAX records it is given, so tests can build the hostile archives the extractor must refuse.
 */
export interface RawEntry {
  name: string;
  /** Typeflag character: "0" file, "1" hard link, "2" symlink, "3" char, "5" dir, "6" fifo... */
  flag?: string;
  data?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  /** PAX records written in an `x` header before the entry. */
  pax?: Record<string, string>;
}

const enc = new TextEncoder();

function put(h: Uint8Array, off: number, len: number, s: string): void {
  h.set(enc.encode(s).subarray(0, len), off);
}

function octal(h: Uint8Array, off: number, len: number, n: number): void {
  put(h, off, len, n.toString(8).padStart(len - 1, "0") + "\0");
}

function header(e: RawEntry & { size: number; flag: string }): Uint8Array {
  const h = new Uint8Array(512);
  put(h, 0, 100, e.name);
  octal(h, 100, 8, e.mode ?? 0o644);
  octal(h, 108, 8, e.uid ?? 0);
  octal(h, 116, 8, e.gid ?? 0);
  octal(h, 124, 12, e.size);
  octal(h, 136, 12, e.mtime ?? 1_000_000);
  h.fill(0x20, 148, 156);
  put(h, 156, 1, e.flag);
  put(h, 157, 100, e.linkname ?? "");
  put(h, 257, 8, "ustar\x0000");
  octal(h, 329, 8, e.devmajor ?? 0);
  octal(h, 337, 8, e.devminor ?? 0);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

function padded(data: Uint8Array): Uint8Array[] {
  const pad = (512 - (data.length % 512)) % 512;
  return [data, new Uint8Array(pad)];
}

export function paxRecords(records: Record<string, string>): Uint8Array {
  let out = "";
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
    out += `${len}${body}`;
  }
  return enc.encode(out);
}

export function rawTar(entries: RawEntry[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (e.pax) {
      const p = paxRecords(e.pax);
      parts.push(header({ name: "PaxHeader", flag: "x", size: p.length }), ...padded(p));
    }
    const data = typeof e.data === "string" ? enc.encode(e.data) : e.data ?? new Uint8Array();
    parts.push(header({ ...e, flag: e.flag ?? "0", size: data.length }), ...padded(data));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function streamOf(bytes: Uint8Array, chunk = 700): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}
