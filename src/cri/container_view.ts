/** The CRI views of a container: ListContainers' entry, ContainerStatus and its verbose info. */
import type { Container as CriContainer, ContainerStatus } from "./gen/api.ts";
import type { Container } from "../runtime/container/container_state.ts";
import { criState } from "../runtime/container/container_service.ts";
import { ViewMemo } from "./view_memo.ts";

const views = new ViewMemo<Container["meta"], CriContainer["state"], CriContainer>();

export function toCriContainer(c: Container): CriContainer {
  const state = criState(c);
  return views.get(c.meta, state, () => criContainer(c, state));
}

function criContainer(c: Container, state: CriContainer["state"]): CriContainer {
  const m = c.meta;
  return {
    id: c.id,
    podSandboxId: m.podId,
    metadata: m.config.metadata,
    image: { image: m.image.name, annotations: m.config.image?.annotations ?? {} },
    imageRef: m.image.ref,
    imageId: m.image.id,
    state,
    createdAt: m.createdAt,
    labels: m.config.labels ?? {},
    annotations: m.config.annotations ?? {},
  };
}

export function toContainerStatus(c: Container): ContainerStatus {
  const m = c.meta;
  const s = c.status;
  return {
    ...toCriContainer(c),
    image: { image: m.image.name, userSpecifiedImage: m.image.requested },
    startedAt: s.startedAt ?? "0",
    finishedAt: s.finishedAt ?? "0",
    exitCode: s.exitCode ?? 0,
    reason: s.reason ?? "",
    message: s.message ?? "",
    mounts: m.mounts,
    logPath: m.logPath,
    resources: m.config.linux?.resources ? { linux: m.config.linux.resources } : undefined,
  };
}

/** CRI-O's verbose "info": one JSON document with the pid, sandbox id and the runtime spec. */
export async function verboseInfo(c: Container): Promise<Record<string, string>> {
  let spec: unknown;
  try {
    spec = JSON.parse(await Deno.readTextFile(`${c.meta.bundle}/config.json`));
  } catch {
    spec = undefined;
  }
  const info = {
    sandboxID: c.meta.podId,
    pid: c.status.state === "running" ? c.status.pid ?? 0 : 0,
    runtimeSpec: spec,
    privileged: !!c.meta.config.linux?.securityContext?.privileged,
    runtimeHandler: c.meta.runtimeHandler,
  };
  return { info: JSON.stringify(info) };
}
