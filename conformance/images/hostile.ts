/**
 * Hostile images, one per case of issue 3 item 6 and security.md §4 items 1–8 and 14: layers that
 * try to write outside the layer directory, forge whiteouts, blow up on decompression or carry
 * inconsistent metadata. Each case names what the pull must answer: `refused` with an error that
 * contains `error`, or `confined` (the pull may succeed, nothing changes outside the store).
 *
 * Every escape aims at CANARY, a directory the test creates and checks afterwards; names climb
 * with enough `..` to reach `/` from any store root, so a missed check would land in the canary.
 * Cases a real registry refuses to store (bad digests, wrong bytes) live in hostile_registry.ts.
 */
import { zstdCompressSync } from "node:zlib";
import { type RawEntry, rawTar } from "../../src/testing/raw_tar.ts";
import { gzip, type Layer, sha256Digest } from "./layer.ts";
import { type BuiltImage, imageConfig, MEDIA_TYPES, type StoredBlob } from "./oci.ts";

export type Compression = "gzip" | "zstd" | "none";

export interface HostileLayer {
  entries: RawEntry[];
  compression?: Compression;
  /** Bytes appended after the end-of-archive blocks (decompressed, never extracted). */
  trailingZeros?: number;
  /** Replaces the config's diff ID for this layer. */
  diffId?: string;
  mediaType?: string;
}

export interface HostileCase {
  name: string;
  /** The security.md §4 item or issue item the case stands for. */
  item: string;
  layers: HostileLayer[];
  outcome: "refused" | "confined";
  /** For `refused`: a piece of the error message. */
  error?: string;
  /** Raw config overrides (merged into the built config). */
  config?: Record<string, unknown>;
  /** Lowers the layer size cap for this case (a real 32 GiB bomb is too slow for a test). */
  maxLayerBytes?: number;
}

/** `../` enough times to reach `/` from any store root the tests use. */
const UP = "../".repeat(24);
const C = "CANARY";

const file = (name: string, extra: Partial<RawEntry> = {}): RawEntry => ({
  name,
  data: "hostile",
  ...extra,
});
const sym = (name: string, linkname: string): RawEntry => ({ name, flag: "2", linkname });
const hard = (name: string, linkname: string): RawEntry => ({ name, flag: "1", linkname });
const dir = (name: string): RawEntry => ({ name, flag: "5", mode: 0o755 });
const one = (...entries: RawEntry[]): HostileLayer[] => [{ entries }];

export const HOSTILE_CASES: HostileCase[] = [
  {
    name: "dotdot",
    item: "§4.1",
    layers: one(file(`${UP}${C}/dotdot`)),
    outcome: "refused",
    error: "escapes layer",
  },
  {
    name: "nested-dotdot",
    item: "§4.1",
    layers: one(file(`a/${UP}${C}/nested`)),
    outcome: "refused",
    error: "escapes layer",
  },
  {
    name: "absolute",
    item: "§4.1",
    layers: one(file(`/${C}/absolute`)),
    outcome: "refused",
    error: "absolute path",
  },
  {
    name: "symlink-write-same-layer",
    item: "§4.2",
    outcome: "refused",
    error: "is a symlink",
    layers: one(sym("l", `/${C}`), file("l/through")),
  },
  {
    name: "symlink-write-later-layer",
    item: "§4.2",
    outcome: "confined",
    layers: [{ entries: [sym("l", `/${C}`)] }, { entries: [file("l/through")] }],
  },
  {
    name: "dir-swapped-for-symlink",
    item: "§4.5",
    outcome: "refused",
    error: "is a symlink",
    layers: one(dir("d/"), sym("d", `/${C}`), file("d/through")),
  },
  {
    name: "dir-swapped-for-symlink-later-layer",
    item: "§4.5",
    outcome: "refused",
    error: "is a symlink",
    layers: [{ entries: [dir("d/")] }, { entries: [sym("d", `/${C}`), file("d/through")] }],
  },
  {
    name: "hardlink-dotdot",
    item: "§4.3",
    layers: one(hard("h", `${UP}${C}/victim`)),
    outcome: "refused",
    error: "escapes layer",
  },
  {
    name: "hardlink-root-dotdot",
    item: "§4.3",
    layers: one(hard("h", `/../${UP}${C}/victim`)),
    outcome: "refused",
    error: "escapes layer",
  },
  {
    name: "hardlink-through-symlink",
    item: "§4.3",
    outcome: "refused",
    error: "is a symlink",
    layers: one(sym("l", `/${C}`), hard("h", "l/victim")),
  },
  {
    name: "hardlink-absolute-inside",
    item: "§4.3 (kaniko style, accepted)",
    outcome: "confined",
    layers: one(dir("bin/"), file("bin/a"), hard("bin/b", "/bin/a")),
  },
  {
    name: "metadata-through-symlink",
    item: "§4.4 (CVE-2021-32760)",
    outcome: "confined",
    layers: one(
      sym("l", `/${C}/victim`),
      { ...sym("l", `/${C}/victim`), mode: 0o777, uid: 4242, gid: 4242, mtime: 5 },
      { ...sym("m", `/${C}/victim`), pax: { "SCHILY.xattr.user.hostile": "1", mtime: "7" } },
      { ...dir("m/"), mode: 0o777, uid: 4242 },
    ),
  },
  {
    name: "whiteout-bare",
    item: "§4.6",
    layers: one(file(".wh.")),
    outcome: "refused",
    error: "bad whiteout",
  },
  {
    name: "whiteout-dotdot",
    item: "§4.6",
    layers: one(file("a/.wh...")),
    outcome: "refused",
    error: "bad whiteout",
  },
  {
    name: "whiteout-escaping",
    item: "§4.6",
    layers: one(file(`${UP}${C}/.wh.victim`)),
    outcome: "refused",
    error: "escapes layer",
  },
  {
    name: "opaque-escaping",
    item: "§4.6",
    layers: one(file(`../.wh..wh..opq`)),
    outcome: "refused",
    error: "escapes layer",
  },
  {
    name: "pax-over-cap",
    item: "§4.8",
    outcome: "refused",
    error: "cap",
    layers: one(file("f", { pax: { comment: "x".repeat(2 << 20) } })),
  },
  {
    name: "gnu-long-name-over-cap",
    item: "§4.8",
    outcome: "refused",
    error: "cap",
    layers: one({ name: "././@LongLink", flag: "L", data: "a".repeat(2 << 20) }, file("f")),
  },
  {
    name: "sparse",
    item: "§4.8",
    outcome: "refused",
    error: "sparse",
    layers: one(file("f", { pax: { "GNU.sparse.map": "0,1,".repeat(1000) + "0,1" } })),
  },
  {
    name: "zstd-ratio-bomb",
    item: "§4.8",
    outcome: "refused",
    error: "bomb",
    layers: [{ entries: [file("f")], compression: "zstd", trailingZeros: 300 << 20 }],
  },
  {
    name: "gzip-size-bomb",
    item: "§4.8 (size cap, lowered by the test)",
    outcome: "refused",
    error: "decompresses to more than",
    maxLayerBytes: 4 << 20,
    layers: [{ entries: [file("zeros", { data: new Uint8Array(6 << 20) })] }],
  },
  {
    name: "diff-id-mismatch",
    item: "§4.9",
    outcome: "refused",
    error: "does not match diff ID",
    layers: [{ entries: [file("f")], diffId: `sha256:${"0".repeat(64)}` }],
  },
  {
    name: "unknown-layer-media-type",
    item: "§4.10",
    outcome: "refused",
    error: "media type",
    layers: [{ entries: [file("f")], mediaType: "application/x-hostile" }],
  },
  {
    name: "config-diff-ids-short",
    item: "§4.14",
    outcome: "refused",
    error: "diff IDs for 1 layers",
    layers: one(file("f")),
    config: { rootfs: { type: "layers", diff_ids: [] } },
  },
  {
    name: "config-diff-id-malformed",
    item: "§4.11",
    outcome: "refused",
    error: "rootfs.diff_ids[0]",
    layers: one(file("f")),
    config: { rootfs: { type: "layers", diff_ids: ["sha256:../x"] } },
  },
  {
    name: "config-huge",
    item: "§4.14",
    outcome: "refused",
    error: "limit",
    layers: one(file("f")),
    config: { config: { Env: ["X=" + "y".repeat(9 << 20)] } },
  },
];

const MEDIA: Record<Compression, string> = {
  gzip: MEDIA_TYPES.oci.layer,
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  none: "application/vnd.oci.image.layer.v1.tar",
};

/** Aims the entry at the canary; names past the 100-byte ustar field go in PAX records. */
function withCanary(e: RawEntry, canary: string): RawEntry {
  const sub = (s?: string) => s?.replaceAll(C, canary.replace(/^\/+/, ""));
  const name = sub(e.name)!;
  const linkname = sub(e.linkname);
  const pax = { ...e.pax };
  if (name.length > 99) pax.path = name;
  if (linkname && linkname.length > 99) pax.linkpath = linkname;
  return { ...e, name, linkname, ...(Object.keys(pax).length ? { pax } : {}) };
}

async function hostileLayer(l: HostileLayer, canary: string) {
  let tar = rawTar(l.entries.map((e) => withCanary(e, canary)));
  if (l.trailingZeros) {
    const longer = new Uint8Array(tar.length + l.trailingZeros);
    longer.set(tar);
    tar = longer;
  }
  const c = l.compression ?? "gzip";
  const blob = c === "gzip"
    ? await gzip(tar)
    : c === "zstd"
    ? new Uint8Array(zstdCompressSync(tar))
    : tar;
  const layer: Layer = {
    blob,
    digest: await sha256Digest(blob),
    diffId: l.diffId ?? await sha256Digest(tar),
    size: blob.length,
  };
  return { layer, mediaType: l.mediaType ?? MEDIA[c] };
}

async function json(mediaType: string, value: unknown): Promise<StoredBlob> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { mediaType, digest: await sha256Digest(bytes), size: bytes.length, bytes };
}

/** Builds one case's image (OCI manifest, no index) with its escapes aimed at `canary`. */
export async function buildHostile(c: HostileCase, canary: string): Promise<BuiltImage> {
  const built = await Promise.all(c.layers.map((l) => hostileLayer(l, canary)));
  const base = await imageConfig(built.map((b) => b.layer));
  const doc = { ...JSON.parse(new TextDecoder().decode(base.bytes)), ...c.config };
  const config = await json(MEDIA_TYPES.oci.config, doc);
  const manifest = await json(MEDIA_TYPES.oci.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.oci.manifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: built.map((b) => ({
      mediaType: b.mediaType,
      digest: b.layer.digest,
      size: b.layer.size,
    })),
  });
  const blobs = built.map((b) => ({
    mediaType: b.mediaType,
    digest: b.layer.digest,
    size: b.layer.size,
    bytes: b.layer.blob,
  }));
  return { blobs: [...blobs, config], children: [], top: manifest };
}
