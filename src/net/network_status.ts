/**
 * Keeps the CNI readiness current: re-reads the config dir whenever it changes, so NetworkReady
 * follows the node's CNI set-up without a restart.
 */
import type { Logger } from "../log.ts";
import { type CniFs, hostCniFs, type NetworkReadiness, readNetwork } from "./cni_config.ts";

export interface NetworkStatusOptions {
  networkDir: string;
  pluginDirs: readonly string[];
  defaultNetwork: string;
  log: Logger;
  fs?: CniFs;
}

export class NetworkStatus {
  #state: NetworkReadiness = { ready: false, reason: "NetworkPluginNotReady", message: "not read" };
  #watcher?: Deno.FsWatcher;
  #timer?: ReturnType<typeof setTimeout>;
  readonly #opts: NetworkStatusOptions;

  constructor(opts: NetworkStatusOptions) {
    this.#opts = opts;
  }

  get current(): NetworkReadiness {
    return this.#state;
  }

  async refresh(): Promise<NetworkReadiness> {
    const o = this.#opts;
    const next = await readNetwork(o.fs ?? hostCniFs, o);
    const was = this.#state;
    this.#state = next;
    if (next.ready && (!was.ready || was.network.file !== next.network.file)) {
      o.log.info("CNI network ready", { network: next.network.name, file: next.network.file });
    } else if (!next.ready && (was.ready || was.message !== next.message)) {
      o.log.warn("CNI network not ready", { reason: next.message });
    }
    return next;
  }

  /** Watches the config dir (created if absent) until close(). */
  async watch(): Promise<void> {
    await this.refresh();
    try {
      await Deno.mkdir(this.#opts.networkDir, { recursive: true });
      this.#watcher = Deno.watchFs(this.#opts.networkDir, { recursive: false });
    } catch (err) {
      this.#opts.log.warn("cannot watch CNI config dir; NetworkReady is read on demand", {
        dir: this.#opts.networkDir,
        error: String(err),
      });
      return;
    }
    (async () => {
      for await (const _ of this.#watcher!) {
        // Editors and package managers write in bursts; read once they settle.
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.refresh(), 100);
      }
    })().catch(() => {});
  }

  close(): void {
    clearTimeout(this.#timer);
    try {
      this.#watcher?.close();
    } catch { /* already closed */ }
  }
}
