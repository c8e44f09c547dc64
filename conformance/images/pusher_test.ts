import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert";
import { type LocalRegistry, startRegistry } from "../registry.ts";
import { buildLayer, sha256Digest } from "./layer.ts";
import { buildImage, MEDIA_TYPES } from "./oci.ts";
import { hasBlob, pushImage } from "./pusher.ts";

const ACCEPT = [
  MEDIA_TYPES.oci.manifest,
  MEDIA_TYPES.oci.index,
  MEDIA_TYPES.docker.manifest,
  MEDIA_TYPES.docker.index,
].join(", ");

async function getManifest(registry: LocalRegistry, at: { repo: string; ref: string }) {
  const { repo, ref } = at;
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${ref}`, {
    headers: { Accept: ACCEPT },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  assertEquals(res.status, 200, `GET ${repo}:${ref}`);
  return {
    bytes,
    digest: res.headers.get("Docker-Content-Digest"),
    type: res.headers.get("Content-Type"),
    doc: JSON.parse(new TextDecoder().decode(bytes)),
  };
}

async function getBlob(registry: LocalRegistry, at: { repo: string; digest: string }) {
  const { repo, digest } = at;
  const res = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assertEquals(res.status, 200, `GET blob ${digest}`);
  return bytes;
}

async function withRegistry(fn: (r: LocalRegistry) => Promise<void>): Promise<void> {
  const registry = await startRegistry();
  try {
    await fn(registry);
  } finally {
    await registry.stop();
  }
}

Deno.test("push a small image, read back manifest, config and layer digests", async () => {
  await withRegistry(async (registry) => {
    const layer = await buildLayer([{ type: "file", path: "hello", data: "hi\n" }]);
    const image = await buildImage([layer], { cmd: ["/hello"], format: "oci" });
    const target = { registry: registry.host, repo: "test/small" };
    const digest = await pushImage(target, image, { tags: ["v1"] });
    assertEquals(digest, image.top.digest);

    const got = await getManifest(registry, { repo: "test/small", ref: "v1" });
    assertEquals(got.digest, digest);
    assertEquals(await sha256Digest(got.bytes), digest);
    assertEquals(got.type, MEDIA_TYPES.oci.manifest);
    assertEquals(got.doc.layers[0].digest, layer.digest);

    const config = await getBlob(registry, { repo: "test/small", digest: got.doc.config.digest });
    assertEquals(await sha256Digest(config), got.doc.config.digest);
    const parsed = JSON.parse(new TextDecoder().decode(config));
    assertEquals(parsed.rootfs.diff_ids, [layer.diffId]);
    assertEquals(parsed.config.Cmd, ["/hello"]);
    assertEquals(
      await sha256Digest(await getBlob(registry, { repo: "test/small", digest: layer.digest })),
      layer.digest,
    );
  });
});

Deno.test("multi-arch docker list: children by digest, several tags, shared layers mounted", async () => {
  await withRegistry(async (registry) => {
    const layer = await buildLayer([{ type: "file", path: "x", data: "x" }]);
    const image = await buildImage([layer], { format: "docker", multiArch: true });
    const mounts = new Map<string, string>();
    const first = { registry: registry.host, repo: "a/one" };
    await pushImage(first, image, { tags: ["1", "2"], mounts });
    assertEquals(mounts.get(layer.digest), "a/one");
    const second = { registry: registry.host, repo: "b/two" };
    const digest = await pushImage(second, image, { tags: ["latest"], mounts });
    assert(await hasBlob(second, layer.digest), "mounted blob must be visible in the new repo");

    for (const [repo, tag] of [["a/one", "1"], ["a/one", "2"], ["b/two", "latest"]]) {
      const got = await getManifest(registry, { repo, ref: tag });
      assertEquals(got.digest, digest);
      assertEquals(got.type, MEDIA_TYPES.docker.index);
      const archs = got.doc.manifests.map((m: { platform: { architecture: string } }) =>
        m.platform.architecture
      );
      assertEquals(archs, ["amd64", "arm64"]);
      const child = await getManifest(registry, { repo, ref: got.doc.manifests[0].digest });
      assertEquals(child.type, MEDIA_TYPES.docker.manifest);
    }
    const tags = await (await fetch(`${registry.url}/v2/a/one/tags/list`)).json();
    assertEquals(tags.tags.sort(), ["1", "2"]);
  });
});

Deno.test("pusher refuses non-loopback registries and bad repository names", async () => {
  const layer = await buildLayer([{ type: "file", path: "x", data: "x" }]);
  const image = await buildImage([layer], {});
  await assertRejects(
    pushImage({ registry: "registry.k8s.io", repo: "pause" }, image, { tags: ["x"] }),
    /non-loopback/,
  );
  await assertRejects(
    pushImage({ registry: "127.0.0.1:1", repo: "Bad/Name" }, image, { tags: ["x"] }),
    /invalid repository/,
  );
});
