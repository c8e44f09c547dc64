/**
 * Device nodes: the CRI devices (and crio.runtime.additional_devices) resolved on the host to
 * type/major/minor, added to linux.devices and allowed in the devices cgroup; everything for a
 * privileged container unless the handler says privileged_without_host_devices. The runtime adds
 * the standard nodes (/dev/null, /dev/zero, ...) itself.
 */
import { InvalidArgumentError } from "../../errors.ts";
import type { OciDevice, OciDeviceCgroup } from "./types.ts";

export interface HostDevice {
  /** Path inside the container. */
  path: string;
  type: "c" | "b";
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
  /** Cgroup access, a subset of "rwm". */
  access: string;
}

export function checkPermissions(p: string | undefined, where: string): string {
  const access = p || "rwm";
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw new InvalidArgumentError(
      `${where}: permissions ${JSON.stringify(p)} must be made of r, w, m`,
    );
  }
  return access;
}

export function buildDevices(
  input: { devices: HostDevice[]; privileged: boolean; hostDevices?: HostDevice[] },
): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  const rules: OciDeviceCgroup[] = [{ allow: false, access: "rwm" }];
  const devices = new Map<string, OciDevice>();
  const add = (d: HostDevice) =>
    devices.set(d.path, {
      type: d.type,
      path: d.path,
      major: d.major,
      minor: d.minor,
      fileMode: d.fileMode,
      uid: d.uid,
      gid: d.gid,
    });
  if (input.privileged) {
    for (const d of input.hostDevices ?? []) add(d);
    rules.push({ allow: true, access: "rwm" });
  }
  for (const d of input.devices) {
    add(d);
    if (!input.privileged) {
      rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access });
    }
  }
  return { devices: [...devices.values()], rules };
}

/** The glibc encoding of dev_t: 12 bits of major and 20 of minor, split across the word. */
export function majorMinor(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  const major = ((r >> 8n) & 0xfffn) | ((r >> 32n) & 0xfffff000n);
  const minor = (r & 0xffn) | ((r >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/** "/dev/fuse" or "/dev/sdc:/dev/xvdc:rwm" (additional_devices syntax). */
export function parseDeviceSpec(
  spec: string,
): { hostPath: string; containerPath: string; access: string } {
  const [hostPath, containerPath, perms] = spec.split(":");
  if (!hostPath?.startsWith("/")) {
    throw new InvalidArgumentError(
      `device ${JSON.stringify(spec)}: the host path must be absolute`,
    );
  }
  return {
    hostPath,
    containerPath: containerPath || hostPath,
    access: checkPermissions(perms, `device ${spec}`),
  };
}
