/**
 * The pods the daemon knows (<root>/pods/<id>/{meta,status,network}.json): the shared record
 * store, plus the per-pod CNI cache that DEL reads back.
 */
import { RecordStore } from "../../storage/record_store.ts";
import type { Pod, PodMeta, PodNetworkRecord, PodStatusRecord } from "./pod_state.ts";

export class SandboxStore extends RecordStore<PodMeta, PodStatusRecord> {
  constructor(stateDir: string) {
    super(stateDir, { kind: "pod sandbox" });
  }

  /** Writes the records of a pod being created; it joins the index only once ready (commit). */
  override begin(meta: PodMeta, status: PodStatusRecord = { state: "creating", ips: [] }) {
    return super.begin(meta, status) as Promise<Pod>;
  }

  writeNetwork(id: string, net: PodNetworkRecord): Promise<void> {
    return this.records.write(id, "network", net);
  }

  async readNetwork(id: string): Promise<PodNetworkRecord> {
    return (await this.records.read<PodNetworkRecord>(id, "network")) ?? {};
  }
}
