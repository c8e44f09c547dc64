/**
 * A container's root filesystem: an overlay of the image's layer dirs (read-only lowers) with a
 * per-container upper and work dir. The lowers are named through short relative links
 * (`l/0`, `l/1`, …, resolved from the storage dir, where mount runs), so the option string of a
 * 100-layer image stays well inside the one page the kernel accepts.
 */
import { type HostRunner, runChecked } from "../../util/host_runner.ts";
import { symlink } from "../../storage/libc.ts";
import type { Mounter } from "../../util/libc_io.ts";
import { errorMessage } from "../../errors.ts";

export interface RootfsPaths {
  /** <root>/containers/<id>: l/, upper/, work/ (persistent: the writable layer). */
  storageDir: string;
  /** Mount point. */
  merged: string;
}

export interface MountBinaries {
  /** mount(8) runs the overlay mount: it resolves the short lowerdir links from its cwd. */
  runner: HostRunner;
  mount: string;
  /** umount2(2) through libc (no process per container removal); a seam for tests. */
  mounter: Mounter;
}

/** Everything below storageDir is created here; the caller removes storageDir on rollback. */
export async function mountRootfs(
  paths: RootfsPaths,
  options: MountBinaries & { lowers: readonly string[] },
): Promise<void> {
  const { storageDir, merged } = paths;
  await Deno.mkdir(`${storageDir}/l`, { recursive: true, mode: 0o700 });
  await Deno.mkdir(`${storageDir}/upper`, { mode: 0o755 }).catch(ignoreExists);
  await Deno.mkdir(`${storageDir}/work`, { mode: 0o700 }).catch(ignoreExists);
  await Deno.mkdir(merged, { recursive: true, mode: 0o755 });
  const lowers = options.lowers.length ? [...options.lowers] : [`${storageDir}/empty`];
  if (!options.lowers.length) await Deno.mkdir(lowers[0]).catch(ignoreExists);
  const links = await linkLowers(storageDir, lowers);
  // A single lower with an upper is a valid overlay; "index=off" lets a copied-up layer dir be
  // shared by containers of the same image without the kernel's inode index objecting.
  const opts = `lowerdir=${links.join(":")},upperdir=upper,workdir=work,index=off`;
  await runChecked(options.runner, options.mount, {
    args: ["-t", "overlay", "overlay", "-o", opts, merged],
    cwd: storageDir,
  });
}

/** Unmounts merged if mounted; idempotent. A busy mount is detached lazily, as CRI-O does. */
export function unmountRootfs(merged: string, options: MountBinaries): Promise<void> {
  try {
    try {
      options.mounter.unmount(merged);
    } catch (err) {
      if (!/EBUSY/.test(errorMessage(err))) throw err;
      options.mounter.unmount(merged, { detach: true });
    }
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Short relative names (`l/0`, `l/1`, …, under `dir`, which must hold `l/`) for overlay lower
 * dirs, so the mount option string of many layers fits in a page; mount runs with cwd = dir.
 */
export async function linkLowers(dir: string, lowers: readonly string[]): Promise<string[]> {
  const links: string[] = [];
  for (const [i, lower] of lowers.entries()) {
    const link = `l/${i.toString(36)}`;
    await Deno.remove(`${dir}/${link}`).catch(() => {});
    // libc: Deno.symlink needs unscoped read and write permission, which the daemon lacks.
    symlink(lower, `${dir}/${link}`);
    links.push(link);
  }
  return links;
}

export function ignoreExists(err: unknown): void {
  if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
}
