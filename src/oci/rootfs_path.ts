/**
 * Paths inside a container's root filesystem, resolved the way the container would see them:
 * symlinks are followed with the rootfs as `/`, and `..` never climbs above it. The daemon reads
 * image files (/etc/passwd, /etc/group) before the container runs; an image whose /etc is a
 * symlink to ../../../../etc must not make it read, or later write, the host's files (CVE-2024-5154).
 */
import { FailedPreconditionError } from "../errors.ts";

const MAX_LINKS = 40;

function split(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

async function lstat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    // ENOTDIR (a file used as a directory) counts as absent, like the kernel's lookup would.
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw err;
  }
}

/**
 * Returns the host path of `path` inside `root`. Components that do not exist are kept as they
 * are, so the result can name a file about to be created.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const base = root.replace(/\/+$/, "");
  const resolved: string[] = [];
  const pending = split(path);
  let links = 0;
  while (pending.length) {
    const c = pending.shift()!;
    if (c === "..") {
      resolved.pop();
      continue;
    }
    const candidate = `${base}/${[...resolved, c].join("/")}`;
    const st = await lstat(candidate);
    if (!st?.isSymlink) {
      resolved.push(c);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new FailedPreconditionError(`too many symlinks resolving ${path} in the rootfs`);
    }
    const target = await Deno.readLink(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...split(target));
  }
  return resolved.length ? `${base}/${resolved.join("/")}` : base;
}

/**
 * Reads a regular file inside `root`, at most `maxBytes`; undefined when it does not exist.
 * Devices, FIFOs and directories are refused before they are opened (a FIFO would block the
 * open, /dev/zero would never end), and so is a file larger than the bound.
 */
export async function readFileInRoot(
  root: string,
  path: string,
  options: { maxBytes: number },
): Promise<Uint8Array | undefined> {
  const host = await resolveInRoot(root, path);
  const before = await lstat(host);
  if (!before) return undefined;
  if (!before.isFile) {
    throw new FailedPreconditionError(`${path} in the image is not a regular file`);
  }
  const file = await Deno.open(host, { read: true });
  try {
    const st = await file.stat();
    // The image's writable layer could swap the file for a symlink between the check and the
    // open; the open file must be the one that was checked.
    if (!st.isFile || st.ino !== before.ino || st.dev !== before.dev) {
      throw new FailedPreconditionError(`${path} in the image changed while it was read`);
    }
    if (st.size > options.maxBytes) {
      throw new FailedPreconditionError(
        `${path} in the image is larger than ${options.maxBytes} bytes`,
      );
    }
    return await readAll(file, path, st.size);
  } finally {
    file.close();
  }
}

async function readAll(file: Deno.FsFile, path: string, size: number): Promise<Uint8Array> {
  // One byte more than the size seen: a file that grows after the check is refused too.
  const buf = new Uint8Array(size + 1);
  let n = 0;
  while (n < buf.length) {
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  if (n > size) throw new FailedPreconditionError(`${path} in the image changed while it was read`);
  return buf.subarray(0, n);
}
