/**
 * The set-up the measuring tools share (stream_soak, exec_floor, pod_churn): a local registry with
 * the critest images, a daemon of the harness's isolated set-up (bin/crio, as a node runs it), and
 * one CRI client, on one connection as the kubelet keeps one.
 */
import { cacheDir, k8sMinor } from "../src/cri/k8s_versions.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { buildAndPushCritestImages, registriesConf } from "./images/critest_images.ts";
import { type DaemonUnderTest, drainPods, removeBridge, startDaemon } from "./daemon.ts";
import { startRegistry } from "./registry.ts";

function warn(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

export interface ToolDaemon {
  daemon: DaemonUnderTest;
  cri: CriTestClient;
  /** The tool's temp dir (the daemon's root, run dir and socket live in it). */
  dir: string;
  /** Undo steps the tool adds (its pods); run before the daemon's own. */
  undo: (() => Promise<unknown>)[];
}

/**
 * Runs fn against a fresh tool daemon in a temp dir of its own, then runs every undo step in
 * reverse (a failing step is reported and the others still run) and removes the dir.
 */
export async function withToolDaemon<T>(
  o: { prefix: string; runtime: string; k8s: string },
  fn: (t: ToolDaemon) => Promise<T>,
): Promise<T> {
  const undo: (() => Promise<unknown>)[] = [];
  const dir = await Deno.makeTempDir({ prefix: o.prefix });
  undo.push(() => Deno.remove(dir, { recursive: true }));
  try {
    const started = await startToolDaemon(dir, { ...o, undo });
    return await fn({ ...started, dir, undo });
  } finally {
    for (const u of undo.reverse()) await u().catch((e) => warn(`cleanup: ${e}`));
  }
}

async function startToolDaemon(
  dir: string,
  o: { runtime: string; k8s: string; undo: (() => Promise<unknown>)[] },
): Promise<Pick<ToolDaemon, "daemon" | "cri">> {
  const pins = k8sMinor(o.k8s);
  const registry = await startRegistry();
  o.undo.push(() => registry.stop());
  const images = await buildAndPushCritestImages({
    registry: registry.host,
    critestVersion: pins.criTools,
  });
  await Deno.writeTextFile(`${dir}/registries.conf`, registriesConf(images.hosts, registry.host));
  const daemon = await startDaemon(dir, {
    runtime: o.runtime,
    k8s: o.k8s,
    registriesConf: `${dir}/registries.conf`,
  });
  o.undo.push(() => removeBridge());
  o.undo.push(() => daemon.child.stop(15_000));
  const crictl = `${cacheDir()}/cri-tools/${pins.criTools}/crictl`;
  o.undo.push(() => drainPods(daemon.endpoint, crictl));
  const cri = new CriTestClient(daemon.socket, loadSchema(o.k8s));
  o.undo.push(() => Promise.resolve(cri.close()));
  return { daemon, cri };
}
