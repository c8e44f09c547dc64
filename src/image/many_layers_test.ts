/**
 * An image of 120 layers (more than many tools expect) pulls through the image service with every
 * layer extracted once, in order, each shadowing the one below for the same file.
 */
import { assertEquals } from "../testing/asserts.ts";
import { defaultConfig } from "../config/options.ts";
import { Logger } from "../log.ts";
import { startRegistry } from "../../conformance/registry.ts";
import { buildLayer } from "../../conformance/images/layer.ts";
import { buildImage } from "../../conformance/images/oci.ts";
import { pushImage } from "../../conformance/images/pusher.ts";
import { ImageService } from "./image_service.ts";

const LAYERS = 120;

const canRun = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync("/usr/bin/docker-registry").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "an image of 120 layers pulls, each layer once and in order",
  ignore: !canRun,
  fn: async () => {
    const registry = await startRegistry();
    const dir = await Deno.makeTempDir({ prefix: "many-layers-test-" });
    try {
      const layers = [];
      for (let i = 0; i < LAYERS; i++) {
        layers.push(
          await buildLayer([
            { type: "file", path: `layer-${i}`, data: `${i}\n` },
            { type: "file", path: "top", data: `${i}\n` },
          ]),
        );
      }
      const image = await buildImage(layers, { format: "oci" });
      await pushImage({ registry: registry.host, repo: "many/layers" }, image, { tags: ["v1"] });
      await Deno.writeTextFile(
        `${dir}/registries.conf`,
        `[[registry]]\nprefix = "example.test"\nlocation = "${registry.host}"\ninsecure = true\n`,
      );
      const images = new ImageService({
        root: `${dir}/root`,
        log: new Logger({ sink: { write: () => {} } }),
        config: defaultConfig,
        env: (k) => (k === "CONTAINERS_REGISTRIES_CONF" ? `${dir}/registries.conf` : undefined),
      });
      await images.init();
      const rec = await images.pull("example.test/many/layers:v1", {
        signal: new AbortController().signal,
      });
      const dirs = images.layerDirs(rec);
      assertEquals(dirs.length, LAYERS);
      assertEquals(new Set(dirs).size, LAYERS, "every layer has its own directory");
      // Top first: the newest layer's copy of "top" is the one a container sees.
      assertEquals(await Deno.readTextFile(`${dirs[0]}/top`), `${LAYERS - 1}\n`);
      assertEquals(await Deno.readTextFile(`${dirs[LAYERS - 1]}/layer-0`), "0\n");
    } finally {
      await registry.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
