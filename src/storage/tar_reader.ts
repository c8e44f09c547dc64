/**
 * A streaming tar reader (ustar, GNU long names, PAX) for layer blobs. It yields one entry at a
 * time; the caller reads the entry's body or leaves it, and the reader skips what is left. Hostile
 * archives are bounded: PAX and long-name records are capped, sparse files are refused.
 */
import { InvalidArgumentError } from "../errors.ts";
import { ByteReader } from "./byte_reader.ts";

export type EntryType = "file" | "link" | "symlink" | "char" | "block" | "dir" | "fifo";

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, fractional when PAX gives it. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.*`: name → raw value. */
  xattrs: Map<string, Uint8Array>;
}

export interface TarEntry extends TarHeader {
  /** The entry's body in chunks, read once. */
  body(): AsyncIterable<Uint8Array>;
}

/** A malformed or over-cap archive: the image is bad wherever it is pulled from. */
export class TarFormatError extends InvalidArgumentError {}

/** Caps on metadata records: a PAX header or GNU long name larger than this is refused. */
export const MAX_META_BYTES = 1 << 20;

const TYPES: Record<string, EntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

const decoder = new TextDecoder();

function cstring(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return decoder.decode(nul < 0 ? b : b.subarray(0, nul));
}

/** Octal, or base-256 when the high bit of the first byte is set (GNU, for big values). */
function number(b: Uint8Array, what: string): number {
  if (b[0] & 0x80) {
    let v = b[0] & 0x3f;
    if (b[0] & 0x40) throw new TarFormatError(`negative ${what}`);
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i];
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${what} too large`);
    return v;
  }
  const s = cstring(b).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad ${what} ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return number(h.subarray(148, 156), "checksum") === sum;
}

/** PAX records: "<len> <key>=<value>\n", values raw (xattrs may be binary). */
export function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) throw new TarFormatError("malformed PAX record");
    const len = Number(decoder.decode(data.subarray(off, space)));
    if (!Number.isSafeInteger(len) || len <= space - off || off + len > data.length) {
      throw new TarFormatError("malformed PAX record length");
    }
    const rec = data.subarray(space + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError("PAX record without '='");
    out.set(decoder.decode(rec.subarray(0, eq)), rec.subarray(eq + 1));
    off += len;
  }
  return out;
}

interface Pending {
  pax: Map<string, Uint8Array>;
  longName?: string;
  longLink?: string;
}

async function readMeta(r: ByteReader, size: number, what: string): Promise<Uint8Array> {
  if (size > MAX_META_BYTES) {
    throw new TarFormatError(`${what} of ${size} bytes exceeds the ${MAX_META_BYTES}-byte cap`);
  }
  const data = await r.exact(size);
  if (!data) throw new TarFormatError(`truncated ${what}`);
  const copy = data.slice();
  await skip(r, pad(size));
  return copy;
}

function pad(size: number): number {
  return (512 - (size % 512)) % 512;
}

async function skip(r: ByteReader, n: number): Promise<void> {
  while (n > 0) n -= (await r.some(n)).length;
}

function applyPax(h: TarHeader, pax: Map<string, Uint8Array>): void {
  for (const [k, raw] of pax) {
    const v = decoder.decode(raw);
    if (k === "path") h.name = v;
    else if (k === "linkpath") h.linkname = v;
    else if (k === "size") h.size = paxNumber(v, k);
    else if (k === "uid") h.uid = paxNumber(v, k);
    else if (k === "gid") h.gid = paxNumber(v, k);
    else if (k === "mtime") h.mtime = Number(v);
    else if (k.startsWith("SCHILY.xattr.")) h.xattrs.set(k.slice(13), raw);
    else if (k.startsWith("GNU.sparse.")) {
      throw new TarFormatError("sparse files are not supported");
    }
  }
}

function paxNumber(v: string, k: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new TarFormatError(`bad PAX ${k}`);
  return n;
}

function parseHeader(h: Uint8Array, p: Pending): TarHeader | undefined {
  const flag = String.fromCharCode(h[156]);
  const type = TYPES[flag];
  if (flag === "S") throw new TarFormatError("GNU sparse files are not supported");
  const ustar = cstring(h.subarray(257, 263)).startsWith("ustar");
  const prefix = ustar ? cstring(h.subarray(345, 500)) : "";
  const base = cstring(h.subarray(0, 100));
  const header: TarHeader = {
    name: prefix ? `${prefix}/${base}` : base,
    type: type ?? "file",
    mode: number(h.subarray(100, 108), "mode") & 0o7777,
    uid: number(h.subarray(108, 116), "uid"),
    gid: number(h.subarray(116, 124), "gid"),
    size: number(h.subarray(124, 136), "size"),
    mtime: number(h.subarray(136, 148), "mtime"),
    linkname: cstring(h.subarray(157, 257)),
    devmajor: ustar ? number(h.subarray(329, 337), "devmajor") : 0,
    devminor: ustar ? number(h.subarray(337, 345), "devminor") : 0,
    xattrs: new Map(),
  };
  if (p.longName !== undefined) header.name = p.longName;
  if (p.longLink !== undefined) header.linkname = p.longLink;
  applyPax(header, p.pax);
  if (type === undefined) return undefined;
  // Only regular files carry data; a size on anything else is ignored, as GNU tar does.
  if (type !== "file") header.size = 0;
  return header;
}

/**
 * Reads entries until the end-of-archive marker, then reads the stream to its end (trailing
 * padding) so that digests computed over the stream complete. On error the stream is cancelled.
 */
export async function* readTar(stream: ReadableStream<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(stream);
  try {
    yield* entries(r);
    await r.drain();
  } catch (err) {
    await r.cancel(err);
    throw err;
  }
}

async function* entries(r: ByteReader): AsyncGenerator<TarEntry> {
  let pending: Pending = { pax: new Map() };
  let global = new Map<string, Uint8Array>();
  while (true) {
    const block = await r.exact(512);
    if (!block || block.every((b) => b === 0)) return;
    const h = block.slice();
    if (!checksumOk(h)) throw new TarFormatError("bad header checksum");
    const flag = String.fromCharCode(h[156]);
    const size = number(h.subarray(124, 136), "size");
    if (flag === "x" || flag === "g") {
      const pax = parsePax(await readMeta(r, size, "PAX header"));
      if (flag === "g") global = new Map([...global, ...pax]);
      else pending.pax = new Map([...pending.pax, ...pax]);
      continue;
    }
    if (flag === "L" || flag === "K") {
      const v = cstring(await readMeta(r, size, "GNU long name"));
      if (flag === "L") pending.longName = v;
      else pending.longLink = v;
      continue;
    }
    const header = parseHeader(h, { ...pending, pax: new Map([...global, ...pending.pax]) });
    pending = { pax: new Map() };
    const dataSize = header?.size ?? size;
    let left = dataSize;
    if (header) {
      yield {
        ...header,
        async *body() {
          while (left > 0) {
            const chunk = await r.some(left);
            left -= chunk.length;
            yield chunk;
          }
        },
      };
    }
    await skip(r, left + pad(dataSize));
  }
}
