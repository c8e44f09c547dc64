/** What the sandbox steps need from the host, each behind a seam the unit tests fake. */
import type { Logger } from "../../log.ts";
import type { CniInvoker } from "../../net/cni_attach.ts";
import type { NetworkReadiness } from "../../net/cni_config.ts";
import type { NamespaceManager } from "../../net/namespaces.ts";
import type { NetnsDialer } from "../../net/netns_dial.ts";
import type { MountPoints } from "../../util/mountinfo.ts";
import type { PodFiles } from "./pod_files.ts";
import type { SandboxStore } from "./sandbox_store.ts";

export interface SandboxDeps {
  store: SandboxStore;
  namespaces: NamespaceManager;
  files: PodFiles;
  cni: CniInvoker;
  /** The default network as the config dir says now. */
  network: () => NetworkReadiness;
  mountPoints: MountPoints;
  /** TCP connections inside a pod's network namespace (port-forward). */
  dialer: NetnsDialer;
  /** <runroot>/pods: per-pod volatile files. */
  runRoot: string;
  log: Logger;
}
