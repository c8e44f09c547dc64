/**
 * The shape both pod and container stores share: an in-memory index (full id or unique prefix),
 * a name registrar, and per-object records on disk ({meta,status}.json under one dir per id).
 * Status changes are written atomically first, then swapped into memory, so a failed write leaves
 * memory as it was. Calls on one object are serialised by withLock, so Stop and Remove never
 * interleave on it.
 */
import { compareNanos } from "../util/nanos.ts";
import { ObjectIndex } from "./object_index.ts";
import { NameRegistrar } from "./registrar.ts";
import { RecordDir } from "./record_dir.ts";

export interface StoredObject<M, S> {
  readonly id: string;
  readonly meta: M;
  readonly status: S;
}

/** The order List calls answer in, as CRI-O's: oldest first (nanosecond decimal strings). */
function byCreation(a: { meta: { createdAt: string } }, b: { meta: { createdAt: string } }) {
  return compareNanos(a.meta.createdAt, b.meta.createdAt);
}

export class RecordStore<
  M extends { id: string; name: string; createdAt: string },
  S extends object,
> {
  readonly index: ObjectIndex<StoredObject<M, S>>;
  readonly names = new NameRegistrar();
  readonly records: RecordDir;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(stateDir: string, options: { kind: string }) {
    this.records = new RecordDir(stateDir);
    this.index = new ObjectIndex<StoredObject<M, S>>(options.kind, { order: byCreation });
  }

  /** Writes the records of an object being created; it joins the index only on commit. */
  async begin(meta: M, status: S): Promise<StoredObject<M, S>> {
    await this.records.write(meta.id, "meta", meta);
    await this.records.write(meta.id, "status", status);
    return { id: meta.id, meta, status };
  }

  async commit(obj: StoredObject<M, S>, status: S): Promise<StoredObject<M, S>> {
    await this.records.write(obj.id, "status", status);
    const next = { ...obj, status };
    this.index.add(next);
    return next;
  }

  async update(id: string, fn: (s: S) => S): Promise<StoredObject<M, S>> {
    const obj = this.index.get(id);
    const status = fn(structuredClone(obj.status));
    await this.records.write(id, "status", status);
    const next = { ...obj, status };
    this.index.add(next);
    return next;
  }

  /** Forgets the object: index, name, records. */
  async forget(obj: { id: string; meta: { name: string } }): Promise<void> {
    await this.records.remove(obj.id);
    this.index.delete(obj.id);
    this.names.release(obj.meta.name, obj.id);
  }

  /** Runs fn after every earlier call holding id's lock has finished. */
  async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const run = prev.catch(() => {}).then(fn);
    this.#locks.set(id, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(id) === run) this.#locks.delete(id);
    }
  }
}
