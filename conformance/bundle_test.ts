/**
 * bin/bundle, which bin/crio runs the daemon from: it builds the minified bundle with the
 * port-forward worker beside it, leaves the source map unlinked (Deno would load it), and reuses
 * the build while the sources are unchanged.
 */
import { assert, assertEquals } from "../src/testing/asserts.ts";

const SCRIPT = new URL("../bin/bundle", import.meta.url).pathname;

async function bundle(cacheDir: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT],
    env: { CRIO_CACHE_DIR: cacheDir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert(out.success, `bin/bundle failed: ${err}`);
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name: "bin/bundle builds main.js and the worker beside it once, map unlinked, and reuses them",
  sanitizeResources: false,
  async fn() {
    const cache = await Deno.makeTempDir({ prefix: "bundle-test-" });
    try {
      const main = await bundle(cache);
      assert(main.startsWith(`${cache}/bundle/`) && main.endsWith("/main.js"), main);
      const dir = main.slice(0, main.lastIndexOf("/"));
      const code = await Deno.readTextFile(main);
      assert(!code.includes("sourceMappingURL"), "the map must not be linked");
      assert(!code.includes("workerDialer"), "the bundle is not minified");
      for (const f of ["main.js.map", "netns_dial_worker.js"]) {
        assert((await Deno.stat(`${dir}/${f}`)).isFile, `${f} missing`);
      }
      const built = (await Deno.stat(main)).mtime?.getTime();
      assertEquals(await bundle(cache), main, "same sources, same bundle");
      assertEquals((await Deno.stat(main)).mtime?.getTime(), built, "not rebuilt");
      const left = [...Deno.readDirSync(`${cache}/bundle`)].map((e) => e.name);
      assertEquals(left, [dir.slice(dir.lastIndexOf("/") + 1)], "no build dirs left behind");
    } finally {
      await Deno.remove(cache, { recursive: true });
    }
  },
});
