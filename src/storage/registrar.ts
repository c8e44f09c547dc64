/**
 * Unique names for pods (and containers later): a name maps to one id at a time. A reservation
 * also records a key (the hash of the request), so a retried request with the same config can be
 * told apart from a conflicting one.
 */
import { AlreadyExistsError } from "../errors.ts";

export interface Reservation {
  readonly id: string;
  readonly key: string;
}

export class NameRegistrar {
  readonly #byName = new Map<string, Reservation>();

  /** Reserves name for id; throws AlreadyExistsError naming the holder if it is taken. */
  reserve(name: string, r: Reservation): void {
    const held = this.#byName.get(name);
    if (held && held.id !== r.id) {
      throw new AlreadyExistsError(`name ${JSON.stringify(name)} is reserved for ${held.id}`);
    }
    this.#byName.set(name, r);
  }

  get(name: string): Reservation | undefined {
    return this.#byName.get(name);
  }

  /** Releases name if id holds it; releasing twice is fine. */
  release(name: string, id: string): void {
    if (this.#byName.get(name)?.id === id) this.#byName.delete(name);
  }
}
