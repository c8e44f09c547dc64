/**
 * The containers the daemon knows: the in-memory index (full id or unique prefix), the name
 * registrar, and the per-container records on disk (<root>/containers/<id>/{meta,status}.json),
 * with the same helpers and write-then-swap discipline as the pod store. Calls on one container
 * are serialised by withLock, so Stop and Remove never interleave on it.
 */
import { ObjectIndex } from "../../storage/object_index.ts";
import { NameRegistrar } from "../../storage/registrar.ts";
import { RecordDir } from "../../storage/record_dir.ts";
import type { Container, ContainerMeta, ContainerStatusRecord } from "./container_state.ts";

export class ContainerStore {
  readonly index = new ObjectIndex<Container>("container");
  readonly names = new NameRegistrar();
  readonly records: RecordDir;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(stateDir: string) {
    this.records = new RecordDir(stateDir);
  }

  /** Writes the records of a container being created; it joins the index only on commit. */
  async begin(meta: ContainerMeta): Promise<Container> {
    await this.records.write(meta.id, "meta", meta);
    const status: ContainerStatusRecord = { state: "creating" };
    await this.records.write(meta.id, "status", status);
    return { id: meta.id, meta, status };
  }

  async commit(c: Container, status: ContainerStatusRecord): Promise<Container> {
    await this.records.write(c.id, "status", status);
    const next = { ...c, status };
    this.index.add(next);
    return next;
  }

  async update(
    id: string,
    fn: (s: ContainerStatusRecord) => ContainerStatusRecord,
  ): Promise<Container> {
    const c = this.index.get(id);
    const status = fn(structuredClone(c.status));
    await this.records.write(id, "status", status);
    const next = { ...c, status };
    this.index.add(next);
    return next;
  }

  /** Forgets the container: index, name, records. */
  async forget(c: { id: string; meta: { name: string } }): Promise<void> {
    await this.records.remove(c.id);
    this.index.delete(c.id);
    this.names.release(c.meta.name, c.id);
  }

  byPod(podId: string): Container[] {
    return this.index.list().filter((c) => c.meta.podId === podId);
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
