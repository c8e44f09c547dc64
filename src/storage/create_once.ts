/**
 * Idempotent creation for kubelet requests that are retried after a client timeout: a request
 * with the same name and the same config gets the object an earlier request created (or is still
 * creating) back; the same name with another config is AlreadyExists. The name is reserved before
 * any await, so a concurrent request sees it; a failed creation rolls back and releases it.
 */
import { AlreadyExistsError } from "../errors.ts";
import { type Rollback, withRollback } from "../util/rollback.ts";
import { newId } from "./record_dir.ts";
import type { NameRegistrar } from "./registrar.ts";

export interface CreatePlan {
  readonly name: string;
  readonly requestHash: string;
}

export class CreateOnce<T extends { readonly id: string }> {
  readonly #inFlight = new Map<string, { hash: string; done: Promise<T> }>();
  readonly #names: NameRegistrar;
  readonly #kind: string;

  constructor(names: NameRegistrar, options: { kind: string }) {
    this.#names = names;
    this.#kind = options.kind;
  }

  async create(
    plan: CreatePlan,
    options: {
      /** The existing object for an id the name is held by, when it counts as created. */
      existing: (id: string) => T | undefined;
      build: (id: string, rollback: Rollback) => Promise<T>;
      onUndoFailure: (id: string, failures: string[]) => void;
    },
  ): Promise<string> {
    const flight = this.#inFlight.get(plan.name);
    if (flight?.hash === plan.requestHash) return (await flight.done).id;
    const held = this.#names.get(plan.name);
    if (held) {
      const found = options.existing(held.id);
      if (held.key === plan.requestHash && found) return found.id;
      throw new AlreadyExistsError(
        `${this.#kind} name ${JSON.stringify(plan.name)} is reserved for ${held.id}`,
      );
    }
    const id = newId();
    this.#names.reserve(plan.name, { id, key: plan.requestHash });
    const done = withRollback(
      (rb) => options.build(id, rb),
      (failures) => options.onUndoFailure(id, failures),
    );
    this.#inFlight.set(plan.name, { hash: plan.requestHash, done });
    try {
      return (await done).id;
    } catch (err) {
      this.#names.release(plan.name, id);
      throw err;
    } finally {
      this.#inFlight.delete(plan.name);
    }
  }
}
