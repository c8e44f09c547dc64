/**
 * Untars one layer into its own directory, ready to be an overlay lowerdir: owners, modes
 * (setuid/setgid/sticky), mtimes, xattrs, hard links, symlinks, devices and FIFOs kept; OCI
 * whiteouts turned into overlay whiteouts (0/0 char device, trusted.overlay.opaque=y).
 *
 * Nothing may land outside the directory: names with `..` or a leading `/` are refused, every
 * parent of an entry must be a real directory of this layer (never a symlink), metadata calls
 * never follow a final symlink, and hard links must point at a non-directory inside the layer.
 * Layers are extracted each into its own directory, so a symlink of an earlier layer cannot be
 * followed here: a later layer's `l/f` becomes a real `l/` in this layer, which overlay shows in
 * place of the lower symlink.
 */
import { InvalidArgumentError } from "../errors.ts";
import { lchown, lsetxattr, lutimes, mknod, S_IFBLK, S_IFCHR, S_IFIFO, symlink } from "./libc.ts";
import type { TarEntry } from "./tar_reader.ts";

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** Image xattrs applied; others (trusted.overlay.* above all) could forge overlay metadata. */
function allowedXattr(name: string): boolean {
  return name.startsWith("user.") || name === "security.capability";
}

export class LayerEntryError extends InvalidArgumentError {}

function refuse(name: string, why: string): never {
  throw new LayerEntryError(`layer entry ${JSON.stringify(name)}: ${why}`);
}

/** The entry's path as components; refuses absolute names, `..` and NUL. */
export function entryParts(name: string): string[] {
  if (name.includes("\0")) refuse(name, "NUL in name");
  if (name.startsWith("/")) refuse(name, "absolute path escapes layer");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) refuse(name, "path escapes layer");
  return parts;
}

export interface ExtractStats {
  entries: number;
  /** Bytes of regular file data written. */
  bytes: number;
}

export class LayerExtractor {
  readonly #root: string;
  /** Relative paths known to be real directories of this layer ("" is the root). */
  readonly #dirs = new Set<string>([""]);
  readonly #dirTimes: [string, number][] = [];
  readonly stats: ExtractStats = { entries: 0, bytes: 0 };

  constructor(root: string) {
    this.#root = root;
  }

  #abs(rel: string): string {
    return rel === "" ? this.#root : `${this.#root}/${rel}`;
  }

  /** Makes sure every parent is a real directory; creates missing ones (0755, root). */
  async #parents(name: string, parts: string[], create: boolean): Promise<void> {
    let rel = "";
    for (const p of parts) {
      rel = rel === "" ? p : `${rel}/${p}`;
      if (this.#dirs.has(rel)) continue;
      let st: Deno.FileInfo | undefined;
      try {
        st = await Deno.lstat(this.#abs(rel));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      if (st?.isSymlink) refuse(name, `parent ${rel} is a symlink`);
      if (st && !st.isDirectory) refuse(name, `parent ${rel} is not a directory`);
      if (!st) {
        if (!create) refuse(name, `parent ${rel} does not exist`);
        await Deno.mkdir(this.#abs(rel), { mode: 0o755 });
      }
      this.#dirs.add(rel);
    }
  }

  /** Removes whatever is at rel unless it is a directory and keepDir is set. */
  async #clear(rel: string, keepDir: boolean): Promise<boolean> {
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(this.#abs(rel));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
    if (keepDir && st.isDirectory) return true;
    await Deno.remove(this.#abs(rel), { recursive: true });
    for (const d of this.#dirs) if (d === rel || d.startsWith(`${rel}/`)) this.#dirs.delete(d);
    return false;
  }

  async entry(e: TarEntry): Promise<void> {
    this.stats.entries++;
    const parts = entryParts(e.name);
    if (parts.length === 0) return; // The layer root itself: its mode is the store's.
    const base = parts[parts.length - 1];
    const parentParts = parts.slice(0, -1);
    await this.#parents(e.name, parentParts, true);
    if (base.startsWith(WH)) return await this.#whiteout(e.name, parentParts, base);
    const rel = parts.join("/");
    const abs = this.#abs(rel);
    switch (e.type) {
      case "dir":
        if (!(await this.#clear(rel, true))) await Deno.mkdir(abs, { mode: 0o700 });
        this.#dirs.add(rel);
        break;
      case "file":
        await this.#clear(rel, false);
        await this.#writeFile(abs, e);
        break;
      case "link":
        await this.#clear(rel, false);
        return await this.#hardlink(e, abs);
      case "symlink":
        await this.#clear(rel, false);
        symlink(e.linkname, abs);
        break;
      default: {
        await this.#clear(rel, false);
        const type = e.type === "char" ? S_IFCHR : e.type === "block" ? S_IFBLK : S_IFIFO;
        mknod(abs, { type, mode: 0o600, major: e.devmajor, minor: e.devminor });
      }
    }
    await this.#metadata(abs, e, rel);
  }

  async #writeFile(abs: string, e: TarEntry): Promise<void> {
    const f = await Deno.open(abs, { write: true, createNew: true, mode: 0o600 });
    try {
      for await (const chunk of e.body()) {
        let off = 0;
        while (off < chunk.length) off += await f.write(chunk.subarray(off));
        this.stats.bytes += chunk.length;
      }
    } finally {
      f.close();
    }
  }

  /** Owner first (chown clears setuid), then mode, xattrs, times; never through a symlink. */
  async #metadata(abs: string, e: TarEntry, rel: string): Promise<void> {
    lchown(abs, e.uid, e.gid);
    if (e.type !== "symlink") await Deno.chmod(abs, e.mode & 0o7777);
    if (e.type !== "symlink") {
      for (const [name, value] of e.xattrs) if (allowedXattr(name)) lsetxattr(abs, name, value);
    }
    if (e.type === "dir") this.#dirTimes.push([rel, e.mtime]);
    else lutimes(abs, e.mtime);
  }

  async #hardlink(e: TarEntry, abs: string): Promise<void> {
    // An absolute target means "from the image root" (kaniko writes them): still inside the layer.
    const target = entryParts(e.linkname.replace(/^\/+/, ""));
    if (target.length === 0) refuse(e.name, "hard link to the layer root");
    await this.#parents(e.name, target.slice(0, -1), false);
    const targetAbs = this.#abs(target.join("/"));
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(targetAbs);
    } catch {
      return refuse(e.name, `hard link target ${e.linkname} is not in this layer`);
    }
    if (st.isDirectory) refuse(e.name, `hard link target ${e.linkname} is a directory`);
    await Deno.link(targetAbs, abs);
  }

  async #whiteout(name: string, parentParts: string[], base: string): Promise<void> {
    const parentRel = parentParts.join("/");
    if (base === OPAQUE) {
      lsetxattr(this.#abs(parentRel), "trusted.overlay.opaque", new TextEncoder().encode("y"));
      return;
    }
    if (base.startsWith(WH + WH)) return; // Other AUFS metadata: meaningless to overlay.
    const target = base.slice(WH.length);
    if (target === "" || target === "." || target === "..") refuse(name, "bad whiteout name");
    const rel = parentRel === "" ? target : `${parentRel}/${target}`;
    await this.#clear(rel, false);
    const abs = this.#abs(rel);
    mknod(abs, { type: S_IFCHR, mode: 0, major: 0, minor: 0 });
    lchown(abs, 0, 0);
  }

  /** Directory times last, deepest first, since writing into a directory changes its mtime. */
  finish(): void {
    for (const [rel, mtime] of this.#dirTimes.reverse()) {
      if (this.#dirs.has(rel)) lutimes(this.#abs(rel), mtime);
    }
  }
}
