import { assert, assertEquals } from "../testing/asserts.ts";
import { measure } from "./fs_usage.ts";

Deno.test("counts inodes and allocated bytes, hard links once, symlinks not followed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/a`);
    await Deno.writeFile(`${dir}/a/f`, new Uint8Array(10_000));
    await Deno.link(`${dir}/a/f`, `${dir}/a/g`);
    await Deno.symlink("/etc", `${dir}/a/escape`);
    const u = await measure(dir);
    assertEquals(u.inodesUsed, 4); // dir, a, f(=g), escape
    assert(u.usedBytes >= 10_000, `expected >= 10000 bytes, got ${u.usedBytes}`);
    assert(u.usedBytes < 100_000, "did not follow the symlink into /etc");
    assert(BigInt(u.timestampNs) > 1_700_000_000_000_000_000n);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing root uses nothing", async () => {
  const u = await measure("/nonexistent/crio-store");
  assertEquals([u.usedBytes, u.inodesUsed], [0, 0]);
});
