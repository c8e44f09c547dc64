/**
 * What the disk charges for a new file, beside a runtime's store, just before it pulls. Unpacking
 * a layer is mostly making files, and on ext4 without a journal (this VM's root) the kernel passes
 * over every inode deleted in the last minutes in a block group when it allocates one there,
 * reading each (fs/ext4/ialloc.c, recently_deleted()). `perf` on a plain symlink loop beside the
 * bench's stores, right after a run, showed 58% of the time in that scan, at ~1.1 ms a symlink
 * against ~25 µs in a directory elsewhere on the same disk. So what a pull costs depends on what
 * was removed near its store just before, for either runtime.
 */

export interface SymlinkCost {
  /** Microseconds per symlink(2), each sample the mean of one batch. */
  usPerCall: number[];
}

/**
 * Makes `batches` × `perBatch` symlinks in a new directory under dir and times them. The links
 * stay until the caller removes dir: deleting them here would slow the next allocations, which is
 * what is being measured.
 */
export async function symlinkCost(
  dir: string,
  o: { batches: number; perBatch: number },
): Promise<SymlinkCost> {
  const at = await Deno.makeTempDir({ dir, prefix: "disk-probe-" });
  const usPerCall: number[] = [];
  for (let b = 0; b < o.batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < o.perBatch; i++) Deno.symlinkSync("/bin/busybox", `${at}/l${b}-${i}`);
    usPerCall.push(((performance.now() - t0) * 1000) / o.perBatch);
  }
  return { usPerCall };
}
