/**
 * Small scratch files written and removed on the JS thread through libc. ExecSync writes a
 * process spec and removes four files on every call, and each of Deno's file ops is a trip
 * through its thread pool: timing marks put them at 0.23 ms (the write) and 0.46 ms (the four
 * removes) of the ~2.7 ms the daemon adds to an ExecSync. The calls here are a few µs each. Layer
 * extraction's new files (src/storage/libc.ts) are opened with the same flags and written with
 * the same loop.
 */
import { cstr, errnoName, lazyLibrary, libcPath, O_NOFOLLOW } from "./libc_io.ts";

const symbols = lazyLibrary(
  libcPath,
  {
    open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
    unlink: { parameters: ["buffer"], result: "i32" },
  } as const,
);

/**
 * open(2) flags for a new file written through its fd: write-only, created, O_EXCL (nothing that
 * is already there, a symlink included, is followed or overwritten), not inherited by helpers.
 */
export const NEW_FILE_FLAGS = 0o1 | 0o100 | 0o200 | O_NOFOLLOW | 0o2000000;

/** Writes all of data to fd (path names it in errors). */
export function writeFully(fd: number, data: Uint8Array<ArrayBufferLike>, path: string): void {
  // A view of a growable or shared buffer cannot be handed to FFI: copy it.
  let buf = data.buffer instanceof ArrayBuffer ? data as Uint8Array<ArrayBuffer> : data.slice();
  while (buf.length > 0) {
    const n = Number(symbols().write(fd, buf, BigInt(buf.length)));
    if (n < 0) {
      if (errnoName() === "EINTR") continue;
      throw new Error(`write ${path}: ${errnoName()}`);
    }
    buf = buf.subarray(n);
  }
}

/** Writes text to a new file (NEW_FILE_FLAGS), mode 0600. */
export function writeNewFile(path: string, text: string): void {
  const fd = symbols().open(cstr(path), NEW_FILE_FLAGS, 0o600);
  if (fd < 0) throw new Error(`open ${path}: ${errnoName()}`);
  try {
    writeFully(fd, new TextEncoder().encode(text), path);
  } finally {
    symbols().close(fd);
  }
}

/**
 * Removes a file (never follows a symlink: unlink(2) removes the link). true when it is gone or
 * was never there; false for what unlink cannot remove (a directory), left to the caller.
 */
export function unlinkFile(path: string): boolean {
  if (symbols().unlink(cstr(path)) === 0) return true;
  const e = errnoName();
  if (e === "ENOENT") return true;
  if (e === "EISDIR" || e === "EPERM") return false;
  throw new Error(`unlink ${path}: ${e}`);
}
