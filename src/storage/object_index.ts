/**
 * The in-memory index of one kind of object (pods now, containers next): lookup by full id or by
 * a unique prefix of it, as crictl and the kubelet's logs use short ids.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";

export class ObjectIndex<T extends { readonly id: string }> {
  readonly #byId = new Map<string, T>();
  readonly #kind: string;
  readonly #order?: (a: T, b: T) => number;
  /** list()'s answer until the next change: the kubelet lists every second, changes are rarer. */
  #listed?: readonly T[];

  constructor(kind: string, options: { order?: (a: T, b: T) => number } = {}) {
    this.#kind = kind;
    this.#order = options.order;
  }

  add(obj: T): void {
    this.#byId.set(obj.id, obj);
    this.#listed = undefined;
  }

  delete(id: string): void {
    if (this.#byId.delete(id)) this.#listed = undefined;
  }

  /** Every object, in the index's order (insertion order when it has none); frozen, shared. */
  list(): readonly T[] {
    if (!this.#listed) {
      const all = [...this.#byId.values()];
      if (this.#order) all.sort(this.#order);
      this.#listed = Object.freeze(all);
    }
    return this.#listed;
  }

  /** The object with exactly this id; undefined when none (no prefix search). */
  exact(id: string): T | undefined {
    return this.#byId.get(id);
  }

  /** The object whose id is, or starts with, idOrPrefix; undefined when none. */
  find(idOrPrefix: string): T | undefined {
    if (!idOrPrefix) return undefined;
    const exact = this.#byId.get(idOrPrefix);
    if (exact) return exact;
    let found: T | undefined;
    for (const [id, obj] of this.#byId) {
      if (!id.startsWith(idOrPrefix)) continue;
      if (found) {
        throw new InvalidArgumentError(
          `${this.#kind} id prefix ${JSON.stringify(idOrPrefix)} is ambiguous`,
        );
      }
      found = obj;
    }
    return found;
  }

  /** Like find(), but throws NotFoundError naming the kind and id. */
  get(idOrPrefix: string): T {
    const obj = this.find(idOrPrefix);
    if (!obj) throw new NotFoundError(`${this.#kind} ${JSON.stringify(idOrPrefix)} not found`);
    return obj;
  }
}
