/**
 * Manifests: OCI index and Docker manifest list (one platform picked), OCI image manifest and
 * Docker schema 2. Schema 1 is refused. Ambiguous documents (both `manifests` and `layers`, or a
 * mediaType that contradicts the Content-Type) are refused rather than guessed at.
 */
import { InvalidArgumentError } from "../errors.ts";
import { type Digest, parseDigest } from "./digest.ts";

export const MT = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  schema1: "application/vnd.docker.distribution.manifest.v1+json",
  schema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

export const MANIFEST_ACCEPT = [
  MT.ociIndex,
  MT.ociManifest,
  MT.dockerList,
  MT.dockerManifest,
  MT.schema1Signed,
  MT.schema1,
].join(", ");

/** Largest manifest and config accepted (containers/image uses 4 MiB for manifests). */
export const MAX_MANIFEST_BYTES = 4 << 20;
export const MAX_CONFIG_BYTES = 8 << 20;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
}

export type Manifest =
  | { kind: "index"; mediaType: string; manifests: Descriptor[] }
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] };

function descriptor(v: unknown, what: string): Descriptor {
  const d = v as Record<string, unknown> | null;
  if (!d || typeof d !== "object") throw new InvalidArgumentError(`${what}: not an object`);
  const size = d.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidArgumentError(`${what}: bad size`);
  }
  return {
    mediaType: String(d.mediaType ?? ""),
    digest: parseDigest(d.digest, `${what} digest`),
    size,
    platform: d.platform as Platform | undefined,
  };
}

/** Parses a manifest; `contentType` is the registry's header, checked against the body. */
export function parseManifest(bytes: Uint8Array, contentType: string): Manifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidArgumentError("manifest is not valid JSON");
  }
  if (doc?.schemaVersion === 1) {
    throw new InvalidArgumentError(
      "manifest is Docker schema 1, which is deprecated and not supported: push the image again " +
        "with a current client (schema 2 or OCI)",
    );
  }
  const header = contentType.split(";")[0].trim();
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : "";
  if (declared && header && header !== declared && header !== "application/json") {
    throw new InvalidArgumentError(
      `manifest mediaType ${declared} contradicts Content-Type ${header}`,
    );
  }
  const mediaType = declared || header;
  if (doc.manifests !== undefined && doc.layers !== undefined) {
    throw new InvalidArgumentError("ambiguous manifest: both manifests and layers");
  }
  if (Array.isArray(doc.manifests)) {
    if (mediaType && mediaType !== MT.ociIndex && mediaType !== MT.dockerList) {
      throw new InvalidArgumentError(`manifest list with media type ${mediaType}`);
    }
    const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
    return { kind: "index", mediaType: mediaType || MT.ociIndex, manifests };
  }
  if (Array.isArray(doc.layers) && doc.config) {
    if (mediaType && mediaType !== MT.ociManifest && mediaType !== MT.dockerManifest) {
      throw new InvalidArgumentError(`unsupported manifest media type ${mediaType}`);
    }
    return {
      kind: "image",
      mediaType: mediaType || MT.ociManifest,
      config: descriptor(doc.config, "config"),
      layers: doc.layers.map((l, i) => descriptor(l, `layers[${i}]`)),
    };
  }
  throw new InvalidArgumentError(`unsupported manifest (media type ${mediaType || "unknown"})`);
}

/** The platform this daemon runs containers for. */
export function hostPlatform(): Platform {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  return { os: "linux", architecture: arch, variant: arch === "arm64" ? "v8" : undefined };
}

/** Picks the entry for platform: exact variant first, then one without a variant, then any. */
export function selectPlatform(manifests: Descriptor[], platform: Platform): Descriptor {
  const same = manifests.filter((m) =>
    m.platform?.os === platform.os && m.platform?.architecture === platform.architecture
  );
  const pick = same.find((m) => m.platform?.variant === platform.variant) ??
    same.find((m) => !m.platform?.variant) ?? same[0];
  if (!pick) {
    const have = manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(", ");
    throw new InvalidArgumentError(
      `no image for ${platform.os}/${platform.architecture} in the manifest list (has: ${have})`,
    );
  }
  return pick;
}

export interface ImageConfig {
  diffIds: Digest[];
  user: string;
  raw: Record<string, unknown>;
}

export function parseConfig(bytes: Uint8Array, layerCount: number): ImageConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidArgumentError("image config is not valid JSON");
  }
  const rootfs = raw.rootfs as { diff_ids?: unknown[] } | undefined;
  const ids = rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.length !== layerCount) {
    throw new InvalidArgumentError(
      `image config lists ${Array.isArray(ids) ? ids.length : 0} diff IDs for ${layerCount} layers`,
    );
  }
  const cfg = (raw.config ?? {}) as Record<string, unknown>;
  return {
    diffIds: ids.map((d, i) => parseDigest(d, `rootfs.diff_ids[${i}]`)),
    user: typeof cfg.User === "string" ? cfg.User : "",
    raw,
  };
}
