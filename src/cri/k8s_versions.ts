/**
 * The Kubernetes minors this runtime is locked to, and the upstream modules pinned for each.
 *
 * `criApiSum` is the Go module hash (`h1:`) of k8s.io/cri-api at that version; the set-up refuses a
 * download whose hash differs, so the schema the daemon serves is exactly the pinned one.
 */
export interface K8sMinor {
  readonly minor: string;
  readonly criApi: string;
  readonly criApiSum: string;
  /** sigs.k8s.io/cri-tools version whose critest and crictl validate this minor. */
  readonly criTools: string;
  /** Go module hash (`h1:`) of sigs.k8s.io/cri-tools at criTools; tools/install_cri_tools.ts checks it. */
  readonly criToolsSum: string;
  /** Why criTools is not vX.Y.0 of the same minor, when it is not. */
  readonly criToolsNote?: string;
}

export const K8S_MINORS: readonly K8sMinor[] = [
  {
    minor: "1.35",
    criApi: "v0.35.10",
    criApiSum: "h1:+ihps/d/CsES0qHeZRTwAEtMwKvCe78EE6OFvD2wDxI=",
    criTools: "v1.34.0",
    criToolsSum: "h1:KqL9EJ+WgHtz1HR1exezm91n+o8O2uMLs/eHzHJHAWw=",
    criToolsNote: "the Go module proxy reachable here refuses cri-tools v1.35.x (HTTP 403); " +
      "v1.34.0 validates a subset of what a 1.35 runtime must do",
  },
  {
    minor: "1.36",
    criApi: "v0.36.6",
    criApiSum: "h1:FjeJpGOanGRHpG/9x+88zmBJb9h6S4M615MeYi0Cr9E=",
    criTools: "v1.36.0",
    criToolsSum: "h1:Xt+LLvBVH1Fnp/AR2EyHApyWS/88y2KlWjlDc2HR+aw=",
  },
  {
    minor: "1.37",
    criApi: "v0.37.2",
    criApiSum: "h1:UMvN3s6yoG3SVbxX9Mw6yVmVmaLwVAjy0hXUpJzXogo=",
    criTools: "v1.37.0",
    criToolsSum: "h1:BmTImEoTX3KPXCLwmIU9mfCC8umUqF4R8WibY9eVU9Y=",
  },
];

/** The default build serves the newest minor. */
export const DEFAULT_MINOR = "1.37";

export function k8sMinor(minor: string): K8sMinor {
  const found = K8S_MINORS.find((m) => m.minor === minor);
  if (!found) {
    const known = K8S_MINORS.map((m) => m.minor).join(", ");
    throw new Error(`unsupported Kubernetes minor ${JSON.stringify(minor)} (supported: ${known})`);
  }
  return found;
}

/** Where the set-up keeps fetched artefacts, relative to the repository root. */
export function cacheDir(): string {
  return Deno.env.get("CRIO_CACHE_DIR") ?? new URL("../../.cache", import.meta.url).pathname;
}

export function schemaPath(minor: string): string {
  return `${cacheDir()}/cri-api/${k8sMinor(minor).criApi}/api.proto`;
}
