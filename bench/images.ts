/**
 * The bench images: small (~5 MB, 2 layers), medium (~100 MB, 7 layers of binary-like data) and
 * large (~500 MB, 13 layers, ~18k small files, half text-like), plus busybox for containers and a
 * pause image for containerd's sandboxes. Content comes from a seeded PRNG, so every build gives
 * the same digests; built blobs are cached under .cache/bench/images/ and pushed from there.
 */
import { gzip } from "node:zlib";
import { cacheDir } from "../src/cri/k8s_versions.ts";
import { pauseBinary } from "../conformance/images/elf.ts";
import { sha256Digest } from "../conformance/images/layer.ts";
import {
  imageConfig,
  imageManifest,
  MEDIA_TYPES,
  type StoredBlob,
} from "../conformance/images/oci.ts";
import { pushBlob, pushManifest } from "../conformance/images/pusher.ts";
import { busyboxRootfs } from "../conformance/images/rootfs.ts";
import { type TarEntry, writeTar } from "../conformance/images/tar_writer.ts";

/** Bump when a spec below changes, so stale cached blobs are not pushed. */
const CACHE_VERSION = "v2";

export type ImageKey = "small" | "medium" | "large" | "busybox" | "pause";

interface LayerSpec {
  files: number;
  fileBytes: number;
  /** Text-like content (32-symbol alphabet, gzips to ~65%) for this share of the files. */
  textShare: number;
}

interface ImageSpec {
  key: ImageKey;
  /** The upstream-style name both runtimes pull; the mirrors send it to the local registry. */
  ref: string;
  busybox: boolean;
  layers: LayerSpec[];
  config: { cmd?: string[]; entrypoint?: string[]; user?: string };
}

const MiB = 1 << 20;
const repeat = (n: number, l: LayerSpec) => Array.from({ length: n }, () => l);

export const IMAGE_SPECS: readonly ImageSpec[] = [
  {
    key: "small",
    ref: "docker.io/criodeno/bench-small:v1",
    busybox: true,
    layers: [{ files: 4, fileBytes: MiB, textShare: 0 }],
    config: { cmd: ["sh"] },
  },
  {
    key: "medium",
    ref: "docker.io/criodeno/bench-medium:v1",
    busybox: true,
    layers: repeat(6, { files: 4, fileBytes: 4 * MiB, textShare: 0 }),
    config: { cmd: ["sh"] },
  },
  {
    key: "large",
    ref: "docker.io/criodeno/bench-large:v1",
    busybox: true,
    layers: repeat(12, { files: 1500, fileBytes: 28 * 1024, textShare: 0.5 }),
    config: { cmd: ["sh"] },
  },
  { key: "busybox", ref: "docker.io/library/busybox:1.36", busybox: true, layers: [], config: {} },
  {
    key: "pause",
    ref: "registry.k8s.io/pause:3.10.1",
    busybox: false,
    layers: [],
    config: { entrypoint: ["/pause"], user: "65535:65535" },
  },
];

/** The registry hosts the image names use: both runtimes mirror them to the local registry. */
export const MIRRORED_HOSTS = ["docker.io", "registry.k8s.io"];

export interface BuiltBenchImage {
  key: ImageKey;
  ref: string;
  /** Layers, then the config. */
  blobs: Omit<StoredBlob, "bytes">[];
  manifest: Omit<StoredBlob, "bytes">;
  compressedBytes: number;
  uncompressedBytes: number;
  files: number;
}

const LAYER_TYPE = MEDIA_TYPES.oci.layer;

/** Fills buf from a xorshift32 stream: fast, deterministic, incompressible enough. */
export function fillPseudoRandom(buf: Uint8Array, seed: number): void {
  let x = (seed >>> 0) || 0x9e3779b9;
  const words = Math.floor(buf.length / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i * 4, x >>> 0, true);
  }
  for (let i = words * 4; i < buf.length; i++) buf[i] = (x >>> ((i % 4) * 8)) & 0xff;
}

/** Maps bytes onto 32 printable symbols: text-like data that compresses but not trivially. */
export function toTextLike(buf: Uint8Array): void {
  for (let i = 0; i < buf.length; i++) buf[i] = 0x40 + (buf[i] & 0x1f);
}

export function layerEntries(spec: LayerSpec, seed: number): TarEntry[] {
  const entries: TarEntry[] = [];
  const perDir = 100;
  const top = `data/l${String(seed % 1000).padStart(3, "0")}`;
  entries.push({ type: "dir", path: "data" }, { type: "dir", path: top });
  const textFiles = Math.round(spec.files * spec.textShare);
  for (let i = 0; i < spec.files; i++) {
    const dir = `${top}/d${String(Math.floor(i / perDir)).padStart(3, "0")}`;
    if (i % perDir === 0) entries.push({ type: "dir", path: dir });
    const data = new Uint8Array(spec.fileBytes);
    fillPseudoRandom(data, seed * 1_000_003 + i + 1);
    const text = i < textFiles;
    if (text) toTextLike(data);
    entries.push({ type: "file", path: `${dir}/f${i}.${text ? "txt" : "bin"}`, data });
  }
  return entries;
}

function gzipBytes(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) =>
    gzip(data, { level: 6 }, (err, out) => err ? reject(err) : resolve(new Uint8Array(out)))
  );
}

interface BuiltLayer {
  blob: Uint8Array<ArrayBuffer>;
  digest: string;
  diffId: string;
  size: number;
  tarBytes: number;
  files: number;
}

async function buildLayer(entries: TarEntry[]): Promise<BuiltLayer> {
  const tar = writeTar(entries);
  const blob = await gzipBytes(tar);
  const [diffId, digest] = await Promise.all([sha256Digest(tar), sha256Digest(blob)]);
  const files = entries.filter((e) => e.type === "file").length;
  return { blob, digest, diffId, size: blob.length, tarBytes: tar.length, files };
}

function imageDir(key: ImageKey): string {
  return `${cacheDir()}/bench/images/${CACHE_VERSION}/${key}`;
}

const blobPath = (dir: string, digest: string) => `${dir}/blobs/${digest.replace(":", "-")}`;

async function writeBlob(dir: string, b: { digest: string; bytes: Uint8Array }): Promise<void> {
  await Deno.writeFile(blobPath(dir, b.digest), b.bytes);
}

function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Builds one image into the cache, two layers at a time, keeping only metadata in memory. */
async function buildImage(spec: ImageSpec, base: () => Promise<BuiltLayer>) {
  const dir = imageDir(spec.key);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/blobs`, { recursive: true });
  const layers: BuiltLayer[] = [];
  const keep = async (layer: BuiltLayer) => {
    await writeBlob(dir, { digest: layer.digest, bytes: layer.blob });
    layers.push({ ...layer, blob: new Uint8Array(0) });
  };
  if (spec.busybox) await keep(await base());
  if (spec.key === "pause") {
    await keep(
      await buildLayer([{ type: "file", path: "pause", mode: 0o755, data: pauseBinary() }]),
    );
  }
  for (let i = 0; i < spec.layers.length; i += 2) {
    const batch = spec.layers.slice(i, i + 2).map((l, j) =>
      buildLayer(layerEntries(l, hashSeed(`${spec.key}/${i + j}`)))
    );
    for (const layer of await Promise.all(batch)) await keep(layer);
  }
  const config = await imageConfig(layers, spec.config);
  const manifest = await imageManifest(config, layers);
  await writeBlob(dir, config);
  await writeBlob(dir, manifest);
  const built: BuiltBenchImage = {
    key: spec.key,
    ref: spec.ref,
    blobs: [
      ...layers.map((l) => ({ mediaType: LAYER_TYPE, digest: l.digest, size: l.size })),
      { mediaType: config.mediaType, digest: config.digest, size: config.size },
    ],
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
    compressedBytes: layers.reduce((a, l) => a + l.size, 0),
    uncompressedBytes: layers.reduce((a, l) => a + l.tarBytes, 0),
    files: layers.reduce((a, l) => a + l.files, 0),
  };
  await Deno.writeTextFile(`${dir}/image.json`, JSON.stringify(built, null, 2));
  return built;
}

async function cached(spec: ImageSpec): Promise<BuiltBenchImage | undefined> {
  try {
    const built = JSON.parse(await Deno.readTextFile(`${imageDir(spec.key)}/image.json`));
    return built.ref === spec.ref ? built : undefined;
  } catch {
    return undefined;
  }
}

/** Every bench image, from the cache when it is there, else built (once: minutes, not seconds). */
export async function benchImages(
  options: { log: (line: string) => void },
): Promise<BuiltBenchImage[]> {
  let base: Promise<BuiltLayer> | undefined;
  const baseLayer = () => (base ??= busyboxRootfs().then((e) => buildLayer(e)));
  const out: BuiltBenchImage[] = [];
  for (const spec of IMAGE_SPECS) {
    let built = await cached(spec);
    if (!built) {
      options.log(`building bench image ${spec.ref} into ${imageDir(spec.key)}`);
      built = await buildImage(spec, baseLayer);
    }
    out.push(built);
  }
  return out;
}

/** `docker.io/criodeno/bench-small:v1` → repository `criodeno/bench-small`, tag `v1`. */
export function localName(ref: string): { repo: string; tag: string } {
  const path = ref.slice(ref.indexOf("/") + 1);
  const colon = path.lastIndexOf(":");
  return { repo: path.slice(0, colon), tag: path.slice(colon + 1) };
}

/** Pushes an image from the cache to the local registry under its upstream path. */
export async function pushBenchImage(registry: string, image: BuiltBenchImage): Promise<void> {
  const dir = imageDir(image.key);
  const { repo, tag } = localName(image.ref);
  const target = { registry, repo };
  for (const b of image.blobs) {
    await pushBlob(target, {
      digest: b.digest,
      bytes: await Deno.readFile(blobPath(dir, b.digest)),
    });
  }
  const bytes = await Deno.readFile(blobPath(dir, image.manifest.digest));
  await pushManifest(target, { ...image.manifest, bytes }, { reference: tag });
}
