import { assertEquals, assertThrows } from "../testing/asserts.ts";
import { unlinkFile, writeNewFile } from "./scratch_files.ts";

Deno.test("writeNewFile() makes a new 0600 file and refuses anything already there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeNewFile(`${dir}/spec.json`, `{"args":["true"]}`);
    assertEquals(await Deno.readTextFile(`${dir}/spec.json`), `{"args":["true"]}`);
    assertEquals((await Deno.stat(`${dir}/spec.json`)).mode! & 0o777, 0o600);
    assertThrows(() => writeNewFile(`${dir}/spec.json`, "x"), Error, "EEXIST");
    await Deno.writeTextFile(`${dir}/target`, "kept");
    await Deno.symlink(`${dir}/target`, `${dir}/link`);
    assertThrows(() => writeNewFile(`${dir}/link`, "x"), Error, "EEXIST");
    assertEquals(await Deno.readTextFile(`${dir}/target`), "kept");
    assertThrows(() => writeNewFile(`${dir}/none/x`, "x"), Error, `open ${dir}/none/x: ENOENT`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unlinkFile() removes files and links, is content with absent ones, leaves dirs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "x");
    await Deno.writeTextFile(`${dir}/target`, "kept");
    await Deno.symlink(`${dir}/target`, `${dir}/link`);
    await Deno.mkdir(`${dir}/d`);
    assertEquals(unlinkFile(`${dir}/f`), true);
    assertEquals(unlinkFile(`${dir}/f`), true);
    assertEquals(unlinkFile(`${dir}/link`), true);
    assertEquals(await Deno.readTextFile(`${dir}/target`), "kept");
    assertEquals(unlinkFile(`${dir}/d`), false);
    assertEquals((await Deno.stat(`${dir}/d`)).isDirectory, true);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), ["d", "target"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
