/**
 * Where a layer file's open runs: on the JS thread, or on a pool thread (a non-blocking FFI call).
 * Where creating an inode is cheap (tmpfs, journaled ext4: tens of µs) the pool's round trip costs
 * the JS thread more than the open does: 6,000 files of 28 KiB in 4 directories took 154-221 ms
 * opened in place and 218-331 ms through the pool on tmpfs. Where it is dear (ext4 without a
 * journal scans the block group's recently deleted inodes on each allocation: hundreds of µs) the
 * pool lets several layers' opens and the JS thread's decompression share the CPUs: 2.2-3.2 s
 * against 3.4-4.8 s for the same files right after a removal. So the cost is measured on the
 * opens made in place, and while the pool is used every probeEvery-th open is still made in place
 * to measure it again.
 */
export interface PlacementOptions {
  /** Average cost of an open in place above which opens go to the pool. */
  poolAboveUs: number;
  probeEvery: number;
  /** Weight of a new measurement in the moving average. */
  weight: number;
}

export const DEFAULT_PLACEMENT: PlacementOptions = {
  poolAboveUs: 100,
  probeEvery: 32,
  weight: 1 / 8,
};

export class OpenPlacement {
  readonly #o: PlacementOptions;
  #averageUs: number | undefined;
  #pooled = 0;

  constructor(o: PlacementOptions = DEFAULT_PLACEMENT) {
    this.#o = o;
  }

  /** The average cost of an open in place, once one was measured. */
  get averageUs(): number | undefined {
    return this.#averageUs;
  }

  /** Whether the next open goes to the pool. */
  usePool(): boolean {
    if (this.#averageUs === undefined || this.#averageUs <= this.#o.poolAboveUs) return false;
    return ++this.#pooled % this.#o.probeEvery !== 0;
  }

  /** Records what an open made in place took. */
  measured(us: number): void {
    const avg = this.#averageUs;
    this.#averageUs = avg === undefined ? us : avg + (us - avg) * this.#o.weight;
  }
}
