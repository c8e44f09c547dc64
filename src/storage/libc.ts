/**
 * The few libc calls layer extraction needs and Deno does not offer: lchown, utimensat without
 * following symlinks, lsetxattr and mknod, and the fd-based calls that write a layer's regular
 * files (open with O_EXCL|O_NOFOLLOW, write, fchown, fchmod, fsetxattr, futimens): one path
 * lookup per file and at most one trip to a pool thread (the open, on a disk where it is slow),
 * where Deno's async file ops take one per call and made extraction of a many-file layer 4x
 * slower than GNU tar. Through FFI rather than a helper binary: no process per entry, nothing
 * extra to build or ship, and the permission is scoped to libc's path. Every call is on a path
 * whose parents were checked (no symlinks) and never follows a final symlink.
 */

import { cstr, errnoName, lazyLibrary, libcPath, systemLibPath } from "../util/libc_io.ts";
import { NEW_FILE_FLAGS, writeFully } from "../util/scratch_files.ts";
import { OpenPlacement } from "./open_placement.ts";

export { libcPath, systemLibPath };

const SYMBOLS = {
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  symlink: { parameters: ["buffer", "buffer"], result: "i32" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  close_range: { parameters: ["u32", "u32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  openOnPool: {
    name: "open",
    parameters: ["buffer", "i32", "u32"],
    result: "i32",
    nonblocking: true,
  },
  close: { parameters: ["i32"], result: "i32" },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  fsetxattr: { parameters: ["i32", "buffer", "buffer", "usize", "i32"], result: "i32" },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  // memset(buf, 0, 0) returns buf: its address as a number (see addressOf).
  memset: { parameters: ["buffer", "i32", "usize"], result: "usize" },
} as const;

const symbols = lazyLibrary(libcPath, SYMBOLS);

/**
 * The address of a buffer's first byte, for C structs that hold pointers (zlib's z_stream).
 * Deno.UnsafePointer.of needs unscoped --allow-ffi, which the daemon does not have; passing the
 * buffer through memset with a zero length is allowed under the scoped permission.
 */
export function addressOf(buf: Uint8Array): bigint {
  return BigInt(symbols().memset(buf as Uint8Array<ArrayBuffer>, 0, 0n));
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

function check(rc: number, call: string, path: string): void {
  if (rc === 0) return;
  throw new Error(`${call} ${path}: ${errnoName()}`);
}

const CLOSE_RANGE_CLOEXEC = 4;

/**
 * Marks every fd from `first` up close-on-exec (close_range(2), Linux 5.11). Some fds the Node
 * compatibility layer opens (the gRPC listener, its connections) are inheritable, and conmon,
 * which outlives the daemon, would otherwise keep the CRI socket listening after a crash.
 */
export function markCloseOnExec(first = 3): void {
  check(symbols().close_range(first, 0xffffffff, CLOSE_RANGE_CLOEXEC), "close_range", `${first}`);
}

export function lchown(path: string, uid: number, gid: number): void {
  check(symbols().lchown(cstr(path), uid, gid), "lchown", path);
}

/** Two struct timespec (atime, mtime), both set to seconds (fractional). */
function timespecs(seconds: number): Uint8Array<ArrayBuffer> {
  const t = new BigInt64Array(4);
  const sec = Math.floor(seconds);
  const nsec = Math.round((seconds - sec) * 1e9);
  t[0] = t[2] = BigInt(sec);
  t[1] = t[3] = BigInt(Math.min(nsec, 999_999_999));
  return new Uint8Array(t.buffer);
}

/** Sets atime and mtime (seconds, fractional) on path itself, never on a symlink's target. */
export function lutimes(path: string, seconds: number): void {
  const ts = timespecs(seconds);
  check(symbols().utimensat(AT_FDCWD, cstr(path), ts, AT_SYMLINK_NOFOLLOW), "utimensat", path);
}

export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const v = new Uint8Array(value.length || 1);
  v.set(value);
  check(
    symbols().lsetxattr(cstr(path), cstr(name), v, BigInt(value.length), 0),
    `lsetxattr ${name}`,
    path,
  );
}

/**
 * Deno.symlink needs unscoped read and write permission (a link's target is resolved only when
 * followed); the daemon's write permission is scoped to its own dirs, so the link is made here.
 */
export function symlink(target: string, path: string): void {
  check(symbols().symlink(cstr(target), cstr(path)), "symlink", path);
}

/** The value of an xattr, or undefined when absent (used by tests and checks). */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const buf = new Uint8Array(4096);
  const n = Number(symbols().lgetxattr(cstr(path), cstr(name), buf, BigInt(buf.length)));
  return n < 0 ? undefined : buf.slice(0, n);
}

/** glibc's makedev(). */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return (mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n);
}

export function mknod(
  path: string,
  options: { type: number; mode: number; major?: number; minor?: number },
): void {
  const dev = makedev(options.major ?? 0, options.minor ?? 0);
  check(symbols().mknod(cstr(path), options.type | (options.mode & 0o7777), dev), "mknod", path);
}

/** Where layer extraction's opens run, learnt from their cost on this disk. */
const layerOpens = new OpenPlacement();

/**
 * A new regular file opened for writing, written and given its metadata through its fd, so a
 * name swapped after the open cannot redirect a later call. O_EXCL fails on anything already
 * there, a symlink included; the caller closes it.
 */
export class NewFile {
  readonly #fd: number;
  readonly #path: string;
  #closed = false;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.#path = path;
  }

  /**
   * Opened on the JS thread or on a pool thread, whichever the disk's recent opens favour
   * (open_placement.ts).
   */
  static async create(
    path: string,
    mode: number,
    o: { placement?: OpenPlacement } = {},
  ): Promise<NewFile> {
    const placement = o.placement ?? layerOpens;
    const perm = mode & 0o7777;
    let fd = -1;
    if (placement.usePool()) fd = await symbols().openOnPool(cstr(path), NEW_FILE_FLAGS, perm);
    // In place, or again after a failure on the pool: errno is per thread, and is read here.
    if (fd < 0) {
      const start = performance.now();
      fd = symbols().open(cstr(path), NEW_FILE_FLAGS, perm);
      if (fd >= 0) placement.measured((performance.now() - start) * 1000);
    }
    if (fd < 0) throw new Error(`open ${path}: ${errnoName()}`);
    return new NewFile(fd, path);
  }

  writeAll(data: Uint8Array<ArrayBufferLike>): void {
    writeFully(this.#fd, data, this.#path);
  }

  /** Owner first (chown clears setuid), then mode. */
  setOwnerAndMode(uid: number, gid: number, mode: number): void {
    check(symbols().fchown(this.#fd, uid, gid), "fchown", this.#path);
    check(symbols().fchmod(this.#fd, mode & 0o7777), "fchmod", this.#path);
  }

  setXattr(name: string, value: Uint8Array): void {
    const v = new Uint8Array(value.length || 1);
    v.set(value);
    check(
      symbols().fsetxattr(this.#fd, cstr(name), v, BigInt(value.length), 0),
      `fsetxattr ${name}`,
      this.#path,
    );
  }

  setTimes(seconds: number): void {
    check(symbols().futimens(this.#fd, timespecs(seconds)), "futimens", this.#path);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    check(symbols().close(this.#fd), "close", this.#path);
  }
}
