/**
 * Everything buildContainerSpec() needs from the host, read in one place before the (pure) build:
 * the user resolved through the image's /etc/passwd and /etc/group, the CRI mounts' sources, the
 * devices, and the seccomp profile files. Kept apart so the builder stays pure and table-tested.
 */
import { InvalidArgumentError } from "../errors.ts";
import type { Config } from "../config/options.ts";
import type { ContainerConfig, Mount } from "../cri/gen/api.ts";
import { prepareCriMounts } from "./host_mounts.ts";
import { listHostDevices, resolveHostDevice } from "./host_devices.ts";
import { type HostDevice, parseDeviceSpec } from "./spec/devices.ts";
import { seccompChoice } from "./spec/seccomp.ts";
import type { ImageConfig } from "./spec/types.ts";
import { type ResolvedUser, resolveUser } from "./spec/user.ts";
import { readUserDb } from "./spec/user_db.ts";

/** A seccomp profile is a few KiB; anything near this is not one. */
const PROFILE_MAX_BYTES = 1 << 20;

export interface HostInputs {
  user: ResolvedUser;
  criMounts: Mount[];
  devices: HostDevice[];
  hostDevices?: HostDevice[];
  seccompText: { localhost?: string; runtimeDefault?: string };
}

export async function readProfile(path: string): Promise<string> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch {
    throw new InvalidArgumentError(`seccomp profile ${path} cannot be read`);
  }
  try {
    const st = await f.stat();
    if (!st.isFile || st.size > PROFILE_MAX_BYTES) {
      throw new InvalidArgumentError(`seccomp profile ${path} is not a file of at most 1 MiB`);
    }
    return new TextDecoder().decode(await new Response(f.readable).arrayBuffer());
  } finally {
    try {
      f.close();
    } catch {
      // f.readable closes the file when it ends.
    }
  }
}

export async function resolveHostInputs(
  req: { config: ContainerConfig; image: ImageConfig; rootfs: string },
  options: { config: Config; privilegedWithoutHostDevices: boolean },
): Promise<HostInputs> {
  const c = req.config;
  const sc = c.linux?.securityContext ?? {};
  const rt = options.config.runtime;
  const user = resolveUser({ ...sc, imageUser: req.image.User }, await readUserDb(req.rootfs));
  const criMounts = await prepareCriMounts(c.mounts ?? [], {
    bindMountPrefix: rt.bind_mount_prefix,
    absentSourcesToReject: rt.absent_mount_sources_to_reject,
  });
  const devices: HostDevice[] = [];
  for (const spec of rt.additional_devices) {
    const d = parseDeviceSpec(spec);
    devices.push(...await resolveHostDevice({ ...d, permissions: d.access }));
  }
  for (const d of c.devices ?? []) devices.push(...await resolveHostDevice(d));
  const privileged = !!sc.privileged;
  const hostDevices = privileged && !options.privilegedWithoutHostDevices
    ? await listHostDevices()
    : undefined;
  const choice = seccompChoice({ ...sc, privileged });
  const seccompText: HostInputs["seccompText"] = {};
  if (choice.kind === "localhost") seccompText.localhost = await readProfile(choice.path);
  if (choice.kind === "runtime-default" && rt.seccomp_profile) {
    seccompText.runtimeDefault = await readProfile(rt.seccomp_profile);
  }
  return { user, criMounts, devices, hostDevices, seccompText };
}
