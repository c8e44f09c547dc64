/**
 * Each exec'd container's process, from its bundle's config.json. The file is written once, at
 * create, and never changed, while ExecSync (the kubelet's exec probes) read and parsed it,
 * seccomp profile and all, on every call (~0.5 ms). Filled on a container's first exec; the
 * runtime forgets an id at create and delete, so a retried create is read afresh.
 */
import { FailedPreconditionError } from "../errors.ts";
import { bundleFiles } from "./conmon.ts";
import type { OciHost } from "./host.ts";
import type { OciProcess, OciSpec } from "./spec/types.ts";

export class ContainerProcesses {
  readonly #host: OciHost;
  readonly #known = new Map<string, { bundle: string; process: OciProcess }>();

  constructor(host: OciHost) {
    this.#host = host;
  }

  async get(id: string, bundle: string): Promise<OciProcess> {
    const known = this.#known.get(id);
    if (known?.bundle === bundle) return known.process;
    const bytes = await this.#host.readFile(bundleFiles(bundle).config, 16 << 20);
    if (!bytes) throw new FailedPreconditionError(`bundle ${bundle} has no config.json`);
    const process = (JSON.parse(new TextDecoder().decode(bytes)) as OciSpec).process;
    this.#known.set(id, { bundle, process });
    return process;
  }

  forget(id: string): void {
    this.#known.delete(id);
  }
}
