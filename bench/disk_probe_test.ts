import { assert, assertEquals } from "../src/testing/asserts.ts";
import { symlinkCost } from "./disk_probe.ts";

Deno.test("symlinkCost times each batch and leaves its links for the caller to remove", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk-probe-test-" });
  try {
    const cost = await symlinkCost(dir, { batches: 3, perBatch: 20 });
    assertEquals(cost.usPerCall.length, 3);
    assert(cost.usPerCall.every((us) => us > 0 && Number.isFinite(us)), `${cost.usPerCall}`);
    const [probe] = Array.from(Deno.readDirSync(dir));
    const links = Array.from(Deno.readDirSync(`${dir}/${probe.name}`));
    assertEquals(links.length, 60);
    assert(links.every((e) => e.isSymlink));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
