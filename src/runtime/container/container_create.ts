/**
 * CreateContainer's steps, each registering its undo: records, rootfs overlay, host inputs and
 * spec, bundle + conmon (`runtime create`). The caller runs them under withRollback, so a failure
 * anywhere leaves no mount, dir, runtime state or name behind.
 */
import { type ContainerConfig, NamespaceMode, type PodSandboxConfig } from "../../cri/gen/api.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../errors.ts";
import type { ImageRecord } from "../../image/image_store.ts";
import { buildContainerSpec } from "../../oci/spec/build.ts";
import { containerLogPath } from "../../oci/spec/paths.ts";
import { minMemoryBytes } from "../../oci/spec/resources.ts";
import type { ImageConfig } from "../../oci/spec/types.ts";
import { resolveHostInputs } from "../../oci/spec_inputs.ts";
import type { Rollback } from "../../util/rollback.ts";
import type { Pod } from "../sandbox/pod_state.ts";
import { canonical, sha256 } from "../sandbox/request.ts";
import type { Container, ContainerImage, ContainerMeta } from "./container_state.ts";
import { nanos } from "./container_state.ts";
import type { ContainerDeps } from "./deps.ts";
import { mountRootfs, unmountRootfs } from "./rootfs.ts";
import {
  type ImageVolumePlan,
  mountImageVolumes,
  planImageVolumes,
  unmountImageVolumes,
} from "./image_volumes.ts";
import { containerName } from "../../oci/spec/paths.ts";

/**
 * Removes a container's dirs. The mount point is removed without recursion, so a rootfs that is
 * still mounted is never emptied through the mount.
 */
export async function removeContainerDirs(
  meta: Pick<ContainerMeta, "bundle" | "rootfs" | "runDir" | "storageDir">,
): Promise<void> {
  const gone = (err: unknown) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  };
  await Deno.remove(meta.bundle, { recursive: true }).catch(gone);
  await Deno.remove(meta.rootfs).catch(gone);
  await Deno.remove(meta.runDir).catch(gone);
  await Deno.remove(`${meta.storageDir}/layer`, { recursive: true }).catch(gone);
}

export interface ContainerPlan {
  pod: Pod;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  name: string;
  requestHash: string;
  image: ImageRecord;
  imageVolumes: ImageVolumePlan[];
}

export async function planContainer(
  req: { podSandboxId?: string; config?: ContainerConfig; sandboxConfig?: PodSandboxConfig },
  deps: ContainerDeps,
): Promise<ContainerPlan> {
  if (!req.podSandboxId) throw new InvalidArgumentError("pod_sandbox_id is required");
  const config = req.config;
  if (!config) throw new InvalidArgumentError("container config is required");
  const pod = deps.sandboxes.get(req.podSandboxId);
  if (pod.status.state !== "ready") {
    throw new FailedPreconditionError(`pod sandbox ${pod.id} is not ready`);
  }
  const imageVolumes = planImageVolumes(config.mounts ?? [], (ref) => deps.images.find(ref));
  const wanted = config.image?.image ?? "";
  if (!wanted) throw new InvalidArgumentError("container config image is required");
  const image = deps.images.find(wanted);
  if (!image) throw new NotFoundError(`image ${JSON.stringify(wanted)} not found`);
  const sandboxConfig = pod.meta.config;
  const name = containerName(config.metadata ?? {}, sandboxConfig.metadata ?? {});
  const requestHash = await sha256(canonical({ pod: pod.id, config }));
  return { pod, config, sandboxConfig, name, requestHash, image, imageVolumes };
}

async function imageConfig(deps: ContainerDeps, rec: ImageRecord): Promise<ImageConfig> {
  try {
    const text = await Deno.readTextFile(deps.images.store.blobPath(rec.id, "config.json"));
    return (JSON.parse(text)?.config ?? {}) as ImageConfig;
  } catch {
    return {};
  }
}

function imageOf(plan: ContainerPlan): ContainerImage {
  const rec = plan.image;
  const requested = plan.config.image?.image ?? rec.id;
  return {
    requested,
    name: rec.repoTags[0] ?? requested,
    ref: rec.repoDigests[0] ?? rec.id,
    id: rec.id,
  };
}

function metaOf(plan: ContainerPlan, o: { id: string; deps: ContainerDeps }): ContainerMeta {
  const cfg = o.deps.config();
  const runDir = `${o.deps.runRoot}/${o.id}`;
  return {
    id: o.id,
    name: plan.name,
    requestHash: plan.requestHash,
    podId: plan.pod.id,
    createdAt: nanos(),
    config: plan.config,
    image: imageOf(plan),
    runtimeHandler: plan.pod.meta.runtimeHandler || cfg.runtime.default_runtime,
    logPath: containerLogPath({
      logDirectory: plan.sandboxConfig.logDirectory || `${cfg.crio.log_dir}/${plan.pod.id}`,
      logPath: plan.config.logPath,
      containerId: o.id,
    }),
    storageDir: `${o.deps.storageRoot}/${o.id}`,
    runDir,
    bundle: `${runDir}/bundle`,
    rootfs: `${runDir}/merged`,
    mounts: [],
  };
}

/** Creates the container up to "created"; every step registers its undo on rb. */
export async function createContainer(
  plan: ContainerPlan,
  o: { id: string; deps: ContainerDeps; rollback: Rollback },
): Promise<Container> {
  const { deps, rollback: rb } = o;
  const base = metaOf(plan, o);
  const runtime = deps.runtime(base.runtimeHandler);
  await deps.store.records.create(o.id);
  rb.add("records", () => deps.store.records.remove(o.id));
  rb.add("dirs", () => removeContainerDirs(base));
  await deps.store.begin(base);
  await mountRootfs({ storageDir: `${base.storageDir}/layer`, merged: base.rootfs }, {
    ...deps.mounts,
    lowers: deps.images.layerDirs(plan.image),
  });
  rb.add("rootfs", () => unmountRootfs(base.rootfs, deps.mounts));
  rb.add("image volumes", () => unmountImageVolumes(base.runDir, deps.mounts));
  const mounts = await mountImageVolumes(plan.config.mounts ?? [], {
    ...deps.mounts,
    plans: plan.imageVolumes,
    storageDir: `${base.storageDir}/layer`,
    runDir: base.runDir,
    layerDirs: (rec) => deps.images.layerDirs(rec),
  });
  const built = await buildSpec({ ...plan, config: { ...plan.config, mounts } }, {
    meta: base,
    deps,
  });
  const meta: ContainerMeta = { ...base, stopSignal: built.stopSignal, mounts: built.mounts };
  await deps.store.records.write(o.id, "meta", meta);
  rb.add("runtime", () => runtime.delete(o.id));
  const started = await runtime.create({
    id: o.id,
    bundle: meta.bundle,
    spec: built.spec,
    logPath: meta.logPath,
    name: meta.name,
    terminal: !!plan.config.tty,
    stdin: !!plan.config.stdin,
    stdinOnce: !!plan.config.stdinOnce,
  });
  for (const w of built.warnings) deps.log.warn(w, { container: o.id });
  return await deps.store.commit({ id: o.id, meta, status: { state: "creating" } }, {
    state: "created",
    pid: started.pid,
  });
}

async function buildSpec(plan: ContainerPlan, o: { meta: ContainerMeta; deps: ContainerDeps }) {
  const { deps, meta } = o;
  const cfg = deps.config();
  const handler = deps.handler(meta.runtimeHandler);
  const imgConfig = await imageConfig(deps, plan.image);
  const host = await resolveHostInputs({
    config: plan.config,
    image: imgConfig,
    rootfs: meta.rootfs,
  }, {
    config: cfg,
    privilegedWithoutHostDevices: handler.config.privileged_without_host_devices,
  });
  const pod = plan.pod.meta;
  const pid = podPidNamespace(plan, deps);
  const built = buildContainerSpec({
    containerId: meta.id,
    sandboxId: pod.id,
    config: { ...podNetworkIpc(pid.config, pod.modes), mounts: host.criMounts },
    sandboxConfig: plan.sandboxConfig,
    image: { config: imgConfig, ...meta.image },
    rootfs: meta.rootfs,
    logPath: meta.logPath,
    user: host.user,
    devices: host.devices,
    hostDevices: host.hostDevices,
    seccompText: host.seccompText,
    pod: {
      namespaces: { ...pod.nsPaths, ...(pid.path ? { pid: pid.path } : {}) },
      files: {
        shmPath: pod.shmPath,
        resolvPath: `${pod.runDir}/resolv.conf`,
        hostnamePath: `${pod.runDir}/hostname`,
        hostsPath: `${pod.runDir}/hosts`,
      },
      cgroupParent: pod.cgroupParent,
      ips: [...plan.pod.status.ips],
    },
  }, {
    config: cfg,
    handler: {
      name: meta.runtimeHandler,
      allowedAnnotations: handler.config.allowed_annotations,
      minMemory: minMemoryBytes(handler.config.container_min_memory, meta.runtimeHandler),
      privilegedWithoutHostDevices: handler.config.privileged_without_host_devices,
    },
    facts: await deps.facts(meta.runtimeHandler),
  });
  return { ...built, mounts: host.criMounts };
}

/**
 * Network and IPC are the pod's whatever the container config says (as CRI-O takes them from the
 * sandbox): critest's host-network containers carry no namespace options, and without this they
 * got a network namespace of their own instead of the host's.
 */
function podNetworkIpc(config: ContainerConfig, modes: Pod["meta"]["modes"]): ContainerConfig {
  const sc = config.linux?.securityContext;
  const namespaceOptions = {
    ...sc?.namespaceOptions,
    network: modes.network as NamespaceMode,
    ipc: modes.ipc as NamespaceMode,
  };
  return { ...config, linux: { ...config.linux, securityContext: { ...sc, namespaceOptions } } };
}

/**
 * Pods have no infra process, so no PID namespace of their own: the pod's is that of its oldest
 * live container (joined through /proc/<pid>/ns/pid), and the first container creates it.
 */
function podPidNamespace(
  plan: ContainerPlan,
  deps: ContainerDeps,
): { config: ContainerConfig; path?: string } {
  const sc = plan.config.linux?.securityContext;
  if ((sc?.namespaceOptions?.pid ?? NamespaceMode.POD) !== NamespaceMode.POD) {
    return { config: plan.config };
  }
  const live = deps.store.byPod(plan.pod.id)
    .filter((c) => (c.status.state === "running" || c.status.state === "created") && c.status.pid)
    .filter((c) =>
      (c.meta.config.linux?.securityContext?.namespaceOptions?.pid ?? NamespaceMode.POD) ===
        NamespaceMode.POD
    )
    .sort((a, b) => (BigInt(a.meta.createdAt) < BigInt(b.meta.createdAt) ? -1 : 1));
  if (live.length) return { config: plan.config, path: `/proc/${live[0].status.pid}/ns/pid` };
  const namespaceOptions = { ...sc?.namespaceOptions, pid: NamespaceMode.CONTAINER };
  const linux = { ...plan.config.linux, securityContext: { ...sc, namespaceOptions } };
  return { config: { ...plan.config, linux } };
}
