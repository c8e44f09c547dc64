/**
 * Host-side preparation of the CRI volume mounts before the spec is built: a symlinked host path
 * is resolved (critest mounts one), a missing one is created as a directory unless
 * absent_mount_sources_to_reject names it, and a shared or slave propagation is only granted when
 * the source really sits on a shared (or slave) mount, as CRI-O checks.
 */
import { FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import { type Mount, MountPropagation } from "../cri/gen/api.ts";
import { readSpecialFile } from "./host.ts";
import { type MountInfo, parseMountinfo } from "../util/mountinfo.ts";

export { type MountInfo, parseMountinfo };

/** The mount `path` lives on: the longest mount point that contains it (the last one wins). */
export function sourceMount(path: string, mounts: MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === "/" || path === m.mountPoint ||
      path.startsWith(m.mountPoint + "/");
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export function checkPropagation(
  path: string,
  options: { propagation: MountPropagation; mounts: MountInfo[] },
): void {
  const { propagation, mounts } = options;
  if (propagation === MountPropagation.PROPAGATION_PRIVATE) return;
  const m = sourceMount(path, mounts);
  const opts = (m?.optional ?? "").split(" ");
  const shared = opts.some((o) => o.startsWith("shared:"));
  const slave = opts.some((o) => o.startsWith("master:"));
  if (propagation === MountPropagation.PROPAGATION_BIDIRECTIONAL && !shared) {
    throw new FailedPreconditionError(
      `path ${path} is mounted on ${m?.mountPoint} but it is not a shared mount`,
    );
  }
  if (propagation === MountPropagation.PROPAGATION_HOST_TO_CONTAINER && !shared && !slave) {
    throw new FailedPreconditionError(
      `path ${path} is mounted on ${m?.mountPoint} but it is not a shared or slave mount`,
    );
  }
}

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Returns the mounts with host paths resolved; creates missing sources. */
export async function prepareCriMounts(
  mounts: Mount[],
  options: { bindMountPrefix?: string; absentSourcesToReject?: string[]; mountinfo?: string } = {},
): Promise<Mount[]> {
  const needInfo = mounts.some((m) =>
    (m.propagation ?? 0) !== MountPropagation.PROPAGATION_PRIVATE
  );
  const info = needInfo
    ? parseMountinfo(
      options.mountinfo ?? (await readSpecialFile(`/proc/${Deno.pid}/mountinfo`)) ?? "",
    )
    : [];
  const out: Mount[] = [];
  for (const m of mounts) {
    if (m.image?.image || !m.hostPath) {
      out.push(m);
      continue;
    }
    if (!m.hostPath.startsWith("/")) {
      throw new InvalidArgumentError(
        `mount host_path ${JSON.stringify(m.hostPath)} must be absolute`,
      );
    }
    const src = `${options.bindMountPrefix ?? ""}${m.hostPath}`;
    let resolved = await realPath(src);
    if (resolved === undefined) {
      if ((options.absentSourcesToReject ?? []).includes(src.replace(/\/+$/, ""))) {
        throw new FailedPreconditionError(
          `cannot mount ${src}: it does not exist and must not become a directory`,
        );
      }
      await Deno.mkdir(src, { recursive: true, mode: 0o755 });
      resolved = await realPath(src) ?? src;
    }
    checkPropagation(resolved, { propagation: m.propagation ?? 0, mounts: info });
    out.push({ ...m, hostPath: resolved });
  }
  return out;
}
