/** A runtime under test as the workloads see it: a CRI client plus its processes. */
import { loadSchema } from "../src/cri/schema.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import type { RuntimeName } from "./report.ts";
import { cpuSeconds, readStats } from "./procfs.ts";

export interface Target {
  readonly name: RuntimeName;
  readonly pid: number;
  readonly socket: string;
  readonly client: CriTestClient;
  /** Monitor processes: conmon for this daemon, the shims for containerd. */
  monitors(): Promise<number[]>;
  /** Set after the container probe: why container workloads are skipped, if they are. */
  containerSkip?: string;
  /** The OCI runtime that runs this daemon's containers, and its state root (`--root`). */
  readonly ociRuntime: OciRuntime;
}

export interface OciRuntime {
  binary: string;
  root: string;
}

export function makeTarget(
  server: {
    name: RuntimeName;
    pid: number;
    socket: string;
    ociRuntime: OciRuntime;
    monitors(): Promise<number[]>;
  },
): Target {
  const client = new CriTestClient(server.socket, loadSchema());
  return {
    name: server.name,
    pid: server.pid,
    socket: server.socket,
    client,
    ociRuntime: server.ociRuntime,
    monitors: () => server.monitors(),
  };
}

export const UNIMPLEMENTED = 12;

export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

export function rt(t: Target, method: string, req: Record<string, unknown> = {}) {
  return t.client.call("RuntimeService", method, req);
}

export function img(t: Target, method: string, req: Record<string, unknown> = {}) {
  return t.client.call("ImageService", method, req);
}

/** Milliseconds fn took, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

/**
 * What the kubelet sends for a pod without shareProcessNamespace: network and IPC shared by the
 * pod, PID per container. (containerd runs a pause container for every pod; CRI-O, and this
 * daemon, only for a pod that shares its PID namespace.)
 */
const KUBELET_NAMESPACES = { network: 0, pid: 1, ipc: 0 };

let podSeq = 0;
/**
 * The labels and annotations the kubelet puts on every pod and container (its own bookkeeping),
 * so List answers are as large as on a node: 330 containers are ~0.27 MB with them, a third of
 * that without.
 */
function kubeletPodLabels(meta: { name: string; uid: string; namespace: string }) {
  return {
    "io.kubernetes.pod.name": meta.name,
    "io.kubernetes.pod.namespace": meta.namespace,
    "io.kubernetes.pod.uid": meta.uid,
  };
}

export function podConfig(prefix: string): Record<string, unknown> {
  const n = ++podSeq;
  const metadata = { name: `${prefix}-${n}`, uid: crypto.randomUUID(), namespace: "bench" };
  return {
    metadata,
    labels: kubeletPodLabels(metadata),
    annotations: {
      "kubernetes.io/config.seen": new Date().toISOString(),
      "kubernetes.io/config.source": "api",
    },
    linux: { securityContext: { namespaceOptions: KUBELET_NAMESPACES } },
  };
}

export async function runPod(t: Target, config: Record<string, unknown>): Promise<string> {
  const res = await rt(t, "RunPodSandbox", { config });
  return res.podSandboxId as string;
}

export async function stopRemovePod(t: Target, id: string): Promise<void> {
  await rt(t, "StopPodSandbox", { podSandboxId: id });
  await rt(t, "RemovePodSandbox", { podSandboxId: id });
}

export async function createStartContainer(
  t: Target,
  o: { podId: string; podConfig: Record<string, unknown>; name: string; image: string },
): Promise<string> {
  const res = await rt(t, "CreateContainer", {
    podSandboxId: o.podId,
    config: {
      metadata: { name: o.name },
      image: { image: o.image },
      labels: {
        "io.kubernetes.container.name": o.name,
        ...kubeletPodLabels(
          o.podConfig.metadata as { name: string; uid: string; namespace: string },
        ),
      },
      annotations: {
        "io.kubernetes.container.hash": crypto.getRandomValues(new Uint32Array(1))[0].toString(16),
        "io.kubernetes.container.restartCount": "0",
        "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
        "io.kubernetes.container.terminationMessagePolicy": "File",
        "io.kubernetes.pod.terminationGracePeriod": "30",
      },
      command: ["sleep", "3600"],
      linux: { securityContext: { namespaceOptions: KUBELET_NAMESPACES } },
    },
    sandboxConfig: o.podConfig,
  });
  const id = res.containerId as string;
  await rt(t, "StartContainer", { containerId: id });
  return id;
}

/**
 * Asks CreateContainer about a pod that does not exist: UNIMPLEMENTED means the runtime has no
 * containers yet (the reason is kept on the target); any other answer means it has.
 */
export async function probeContainers(t: Target): Promise<void> {
  try {
    await rt(t, "CreateContainer", {
      podSandboxId: "bench-probe-no-such-pod",
      config: { metadata: { name: "probe" }, image: { image: "probe" } },
      sandboxConfig: podConfig("probe"),
    });
  } catch (err) {
    if (grpcCode(err) === UNIMPLEMENTED) t.containerSkip = "CreateContainer not implemented";
  }
}

export async function ensureImage(t: Target, image: string): Promise<void> {
  const status = await img(t, "ImageStatus", { image: { image } });
  if (!status.image) await img(t, "PullImage", { image: { image } });
}

export interface CpuSample {
  /** The daemon itself. */
  daemon: number;
  /** Helpers the daemon spawned and reaped: CNI plugins, unshare/mount, shim start-up. */
  helpers: number;
}

export async function cpuSample(t: Target): Promise<CpuSample> {
  const s = (await readStats([t.pid])).get(t.pid);
  if (!s) throw new Error(`${t.name} (pid ${t.pid}) is gone`);
  return {
    daemon: cpuSeconds(s, { children: false }),
    helpers: s.childUser + s.childSystem,
  };
}

/** Monitors' own CPU and their reaped children's (the OCI runtime runs as a monitor's child). */
export async function monitorCpu(t: Target): Promise<{ monitors: number; runtime: number }> {
  const stats = await readStats(await t.monitors());
  let monitors = 0;
  let runtime = 0;
  for (const s of stats.values()) {
    monitors += s.user + s.system;
    runtime += s.childUser + s.childSystem;
  }
  return { monitors, runtime };
}

/** Runs fn over items, `width` at a time (a batch finishes before the next starts). */
export async function inBatches<T, R>(
  items: readonly T[],
  o: { width: number; fn: (item: T, index: number) => Promise<R> },
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += o.width) {
    const batch = items.slice(i, i + o.width).map((item, j) => o.fn(item, i + j));
    out.push(...await Promise.all(batch));
  }
  return out;
}
