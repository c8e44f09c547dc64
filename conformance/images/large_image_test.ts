/**
 * kill -9 of the daemon (bin/crio, as the harness runs it) in the middle of a pull of a large
 * image, then a restart: no half image listed, no temporary or orphaned layer data, and the same
 * pull then succeeds.
 */
import { assert, assertEquals } from "../../src/testing/asserts.ts";
import { CriTestClient } from "../../src/testing/cri_client.ts";
import { loadSchema } from "../../src/cri/schema.ts";
import { startRegistry } from "../registry.ts";
import { startDaemon } from "../daemon.ts";
import { unmountUnder } from "../leaks.ts";
import { pushImage } from "./pusher.ts";
import { buildLargeImage, startThrottle } from "./large_image.ts";

const canRun = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync("/usr/bin/docker-registry").isFile;
  } catch {
    return false;
  }
})();

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

async function until(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "kill -9 mid-pull: restart lists no half image, leaves no temp data, re-pull works",
  ignore: !canRun,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const registry = await startRegistry();
    const throttle = startThrottle(registry.host, 2 << 20);
    const dir = await Deno.makeTempDir({ prefix: "pull-kill-test-" });
    const schema = loadSchema();
    try {
      const image = await buildLargeImage({ layers: 4, mib: 6 });
      await pushImage({ registry: registry.host, repo: "big/image" }, image, { tags: ["1"] });
      const conf = `${dir}/registries.conf`;
      await Deno.writeTextFile(
        conf,
        `[[registry]]\nlocation = "${throttle.host}"\ninsecure = true\n`,
      );
      const ref = `${throttle.host}/big/image:1`;
      const opts = { runtime: "runc", k8s: "1.37", registriesConf: conf };

      const first = await startDaemon(`${dir}/d`, opts);
      const c1 = new CriTestClient(first.socket, schema);
      const pulling = c1.call("ImageService", "PullImage", { image: { image: ref } });
      pulling.catch(() => {});
      const tmp = `${dir}/d/root/layers/tmp`;
      await until("a layer being extracted", async () => (await names(tmp)).length > 0);
      await new Promise((r) => setTimeout(r, 500));
      Deno.kill(first.child.pid, "SIGKILL");
      await first.child.status;
      c1.close();
      assert((await names(tmp)).length > 0, "the kill landed mid-pull");

      throttle.rate = 0;
      const second = await startDaemon(`${dir}/d`, opts);
      const c2 = new CriTestClient(second.socket, schema);
      try {
        // The killed daemon's socket file is still there: wait for the new one to answer.
        await until(
          "the restarted daemon",
          () => c2.call("RuntimeService", "Version", {}).then(() => true, () => false),
        );
        const listed = await c2.call<{ images: unknown[] }>("ImageService", "ListImages", {});
        assertEquals(listed.images ?? [], [], "no half image after the restart");
        assertEquals(await names(tmp), [], "no temporary data after the restart");
        assertEquals(await names(`${dir}/d/root/layers`), ["tmp"], "no orphaned layer");
        const res = await c2.call<{ imageRef: string }>("ImageService", "PullImage", {
          image: { image: ref },
        });
        assert(res.imageRef.length > 0);
        const after = await c2.call<{ images: unknown[] }>("ImageService", "ListImages", {});
        assertEquals(after.images.length, 1);
        assertEquals(await names(tmp), []);
      } finally {
        c2.close();
        await second.child.stop();
      }
    } finally {
      await throttle.stop();
      await registry.stop();
      await unmountUnder(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
