/**
 * The in-memory index of one kind of object (pods now, containers next): lookup by full id or by
 * a unique prefix of it, as crictl and the kubelet's logs use short ids.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";

export class ObjectIndex<T extends { readonly id: string }> {
  readonly #byId = new Map<string, T>();
  readonly #kind: string;

  constructor(kind: string) {
    this.#kind = kind;
  }

  add(obj: T): void {
    this.#byId.set(obj.id, obj);
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }

  list(): T[] {
    return [...this.#byId.values()];
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
