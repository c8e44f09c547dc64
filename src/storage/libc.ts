/**
 * The few libc calls layer extraction needs and Deno does not offer: lchown, utimensat without
 * following symlinks, lsetxattr and mknod. Through FFI rather than a helper binary: no process per
 * entry, nothing extra to build or ship, and the permission is scoped to libc's path. Every call
 * is on a path whose parents were checked (no symlinks) and never follows a final symlink.
 */

const ARCH_DIR: Record<string, string> = { x86_64: "x86_64", aarch64: "aarch64" };

/** Where Debian keeps a multiarch system library; bin/crio grants --allow-ffi by exact path. */
export function systemLibPath(file: string): string {
  return `/lib/${ARCH_DIR[Deno.build.arch] ?? Deno.build.arch}-linux-gnu/${file}`;
}

export function libcPath(): string {
  return systemLibPath("libc.so.6");
}

const SYMBOLS = {
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  symlink: { parameters: ["buffer", "buffer"], result: "i32" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  close_range: { parameters: ["u32", "u32", "i32"], result: "i32" },
  // Addresses as numbers, not pointer objects: Deno's pointer views need unscoped --allow-ffi.
  __errno_location: { parameters: [], result: "usize" },
  memcpy: { parameters: ["buffer", "usize", "usize"], result: "usize" },
  // memset(buf, 0, 0) returns buf: its address as a number (see addressOf).
  memset: { parameters: ["buffer", "i32", "usize"], result: "usize" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | undefined;

function symbols(): Lib {
  lib ??= Deno.dlopen(libcPath(), SYMBOLS).symbols;
  return lib;
}

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

const encoder = new TextEncoder();
function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(encoder.encode(s).length + 1);
  encoder.encodeInto(s, b);
  return b;
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  13: "EACCES",
  17: "EEXIST",
  22: "EINVAL",
  28: "ENOSPC",
  61: "ENODATA",
  95: "EOPNOTSUPP",
};

function check(rc: number, call: string, path: string): void {
  if (rc === 0) return;
  // errno is read by copying it out, as a pointer view is refused under the daemon's permissions.
  const out = new Int32Array(1);
  symbols().memcpy(new Uint8Array(out.buffer), symbols().__errno_location(), 4n);
  const errno = out[0];
  throw new Error(`${call} ${path}: ${ERRNO_NAMES[errno] ?? `errno ${errno}`}`);
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

/** Sets atime and mtime (seconds, fractional) on path itself, never on a symlink's target. */
export function lutimes(path: string, seconds: number): void {
  const t = new BigInt64Array(4);
  const sec = Math.floor(seconds);
  const nsec = Math.round((seconds - sec) * 1e9);
  t[0] = t[2] = BigInt(sec);
  t[1] = t[3] = BigInt(Math.min(nsec, 999_999_999));
  const bytes = new Uint8Array(t.buffer);
  check(symbols().utimensat(AT_FDCWD, cstr(path), bytes, AT_SYMLINK_NOFOLLOW), "utimensat", path);
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
