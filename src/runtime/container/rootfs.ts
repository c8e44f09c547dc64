/**
 * A container's root filesystem: an overlay of the image's layer dirs (read-only lowers) with a
 * per-container upper and work dir. The lowers are named through short relative links
 * (`l/0`, `l/1`, …, resolved from the storage dir, where mount runs), so the option string of a
 * 100-layer image stays well inside the one page the kernel accepts.
 */
import { type HostRunner, hostRunner, runChecked } from "../../util/host_runner.ts";
import { symlink } from "../../storage/libc.ts";
import { lookPath } from "../../oci/runtime_handlers.ts";

export interface RootfsPaths {
  /** <root>/containers/<id>: l/, upper/, work/ (persistent: the writable layer). */
  storageDir: string;
  /** Mount point. */
  merged: string;
}

export interface MountBinaries {
  runner: HostRunner;
  mount: string;
  umount: string;
}

export function hostMountBinaries(): MountBinaries {
  return {
    runner: hostRunner,
    mount: lookPath("mount") ?? "/usr/bin/mount",
    umount: lookPath("umount") ?? "/usr/bin/umount",
  };
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
export async function unmountRootfs(merged: string, options: MountBinaries): Promise<void> {
  const r = await options.runner.run(options.umount, { args: [merged] });
  if (r.code === 0 || /not mounted|no mount point|not found|No such file/i.test(r.stderr)) return;
  if (/busy/i.test(r.stderr)) {
    await runChecked(options.runner, options.umount, { args: ["-l", merged] });
    return;
  }
  throw new Error(`umount ${merged} exited with ${r.code}: ${r.stderr.trim()}`);
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
