/**
 * Gives memory that the process has freed back to the kernel. Pulls leave tens of MiB of freed
 * native memory (HTTP and gzip buffers) in glibc's heaps, where RSS keeps counting it until the
 * next allocation reuses it; malloc_trim(3) releases the free pages of every arena.
 */
import { lazyLibrary, libcPath } from "./libc_io.ts";

const libc = lazyLibrary(
  libcPath,
  {
    malloc_trim: { parameters: ["usize"], result: "i32" },
  } as const,
);

/** True when memory was released. */
export function releaseFreeMemory(): boolean {
  return libc().malloc_trim(0n) === 1;
}
