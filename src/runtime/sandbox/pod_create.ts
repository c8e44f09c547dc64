/**
 * RunPodSandbox's steps, each registering its undo on the rollback stack before the next starts:
 * pause image (pulled when missing, before any effect) → records → run dir → namespaces
 * (+ hostname, sysctls) → /dev/shm → CNI loopback → CNI network → files → infra container →
 * ready. A failure anywhere unwinds to nothing (no netns, mount, veth, IP, dir, process).
 */
import { FailedPreconditionError, UnavailableError } from "../../errors.ts";
import { NamespaceMode } from "../../cri/gen/api.ts";
import { type CniAttachment, loopbackList } from "../../net/cni_attach.ts";
import { resultIps } from "../../net/cni_exec.ts";
import type { NsKind } from "../../net/namespaces.ts";
import type { Rollback } from "../../util/rollback.ts";
import type { SandboxDeps } from "./deps.ts";
import type { InfraMeta } from "./infra.ts";
import type { Pod, PodMeta } from "./pod_state.ts";
import { podRef, removeRunDir } from "./pod_teardown.ts";
import type { PodPlan } from "./request.ts";

function nowNanos(): string {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  return ns.toString();
}

function buildMeta(
  plan: PodPlan,
  o: { id: string; deps: SandboxDeps; infra?: InfraMeta },
): PodMeta {
  const { id, deps } = o;
  const kinds: NsKind[] = [];
  if (!plan.hostNetwork) kinds.push("net", "uts");
  if (!plan.hostIpc) kinds.push("ipc");
  const runDir = `${deps.runRoot}/${id}`;
  return {
    id,
    name: plan.name,
    requestHash: plan.requestHash,
    createdAt: nowNanos(),
    config: plan.config,
    runtimeHandler: plan.runtimeHandler,
    modes: plan.modes,
    nsPaths: Object.fromEntries(kinds.map((k) => [k, deps.namespaces.pathOf(k, id)])),
    hostname: plan.hostname,
    runDir,
    ...(plan.hostIpc ? {} : { shmPath: `${runDir}/shm` }),
    cgroupParent: plan.cgroup.parent,
    cgroupPath: plan.cgroup.path,
    ...(o.infra ? { infra: o.infra } : {}),
  };
}

async function prepareInfra(plan: PodPlan, deps: SandboxDeps): Promise<InfraMeta | undefined> {
  if (!plan.infra) return undefined;
  if (!deps.infra) {
    throw new FailedPreconditionError("the pod needs an infra container, and none can be run here");
  }
  return await deps.infra.prepare({ newPidNamespace: plan.modes.pid !== NamespaceMode.NODE });
}

async function pinNamespaces(meta: PodMeta, plan: PodPlan, deps: SandboxDeps, rb: Rollback) {
  const kinds = Object.keys(meta.nsPaths) as NsKind[];
  await deps.namespaces.pin(meta.id, {
    kinds,
    hostname: plan.hostname,
    sysctls: plan.sysctls.apply.map((s) => [s.path, s.value] as const),
  });
  rb.add("unpin namespaces", async () => {
    for (const p of Object.values(meta.nsPaths)) await deps.namespaces.unpin(p);
  });
  for (const s of plan.sysctls.skipped) {
    deps.log.warn("sysctl skipped: the pod shares that namespace with the host", {
      pod: meta.id,
      sysctl: s.key,
    });
  }
}

async function attachNetwork(meta: PodMeta, plan: PodPlan, deps: SandboxDeps, rb: Rollback) {
  if (plan.hostNetwork) return [] as string[];
  const ready = deps.network();
  if (!ready.ready) throw new UnavailableError(`pod network is not ready: ${ready.message}`);
  const ref = podRef(meta, meta.nsPaths.net!);
  const loopback: CniAttachment = { list: loopbackList(), ifName: "lo", runtimeConfig: {} };
  const network: CniAttachment = {
    list: ready.network.raw,
    ifName: "eth0",
    runtimeConfig: plan.portMappings.length ? { portMappings: plan.portMappings } : {},
  };
  // The config is cached before ADD, so a daemon killed during ADD can still DEL.
  await deps.store.writeNetwork(meta.id, { loopback, network });
  rb.add("CNI DEL loopback", () => deps.cni.del(ref, loopback));
  loopback.result = await deps.cni.add(ref, loopback);
  rb.add(`CNI DEL ${ready.network.name}`, () => deps.cni.del(ref, network));
  network.result = await deps.cni.add(ref, network);
  await deps.store.writeNetwork(meta.id, { loopback, network });
  return resultIps(network.result);
}

/** Creates the pod; the caller has reserved the name and owns the rollback stack. */
export async function createPod(
  plan: PodPlan,
  options: { id: string; deps: SandboxDeps; rollback: Rollback },
): Promise<Pod> {
  const { id, deps, rollback: rb } = options;
  const meta = buildMeta(plan, { id, deps, infra: await prepareInfra(plan, deps) });
  await deps.store.records.create(id);
  rb.add("remove pod records", () => deps.store.records.remove(id));
  const pod = await deps.store.begin(meta);
  await Deno.mkdir(deps.runRoot, { recursive: true, mode: 0o711 });
  await Deno.mkdir(meta.runDir, { mode: 0o711 });
  rb.add("remove run dir", () => removeRunDir(meta));
  await pinNamespaces(meta, plan, deps, rb);
  if (meta.shmPath) {
    await deps.files.mountShm(meta.shmPath, plan.shmSize);
    rb.add("unmount /dev/shm", () => deps.files.unmountShm(meta.shmPath!, true));
  }
  const ips = await attachNetwork(meta, plan, deps, rb);
  await deps.files.write(meta.runDir, {
    hostname: plan.hostname,
    dns: plan.config.dnsConfig,
    hostNetwork: plan.hostNetwork,
    ips,
  });
  const infraPid = meta.infra ? await deps.infra!.start(meta, rb) : undefined;
  return await deps.store.commit(pod, { state: "ready", ips, ...(infraPid ? { infraPid } : {}) });
}
