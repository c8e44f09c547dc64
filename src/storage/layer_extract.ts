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
 *
 * The directory is new and only this extractor writes into it, so what it holds is known without
 * asking the file system: a map of every path made so far and its kind answers "does it exist",
 * "is the parent a real directory" and "is the link target here" with no lstat, and the calls
 * are synchronous (each a short syscall; a file's open may go to a pool thread), which is what
 * makes many small files cheap.
 */
import { InvalidArgumentError } from "../errors.ts";
import {
  lchown,
  lsetxattr,
  lutimes,
  mknod,
  NewFile,
  S_IFBLK,
  S_IFCHR,
  S_IFIFO,
  symlink,
} from "./libc.ts";
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

type Kind = "dir" | "symlink" | "other";

export class LayerExtractor {
  readonly #root: string;
  /** Every path of this layer made so far ("" is the root) and what it is. */
  readonly #kinds = new Map<string, Kind>([["", "dir"]]);
  readonly #dirTimes: [string, number][] = [];
  readonly stats: ExtractStats = { entries: 0, bytes: 0 };

  constructor(root: string) {
    this.#root = root;
  }

  #abs(rel: string): string {
    return rel === "" ? this.#root : `${this.#root}/${rel}`;
  }

  /** Makes sure every parent is a real directory of this layer; creates missing ones (0755). */
  #parents(name: string, parts: string[], create: boolean): void {
    let rel = "";
    for (const p of parts) {
      rel = rel === "" ? p : `${rel}/${p}`;
      const kind = this.#kinds.get(rel);
      if (kind === "dir") continue;
      if (kind === "symlink") refuse(name, `parent ${rel} is a symlink`);
      if (kind) refuse(name, `parent ${rel} is not a directory`);
      if (!create) refuse(name, `parent ${rel} does not exist`);
      Deno.mkdirSync(this.#abs(rel), { mode: 0o755 });
      this.#kinds.set(rel, "dir");
    }
  }

  /** Removes whatever is at rel unless it is a directory and keepDir is set. */
  #clear(rel: string, keepDir: boolean): boolean {
    const kind = this.#kinds.get(rel);
    if (!kind) return false;
    if (keepDir && kind === "dir") return true;
    Deno.removeSync(this.#abs(rel), { recursive: kind === "dir" });
    this.#kinds.delete(rel);
    if (kind === "dir") {
      const under = `${rel}/`;
      for (const p of this.#kinds.keys()) if (p.startsWith(under)) this.#kinds.delete(p);
    }
    return false;
  }

  async entry(e: TarEntry): Promise<void> {
    this.stats.entries++;
    const parts = entryParts(e.name);
    if (parts.length === 0) return; // The layer root itself: its mode is the store's.
    const base = parts[parts.length - 1];
    const parentParts = parts.slice(0, -1);
    this.#parents(e.name, parentParts, true);
    if (base.startsWith(WH)) return this.#whiteout(e.name, parentParts, base);
    const rel = parts.join("/");
    const abs = this.#abs(rel);
    switch (e.type) {
      case "dir":
        if (!this.#clear(rel, true)) Deno.mkdirSync(abs, { mode: 0o700 });
        this.#kinds.set(rel, "dir");
        break;
      case "file":
        this.#clear(rel, false);
        this.#kinds.set(rel, "other");
        return await this.#writeFile(abs, e);
      case "link":
        this.#clear(rel, false);
        return this.#hardlink(e, { abs, rel });
      case "symlink":
        this.#clear(rel, false);
        symlink(e.linkname, abs);
        this.#kinds.set(rel, "symlink");
        break;
      default: {
        this.#clear(rel, false);
        const type = e.type === "char" ? S_IFCHR : e.type === "block" ? S_IFBLK : S_IFIFO;
        mknod(abs, { type, mode: 0o600, major: e.devmajor, minor: e.devminor });
        this.#kinds.set(rel, "other");
      }
    }
    this.#metadata(abs, e, rel);
  }

  /** Data, owner, mode, xattrs and times, all through the one fd opened here. */
  async #writeFile(abs: string, e: TarEntry): Promise<void> {
    const f = await NewFile.create(abs, 0o600);
    try {
      for await (const chunk of e.body()) {
        f.writeAll(chunk);
        this.stats.bytes += chunk.length;
      }
      f.setOwnerAndMode(e.uid, e.gid, e.mode);
      for (const [name, value] of e.xattrs) if (allowedXattr(name)) f.setXattr(name, value);
      f.setTimes(e.mtime);
    } finally {
      f.close();
    }
  }

  /** Owner first (chown clears setuid), then mode, xattrs, times; never through a symlink. */
  #metadata(abs: string, e: TarEntry, rel: string): void {
    lchown(abs, e.uid, e.gid);
    if (e.type !== "symlink") {
      Deno.chmodSync(abs, e.mode & 0o7777);
      for (const [name, value] of e.xattrs) if (allowedXattr(name)) lsetxattr(abs, name, value);
    }
    if (e.type === "dir") this.#dirTimes.push([rel, e.mtime]);
    else lutimes(abs, e.mtime);
  }

  #hardlink(e: TarEntry, at: { abs: string; rel: string }): void {
    // An absolute target means "from the image root" (kaniko writes them): still inside the layer.
    const target = entryParts(e.linkname.replace(/^\/+/, ""));
    if (target.length === 0) refuse(e.name, "hard link to the layer root");
    this.#parents(e.name, target.slice(0, -1), false);
    const targetRel = target.join("/");
    const kind = this.#kinds.get(targetRel);
    if (!kind) refuse(e.name, `hard link target ${e.linkname} is not in this layer`);
    if (kind === "dir") refuse(e.name, `hard link target ${e.linkname} is a directory`);
    Deno.linkSync(this.#abs(targetRel), at.abs);
    this.#kinds.set(at.rel, kind);
  }

  #whiteout(name: string, parentParts: string[], base: string): void {
    const parentRel = parentParts.join("/");
    if (base === OPAQUE) {
      lsetxattr(this.#abs(parentRel), "trusted.overlay.opaque", new TextEncoder().encode("y"));
      return;
    }
    if (base.startsWith(WH + WH)) return; // Other AUFS metadata: meaningless to overlay.
    const target = base.slice(WH.length);
    if (target === "" || target === "." || target === "..") refuse(name, "bad whiteout name");
    const rel = parentRel === "" ? target : `${parentRel}/${target}`;
    this.#clear(rel, false);
    const abs = this.#abs(rel);
    mknod(abs, { type: S_IFCHR, mode: 0, major: 0, minor: 0 });
    lchown(abs, 0, 0);
    this.#kinds.set(rel, "other");
  }

  /** Directory times last, deepest first, since writing into a directory changes its mtime. */
  finish(): void {
    for (const [rel, mtime] of this.#dirTimes.reverse()) {
      if (this.#kinds.get(rel) === "dir") lutimes(this.#abs(rel), mtime);
    }
  }
}
