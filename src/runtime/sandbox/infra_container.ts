/**
 * Runs pods' infra containers through the pod's runtime handler (conmon + runc/crun), with
 * pause_image (pulled through the image service when missing, so registries.conf mirrors and
 * pause_image_auth_file apply) mounted as an overlay whose writable layer lives in the pod's
 * state dir. The container id is the pod id, as in CRI-O; every path derives from the pod
 * (infraPaths), so restore and removal need nothing but the pod's meta.
 */
import type { Config } from "../../config/options.ts";
import { FailedPreconditionError, InternalError } from "../../errors.ts";
import type { ImageService } from "../../image/image_service.ts";
import type { Logger } from "../../log.ts";
import type { OciRuntime } from "../../oci/runtime.ts";
import type { HostFacts } from "../../oci/spec/build.ts";
import { buildInfraSpec, INFRA_OOM_SCORE_ADJ } from "../../oci/spec/infra.ts";
import { oomScoreAdj } from "../../oci/spec/resources.ts";
import { resolveSeccomp, seccompChoice } from "../../oci/spec/seccomp.ts";
import type { ImageConfig } from "../../oci/spec/types.ts";
import { readProfile } from "../../oci/spec_inputs.ts";
import type { Rollback } from "../../util/rollback.ts";
import { type MountBinaries, mountRootfs, unmountRootfs } from "../container/rootfs.ts";
import { type InfraMeta, infraPaths, type PodInfra } from "./infra.ts";
import type { PodMeta } from "./pod_state.ts";
import { exists } from "../../util/exists.ts";

export interface InfraDeps {
  config: () => Config;
  images: Pick<ImageService, "find" | "pull" | "imageConfig" | "layerDirs">;
  runtime: (handler: string) => OciRuntime;
  /** Node facts per handler (the OOM score the daemon may give). */
  facts: (handler: string) => Promise<HostFacts>;
  mounts: MountBinaries;
  /** <root>/pods: each pod's state dir holds its infra's writable layer. */
  storageRoot: string;
  log: Logger;
}

/** The image's numeric USER ("uid" or "uid:gid"); a name cannot be looked up in a bare image. */
export function infraUser(image: ImageConfig): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(image.User ?? "");
  if (!m) return { uid: 0, gid: 0 };
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** pause_command, or the image's entrypoint and command when it is empty (CRI-O). */
export function infraArgs(pauseCommand: string, image: ImageConfig): string[] {
  if (pauseCommand) return [pauseCommand];
  return [...(image.Entrypoint ?? []), ...(image.Cmd ?? [])];
}

const gone = (err: unknown) => {
  if (!(err instanceof Deno.errors.NotFound)) throw err;
};

export class InfraContainers implements PodInfra {
  readonly #d: InfraDeps;

  constructor(deps: InfraDeps) {
    this.#d = deps;
  }

  #paths(meta: PodMeta) {
    return infraPaths(meta, `${this.#d.storageRoot}/${meta.id}`);
  }

  async prepare(o: { newPidNamespace: boolean }): Promise<InfraMeta> {
    const img = this.#d.config().image;
    const rec = this.#d.images.find(img.pause_image) ??
      await this.#d.images.pull(img.pause_image, {
        signal: new AbortController().signal,
        authFile: img.pause_image_auth_file || undefined,
      });
    const args = infraArgs(img.pause_command, await this.#d.images.imageConfig(rec));
    if (!args.length) {
      throw new FailedPreconditionError(
        `pause image ${img.pause_image} has no command and pause_command is empty`,
      );
    }
    return { image: img.pause_image, imageId: rec.id, args, newPidNamespace: o.newPidNamespace };
  }

  async start(meta: PodMeta, rb: Rollback): Promise<number> {
    const infra = meta.infra!;
    const p = this.#paths(meta);
    const rec = this.#d.images.find(infra.imageId);
    if (!rec) throw new FailedPreconditionError(`pause image ${infra.imageId} was removed`);
    // Both undos are idempotent, so one entry covers every step below, wherever it failed.
    rb.add("infra container", async () => {
      await this.stop(meta);
      await this.remove(meta);
    });
    await mountRootfs({ storageDir: p.layer, merged: p.rootfs }, {
      ...this.#d.mounts,
      lowers: this.#d.images.layerDirs(rec),
    });
    const spec = buildInfraSpec({
      podId: meta.id,
      podName: meta.name,
      rootfs: p.rootfs,
      args: [...infra.args],
      user: infraUser(await this.#d.images.imageConfig(rec)),
      namespaces: meta.nsPaths,
      newPidNamespace: infra.newPidNamespace,
      hostname: meta.hostname,
      shmPath: meta.shmPath,
      cgroupParent: meta.cgroupParent,
      cgroupDriver: this.#d.config().runtime.cgroup_manager as "systemd" | "cgroupfs",
      cpuset: this.#d.config().runtime.infra_ctr_cpuset,
      seccomp: await this.#seccomp(meta),
      oomScoreAdj: oomScoreAdj(INFRA_OOM_SCORE_ADJ, await this.#d.facts(meta.runtimeHandler)).value,
      image: infra.image,
      created: new Date(Number(BigInt(meta.createdAt) / 1_000_000n)),
    });
    const runtime = this.#d.runtime(meta.runtimeHandler);
    const created = await runtime.create({
      id: meta.id,
      bundle: p.bundle,
      spec,
      logPath: `${p.bundle}/infra.log`,
      name: meta.name,
    });
    await runtime.start(meta.id);
    if (!created.pid) throw new InternalError(`infra container of ${meta.id} has no pid`);
    return created.pid;
  }

  /** The pod's own seccomp choice, read like a container's (unset means unconfined). */
  async #seccomp(meta: PodMeta) {
    const choice = seccompChoice(meta.config.linux?.securityContext ?? {});
    const file = this.#d.config().runtime.seccomp_profile;
    return resolveSeccomp(choice, {
      capabilities: [],
      arch: Deno.build.arch,
      runtimeDefaultText: choice.kind === "runtime-default" && file
        ? await readProfile(file)
        : undefined,
      localhostText: choice.kind === "localhost" ? await readProfile(choice.path) : undefined,
    });
  }

  async running(meta: PodMeta): Promise<boolean> {
    const runtime = this.#d.runtime(meta.runtimeHandler);
    return await runtime.running(meta.id, this.#paths(meta).bundle).catch(() => false);
  }

  async stop(meta: PodMeta): Promise<void> {
    const p = this.#paths(meta);
    const runtime = this.#d.runtime(meta.runtimeHandler);
    if (await exists(`${p.bundle}/config.json`)) {
      await runtime.stop(meta.id, { bundle: p.bundle, signal: "SIGTERM", timeoutSeconds: 10 });
    }
    await unmountRootfs(p.rootfs, this.#d.mounts);
  }

  async remove(meta: PodMeta): Promise<void> {
    const p = this.#paths(meta);
    const runtime = this.#d.runtime(meta.runtimeHandler);
    await runtime.delete(meta.id);
    await unmountRootfs(p.rootfs, this.#d.mounts);
    await Deno.remove(p.bundle, { recursive: true }).catch(gone);
    // Not recursive: a rootfs still mounted is never emptied through the mount.
    await Deno.remove(p.rootfs).catch(gone);
    await Deno.remove(p.layer, { recursive: true }).catch(gone);
    await Deno.remove(runtime.exitFile(meta.id)).catch(gone);
  }
}
