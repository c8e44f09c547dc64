/**
 * A ustar writer with PAX extended headers, for image layers built in memory.
 *
 * Defaults (uid/gid 0, mtime 0) are fixed so the same entries always give the
 * same bytes, and therefore the same diffID and digest, run after run.
 */
import { concatBytes as concat } from "../../src/util/bytes.ts";

interface EntryMeta {
  /** Path inside the layer; a leading `/` or `./` is dropped. */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  uname?: string;
  gname?: string;
}

export interface FileEntry extends EntryMeta {
  type: "file";
  data: Uint8Array | string;
}
export interface DirEntry extends EntryMeta {
  type: "dir";
}
export interface SymlinkEntry extends EntryMeta {
  type: "symlink";
  target: string;
}
export interface HardlinkEntry extends EntryMeta {
  type: "hardlink";
  /** Path of an earlier entry in the same archive. */
  target: string;
}
export type TarEntry = FileEntry | DirEntry | SymlinkEntry | HardlinkEntry;

const BLOCK = 512;
const encoder = new TextEncoder();
const TYPEFLAG = { file: "0", hardlink: "1", symlink: "2", dir: "5" } as const;
const DEFAULT_MODE = { file: 0o644, hardlink: 0o644, symlink: 0o777, dir: 0o755 } as const;
/** Largest value of an 8-byte octal field (7 digits + NUL). */
const MAX_ID = 0o7777777;

export function normalizePath(path: string): string {
  if (path.includes("\0")) throw new Error(`tar path contains NUL: ${JSON.stringify(path)}`);
  let p = path;
  while (p.startsWith("/") || p.startsWith("./")) p = p.startsWith("/") ? p.slice(1) : p.slice(2);
  p = p.replace(/\/+$/, "");
  if (p === "" || p === ".") throw new Error(`tar path is empty: ${JSON.stringify(path)}`);
  if (p.split("/").includes("..")) throw new Error(`tar path escapes the root: ${path}`);
  return p;
}

/** Serializes entries in the given order, followed by the two zero blocks that end an archive. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  // A hard link's header describes the inode it shares, so it carries its target's mode, as GNU
  // tar writes it: containerd applies a link's mode to that inode, and a 0644 link made every
  // busybox applet (and busybox) unexecutable in its containers.
  const modes = new Map<string, number>();
  for (const entry of entries) {
    const mode = entry.type === "hardlink" && entry.mode === undefined
      ? modes.get(normalizePath(entry.target))
      : undefined;
    const e = mode === undefined ? entry : { ...entry, mode };
    if (e.type === "file") modes.set(normalizePath(e.path), e.mode ?? DEFAULT_MODE.file);
    parts.push(...encodeEntry(e));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concat(parts);
}

function encodeEntry(entry: TarEntry): Uint8Array[] {
  const name = normalizePath(entry.path) + (entry.type === "dir" ? "/" : "");
  const data = entry.type === "file" ? toBytes(entry.data) : new Uint8Array(0);
  const link = linkTarget(entry);
  const header = {
    name,
    link,
    mode: entry.mode ?? DEFAULT_MODE[entry.type],
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? 0,
    size: data.length,
    typeflag: TYPEFLAG[entry.type],
    uname: entry.uname ?? "",
    gname: entry.gname ?? "",
  };
  const pax = paxRecords(header);
  const out: Uint8Array[] = [];
  if (pax.length > 0) {
    const body = encoder.encode(pax.join(""));
    const paxName = `PaxHeaders/${asciiTail(name, 80)}`;
    out.push(
      encodeHeader({ ...header, name: paxName, link: "", size: body.length, typeflag: "x" }),
    );
    out.push(body, padding(body.length));
  }
  out.push(encodeHeader(header));
  if (data.length > 0) out.push(data, padding(data.length));
  return out;
}

function linkTarget(entry: TarEntry): string {
  if (entry.type === "symlink") {
    if (entry.target === "" || entry.target.includes("\0")) {
      throw new Error(`bad symlink target for ${entry.path}`);
    }
    return entry.target;
  }
  if (entry.type === "hardlink") return normalizePath(entry.target);
  return "";
}

interface Header {
  name: string;
  link: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  typeflag: string;
  uname: string;
  gname: string;
}

/** PAX records for whatever the fixed-width ustar fields cannot hold exactly. */
function paxRecords(h: Header): string[] {
  const records: string[] = [];
  if (!fitsUstar(h.name, 100)) records.push(paxRecord("path", h.name));
  if (!fitsUstar(h.link, 100)) records.push(paxRecord("linkpath", h.link));
  if (h.uid > MAX_ID) records.push(paxRecord("uid", String(h.uid)));
  if (h.gid > MAX_ID) records.push(paxRecord("gid", String(h.gid)));
  if (!fitsUstar(h.uname, 32)) records.push(paxRecord("uname", h.uname));
  if (!fitsUstar(h.gname, 32)) records.push(paxRecord("gname", h.gname));
  return records;
}

/** Only short, printable ASCII goes in ustar fields; anything else is left to PAX. */
function fitsUstar(value: string, width: number): boolean {
  return value.length < width && /^[\x20-\x7e]*$/.test(value);
}

/** A record's length prefix counts its own digits, hence the fixpoint. */
function paxRecord(key: string, value: string): string {
  const payload = encoder.encode(` ${key}=${value}\n`).length;
  let len = payload + String(payload).length;
  while (String(len).length + payload !== len) len = String(len).length + payload;
  return `${len} ${key}=${value}\n`;
}

/** ustar header fields as [offset, width]. */
type Field = readonly [offset: number, width: number];
const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
} as const satisfies Record<string, Field>;

class HeaderBlock {
  readonly bytes = new Uint8Array(BLOCK);

  text([offset, width]: Field, value: string): void {
    const bytes = encoder.encode(value);
    if (bytes.length > width) throw new Error(`tar field overflow: ${value}`);
    this.bytes.set(bytes, offset);
  }

  /** Zero-padded octal with a trailing NUL, the form every ustar reader takes. */
  octal(field: Field, value: number): void {
    if (!Number.isInteger(value) || value < 0) throw new Error(`bad tar number ${value}`);
    const digits = value.toString(8);
    if (digits.length > field[1] - 1) throw new Error(`tar number ${value} too large`);
    this.text(field, digits.padStart(field[1] - 1, "0") + "\0");
  }
}

function encodeHeader(h: Header): Uint8Array {
  const block = new HeaderBlock();
  block.text(FIELD.name, asciiTail(h.name, 99));
  block.octal(FIELD.mode, h.mode & 0o7777);
  block.octal(FIELD.uid, Math.min(h.uid, MAX_ID));
  block.octal(FIELD.gid, Math.min(h.gid, MAX_ID));
  block.octal(FIELD.size, h.size);
  block.octal(FIELD.mtime, h.mtime);
  block.text(FIELD.chksum, " ".repeat(8));
  block.text(FIELD.typeflag, h.typeflag);
  block.text(FIELD.linkname, asciiTail(h.link, 99));
  block.text(FIELD.magic, "ustar");
  block.text(FIELD.version, "00");
  block.text(FIELD.uname, asciiTail(h.uname, 31));
  block.text(FIELD.gname, asciiTail(h.gname, 31));
  block.octal(FIELD.devmajor, 0);
  block.octal(FIELD.devminor, 0);
  // The checksum is taken with its own field as spaces, then written over them.
  const sum = block.bytes.reduce((acc, b) => acc + b, 0);
  block.text(FIELD.chksum, sum.toString(8).padStart(6, "0") + "\0 ");
  return block.bytes;
}

/** Fallback text for a ustar field when the real value travels in PAX. */
function asciiTail(value: string, max: number): string {
  const ascii = value.replace(/[^\x20-\x7e]/g, "_");
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function padding(len: number): Uint8Array {
  return new Uint8Array((BLOCK - (len % BLOCK)) % BLOCK);
}

export { concat };
