import { assert } from "../testing/asserts.ts";
import { libcPath } from "./libc_io.ts";
import { releaseFreeMemory } from "./memory.ts";

function rssKiB(): number {
  return Deno.memoryUsage().rss / 1024;
}

Deno.test("releaseFreeMemory() hands memory freed inside glibc's heap back to the kernel", () => {
  const libc = Deno.dlopen(
    libcPath(),
    {
      malloc: { parameters: ["usize"], result: "pointer" },
      memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
      free: { parameters: ["pointer"], result: "void" },
    } as const,
  );
  try {
    // 96 MiB in 64 KiB blocks (below the mmap threshold, so they come from the heap), all freed
    // but the last, which pins the heap's top: glibc keeps the rest and RSS still counts it.
    const blocks = Array.from({ length: 1536 }, () => {
      const p = libc.symbols.malloc(64n << 10n);
      libc.symbols.memset(p, 1, 64n << 10n);
      return p;
    });
    for (const p of blocks.slice(0, -1)) libc.symbols.free(p);
    const before = rssKiB();
    assert(releaseFreeMemory(), "malloc_trim released something");
    const after = rssKiB();
    libc.symbols.free(blocks.at(-1)!);
    assert(before - after > 64 << 10, `RSS ${before} -> ${after} KiB: less than 64 MiB released`);
  } finally {
    libc.close();
  }
});
