/**
 * The calls the CRI server is answering, so that shutdown can let them finish before it closes
 * the connections.
 */
export class InflightCalls {
  #count = 0;
  #waiters: (() => void)[] = [];

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    if (this.#count === 0) throw new Error("InflightCalls.leave() without enter()");
    if (--this.#count === 0) { for (const wake of this.#waiters.splice(0)) wake(); }
  }

  /** Resolves true once no call is in flight, or false when the signal aborts first. */
  idle(signal: AbortSignal): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(false);
      };
      this.#waiters.push(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
