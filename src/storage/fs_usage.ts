/**
 * Bytes and inodes used under a directory, as the kubelet's image GC needs them (ImageFsInfo).
 * Hard links are counted once, like du. The walk never follows symlinks, so a symlink in an image
 * layer cannot make it wander outside the store.
 */

export interface FsUsage {
  /** Bytes in use, counted in 512-byte blocks as allocated (du), not apparent size. */
  usedBytes: number;
  inodesUsed: number;
  /** When the walk finished, in ns since the epoch (decimal string: exceeds 2^53). */
  timestampNs: string;
}

export interface UsageFs {
  lstat(path: string): Promise<Deno.FileInfo>;
  readDir(path: string): AsyncIterable<Deno.DirEntry>;
}

const hostFs: UsageFs = { lstat: Deno.lstat, readDir: Deno.readDir };

export async function measure(root: string, fs: UsageFs = hostFs): Promise<FsUsage> {
  const seen = new Set<string>();
  let bytes = 0;
  let inodes = 0;
  const stack = [root];
  while (stack.length) {
    const path = stack.pop()!;
    let st: Deno.FileInfo;
    try {
      st = await fs.lstat(path);
    } catch (err) {
      // Removed while we walked, or not created yet: it uses nothing.
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    const key = `${st.dev}:${st.ino}`;
    if ((st.nlink ?? 1) > 1) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    inodes++;
    bytes += st.blocks !== null ? st.blocks * 512 : st.size;
    if (st.isDirectory) {
      try {
        for await (const e of fs.readDir(path)) stack.push(`${path}/${e.name}`);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }
  return {
    usedBytes: bytes,
    inodesUsed: inodes,
    timestampNs: `${BigInt(Date.now()) * 1_000_000n}`,
  };
}

/**
 * Caches a measurement for a short while: the kubelet asks every few seconds, and walking a large
 * store each time would cost more than the answer is worth.
 */
export class UsageCache {
  #last?: { at: number; value: Promise<FsUsage> };
  readonly #root: string;
  readonly #ttlMs: number;
  readonly #fs: UsageFs;

  constructor(root: string, options: { ttlMs?: number; fs?: UsageFs } = {}) {
    this.#root = root;
    this.#ttlMs = options.ttlMs ?? 5000;
    this.#fs = options.fs ?? hostFs;
  }

  get(): Promise<FsUsage> {
    const now = Date.now();
    if (!this.#last || now - this.#last.at > this.#ttlMs) {
      const value = measure(this.#root, this.#fs);
      this.#last = { at: now, value };
      value.catch(() => (this.#last = undefined));
    }
    return this.#last.value;
  }
}
