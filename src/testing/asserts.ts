/**
 * The few assertions the unit tests need. JSR (@std/assert) cannot be reached from the build
 * machines, so these are written here; node:assert does the deep comparison.
 */
import { deepStrictEqual } from "node:assert";

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    deepStrictEqual(actual, expected);
  } catch (err) {
    throw new AssertionError(msg ?? (err as Error).message);
  }
}

export function assertStringIncludes(actual: string, expected: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(
      `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
    );
  }
}

export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (err) {
    return checkError(err, type, includes);
  }
  throw new AssertionError("expected function to throw");
}

export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, type, includes);
  }
  throw new AssertionError("expected promise to reject");
}

// deno-lint-ignore no-explicit-any
function checkError<E extends Error>(err: unknown, type?: new (...a: any[]) => E, inc?: string): E {
  if (type && !(err instanceof type)) {
    throw new AssertionError(`expected ${type.name}, got ${String(err)}`);
  }
  if (inc && !(err as Error).message.includes(inc)) {
    throw new AssertionError(`expected message to include ${JSON.stringify(inc)}: ${String(err)}`);
  }
  return err as E;
}
