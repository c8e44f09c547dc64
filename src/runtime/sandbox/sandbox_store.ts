/**
 * The pods the daemon knows: the in-memory index (full id or unique prefix), the name registrar,
 * and the per-pod records on disk (<root>/pods/<id>/{meta,status,network}.json). Status changes go
 * through update(): the new status is written atomically first, then swapped into memory. Calls on
 * one pod are serialised by withLock, so Stop and Remove never interleave on it.
 */
import { ObjectIndex } from "../../storage/object_index.ts";
import { NameRegistrar } from "../../storage/registrar.ts";
import { RecordDir } from "../../storage/record_dir.ts";
import type { Pod, PodMeta, PodNetworkRecord, PodStatusRecord } from "./pod_state.ts";

export class SandboxStore {
  readonly index = new ObjectIndex<Pod>("pod sandbox");
  readonly names = new NameRegistrar();
  readonly records: RecordDir;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(stateDir: string) {
    this.records = new RecordDir(stateDir);
  }

  /** Writes the records of a pod being created; it joins the index only once ready (commit). */
  async begin(meta: PodMeta): Promise<Pod> {
    await this.records.write(meta.id, "meta", meta);
    const status: PodStatusRecord = { state: "creating", ips: [] };
    await this.records.write(meta.id, "status", status);
    return { id: meta.id, meta, status };
  }

  async commit(pod: Pod, status: PodStatusRecord): Promise<Pod> {
    await this.records.write(pod.id, "status", status);
    const ready = { ...pod, status };
    this.index.add(ready);
    return ready;
  }

  async update(id: string, fn: (s: PodStatusRecord) => PodStatusRecord): Promise<Pod> {
    const pod = this.index.get(id);
    const status = fn(structuredClone(pod.status));
    await this.records.write(id, "status", status);
    const next = { ...pod, status };
    this.index.add(next);
    return next;
  }

  writeNetwork(id: string, net: PodNetworkRecord): Promise<void> {
    return this.records.write(id, "network", net);
  }

  async readNetwork(id: string): Promise<PodNetworkRecord> {
    return (await this.records.read<PodNetworkRecord>(id, "network")) ?? {};
  }

  /** Forgets the pod: index, name, records. */
  async forget(pod: { id: string; meta: { name: string } }): Promise<void> {
    await this.records.remove(pod.id);
    this.index.delete(pod.id);
    this.names.release(pod.meta.name, pod.id);
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
