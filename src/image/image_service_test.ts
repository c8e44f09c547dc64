/**
 * The image service against a real registry (Debian's docker-registry on loopback, as the
 * conformance harness runs it), with images built and pushed here.
 */
import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { defaultConfig } from "../config/options.ts";
import { Logger } from "../log.ts";
import { startRegistry } from "../../conformance/registry.ts";
import { buildLayer } from "../../conformance/images/layer.ts";
import { buildImage } from "../../conformance/images/oci.ts";
import { pushImage } from "../../conformance/images/pusher.ts";
import { ImageService } from "./image_service.ts";

const canRun = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync("/usr/bin/docker-registry").isFile;
  } catch {
    return false;
  }
})();

class CountingMetrics {
  bytes = 0;
  reused = 0;
  ok = 0;
  failed: string[] = [];
  pullBytes(_m: string, n: number) {
    this.bytes += n;
  }
  layerReused() {
    this.reused++;
  }
  pullSucceeded() {
    this.ok++;
  }
  pullFailed(e: string) {
    this.failed.push(e);
  }
}

async function setup() {
  const registry = await startRegistry();
  const dir = await Deno.makeTempDir({ prefix: "image-service-test-" });
  const base = await buildLayer([
    { type: "dir", path: "etc" },
    { type: "file", path: "etc/os-release", data: "ID=test\n" },
    { type: "symlink", path: "etc/link", target: "os-release" },
  ]);
  const extra = await buildLayer([{ type: "file", path: "hello", data: "hi", mode: 0o4755 }]);
  const a = await buildImage([base, extra], { format: "docker", multiArch: true, user: "1002" });
  const b = await buildImage([base], { format: "oci", user: "www-data:www-data" });
  const target = (repo: string) => ({ registry: registry.host, repo });
  await pushImage(target("test/a"), a, { tags: ["v1", "v2"] });
  await pushImage(target("test/b"), b, { tags: ["1"] });
  await Deno.writeTextFile(
    `${dir}/registries.conf`,
    `[[registry]]\nprefix = "example.test"\nlocation = "${registry.host}"\ninsecure = true\n` +
      `[[registry]]\nlocation = "blocked.test"\nblocked = true\n`,
  );
  const config = defaultConfig();
  config.image.pinned_images = ["example.test/test/b*"];
  const metrics = new CountingMetrics();
  const log = new Logger({ sink: { write: () => {} } });
  const make = () =>
    new ImageService({
      root: `${dir}/root`,
      log,
      config: () => config,
      metrics,
      env: (k) => (k === "CONTAINERS_REGISTRIES_CONF" ? `${dir}/registries.conf` : undefined),
    });
  const cleanup = async () => {
    await registry.stop();
    await Deno.remove(dir, { recursive: true });
  };
  return { dir, make, metrics, cleanup, topA: a.top.digest };
}

const signal = new AbortController().signal;

Deno.test({
  name: "pull, status, list, remove against a local registry",
  ignore: !canRun,
  fn: async () => {
    const t = await setup();
    try {
      const images = t.make();
      await images.init();
      const a1 = await images.pull("example.test/test/a:v1", { signal });
      assertEquals(images.find("example.test/test/a:v1")?.id, a1.id);
      assertEquals(images.find(a1.id)?.id, a1.id);
      assertEquals(images.find(`sha256:${a1.id}`)?.id, a1.id);
      assertEquals(a1.repoDigests, [`example.test/test/a@${t.topA}`]);
      for (const d of a1.repoDigests) assertEquals(images.find(d)?.id, a1.id);
      assertEquals(a1.user, "1002");
      const [top] = images.layerDirs(a1);
      assertEquals((await Deno.lstat(`${top}/hello`)).mode! & 0o7777, 0o4755);
      const bytesOnce = t.metrics.bytes;

      const a2 = await images.pull("example.test/test/a:v2", { signal });
      assertEquals(a2.id, a1.id);
      assertEquals(images.find(a1.id)?.repoTags.sort(), [
        "example.test/test/a:v1",
        "example.test/test/a:v2",
      ]);
      assertEquals(t.metrics.bytes, bytesOnce, "a present image downloads no layer again");

      const b = await images.pull("example.test/test/b:1", { signal });
      assert(t.metrics.reused >= 3, "the shared base layer is reused");
      assert(images.isPinned(b) && !images.isPinned(a1));
      assertEquals(images.list().length, 2);

      await images.remove("example.test/test/a:v1");
      assertEquals(images.find(a1.id)?.repoTags, ["example.test/test/a:v2"]);
      await images.remove(a1.id);
      await images.remove(a1.id); // Idempotent.
      assertEquals(images.find("example.test/test/a:v2"), undefined);
      assertEquals(images.list().map((r) => r.id), [b.id]);
      let layerDirs = 0;
      for await (const e of Deno.readDir(`${t.dir}/root/layers`)) if (e.name !== "tmp") layerDirs++;
      assertEquals(layerDirs, 1, "only b's layer is left");

      await assertRejects(
        () => images.pull("blocked.test/x:1", { signal }),
        Error,
        "blocked",
      );
      await assertRejects(
        () => images.pull("example.test/test/none:1", { signal }),
        Error,
        "not found",
      );
    } finally {
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "concurrent pulls share one download; a restart drops half-done data",
  ignore: !canRun,
  fn: async () => {
    const t = await setup();
    try {
      const images = t.make();
      await images.init();
      const [x, y] = await Promise.all([
        images.pull("example.test/test/a:v1", { signal }),
        images.pull("example.test/test/a:v1", { signal }),
      ]);
      assertEquals(x.id, y.id);
      const once = t.metrics.bytes;
      await images.remove(x.id);
      await images.pull("example.test/test/a:v1", { signal });
      assertEquals(t.metrics.bytes, 2 * once, "the concurrent pair downloaded once");

      // What a kill -9 mid-pull leaves: a temp layer and an image dir without its record.
      await Deno.mkdir(`${t.dir}/root/layers/tmp/deadbeef-1-1/diff`, { recursive: true });
      await Deno.mkdir(`${t.dir}/root/images/${"f".repeat(64)}`);
      const again = t.make();
      await again.init();
      assertEquals(again.list().map((r) => r.id), [x.id]);
      assertEquals([...Deno.readDirSync(`${t.dir}/root/layers/tmp`)], []);
      assertEquals(again.find("f".repeat(64)), undefined);
    } finally {
      await t.cleanup();
    }
  },
});
