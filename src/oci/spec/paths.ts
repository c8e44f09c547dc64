/**
 * Names and paths derived from the CRI config: the container's k8s_ name, its cgroups path for
 * either driver, and its log path inside the pod's log directory.
 */
import { InvalidArgumentError } from "../../errors.ts";
import type { ContainerMetadata, PodSandboxMetadata } from "../../cri/gen/api.ts";

/** k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, the name CRI-O reserves. */
export function containerName(ctr: ContainerMetadata, pod: PodSandboxMetadata): string {
  if (!ctr.name) throw new InvalidArgumentError("container metadata.name is empty");
  return ["k8s", ctr.name, pod.name ?? "", pod.namespace ?? "", pod.uid ?? "", ctr.attempt ?? 0]
    .join("_");
}

/**
 * cgroupfs: `<parent>/crio-<id>` (default parent /crio); systemd: `<slice>:crio:<id>` (default
 * system.slice), which runc and crun turn into crio-<id>.scope.
 */
export function cgroupsPath(
  driver: "systemd" | "cgroupfs",
  options: { parent?: string; containerId: string },
): string {
  if (driver === "systemd") {
    return `${options.parent || "system.slice"}:crio:${options.containerId}`;
  }
  const parent = (options.parent || "/crio").replace(/\/+$/, "");
  const prefix = parent === "" || parent.startsWith("/") ? parent : `/${parent}`;
  return `${prefix}/crio-${options.containerId}`;
}

/**
 * The container's log file: the CRI log_path inside the pod's log directory (or
 * `<dir>/<id>.log`). A path that climbs out of the directory is refused, so a crafted pod cannot
 * make conmon write, or log linking unmount, elsewhere (CVE-2025-0750).
 */
export function containerLogPath(
  options: { logDirectory: string; logPath?: string; containerId: string },
): string {
  const dir = options.logDirectory.replace(/\/+$/, "");
  if (!dir.startsWith("/")) {
    throw new InvalidArgumentError(`pod log_directory ${JSON.stringify(dir)} must be absolute`);
  }
  const rel = options.logPath || `${options.containerId}.log`;
  if (rel.includes("\0")) throw new InvalidArgumentError("log_path contains a NUL byte");
  const joined = rel.startsWith("/") && rel.startsWith(dir + "/") ? rel.slice(dir.length + 1) : rel;
  const parts: string[] = [];
  for (const c of joined.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      throw new InvalidArgumentError(
        `log_path ${JSON.stringify(rel)} leaves the pod log directory`,
      );
    }
    parts.push(c);
  }
  if (!parts.length) {
    throw new InvalidArgumentError(`log_path ${JSON.stringify(rel)} names no file`);
  }
  return `${dir}/${parts.join("/")}`;
}
