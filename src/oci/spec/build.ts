/**
 * Builds a container's OCI runtime spec (config.json) from the image config, the CRI container
 * and pod configs, the daemon's configuration and what the caller resolved on the host (the
 * user, devices, profile files, the pod's namespace and file paths). Pure: the same inputs give
 * the same spec, which is what the table tests pin.
 */
import { InvalidArgumentError } from "../../errors.ts";
import {
  type ContainerConfig,
  type PodSandboxConfig,
  SecurityProfile_ProfileType,
  Signal,
} from "../../cri/gen/api.ts";
import type { Config } from "../../config/options.ts";
import { buildAnnotations } from "./annotations.ts";
import { buildCapabilities, type HostCapabilities } from "./capabilities.ts";
import { buildDevices, type HostDevice } from "./devices.ts";
import { buildMounts, type ContainerVolume, type PodFiles, protectedPaths } from "./mounts.ts";
import { buildNamespaces, type PodNamespaces } from "./namespaces.ts";
import { mergeEnv, resolveArgs, resolveCwd } from "./process.ts";
import { buildResources, type ResourceFacts } from "./resources.ts";
import { resolveSeccomp, seccompChoice, seccompRef } from "./seccomp.ts";
import { cgroupsPath, containerName } from "./paths.ts";
import { parseUlimits } from "./ulimits.ts";
import type { ResolvedUser } from "./user.ts";
import { type ImageConfig, OCI_VERSION, type OciProcess, type OciSpec } from "./types.ts";

/** Facts about the node, gathered once at start-up (host_facts.ts). */
export interface HostFacts extends ResourceFacts, HostCapabilities {
  /** Deno.build.arch. */
  arch: string;
  /** The runtime handler supports recursive read-only mounts (`runtime features`). */
  rroSupported: boolean;
  apparmorEnabled: boolean;
  /** Extra masked paths found on this node (CRI-O masks per-CPU thermal_throttle). */
  extraMaskedPaths?: string[];
}

export interface HandlerOptions {
  name: string;
  allowedAnnotations: readonly string[];
  minMemory: number;
  privilegedWithoutHostDevices: boolean;
}

export interface SpecInput {
  containerId: string;
  sandboxId: string;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  image: { config: ImageConfig; requested: string; name: string; ref: string };
  /** The mounted root filesystem. */
  rootfs: string;
  /** From containerLogPath(). */
  logPath: string;
  user: ResolvedUser;
  /** CRI and additional_devices, resolved on the host. */
  devices?: HostDevice[];
  /** All host devices, for a privileged container. */
  hostDevices?: HostDevice[];
  /** Profile files the seccomp choice needs, read by the caller. */
  seccompText?: { localhost?: string; runtimeDefault?: string };
  pod?: {
    namespaces?: PodNamespaces;
    targetPidPath?: string;
    files?: PodFiles;
    cgroupParent?: string;
    ips?: string[];
  };
  imageVolumeBinds?: { destination: string; source: string }[];
  created?: Date;
}

export interface BuiltSpec {
  spec: OciSpec;
  name: string;
  user: ResolvedUser;
  /** Normalised ("SIGTERM"); undefined means the runtime default. */
  stopSignal?: string;
  volumes: ContainerVolume[];
  seccompRef: string;
  warnings: string[];
}

/** The CRI Signal enum name, or the image's StopSignal ("SIGQUIT", "QUIT", "3"). */
export function stopSignalName(cri: Signal | undefined, image?: string): string | undefined {
  if (cri) {
    const key = Object.entries(Signal).find(([, v]) => v === cri)?.[0];
    if (key) return key.slice("SIGNAL_".length);
  }
  if (!image) return undefined;
  const s = image.trim().toUpperCase();
  if (/^\d+$/.test(s)) return s;
  return s.startsWith("SIG") ? s : `SIG${s}`;
}

/** What the daemon contributes: its configuration, the handler and the node's facts. */
type Ctx = { config: Config; handler: HandlerOptions; facts: HostFacts };

function privileged(input: SpecInput): boolean {
  const want = !!input.config.linux?.securityContext?.privileged;
  if (want && !input.sandboxConfig.linux?.securityContext?.privileged) {
    throw new InvalidArgumentError("a privileged container needs a privileged pod sandbox");
  }
  return want;
}

function buildProcess(
  input: SpecInput,
  { config, hostname }: { config: Config; hostname?: string },
): OciProcess {
  const c = input.config;
  const sc = c.linux?.securityContext ?? {};
  return {
    terminal: !!c.tty,
    user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
    args: resolveArgs(input.image.config, c),
    env: mergeEnv({
      image: input.image.config,
      defaultEnv: config.runtime.default_env,
      cri: c.envs,
      tty: c.tty,
      hostname,
    }),
    cwd: resolveCwd(input.image.config, c.workingDir),
    noNewPrivileges: !!sc.noNewPrivs,
    rlimits: parseUlimits(config.runtime.default_ulimits),
  };
}

function apparmorProfile(input: SpecInput, { config, facts }: Ctx): string | undefined {
  const sc = input.config.linux?.securityContext ?? {};
  if (!facts.apparmorEnabled || sc.privileged) return undefined;
  const p = sc.apparmor;
  if (p?.profileType === SecurityProfile_ProfileType.Unconfined) return "unconfined";
  if (p?.profileType === SecurityProfile_ProfileType.Localhost) return p.localhostRef;
  if (sc.apparmorProfile) return sc.apparmorProfile.replace(/^localhost\//, "");
  return config.runtime.apparmor_profile || undefined;
}

/** Capabilities, seccomp and AppArmor: the parts that depend on each other. */
function security(input: SpecInput, ctx: Ctx & { priv: boolean }) {
  const priv = ctx.priv;
  const sc = input.config.linux?.securityContext ?? {};
  const caps = buildCapabilities({
    add: sc.capabilities?.addCapabilities,
    drop: sc.capabilities?.dropCapabilities,
    defaults: ctx.config.runtime.default_capabilities,
    privileged: priv,
    addInheritable: ctx.config.runtime.add_inheritable_capabilities,
  }, ctx.facts);
  const choice = seccompChoice({ ...sc, privileged: priv });
  const seccomp = resolveSeccomp(choice, {
    // The filter follows what the process will hold (SYS_ADMIN opens mount and friends).
    capabilities: caps.capabilities.effective,
    arch: ctx.facts.arch,
    runtimeDefaultText: input.seccompText?.runtimeDefault,
    localhostText: input.seccompText?.localhost,
  });
  return {
    capabilities: caps.capabilities,
    warnings: caps.warnings,
    seccomp,
    ref: seccompRef(choice),
    apparmor: apparmorProfile(input, ctx),
  };
}

function annotationsOf(
  input: SpecInput,
  ctx: Ctx,
  derived: { name: string; ref: string; volumes: ContainerVolume[]; stopSignal?: string },
) {
  const c = input.config;
  return buildAnnotations({
    containerId: input.containerId,
    name: derived.name,
    sandboxId: input.sandboxId,
    sandboxName: sandboxName(input.sandboxConfig),
    metadata: { name: c.metadata?.name ?? "", attempt: c.metadata?.attempt ?? 0 },
    image: { requested: input.image.requested, name: input.image.name, ref: input.image.ref },
    logPath: input.logPath,
    tty: !!c.tty,
    stdin: !!c.stdin,
    stdinOnce: !!c.stdinOnce,
    resolvPath: input.pod?.files?.resolvPath,
    rootfs: input.rootfs,
    seccompRef: derived.ref,
    created: input.created ?? new Date(),
    labels: c.labels ?? {},
    annotations: c.annotations ?? {},
    sandboxAnnotations: input.sandboxConfig.annotations ?? {},
    volumes: derived.volumes,
    podIps: input.pod?.ips,
    stopSignal: derived.stopSignal,
    systemd: ctx.config.runtime.cgroup_manager === "systemd",
  }, ctx.handler.allowedAnnotations);
}

export function buildContainerSpec(input: SpecInput, ctx: Ctx): BuiltSpec {
  const { config, handler, facts } = ctx;
  const c = input.config;
  const sc = c.linux?.securityContext ?? {};
  const priv = privileged(input);
  const name = containerName(c.metadata ?? {}, input.sandboxConfig.metadata ?? {});
  const namespaces = buildNamespaces(sc.namespaceOptions, input.pod ?? {});
  // runc refuses a hostname without a UTS namespace of the container's own (host network).
  const hostname = namespaces.some((n) => n.type === "uts")
    ? input.sandboxConfig.hostname || undefined
    : undefined;
  const process = buildProcess(input, { config, hostname });
  const sec = security(input, { ...ctx, priv });
  process.capabilities = sec.capabilities;
  if (sec.apparmor) process.apparmorProfile = sec.apparmor;
  const res = buildResources(c.linux?.resources, facts, {
    pidsLimit: config.runtime.pids_limit,
    minMemory: handler.minMemory,
  });
  process.oomScoreAdj = res.oomScoreAdj;
  const readonlyRootfs = !!sc.readonlyRootfs || config.runtime.read_only;
  const mounts = buildMounts({
    criMounts: c.mounts ?? [],
    pod: input.pod?.files ?? {},
    privileged: priv,
    readonlyRootfs,
    daemonReadOnly: config.runtime.read_only,
    rroSupported: facts.rroSupported,
    storageRoot: config.crio.root,
    imageVolumeBinds: input.imageVolumeBinds,
  });
  const devices = buildDevices({
    devices: input.devices ?? [],
    privileged: priv && !handler.privilegedWithoutHostDevices,
    hostDevices: input.hostDevices,
  });
  const paths = protectedPaths({ ...sc, privileged: priv }, {
    extraMasked: facts.extraMaskedPaths,
  });
  const stopSignal = stopSignalName(c.stopSignal, input.image.config.StopSignal);
  const ann = annotationsOf(input, ctx, {
    name,
    ref: sec.ref,
    volumes: mounts.volumes,
    stopSignal,
  });
  const warnings = [...sec.warnings, ...res.warnings];
  if (ann.dropped.length) {
    warnings.push(`annotations not allowed, dropped: ${ann.dropped.join(", ")}`);
  }
  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process,
    root: { path: input.rootfs, readonly: readonlyRootfs },
    ...(hostname ? { hostname } : {}),
    mounts: mounts.mounts,
    annotations: ann.annotations,
    linux: {
      namespaces,
      resources: { ...res.resources, devices: devices.rules },
      cgroupsPath: cgroupsPath(config.runtime.cgroup_manager as "systemd" | "cgroupfs", {
        parent: input.pod?.cgroupParent,
        containerId: input.containerId,
      }),
      devices: devices.devices,
      maskedPaths: paths.maskedPaths,
      readonlyPaths: paths.readonlyPaths,
      ...(sec.seccomp ? { seccomp: sec.seccomp } : {}),
      ...(mounts.rootfsPropagation ? { rootfsPropagation: mounts.rootfsPropagation } : {}),
    },
  };
  const user = input.user;
  return { spec, name, user, stopSignal, volumes: mounts.volumes, seccompRef: sec.ref, warnings };
}

/** k8s_<pod>_<namespace>_<uid>_<attempt>, the sandbox name CRI-O reserves. */
function sandboxName(pod: PodSandboxConfig): string {
  const m = pod.metadata ?? {};
  return ["k8s", m.name ?? "", m.namespace ?? "", m.uid ?? "", m.attempt ?? 0].join("_");
}
