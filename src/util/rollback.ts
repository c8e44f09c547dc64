/**
 * An undo stack for operations with several side effects: each step registers how to undo itself;
 * on failure every registered undo runs, newest first, and the first error is rethrown. Undo
 * failures are reported, never swallowed silently, and never hide the original error.
 */
import { errorMessage } from "../errors.ts";

export type Undo = () => unknown | Promise<unknown>;

export class Rollback {
  readonly #steps: { what: string; undo: Undo }[] = [];

  /** Registers the undo of a step that has just succeeded. */
  add(what: string, undo: Undo): void {
    this.#steps.push({ what, undo });
  }

  /** The operation succeeded: forget the undos. */
  commit(): void {
    this.#steps.length = 0;
  }

  /** Runs every undo, newest first; returns the failures ("step: message"). */
  async run(): Promise<string[]> {
    const failures: string[] = [];
    while (this.#steps.length) {
      const { what, undo } = this.#steps.pop()!;
      try {
        await undo();
      } catch (err) {
        failures.push(`${what}: ${errorMessage(err)}`);
      }
    }
    return failures;
  }
}

/**
 * Runs fn with a Rollback; if fn throws, undoes its steps and rethrows. onUndoFailure hears about
 * undo steps that failed (to log them).
 */
export async function withRollback<T>(
  fn: (rb: Rollback) => Promise<T>,
  onUndoFailure?: (failures: string[]) => void,
): Promise<T> {
  const rb = new Rollback();
  try {
    const out = await fn(rb);
    rb.commit();
    return out;
  } catch (err) {
    const failures = await rb.run();
    if (failures.length) onUndoFailure?.(failures);
    throw err;
  }
}
