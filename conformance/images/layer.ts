/** Image layers: a tar of in-memory entries, gzipped, with the two digests an image needs. */

import { type TarEntry, writeTar } from "./tar_writer.ts";

export interface Layer {
  /** The gzipped tar, as stored in the registry. */
  blob: Uint8Array<ArrayBuffer>;
  /** sha256 of `blob`: what manifests reference. */
  digest: string;
  /** sha256 of the uncompressed tar: what the config's rootfs.diff_ids lists. */
  diffId: string;
  size: number;
}

export async function sha256Digest(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function gzip(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function buildLayer(entries: readonly TarEntry[]): Promise<Layer> {
  const tar = writeTar(entries);
  const blob = await gzip(tar);
  const [diffId, digest] = await Promise.all([sha256Digest(tar), sha256Digest(blob)]);
  return { blob, digest, diffId, size: blob.length };
}
