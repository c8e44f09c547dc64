/**
 * Kernel files and mounts through libc (FFI), without a helper process. Deno refuses to read
 * /proc, /sys and /dev without --allow-all, so these were read by spawning `cat`, mount points
 * listed by spawning `findmnt` and pins released by spawning `umount`: 3 to 15 ms a spawn, several
 * per pod and per stats call. A syscall is microseconds. The daemon already holds --allow-ffi for
 * libc (layer extraction), and what these calls can reach is what the helpers could.
 *
 * mount(2) and umount2(2) act on the mount namespace, which every thread of the daemon shares
 * (it never calls setns or unshare on itself), so calling them from the JS thread is sound.
 */

const ARCH_DIR: Record<string, string> = { x86_64: "x86_64", aarch64: "aarch64" };

/** Where Debian keeps a multiarch system library; bin/crio grants --allow-ffi by exact path. */
export function systemLibPath(file: string): string {
  return `/lib/${ARCH_DIR[Deno.build.arch] ?? Deno.build.arch}-linux-gnu/${file}`;
}

/** libc, the one library the daemon's FFI calls besides libz (SPDY headers). */
export function libcPath(): string {
  return systemLibPath("libc.so.6");
}

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
} as const;

/**
 * The symbols of a system library, opened on first use (a daemon that never pulls or streams
 * never loads them). Each module declares only the calls it makes.
 */
export function lazyLibrary<S extends Deno.ForeignLibraryInterface>(
  path: () => string,
  defs: S,
): () => Deno.DynamicLibrary<S>["symbols"] {
  let lib: Deno.DynamicLibrary<S>["symbols"] | undefined;
  return () => (lib ??= Deno.dlopen(path(), defs).symbols);
}

const symbols = lazyLibrary(libcPath, SYMBOLS);

const encoder = new TextEncoder();

/** A NUL-terminated copy of s, for a `buffer` parameter. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(encoder.encode(s).length + 1);
  encoder.encodeInto(s, b);
  return b;
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  25: "ENOTTY",
  28: "ENOSPC",
  61: "ENODATA",
  95: "EOPNOTSUPP",
};

const errnoBuf = new Int32Array(1);

/**
 * The calling thread's errno after a failed call. Copied out with
 * memcpy: Deno.UnsafePointerView needs an unscoped --allow-ffi, the daemon's is libc's path.
 */
export function errno(): number {
  const p = symbols().__errno_location();
  errnoBuf[0] = 0;
  if (p) symbols().memcpy(new Uint8Array(errnoBuf.buffer), p, 4n);
  return errnoBuf[0];
}

/** errno by name (e.g. "ENOENT"), for messages and checks. */
export function errnoName(): string {
  const n = errno();
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}

export const O_RDONLY_CLOEXEC = 0o2000000;
/** The open(2) flags here whose values differ between the two architectures Debian ships us on. */
export const O_DIRECTORY = Deno.build.arch === "aarch64" ? 0o40000 : 0o200000;
export const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
const READ_CHUNK = 64 << 10;
/** Kernel text files are small; a larger one is not what the caller meant to read. */
const MAX_KERNEL_FILE = 16 << 20;

let scratchBuf: Uint8Array<ArrayBuffer> | undefined;
/**
 * One read buffer for every call here, made on first use: a fresh 64 KiB array costs ~14 µs to
 * allocate and zero, more than the syscalls it is for. The calls are synchronous on the one JS
 * thread, and nothing keeps a view of it past a call.
 */
function scratch(): Uint8Array<ArrayBuffer> {
  return scratchBuf ??= new Uint8Array(READ_CHUNK);
}

/** A read-only fd for path (flags: e.g. O_DIRECTORY); undefined when it does not exist. */
function openForRead(path: string, flags = 0): number | undefined {
  const fd = symbols().open(cstr(path), O_RDONLY_CLOEXEC | flags, 0);
  if (fd >= 0) return fd;
  const e = errnoName();
  if (e === "ENOENT" || e === "ENOTDIR") return undefined;
  throw new Error(`open ${path}: ${e}`);
}

/**
 * At most maxBytes of a small file, or undefined when it does not exist. For the files the daemon
 * polls (pidfiles, exit files): a missing file costs Deno.open a thrown NotFound, and a container
 * start polled its pidfile ~60 times while the runtime worked; in the 110-pod burst those failed
 * opens were 3.5 s of the daemon's 33 s of JS time.
 */
export function readSmallFile(path: string, maxBytes: number): Uint8Array | undefined {
  const fd = openForRead(path);
  if (fd === undefined) return undefined;
  try {
    const buf = new Uint8Array(maxBytes);
    let n = 0;
    while (n < maxBytes) {
      const r = Number(symbols().read(fd, buf.subarray(n), BigInt(maxBytes - n)));
      if (r < 0) {
        if (errnoName() === "EINTR") continue;
        throw new Error(`read ${path}: ${errnoName()}`);
      }
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } finally {
    symbols().close(fd);
  }
}

/** linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the NUL-terminated name. */
const DIRENT_RECLEN = 16;
const DIRENT_NAME = 19;
const DOT = 0x2e;

/**
 * Calls fn with each entry's name bytes (without the NUL; `.` and `..` skipped); false when there
 * is no such directory. The bytes are a view of the shared read buffer: fn must neither keep them
 * nor read through this module. One open and a few getdents64 calls on the calling thread:
 * Deno.readDir takes an async op per batch, and refuses /proc/self without --allow-all.
 */
function forEachDirEntry(path: string, fn: (name: Uint8Array) => void): boolean {
  const fd = openForRead(path, O_DIRECTORY);
  if (fd === undefined) return false;
  const buf = scratch();
  const view = new DataView(buf.buffer);
  try {
    for (;;) {
      const n = Number(symbols().getdents64(fd, buf, BigInt(buf.length)));
      if (n < 0) {
        if (errnoName() === "EINTR") continue;
        throw new Error(`getdents64 ${path}: ${errnoName()}`);
      }
      if (n === 0) return true;
      for (let at = 0, len = 0; at < n; at += len) {
        len = view.getUint16(at + DIRENT_RECLEN, true);
        const record = buf.subarray(at + DIRENT_NAME, at + len);
        const end = record.indexOf(0);
        const name = end < 0 ? record : record.subarray(0, end);
        const dots = name[0] === DOT &&
          (name.length === 1 || (name.length === 2 && name[1] === DOT));
        if (!dots) fn(name);
      }
    }
  } finally {
    symbols().close(fd);
  }
}

/** How many entries a directory has; undefined when there is no such directory. */
export function countDirEntries(path: string): number | undefined {
  let count = 0;
  return forEachDirEntry(path, () => count++) ? count : undefined;
}

const decoder = new TextDecoder();

/** A directory's entry names, in the order the kernel lists them; undefined when it is absent. */
export function listDirNames(path: string): string[] | undefined {
  const names: string[] = [];
  return forEachDirEntry(path, (n) => names.push(decoder.decode(n))) ? names : undefined;
}

/**
 * The text of a /proc, /sys or /dev file (read to its end: these files are generated on read and
 * report no size), or undefined when it does not exist.
 */
export function readKernelFile(path: string): string | undefined {
  const fd = openForRead(path);
  if (fd === undefined) return undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const buf = scratch();
      const n = Number(symbols().read(fd, buf, BigInt(buf.length)));
      if (n < 0) {
        if (errnoName() === "EINTR") continue;
        // A process that exits while its /proc files are read: as good as absent.
        if (errnoName() === "ESRCH" || errnoName() === "ENOENT") return undefined;
        throw new Error(`read ${path}: ${errnoName()}`);
      }
      if (n === 0) break;
      chunks.push(buf.slice(0, n));
      total += n;
      if (total > MAX_KERNEL_FILE) throw new Error(`read ${path}: larger than ${MAX_KERNEL_FILE}`);
    }
  } finally {
    symbols().close(fd);
  }
  if (chunks.length === 1) return decoder.decode(chunks[0]);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) out.set(c, off), off += c.length;
  return decoder.decode(out);
}

const MNT_DETACH = 2;

/**
 * Unmounts path, lazily when `detach` (a busy mount goes once its last user does, as CRI-O
 * releases namespaces and shm). false when nothing was mounted there or the path is gone, so
 * callers are idempotent.
 */
export function unmount(path: string, options: { detach?: boolean } = {}): boolean {
  if (symbols().umount2(cstr(path), options.detach ? MNT_DETACH : 0) === 0) return true;
  const e = errnoName();
  if (e === "EINVAL" || e === "ENOENT") return false;
  throw new Error(`umount ${path}: ${e}`);
}

export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;

/** mount(2); 0 or -1 (errno set). */
function mount(o: { source: string; target: string; type: string; flags: number; data?: string }) {
  return symbols().mount(
    cstr(o.source),
    cstr(o.target),
    cstr(o.type),
    BigInt(o.flags),
    cstr(o.data ?? ""),
  );
}

/** mount(2) of a file system (tmpfs and the like: no source path to resolve). */
export function mountFs(
  target: string,
  options: { type: string; source?: string; flags?: number; data?: string },
): void {
  const { type, data } = options;
  const rc = mount({
    source: options.source ?? type,
    target,
    type,
    flags: options.flags ?? 0,
    data,
  });
  if (rc !== 0) throw new Error(`mount ${type} on ${target}: ${errnoName()}`);
}

const MS_BIND = 0x1000;
const MS_PRIVATE = 0x40000;

/** A bind mount of source on target (mount --bind). */
export function bindMount(source: string, target: string): void {
  if (mount({ source, target, type: "", flags: MS_BIND }) !== 0) {
    throw new Error(`bind mount ${source} on ${target}: ${errnoName()}`);
  }
}

/** Makes the mount at target private: nothing mounted under it propagates (mount --make-private). */
export function makePrivate(target: string): void {
  if (mount({ source: "none", target, type: "", flags: MS_PRIVATE }) !== 0) {
    throw new Error(`make ${target} a private mount: ${errnoName()}`);
  }
}

/** The mount calls the sandbox code makes, as a seam: unit tests pass a fake mount table. */
export interface Mounter {
  unmount(path: string, options?: { detach?: boolean }): boolean;
  mountFs(
    target: string,
    options: { type: string; source?: string; flags?: number; data?: string },
  ): void;
}

/** The calls that make a dir a private mount of itself (the namespace pin dirs). */
export interface BindMounter {
  bindMount(source: string, target: string): void;
  makePrivate(target: string): void;
}

export const hostMounter: Mounter & BindMounter = { unmount, mountFs, bindMount, makePrivate };

/** Linux signal numbers (x86_64 and aarch64 agree on these). */
const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** kill(2); false when the process is gone. pid must be positive: never a group or "all". */
export function signalProcess(pid: number, signal: string): boolean {
  const signo = SIGNALS[signal];
  if (signo === undefined) throw new Error(`unknown signal ${signal}`);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`refusing to signal pid ${pid}`);
  if (symbols().kill(pid, signo) === 0) return true;
  const e = errnoName();
  if (e === "ESRCH") return false;
  throw new Error(`kill ${signal} ${pid}: ${e}`);
}
