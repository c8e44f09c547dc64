/**
 * Every hostile image, pushed to the local registry and pulled through the ImageService: refused
 * cases fail with an error naming the case, confined ones may pull; either way the canary outside
 * the store is untouched, no half image is listed and no temporary or orphaned data is left.
 */
import { assert, assertEquals, AssertionError } from "../../src/testing/asserts.ts";
import { defaultConfig } from "../../src/config/options.ts";
import { errorMessage } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { ImageService } from "../../src/image/image_service.ts";
import { DEFAULT_LIMITS } from "../../src/storage/layer_stream.ts";
import { startRegistry } from "../registry.ts";
import { pushImage } from "./pusher.ts";
import { buildHostile, HOSTILE_CASES, type HostileCase } from "./hostile.ts";

const canRun = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync("/usr/bin/docker-registry").isFile;
  } catch {
    return false;
  }
})();

/** What the canary looks like: names, and mode/owner/mtime of each. */
async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const st = await Deno.lstat(`${dir}/${e.name}`);
    out.push(`${e.name} ${st.mode} ${st.uid}:${st.gid} ${st.mtime?.getTime()}`);
  }
  return out.sort().join("\n");
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

interface Env {
  dir: string;
  canary: string;
  host: string;
  service: (c: HostileCase) => ImageService;
}

async function pullOne(env: Env, c: HostileCase, before: string): Promise<void> {
  const images = env.service(c);
  await images.init();
  const ref = `${env.host}/hostile/${c.name}:1`;
  let err: unknown;
  try {
    await images.pull(ref, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    err = e;
  }
  const listed = images.list().map((r) => r.repoTags.join(","));
  if (c.outcome === "refused") {
    if (!err) throw new AssertionError(`${c.name} (${c.item}): pulled, should be refused`);
    const msg = errorMessage(err);
    if (!msg.includes(c.error!) || !msg.includes(`hostile/${c.name}:1`)) {
      throw new AssertionError(
        `${c.name}: error ${JSON.stringify(msg)} lacks "${c.error}" or the image name`,
      );
    }
    assert(!listed.some((t) => t.includes(c.name)), `${c.name}: half image listed`);
  } else if (err) {
    throw new AssertionError(`${c.name} (${c.item}): confined case failed: ${errorMessage(err)}`);
  }
  assertEquals(await snapshot(env.canary), before, `${c.name}: the canary changed`);
  assertEquals(await names(`${env.dir}/root/layers/tmp`), [], `${c.name}: temp data left`);
}

Deno.test({
  name: "hostile images are refused or confined; nothing escapes the store",
  ignore: !canRun,
  sanitizeResources: false,
  fn: async () => {
    const registry = await startRegistry();
    const dir = await Deno.makeTempDir({ prefix: "hostile-test-" });
    const canary = await Deno.makeTempDir({ prefix: "hostile-canary-" });
    try {
      await Deno.writeTextFile(`${canary}/victim`, "untouched");
      await Deno.chmod(`${canary}/victim`, 0o600);
      await Deno.utime(`${canary}/victim`, 1000, 1000);
      for (const c of HOSTILE_CASES) {
        const target = { registry: registry.host, repo: `hostile/${c.name}` };
        await pushImage(target, await buildHostile(c, canary), { tags: ["1"] });
      }
      await Deno.writeTextFile(
        `${dir}/registries.conf`,
        `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`,
      );
      const config = defaultConfig();
      const log = new Logger({ sink: { write: () => {} } });
      const env: Env = {
        dir,
        canary,
        host: registry.host,
        service: (c) =>
          new ImageService({
            root: `${dir}/root`,
            log,
            config: () => config,
            env: (k) => (k === "CONTAINERS_REGISTRIES_CONF" ? `${dir}/registries.conf` : undefined),
            layerLimits: c.maxLayerBytes
              ? { ...DEFAULT_LIMITS, maxBytes: c.maxLayerBytes }
              : undefined,
          }),
      };
      await env.service(HOSTILE_CASES[0]).init();
      const before = await snapshot(canary);
      const failures: string[] = [];
      for (const c of HOSTILE_CASES) {
        await pullOne(env, c, before).catch((e) => failures.push(errorMessage(e)));
      }
      assertEquals(failures, []);

      // Confined images pulled; removing them leaves no layer behind.
      const images = env.service(HOSTILE_CASES[0]);
      await images.init();
      const confined = HOSTILE_CASES.filter((c) => c.outcome === "confined").map((c) => c.name);
      assertEquals(
        images.list().map((r) => r.repoTags[0].split("/")[2].split(":")[0]).sort(),
        confined.sort(),
      );
      for (const r of images.list()) await images.remove(r.id);
      assertEquals(await names(`${dir}/root/layers`), ["tmp"]);
      assertEquals(await names(dir), ["registries.conf", "root"]);
    } finally {
      await registry.stop();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(canary, { recursive: true });
    }
  },
});
