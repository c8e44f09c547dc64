import { assertEquals, assertRejects } from "../testing/asserts.ts";
import { atomicWrite, removeStaleTemps } from "./atomic_write.ts";
import { withRollback } from "./rollback.ts";
import { exists } from "./exists.ts";
import { compareNanos } from "./nanos.ts";

Deno.test("atomicWrite replaces content and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await atomicWrite(`${dir}/s.json`, "one");
    await atomicWrite(`${dir}/s.json`, "two");
    assertEquals(await Deno.readTextFile(`${dir}/s.json`), "two");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["s.json"]);
    await Deno.writeTextFile(`${dir}/s.json.tmp-1-1`, "torn");
    assertEquals(await removeStaleTemps(dir), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withRollback undoes newest first and rethrows the original error", async () => {
  const done: string[] = [];
  let reported: string[] = [];
  await assertRejects(
    () =>
      withRollback(async (rb) => {
        rb.add("a", () => done.push("a"));
        rb.add("b", () => {
          throw new Error("cannot undo b");
        });
        rb.add("c", () => done.push("c"));
        await Promise.resolve();
        throw new Error("step d failed");
      }, (f) => (reported = f)),
    Error,
    "step d failed",
  );
  assertEquals(done, ["c", "a"]);
  assertEquals(reported, ["b: cannot undo b"]);
});

Deno.test("exists() sees files, dirs and dangling links; false for nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.symlink(`${dir}/none`, `${dir}/dangling`);
    assertEquals(await exists(dir), true);
    assertEquals(await exists(`${dir}/dangling`), true);
    assertEquals(await exists(`${dir}/none`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compareNanos orders decimal nanosecond strings as numbers", () => {
  const times = ["1764300000000000001", "999", "1764300000000000000", "0", "17643000000000000000"];
  const sorted = [...times].sort(compareNanos);
  assertEquals(sorted, [...times].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
  assertEquals(compareNanos("42", "42"), 0);
});
