/**
 * The containers the daemon knows (<root>/containers/<id>/{meta,status}.json): the shared record
 * store, with the same write-then-swap discipline and per-id locks as the pod store.
 */
import { RecordStore } from "../../storage/record_store.ts";
import type { Container, ContainerMeta, ContainerStatusRecord } from "./container_state.ts";

export class ContainerStore extends RecordStore<ContainerMeta, ContainerStatusRecord> {
  constructor(stateDir: string) {
    super(stateDir, { kind: "container" });
  }

  /** Writes the records of a container being created; it joins the index only on commit. */
  override begin(meta: ContainerMeta, status: ContainerStatusRecord = { state: "creating" }) {
    return super.begin(meta, status) as Promise<Container>;
  }

  byPod(podId: string): Container[] {
    return this.index.list().filter((c) => c.meta.podId === podId);
  }
}
