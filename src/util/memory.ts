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

/** How HelperGarbage batches: real timers and the real collection unless a test passes its own. */
export interface CollectorOptions {
  /** Helpers per batch: once this many exited, the collection follows busyDelayMs later. */
  batch: number;
  busyDelayMs: number;
  /** Fewer helpers (a probe now and then) are collected after this long. */
  idleDelayMs: number;
  collect: () => void;
  now?: () => number;
  /** Arms an unref'd timer; returns its cancel function. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
}

/**
 * Helpers' output is read by Deno in 64 KiB buffers, a pair per spawn. A read waits while the
 * helper runs, long enough for V8 to move its buffer to the old generation, which is collected
 * only by a full GC; a small JS heap rarely triggers one. Three rounds of 110 pods with a
 * container each took a daemon from 93 to 563 MiB RSS with a JS heap of 22 MiB
 * (conformance/pod_churn.ts). With a full GC and malloc_trim after each batch of helpers it
 * stays at ~104 MiB. A full GC of the daemon's heap takes ~20 ms, so it waits for a batch.
 */
export class HelperGarbage {
  readonly #o: Required<CollectorOptions>;
  #pending = 0;
  #cancel?: () => void;
  #due = 0;

  constructor(o: CollectorOptions) {
    this.#o = { now: Date.now, schedule: unrefTimer, ...o };
  }

  /** Called after each helper process exits. */
  exited(): void {
    this.#pending++;
    const o = this.#o;
    const delay = this.#pending >= o.batch ? o.busyDelayMs : o.idleDelayMs;
    if (this.#cancel && this.#due <= o.now() + delay) return;
    this.#cancel?.();
    this.#due = o.now() + delay;
    this.#cancel = o.schedule(() => this.#collect(), delay);
  }

  #collect(): void {
    this.#cancel = undefined;
    this.#pending = 0;
    this.#o.collect();
  }
}

/**
 * A full GC, then malloc_trim: buffers V8 moved to the old generation are freed only by a full
 * GC, and their memory leaves RSS only when trimmed.
 */
export function collectGarbage(): void {
  // bin/crio starts the daemon with --expose-gc; elsewhere (unit tests) there is no gc().
  const gc = (globalThis as { gc?: (o: { type: "major" }) => void }).gc;
  gc?.({ type: "major" });
  try {
    releaseFreeMemory();
  } catch {
    // Best effort: a process without libc access (a unit test) keeps its RSS.
  }
}

/** collectGarbage() off the caller's path: its ~20 ms pause must not delay a response. */
export function collectSoon(): void {
  unrefTimer(collectGarbage, 0);
}

const helperGarbage = new HelperGarbage({
  batch: 64,
  busyDelayMs: 1000,
  idleDelayMs: 30_000,
  collect: collectGarbage,
});

/** Called by the host seams after each helper process exits (see HelperGarbage). */
export function afterHelperExit(): void {
  helperGarbage.exited();
}
