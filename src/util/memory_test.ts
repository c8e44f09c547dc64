import { assert, assertEquals } from "../testing/asserts.ts";
import { libcPath } from "./libc_io.ts";
import { BatchedCollector, releaseFreeMemory } from "./memory.ts";

function rssKiB(): number {
  return Deno.memoryUsage().rss / 1024;
}

Deno.test("releaseFreeMemory() hands memory freed inside glibc's heap back to the kernel", async () => {
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
    assert(await releaseFreeMemory(), "malloc_trim released something");
    const after = rssKiB();
    libc.symbols.free(blocks.at(-1)!);
    assert(before - after > 64 << 10, `RSS ${before} -> ${after} KiB: less than 64 MiB released`);
  } finally {
    libc.close();
  }
});

function harness() {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  let collected = 0;
  const g = new BatchedCollector({
    batch: 3,
    answerBytes: 1000,
    busyDelayMs: 10,
    idleDelayMs: 1000,
    collect: () => collected++,
    now: () => now,
    schedule: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return () => void (t.live = false);
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers) {
      if (t.live && t.at <= now) {
        t.live = false;
        t.fn();
      }
    }
  };
  return { g, advance, collected: () => collected, armed: () => timers.filter((t) => t.live) };
}

Deno.test("a few helpers are collected after the idle delay, once", () => {
  const h = harness();
  h.g.exited();
  h.g.exited();
  assertEquals(h.armed().length, 1);
  h.advance(999);
  assertEquals(h.collected(), 0);
  h.advance(1);
  assertEquals(h.collected(), 1);
  assertEquals(h.armed().length, 0);
});

Deno.test("a full batch brings the collection forward to the busy delay", () => {
  const h = harness();
  h.g.exited();
  h.advance(500);
  h.g.exited();
  h.g.exited();
  assertEquals(h.armed().map((t) => t.at), [510]);
  h.g.exited();
  assertEquals(h.armed().length, 1, "more exits do not push it back");
  h.advance(10);
  assertEquals(h.collected(), 1);
  h.g.exited();
  assertEquals(h.armed().map((t) => t.at), [1510], "the count starts again");
});

Deno.test("answers arm the busy collection only once a batch of bytes is sent", () => {
  const h = harness();
  h.g.answered(600);
  assertEquals(h.armed().length, 0, "below a batch: nothing armed");
  h.g.answered(400);
  assertEquals(h.armed().map((t) => t.at), [10]);
  h.advance(10);
  assertEquals(h.collected(), 1);
  h.g.answered(999);
  assertEquals(h.armed().length, 0, "the byte count starts again after a collection");
});
