/**
 * Image records: `${root}/images/<id>/` holds the manifest and config as pulled and `image.json`,
 * written atomically and last, so an image exists exactly when its record does. The ID is the
 * config digest's hex, as in CRI-O. Records are cached in memory; every change goes through one
 * queue so that concurrent pulls and removals never interleave their read-modify-write.
 */
import { writeJson } from "../util/atomic_write.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import type { Digest } from "./digest.ts";

export interface ImageLayer {
  chainId: Digest;
  diffId: Digest;
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface ImageRecord {
  version: 1;
  id: string;
  repoTags: string[];
  /** `repo@digest` for every repository the image was pulled from. */
  repoDigests: string[];
  /** Every manifest digest that names this image: the instance and any index it came through. */
  digests: Digest[];
  manifestDigest: Digest;
  layers: ImageLayer[];
  /** Uncompressed size of all layers plus the config. */
  size: number;
  /** The config's User. */
  user: string;
  pulledAt: string;
}

export class ImageStore {
  readonly #dir: string;
  readonly #images = new Map<string, ImageRecord>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.#dir = `${root}/images`;
  }

  /** Loads every record; a directory without image.json is a pull that never finished. */
  async load(): Promise<{ dropped: string[] }> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const dropped: string[] = [];
    for await (const e of Deno.readDir(this.#dir)) {
      const dir = `${this.#dir}/${e.name}`;
      try {
        const rec = JSON.parse(await Deno.readTextFile(`${dir}/image.json`)) as ImageRecord;
        if (rec.version === 1 && rec.id === e.name) {
          this.#images.set(rec.id, rec);
          continue;
        }
      } catch { /* unreadable or absent: an interrupted pull */ }
      dropped.push(e.name);
      await Deno.remove(dir, { recursive: true });
    }
    return { dropped };
  }

  /** Runs fn after every earlier change has finished. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => {});
    return next;
  }

  all(): ImageRecord[] {
    return [...this.#images.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.#images.get(id);
  }

  byTag(tag: string): ImageRecord | undefined {
    for (const r of this.#images.values()) if (r.repoTags.includes(tag)) return r;
    return undefined;
  }

  /** By `repo@digest`: a recorded repo digest, or any manifest digest under a known repo. */
  byDigest(repo: string, digest: Digest): ImageRecord | undefined {
    for (const r of this.#images.values()) {
      if (r.repoDigests.includes(`${repo}@${digest}`)) return r;
    }
    return undefined;
  }

  blobPath(id: string, name: "manifest.json" | "config.json"): string {
    return `${this.#dir}/${id}/${name}`;
  }

  /** Writes the blobs, then the record (last: it is what makes the image exist). */
  async write(rec: ImageRecord, blobs?: { manifest: Uint8Array; config: Uint8Array }) {
    const dir = `${this.#dir}/${rec.id}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    if (blobs) {
      await atomicWrite(`${dir}/manifest.json`, blobs.manifest, { mode: 0o644 });
      await atomicWrite(`${dir}/config.json`, blobs.config, { mode: 0o644 });
    }
    await writeJson(`${dir}/image.json`, rec);
    this.#images.set(rec.id, rec);
  }

  /** Forgets the image at once, then deletes its files. */
  async delete(id: string): Promise<void> {
    if (!this.#images.delete(id)) return;
    // Record first: without it the directory is an interrupted pull that load() removes.
    await Deno.remove(`${this.#dir}/${id}/image.json`).catch(() => {});
    await Deno.remove(`${this.#dir}/${id}`, { recursive: true }).catch(() => {});
  }
}
