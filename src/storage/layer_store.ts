/**
 * Extracted layers, one directory per chain ID: `${root}/layers/<chainid>/diff` is an overlay
 * lowerdir, `layer.json` beside it says what it holds. A layer is extracted into
 * `${root}/layers/tmp/` and renamed into place only once its digests are verified, so a crash
 * leaves either a whole layer or temporary data that the next start removes. Each chain ID is
 * extracted once: a second request waits for the first, a present layer is reused.
 */
import type { Logger } from "../log.ts";
import { type Digest, digestHex } from "../image/digest.ts";
import { errorMessage } from "../errors.ts";
import { writeJson } from "../util/atomic_write.ts";
import { type LayerBlob, type LayerLimits, unpackLayer } from "./layer_stream.ts";
import { type SpreadResult, spreadSubdirs } from "./spread_dirs.ts";

export interface LayerRecord {
  version: 1;
  chainId: Digest;
  diffId: Digest;
  digest: Digest;
  mediaType: string;
  /** Compressed size as pulled. */
  size: number;
  /** Uncompressed size (the tar). */
  tarBytes: number;
}

/** Bounds how many layers download and extract at once (CRI-O: containers/image's 6). */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

export interface EnsureLayer {
  chainId: Digest;
  blob: LayerBlob;
  /** Opens the blob's body; called only when the layer is not present. */
  open: () => Promise<ReadableStream<Uint8Array>>;
  onBytes?: (n: number) => void;
}

export interface LayerStoreOptions {
  root: string;
  log: Logger;
  concurrency?: number;
  limits?: LayerLimits;
  /** Sets where new layers' inodes go (spread_dirs.ts); a test passes its own. */
  spreadSubdirs?: (dir: string) => SpreadResult;
}

let tmpSeq = 0;

export class LayerStore {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #limits?: LayerLimits;
  readonly #slots: Semaphore;
  readonly #inflight = new Map<string, Promise<LayerRecord>>();
  readonly #spread: (dir: string) => SpreadResult;

  constructor(opts: LayerStoreOptions) {
    this.#dir = `${opts.root}/layers`;
    this.#log = opts.log;
    this.#limits = opts.limits;
    this.#slots = new Semaphore(opts.concurrency ?? 6);
    this.#spread = opts.spreadSubdirs ?? spreadSubdirs;
  }

  /** The directory to use as an overlay lowerdir. */
  diffDir(chainId: Digest): string {
    return `${this.#dir}/${digestHex(chainId)}/diff`;
  }

  /** Creates the store and removes what an interrupted extraction left behind. */
  async init(): Promise<void> {
    await Deno.remove(`${this.#dir}/tmp`, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    await Deno.mkdir(`${this.#dir}/tmp`, { recursive: true, mode: 0o700 });
    // Every layer is made in tmp/: its children are what ext4 should spread over the disk.
    const spread = this.#spread(`${this.#dir}/tmp`);
    if (spread.ok) this.#log.debug("new layers are placed as top-level directories");
    else this.#log.debug("new layers are placed by the file system's default", spread);
  }

  async get(chainId: Digest): Promise<LayerRecord | undefined> {
    try {
      const text = await Deno.readTextFile(`${this.#dir}/${digestHex(chainId)}/layer.json`);
      return JSON.parse(text) as LayerRecord;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }

  /** The layer, extracted now or found present; `reused` tells which. */
  async ensure(req: EnsureLayer): Promise<{ record: LayerRecord; reused: boolean }> {
    const key = req.chainId;
    const running = this.#inflight.get(key);
    if (running) return { record: await running, reused: true };
    const present = await this.get(key);
    if (present) return { record: present, reused: true };
    const p = this.#slots.run(() => this.#extract(req));
    this.#inflight.set(key, p);
    try {
      return { record: await p, reused: false };
    } finally {
      this.#inflight.delete(key);
    }
  }

  async #extract(req: EnsureLayer): Promise<LayerRecord> {
    const hex = digestHex(req.chainId);
    const tmp = `${this.#dir}/tmp/${hex}-${Deno.pid}-${++tmpSeq}`;
    await Deno.mkdir(`${tmp}/diff`, { recursive: true, mode: 0o755 });
    await Deno.chmod(`${tmp}/diff`, 0o755);
    try {
      const started = performance.now();
      const body = await req.open();
      const r = await unpackLayer(body, {
        blob: req.blob,
        dir: `${tmp}/diff`,
        limits: this.#limits,
        onBytes: req.onBytes,
      });
      const record: LayerRecord = {
        version: 1,
        chainId: req.chainId,
        diffId: req.blob.diffId,
        digest: req.blob.digest,
        mediaType: req.blob.mediaType,
        size: req.blob.size,
        tarBytes: r.tarBytes,
      };
      await writeJson(`${tmp}/layer.json`, record);
      await this.#commit(tmp, `${this.#dir}/${hex}`);
      this.#log.debug("layer extracted", {
        layer: req.blob.digest,
        chain_id: req.chainId,
        entries: r.entries,
        bytes: r.tarBytes,
        ms: Math.round(performance.now() - started),
      });
      return record;
    } catch (err) {
      await Deno.remove(tmp, { recursive: true }).catch((e) =>
        this.#log.warn("could not remove a failed layer", { dir: tmp, error: errorMessage(e) })
      );
      throw err;
    }
  }

  async #commit(tmp: string, dest: string): Promise<void> {
    try {
      await Deno.rename(tmp, dest);
    } catch (err) {
      // Someone else committed the same chain ID first: theirs is as good as ours.
      const theirs = await Deno.stat(`${dest}/layer.json`).catch(() => undefined);
      if (theirs) {
        await Deno.remove(tmp, { recursive: true });
        return;
      }
      throw err;
    }
  }

  async remove(chainId: Digest): Promise<void> {
    const hex = digestHex(chainId);
    const doomed = `${this.#dir}/tmp/${hex}-removed-${Deno.pid}-${++tmpSeq}`;
    // Rename first, so a crash half-way through the delete leaves only temporary data.
    try {
      await Deno.rename(`${this.#dir}/${hex}`, doomed);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    await Deno.remove(doomed, { recursive: true });
  }

  /** Chain IDs (hex) of every committed layer. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for await (const e of Deno.readDir(this.#dir)) {
      if (e.isDirectory && /^[0-9a-f]{64}$/.test(e.name)) out.push(e.name);
    }
    return out;
  }
}
