/**
 * Gives memory that the process has freed back to the kernel. Pulls leave tens of MiB of freed
 * native memory (HTTP and gzip buffers) in glibc's heaps, where RSS keeps counting it until the
 * next allocation reuses it; malloc_trim(3) releases the free pages of every arena.
 */
import { lazyLibrary, libcPath } from "./libc_io.ts";

const libc = lazyLibrary(
  libcPath,
  {
    malloc_trim: { parameters: ["usize"], result: "i32", nonblocking: true },
  } as const,
);

/**
 * True when memory was released. The trim runs on a pool thread: it walks every arena and hands
 * back free pages one madvise at a time, 0.4-19 ms measured per collection in the 110-pod burst,
 * which the JS thread (and the gRPC calls waiting on it) no longer waits for.
 */
export async function releaseFreeMemory(): Promise<boolean> {
  return await libc().malloc_trim(0n) === 1;
}

/** How BatchedCollector batches: real timers and the real collection unless a test passes its own. */
export interface CollectorOptions {
  /** Helpers per batch: once this many exited, the collection follows busyDelayMs later. */
  batch: number;
  /** Bytes of gRPC answers per batch, likewise. */
  answerBytes: number;
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
 *
 * Large gRPC answers do the same: 3,000 List calls against 110 pods and 330 containers (each
 * ListContainers answer 0.2 MB, copied by grpc-js and again into the socket) took the daemon from
 * 120 to 225-265 MiB, nearly all of it in the malloc heap, and a collection gave it back.
 */
export class BatchedCollector {
  readonly #o: Required<CollectorOptions>;
  #helpers = 0;
  #bytes = 0;
  #cancel?: () => void;
  #due = 0;

  constructor(o: CollectorOptions) {
    this.#o = { now: Date.now, schedule: unrefTimer, ...o };
  }

  /** Called after each helper process exits. */
  exited(): void {
    this.#helpers++;
    const o = this.#o;
    this.#arm(this.#helpers >= o.batch ? o.busyDelayMs : o.idleDelayMs);
  }

  /** Called with the size of each gRPC answer; only a full batch of bytes arms a collection. */
  answered(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes >= this.#o.answerBytes) this.#arm(this.#o.busyDelayMs);
  }

  #arm(delay: number): void {
    const o = this.#o;
    if (this.#cancel && this.#due <= o.now() + delay) return;
    this.#cancel?.();
    this.#due = o.now() + delay;
    this.#cancel = o.schedule(() => this.#collect(), delay);
  }

  #collect(): void {
    this.#cancel = undefined;
    this.#helpers = 0;
    this.#bytes = 0;
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
  // Best effort: a process without libc access (a unit test) keeps its RSS.
  releaseFreeMemory().catch(() => {});
}

/** How long after the last pull the collection waits. */
const PULL_QUIET_MS = 2000;
let cancelPullCollection: (() => void) | undefined;

/**
 * collectGarbage() once no pull has finished for PULL_QUIET_MS. Right after a pull it delayed the
 * next call instead: critest's image benchmark pulls, then asks StatusImage at once, and each
 * StatusImage took 32 ms (the ~30 ms pause) instead of 2.
 */
export function collectSoon(): void {
  cancelPullCollection?.();
  cancelPullCollection = unrefTimer(() => {
    cancelPullCollection = undefined;
    collectGarbage();
  }, PULL_QUIET_MS);
}

const collector = new BatchedCollector({
  batch: 64,
  answerBytes: 64 << 20,
  busyDelayMs: 1000,
  idleDelayMs: 30_000,
  collect: collectGarbage,
});

/** Called by the host seams after each helper process exits (see BatchedCollector). */
export function afterHelperExit(): void {
  collector.exited();
}

/** Called by the response encoder with each answer's size (see BatchedCollector). */
export function afterAnswer(bytes: number): void {
  collector.answered(bytes);
}
