import { assert, assertEquals } from "../testing/asserts.ts";
import { FS_TOPDIR_FL, inodeFlags, spreadSubdirs } from "./spread_dirs.ts";
import { LayerStore } from "./layer_store.ts";
import { Logger } from "../log.ts";

async function inTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spread-dirs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("spreadSubdirs sets FS_TOPDIR_FL where the file system has inode flags", async () => {
  await inTempDir((dir) => {
    const before = inodeFlags(dir);
    const result = spreadSubdirs(dir);
    if (typeof before !== "number") {
      // tmpfs and others: refused, with the call and errno named, and nothing thrown.
      assertEquals(result.ok, false);
      const reason = (result as { reason: string }).reason;
      assert(/^FS_IOC_GETFLAGS: E/.test(reason), reason);
      return;
    }
    assertEquals(before & FS_TOPDIR_FL, 0);
    assertEquals(result, { ok: true });
    const after = inodeFlags(dir);
    assertEquals(typeof after, "number");
    assertEquals((after as number) & FS_TOPDIR_FL, FS_TOPDIR_FL);
    // The other flags are kept (ext4's extents flag, for one).
    assertEquals((after as number) & ~FS_TOPDIR_FL, before);
    assertEquals(spreadSubdirs(dir), { ok: true });
  });
});

Deno.test("spreadSubdirs never follows a symlink and names what is missing", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/real`);
    await Deno.symlink(`${dir}/real`, `${dir}/link`);
    assertEquals(spreadSubdirs(`${dir}/link`), { ok: false, reason: "open: ENOTDIR" });
    assertEquals(spreadSubdirs(`${dir}/nothing`), { ok: false, reason: "open: ENOENT" });
    const flags = inodeFlags(`${dir}/real`);
    if (typeof flags === "number") assertEquals(flags & FS_TOPDIR_FL, 0);
  });
});

Deno.test("LayerStore.init spreads what is made in layers/tmp, and starts when refused", async () => {
  await inTempDir(async (root) => {
    const asked: string[] = [];
    const lines: string[] = [];
    const log = new Logger({ sink: { write: (l) => lines.push(l) } });
    log.configure({ level: "debug" });
    const store = new LayerStore({
      root,
      log,
      spreadSubdirs: (dir) => (asked.push(dir), { ok: false, reason: "FS_IOC_GETFLAGS: ENOTTY" }),
    });
    await store.init();
    assertEquals(asked, [`${root}/layers/tmp`]);
    assert((await Deno.stat(`${root}/layers/tmp`)).isDirectory);
    assert(lines.some((l) => l.includes("FS_IOC_GETFLAGS: ENOTTY")), lines.join("\n"));
  });
});
