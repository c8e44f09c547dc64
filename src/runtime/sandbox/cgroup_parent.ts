/**
 * The pod's cgroup parent for both drivers. cgroupfs takes an absolute path; systemd takes a slice
 * name whose dashes spell its ancestors ("kubepods-besteffort-pod1.slice" lives in
 * /kubepods.slice/kubepods-besteffort.slice/), which is the path the stats read on either driver.
 */
import { InvalidArgumentError } from "../../errors.ts";

export interface CgroupParent {
  /** As given, or the driver's default. */
  parent: string;
  /** Path below a hierarchy's root. */
  path: string;
}

const CGROUPFS_DEFAULT = "/crio";
const SYSTEMD_DEFAULT = "system.slice";
const SEGMENT = /^[A-Za-z0-9_.:@-]+$/;

export function expandSlice(slice: string): string {
  if (slice === "-.slice") return "/";
  if (!slice.endsWith(".slice") || slice.includes("/")) {
    throw new InvalidArgumentError(
      `cgroup_parent ${JSON.stringify(slice)}: the systemd driver needs a slice name (x.slice)`,
    );
  }
  const base = slice.slice(0, -".slice".length);
  const parts = base.split("-");
  if (parts.some((p) => p === "" || !SEGMENT.test(p))) {
    throw new InvalidArgumentError(`cgroup_parent ${JSON.stringify(slice)}: invalid slice name`);
  }
  let prefix = "";
  let path = "";
  for (const p of parts) {
    prefix = prefix ? `${prefix}-${p}` : p;
    path += `/${prefix}.slice`;
  }
  return path;
}

export function cgroupParent(
  given: string,
  options: { driver: "systemd" | "cgroupfs" },
): CgroupParent {
  if (options.driver === "systemd") {
    const parent = given || SYSTEMD_DEFAULT;
    return { parent, path: expandSlice(parent) };
  }
  const parent = given || CGROUPFS_DEFAULT;
  const segs = parent.split("/").slice(1);
  if (!parent.startsWith("/") || segs.some((s) => s === "." || s === ".." || !SEGMENT.test(s))) {
    throw new InvalidArgumentError(
      `cgroup_parent ${JSON.stringify(given)}: the cgroupfs driver needs an absolute path ` +
        `without . or .. segments`,
    );
  }
  return { parent, path: parent };
}
