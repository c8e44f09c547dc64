import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { buildLayer, sha256Digest } from "./layer.ts";
import { buildImage, imageConfig, imageIndex, imageManifest, MEDIA_TYPES } from "./oci.ts";
import { writeTar } from "./tar_writer.ts";

const entries = [
  { type: "dir" as const, path: "app" },
  { type: "file" as const, path: "app/hello.txt", data: "hello\n" },
];

async function gunzip(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

Deno.test("sha256Digest matches a known vector", async () => {
  assertEquals(
    await sha256Digest(new TextEncoder().encode("abc")),
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("layer: diffID is the tar's digest, digest is the gzip's", async () => {
  const layer = await buildLayer(entries);
  const tar = await gunzip(layer.blob);
  assertEquals(tar, writeTar(entries));
  assertEquals(layer.diffId, await sha256Digest(writeTar(entries)));
  assertEquals(layer.digest, await sha256Digest(layer.blob));
  assertEquals(layer.size, layer.blob.length);
  assert(layer.diffId !== layer.digest);
});

Deno.test("config carries runtime settings and diff_ids", async () => {
  const layer = await buildLayer(entries);
  const config = await imageConfig([layer], {
    cmd: ["sh"],
    entrypoint: ["/entry"],
    env: ["A=1"],
    workingDir: "/app",
    user: "1003:1004",
    labels: { k: "v" },
    stopSignal: "SIGQUIT",
    exposedPorts: ["80/tcp"],
  });
  assertEquals(config.mediaType, MEDIA_TYPES.oci.config);
  assertEquals(config.digest, await sha256Digest(config.bytes));
  assertEquals(config.size, config.bytes.length);
  const doc = json(config.bytes);
  assertEquals([doc.architecture, doc.os], ["amd64", "linux"]);
  assertEquals(doc.rootfs, { type: "layers", diff_ids: [layer.diffId] });
  assertEquals(doc.config, {
    Env: ["A=1"],
    User: "1003:1004",
    Entrypoint: ["/entry"],
    Cmd: ["sh"],
    WorkingDir: "/app",
    Labels: { k: "v" },
    StopSignal: "SIGQUIT",
    ExposedPorts: { "80/tcp": {} },
  });
});

Deno.test("manifest references config and layers by digest, in both formats", async () => {
  const layer = await buildLayer(entries);
  for (const format of ["oci", "docker"] as const) {
    const config = await imageConfig([layer], { format });
    const manifest = await imageManifest(config, [layer], { format });
    assertEquals(manifest.digest, await sha256Digest(manifest.bytes));
    assertEquals(json(manifest.bytes), {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES[format].manifest,
      config: { mediaType: MEDIA_TYPES[format].config, digest: config.digest, size: config.size },
      layers: [{ mediaType: MEDIA_TYPES[format].layer, digest: layer.digest, size: layer.size }],
    });
  }
});

Deno.test("multi-arch build yields an index over amd64 and a fake arm64", async () => {
  const layer = await buildLayer(entries);
  const image = await buildImage([layer], { cmd: ["sh"], multiArch: true, format: "docker" });
  assertEquals(image.top.mediaType, MEDIA_TYPES.docker.index);
  const index = json(image.top.bytes);
  assertEquals(
    index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
    ["amd64", "arm64"],
  );
  assertEquals(
    index.manifests.map((m: { digest: string }) => m.digest),
    image.children.map((c) => c.digest),
  );
  const archs = image.blobs.slice(1).map((b) => json(b.bytes).architecture);
  assertEquals(archs, ["amd64", "arm64"]);
  const again = await imageIndex(
    image.children.map((manifest, i) => ({ manifest, platform: index.manifests[i].platform })),
    { format: "docker" },
  );
  assertEquals(again.digest, image.top.digest, "same inputs, same digest");
});

Deno.test("single-arch build yields just a manifest", async () => {
  const layer = await buildLayer(entries);
  const image = await buildImage([layer], {});
  assertEquals(image.top.mediaType, MEDIA_TYPES.oci.manifest);
  assertEquals(image.children, []);
  assertEquals(image.blobs.map((b) => b.digest)[0], layer.digest);
});
