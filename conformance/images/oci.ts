/**
 * Image configs, manifests and indexes, in OCI or Docker schema 2 form.
 *
 * Both forms are produced because real registries serve both and the runtime
 * under test has to pull either; the JSON is otherwise the same.
 */

import { type Layer, sha256Digest } from "./layer.ts";

export type ManifestFormat = "oci" | "docker";

export const MEDIA_TYPES = {
  oci: {
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
    manifest: "application/vnd.oci.image.manifest.v1+json",
    index: "application/vnd.oci.image.index.v1+json",
  },
  docker: {
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    index: "application/vnd.docker.distribution.manifest.list.v2+json",
  },
} as const;

/** A JSON document or layer as the registry stores it. */
export interface StoredBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Uint8Array<ArrayBuffer>;
}

export interface ImageConfigOptions {
  architecture?: string;
  os?: string;
  variant?: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  stopSignal?: string;
  exposedPorts?: string[];
  /** RFC 3339; fixed by default so digests are reproducible. */
  created?: string;
}

export const DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
const EPOCH = "1970-01-01T00:00:00Z";

async function jsonBlob(mediaType: string, value: unknown): Promise<StoredBlob> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { mediaType, digest: await sha256Digest(bytes), size: bytes.length, bytes };
}

export function imageConfig(
  layers: readonly Layer[],
  opts: ImageConfigOptions & { format?: ManifestFormat } = {},
): Promise<StoredBlob> {
  const config: Record<string, unknown> = { Env: opts.env ?? DEFAULT_ENV };
  if (opts.user !== undefined) config.User = opts.user;
  if (opts.entrypoint) config.Entrypoint = opts.entrypoint;
  if (opts.cmd) config.Cmd = opts.cmd;
  if (opts.workingDir !== undefined) config.WorkingDir = opts.workingDir;
  if (opts.labels) config.Labels = opts.labels;
  if (opts.stopSignal) config.StopSignal = opts.stopSignal;
  if (opts.exposedPorts) {
    config.ExposedPorts = Object.fromEntries(opts.exposedPorts.map((p) => [p, {}]));
  }
  const created = opts.created ?? EPOCH;
  const doc = {
    created,
    architecture: opts.architecture ?? "amd64",
    ...(opts.variant ? { variant: opts.variant } : {}),
    os: opts.os ?? "linux",
    config,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created, created_by: "critest image builder" })),
  };
  return jsonBlob(MEDIA_TYPES[opts.format ?? "oci"].config, doc);
}

function descriptor(b: { mediaType: string; digest: string; size: number }) {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size };
}

export function imageManifest(
  config: StoredBlob,
  layers: readonly Layer[],
  opts: { format?: ManifestFormat; annotations?: Record<string, string> } = {},
): Promise<StoredBlob> {
  const types = MEDIA_TYPES[opts.format ?? "oci"];
  return jsonBlob(types.manifest, {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: descriptor(config),
    layers: layers.map((l) => descriptor({ ...l, mediaType: types.layer })),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  });
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export function imageIndex(
  manifests: readonly { manifest: StoredBlob; platform: Platform }[],
  opts: { format?: ManifestFormat } = {},
): Promise<StoredBlob> {
  const types = MEDIA_TYPES[opts.format ?? "oci"];
  return jsonBlob(types.index, {
    schemaVersion: 2,
    mediaType: types.index,
    manifests: manifests.map((m) => ({ ...descriptor(m.manifest), platform: m.platform })),
  });
}

/** Everything a registry needs for one pushable reference. */
export interface BuiltImage {
  /** Layers and configs, each pushed once. */
  blobs: StoredBlob[];
  /** Per-platform manifests an index points at; pushed by digest before `top`. */
  children: StoredBlob[];
  /** What a tag points at: a manifest, or an index when multi-arch. */
  top: StoredBlob;
}

export interface BuildImageOptions extends ImageConfigOptions {
  format?: ManifestFormat;
  /**
   * Also emit a linux/arm64 manifest (same layers, arm64 config) and an index
   * over both, so the runtime has to pick its platform out of a list. The arm64
   * entry is fake: its layers are the amd64 ones, it only has to be skipped.
   */
  multiArch?: boolean;
}

export async function buildImage(
  layers: readonly Layer[],
  opts: BuildImageOptions = {},
): Promise<BuiltImage> {
  const { multiArch, ...rest } = opts;
  const layerBlobs: StoredBlob[] = layers.map((l) => ({
    mediaType: MEDIA_TYPES[opts.format ?? "oci"].layer,
    digest: l.digest,
    size: l.size,
    bytes: l.blob,
  }));
  const amd64 = await platformImage(layers, { ...rest, architecture: "amd64" });
  if (!multiArch) {
    return { blobs: [...layerBlobs, amd64.config], children: [], top: amd64.manifest };
  }
  const arm64 = await platformImage(layers, { ...rest, architecture: "arm64", variant: "v8" });
  const top = await imageIndex([
    { manifest: amd64.manifest, platform: { architecture: "amd64", os: "linux" } },
    { manifest: arm64.manifest, platform: { architecture: "arm64", os: "linux", variant: "v8" } },
  ], { format: opts.format });
  return {
    blobs: [...layerBlobs, amd64.config, arm64.config],
    children: [amd64.manifest, arm64.manifest],
    top,
  };
}

async function platformImage(
  layers: readonly Layer[],
  opts: ImageConfigOptions & { format?: ManifestFormat },
): Promise<{ config: StoredBlob; manifest: StoredBlob }> {
  const config = await imageConfig(layers, opts);
  const manifest = await imageManifest(config, layers, { format: opts.format });
  return { config, manifest };
}
