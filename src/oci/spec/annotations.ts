/**
 * The spec's annotations: CRI-O's io.kubernetes.cri-o.* keys (the durable description of the
 * container, read back when the daemon restores state), then the pod's and container's own
 * annotations and the CRI labels, as CRI-O copies them. Keys that runtimes or systemd act on
 * (run.oci.*, org.systemd.property.*, io.containers.trace-syscall) and our own namespace are
 * dropped unless the handler's allowed_annotations names them (CVE-2024-3154). Image labels are
 * never an input here (CVE-2026-53488).
 */
import type { ContainerMetadata } from "../../cri/gen/api.ts";
import type { ContainerVolume } from "./mounts.ts";

export const ANN = {
  image: "io.kubernetes.cri-o.Image",
  imageName: "io.kubernetes.cri-o.ImageName",
  imageRef: "io.kubernetes.cri-o.ImageRef",
  name: "io.kubernetes.cri-o.Name",
  containerId: "io.kubernetes.cri-o.ContainerID",
  sandboxId: "io.kubernetes.cri-o.SandboxID",
  sandboxName: "io.kubernetes.cri-o.SandboxName",
  containerType: "io.kubernetes.cri-o.ContainerType",
  logPath: "io.kubernetes.cri-o.LogPath",
  tty: "io.kubernetes.cri-o.TTY",
  stdin: "io.kubernetes.cri-o.Stdin",
  stdinOnce: "io.kubernetes.cri-o.StdinOnce",
  resolvPath: "io.kubernetes.cri-o.ResolvPath",
  containerManager: "io.kubernetes.cri-o.ContainerManager",
  mountPoint: "io.kubernetes.cri-o.MountPoint",
  seccompProfilePath: "io.kubernetes.cri-o.SeccompProfilePath",
  created: "io.kubernetes.cri-o.Created",
  metadata: "io.kubernetes.cri-o.Metadata",
  labels: "io.kubernetes.cri-o.Labels",
  annotations: "io.kubernetes.cri-o.Annotations",
  volumes: "io.kubernetes.cri-o.Volumes",
  ip: "io.kubernetes.cri-o.IP",
  stopSignal: "org.opencontainers.image.stopSignal",
} as const;

const RESERVED = [
  "io.kubernetes.cri-o.",
  "run.oci.",
  "org.systemd.property.",
  "io.containers.trace-syscall",
];

/** Drops reserved keys unless allowed (an allowed entry matches the key or a prefix of it). */
export function filterAnnotations(
  annotations: Record<string, string> | undefined,
  allowed: readonly string[],
): { kept: Record<string, string>; dropped: string[] } {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(annotations ?? {})) {
    const reserved = RESERVED.some((p) => k.startsWith(p));
    if (reserved && !allowed.some((a) => k === a || k.startsWith(a))) dropped.push(k);
    else kept[k] = v;
  }
  return { kept, dropped };
}

export interface AnnotationInput {
  containerId: string;
  /** k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
  name: string;
  sandboxId: string;
  sandboxName: string;
  metadata: ContainerMetadata;
  /** What the CRI config asked for, and what it resolved to. */
  image: { requested: string; name: string; ref: string };
  logPath: string;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  resolvPath?: string;
  rootfs: string;
  seccompRef: string;
  created: Date;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  sandboxAnnotations: Record<string, string>;
  volumes: ContainerVolume[];
  podIps?: string[];
  stopSignal?: string;
  systemd?: boolean;
}

export function buildAnnotations(input: AnnotationInput, allowed: readonly string[]): {
  annotations: Record<string, string>;
  dropped: string[];
} {
  const pod = filterAnnotations(input.sandboxAnnotations, allowed);
  const own = filterAnnotations(input.annotations, allowed);
  const labels = filterAnnotations(input.labels, allowed);
  const out: Record<string, string> = { ...pod.kept };
  Object.assign(out, {
    [ANN.image]: input.image.requested,
    [ANN.imageName]: input.image.name,
    [ANN.imageRef]: input.image.ref,
    [ANN.name]: input.name,
    [ANN.containerId]: input.containerId,
    [ANN.sandboxId]: input.sandboxId,
    [ANN.sandboxName]: input.sandboxName,
    [ANN.containerType]: "container",
    [ANN.logPath]: input.logPath,
    [ANN.tty]: String(input.tty),
    [ANN.stdin]: String(input.stdin),
    [ANN.stdinOnce]: String(input.stdinOnce),
    [ANN.resolvPath]: input.resolvPath ?? "",
    [ANN.containerManager]: "cri-o",
    [ANN.mountPoint]: input.rootfs,
    [ANN.seccompProfilePath]: input.seccompRef,
    [ANN.created]: input.created.toISOString(),
    [ANN.metadata]: JSON.stringify(input.metadata),
    [ANN.labels]: JSON.stringify(input.labels),
    [ANN.volumes]: JSON.stringify(input.volumes),
    [ANN.annotations]: JSON.stringify(input.annotations),
  });
  Object.assign(out, own.kept, labels.kept);
  (input.podIps ?? []).forEach((ip, i) => out[`${ANN.ip}.${i}`] = ip);
  if (input.systemd) {
    out["org.systemd.property.DefaultDependencies"] = "true";
    out["org.systemd.property.After"] = "['crio.service']";
  }
  if (input.stopSignal) out[ANN.stopSignal] = input.stopSignal;
  return { annotations: out, dropped: [...pod.dropped, ...own.dropped, ...labels.dropped] };
}
