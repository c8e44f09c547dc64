/** The daemon's own version: locked to the Kubernetes minor it serves, like CRI-O's. */
import { DEFAULT_MINOR } from "./cri/k8s_versions.ts";

export const RUNTIME_NAME = "crio-deno";
export const PATCH = 0;

export function daemonVersion(minor: string = DEFAULT_MINOR): string {
  return `${minor}.${PATCH}`;
}
