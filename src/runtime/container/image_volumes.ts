/**
 * Image volumes (KEP-4639, CRI `Mount.image`): an image's root filesystem, mounted read-only at a
 * container path. As CRI-O does, the image is mounted on the host first (an overlay of its layer
 * dirs with no upper dir, so nothing can write to it; ro, nosuid, nodev) and that mount point, or
 * the `image_sub_path` directory inside it, is bound into the container. Binaries in it stay
 * executable (critest checks). The kubelet pulls the image beforehand; one that is not stored is
 * refused by name, and so is a request for a writable image volume.
 *
 * Host layout: `<runDir>/volumes/<n>` mount points and `<storageDir>/layer/volumes/<n>/{l,empty}`
 * short lowerdir links. Unmounting scans the volumes dir rather than trusting the metadata, so a
 * create interrupted before its metadata was written still leaves nothing mounted.
 */
import type { Mount } from "../../cri/gen/api.ts";
import { InvalidArgumentError, NotFoundError } from "../../errors.ts";
import type { ImageRecord } from "../../image/image_store.ts";
import { runChecked } from "../../util/host_runner.ts";
import { ignoreExists, linkLowers, type MountBinaries, unmountRootfs } from "./rootfs.ts";

export interface ImageVolumePlan {
  /** Index in the CRI mounts list. */
  readonly index: number;
  readonly image: ImageRecord;
}

/** Which of the CRI mounts are image volumes, each with its stored image; unknown images refused. */
export function planImageVolumes(
  mounts: readonly Mount[],
  find: (ref: string) => ImageRecord | undefined,
): ImageVolumePlan[] {
  const out: ImageVolumePlan[] = [];
  for (const [index, m] of mounts.entries()) {
    const ref = m.image?.image;
    if (!ref) continue;
    if (!m.readonly) {
      throw new InvalidArgumentError(
        `mount ${m.containerPath}: an image volume must be read-only (readonly: true)`,
      );
    }
    const image = find(ref);
    if (!image) {
      throw new NotFoundError(
        `mount ${m.containerPath}: image volume ${JSON.stringify(ref)} is not stored; ` +
          "pull it first (the kubelet does before CreateContainer)",
      );
    }
    out.push({ index, image });
  }
  return out;
}

/** The options of the host mount: read-only by construction (no upper dir) and by flag. */
export function imageVolumeMountArgs(lowers: readonly string[], target: string): string[] {
  return [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `ro,nosuid,nodev,lowerdir=${lowers.join(":")}`,
    target,
  ];
}

/**
 * Mounts each planned image volume and returns the CRI mounts with those entries pointing at their
 * mount points (read-only, the image field kept for ContainerStatus). The caller registers
 * unmountImageVolumes as the undo before calling this, so a failure half-way is cleaned too.
 */
export async function mountImageVolumes(
  mounts: readonly Mount[],
  o: MountBinaries & {
    plans: readonly ImageVolumePlan[];
    storageDir: string;
    runDir: string;
    layerDirs: (image: ImageRecord) => string[];
  },
): Promise<Mount[]> {
  const out = [...mounts];
  for (const [n, plan] of o.plans.entries()) {
    const linkDir = `${o.storageDir}/volumes/${n}`;
    const target = `${o.runDir}/volumes/${n}`;
    await Deno.mkdir(`${linkDir}/l`, { recursive: true, mode: 0o700 });
    await Deno.mkdir(`${linkDir}/empty`).catch(ignoreExists);
    await Deno.mkdir(target, { recursive: true, mode: 0o755 });
    // Overlay without an upper dir needs two lowers: an empty one closes the stack, as in CRI-O.
    const lowers = [...o.layerDirs(plan.image), `${linkDir}/empty`];
    const links = await linkLowers(linkDir, lowers);
    await runChecked(o.runner, o.mount, {
      args: imageVolumeMountArgs(links, target),
      cwd: linkDir,
    });
    const m = mounts[plan.index];
    const source = await subPathOf(target, m);
    // image_ref is what PullImage answered (the image id): KEP-5365's digest in the status.
    const image = { ...m.image, imageRef: plan.image.id };
    out[plan.index] = { ...m, hostPath: source, readonly: true, image };
  }
  return out;
}

/**
 * The directory to bind: the image's root, or `image_sub_path` inside it. Symlinks are resolved
 * and must stay inside the image (the mount is read-only, so nothing can swap them afterwards).
 */
async function subPathOf(root: string, m: Mount): Promise<string> {
  const sub = m.imageSubPath ?? "";
  if (!sub) return root;
  if (sub.startsWith("/") || sub.split("/").includes("..")) {
    throw new InvalidArgumentError(
      `mount ${m.containerPath}: image_sub_path ${sub} must be relative`,
    );
  }
  let real: string;
  try {
    real = await Deno.realPath(`${root}/${sub}`);
  } catch {
    throw new NotFoundError(
      `mount ${m.containerPath}: sub path ${JSON.stringify(sub)} does not exist in image volume ` +
        JSON.stringify(m.image?.image),
    );
  }
  const base = await Deno.realPath(root);
  if (real !== base && !real.startsWith(`${base}/`)) {
    throw new InvalidArgumentError(
      `mount ${m.containerPath}: image_sub_path ${sub} leads outside the image`,
    );
  }
  return real;
}

/** Unmounts and removes every image volume mount point of a container; idempotent. */
export async function unmountImageVolumes(runDir: string, o: MountBinaries): Promise<void> {
  const dir = `${runDir}/volumes`;
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const name of names) {
    await unmountRootfs(`${dir}/${name}`, o);
    // Not recursive: a mount point that is somehow still mounted is never emptied through it.
    await Deno.remove(`${dir}/${name}`).catch(ignoreNotFound);
  }
  await Deno.remove(dir).catch(ignoreNotFound);
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof Deno.errors.NotFound)) throw err;
}
