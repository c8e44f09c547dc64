/**
 * Pushes built images with the registry HTTP API v2: monolithic blob uploads
 * (POST then PUT ?digest=), HEAD to skip blobs already there, manifests by tag.
 */

import type { BuiltImage, StoredBlob } from "./oci.ts";

export interface PushTarget {
  /** `127.0.0.1:PORT`; only loopback registries are accepted. */
  registry: string;
  /** Repository path, e.g. `e2e-test-images/busybox`. */
  repo: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function baseUrl(target: PushTarget): string {
  const url = new URL(`http://${target.registry}`);
  // The harness only ever talks to the registry it started on this machine.
  if (!LOOPBACK.has(url.hostname)) {
    throw new Error(`refusing to push to non-loopback registry ${target.registry}`);
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(target.repo)) {
    throw new Error(`invalid repository name ${JSON.stringify(target.repo)}`);
  }
  return `${url.origin}/v2/${target.repo}`;
}

async function fail(res: Response, what: string): Promise<never> {
  const body = (await res.text()).slice(0, 500);
  throw new Error(`${what}: HTTP ${res.status} ${body}`);
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel();
}

export async function hasBlob(target: PushTarget, digest: string): Promise<boolean> {
  const res = await fetch(`${baseUrl(target)}/blobs/${digest}`, { method: "HEAD" });
  await discard(res);
  return res.ok;
}

/**
 * Uploads one blob unless the repository already has it; returns whether bytes
 * were sent. `mountFrom` names a repository known to hold the blob, so the
 * registry can link it instead of receiving it again.
 */
export function pushBlob(
  target: PushTarget,
  blob: Pick<StoredBlob, "digest" | "bytes">,
  opts: { mountFrom?: string } = {},
): Promise<boolean> {
  // Two images sharing a layer are pushed at once; concurrent commits of the same blob to one
  // repository race inside the registry's filesystem driver (a manifest PUT in between sees
  // "blob unknown"), so each blob goes to each repository once at a time.
  const key = `${target.registry}/${target.repo}@${blob.digest}`;
  const running = inflight.get(key);
  if (running) return running.then(() => false);
  const p = uploadBlob(target, blob, opts).finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

const inflight = new Map<string, Promise<boolean>>();

async function uploadBlob(
  target: PushTarget,
  blob: Pick<StoredBlob, "digest" | "bytes">,
  opts: { mountFrom?: string },
): Promise<boolean> {
  if (await hasBlob(target, blob.digest)) return false;
  const base = baseUrl(target);
  const mount = opts.mountFrom && opts.mountFrom !== target.repo
    ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(opts.mountFrom)}`
    : "";
  const start = await fetch(`${base}/blobs/uploads/${mount}`, { method: "POST" });
  if (start.status !== 202 && !(start.status === 201 && mount)) {
    await fail(start, `start upload to ${target.repo}`);
  }
  await discard(start);
  if (start.status === 201) return false;
  const location = start.headers.get("Location");
  if (!location) throw new Error(`registry gave no upload Location for ${target.repo}`);
  const url = new URL(location, base);
  if (url.origin !== new URL(base).origin) {
    throw new Error(`registry redirected the upload off-host: ${url.origin}`);
  }
  url.searchParams.set("digest", blob.digest);
  const put = await fetch(url, {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: blob.bytes,
  });
  if (put.status !== 201) await fail(put, `upload ${blob.digest} to ${target.repo}`);
  await discard(put);
  return true;
}

/** Puts a manifest or index under a tag or digest; returns the digest the registry computed. */
export async function pushManifest(
  target: PushTarget,
  manifest: StoredBlob,
  opts: { reference: string },
): Promise<string> {
  const { reference } = opts;
  const res = await fetch(`${baseUrl(target)}/manifests/${reference}`, {
    method: "PUT",
    headers: { "Content-Type": manifest.mediaType },
    body: manifest.bytes,
  });
  if (res.status !== 201) await fail(res, `put manifest ${target.repo}:${reference}`);
  await discard(res);
  const digest = res.headers.get("Docker-Content-Digest") ?? manifest.digest;
  if (digest !== manifest.digest) {
    throw new Error(`registry digest ${digest} differs from ours ${manifest.digest}`);
  }
  return digest;
}

export interface PushImageOptions {
  /** Tags to point at the image; with none it is pushed by digest only. */
  tags: readonly string[];
  /**
   * Blob digest -> a repository holding it. Read to mount instead of upload,
   * and updated with what this push stored, so shared layers travel once.
   */
  mounts?: Map<string, string>;
}

/**
 * Pushes blobs, then per-platform manifests by digest (an index may only name
 * manifests the registry has), then the top manifest under every tag.
 */
export async function pushImage(
  target: PushTarget,
  image: BuiltImage,
  opts: PushImageOptions,
): Promise<string> {
  const seen = new Set<string>();
  const unique = image.blobs.filter((b) => !seen.has(b.digest) && seen.add(b.digest));
  await Promise.all(unique.map(async (b) => {
    await pushBlob(target, b, { mountFrom: opts.mounts?.get(b.digest) });
    if (opts.mounts && !opts.mounts.has(b.digest)) opts.mounts.set(b.digest, target.repo);
  }));
  for (const child of image.children) {
    await pushManifest(target, child, { reference: child.digest });
  }
  const refs = opts.tags.length > 0 ? opts.tags : [image.top.digest];
  let digest = image.top.digest;
  for (const ref of refs) digest = await pushManifest(target, image.top, { reference: ref });
  return digest;
}
