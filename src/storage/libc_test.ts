import { assertEquals } from "../testing/asserts.ts";
import { runScoped } from "../testing/scoped_run.ts";
import { libcPath } from "./libc.ts";

Deno.test("libc failures name errno under the daemon's scoped FFI permission", async () => {
  const r = await runScoped(
    `import { lchown } from "{{repo}}src/storage/libc.ts";
try { lchown("/nonexistent/dir/x", 0, 0); } catch (e) { Deno.stdout.writeSync(new TextEncoder().encode(String(e))); }`,
    [`--allow-ffi=${libcPath()}`],
  );
  assertEquals(r.stdout, "Error: lchown /nonexistent/dir/x: ENOENT", r.stderr);
});

Deno.test("NewFile.create opens on a pool thread and still names the failure's errno", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runScoped(
      `import { NewFile } from "{{repo}}src/storage/libc.ts";
const f = await NewFile.create("${dir}/a", 0o640);
f.writeAll(new TextEncoder().encode("data"));
f.close();
try { await NewFile.create("${dir}/a", 0o640); } catch (e) { console.log(String(e)); }
try { await NewFile.create("${dir}/none/b", 0o640); } catch (e) { console.log(String(e)); }`,
      [`--allow-ffi=${libcPath()}`],
    );
    assertEquals(r.stdout.trim().split("\n"), [
      `Error: open ${dir}/a: EEXIST`,
      `Error: open ${dir}/none/b: ENOENT`,
    ], r.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/a`), "data");
    assertEquals((await Deno.stat(`${dir}/a`)).mode! & 0o777, 0o640 & ~umask());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function umask(): number {
  const old = Deno.umask(0);
  Deno.umask(old);
  return old;
}
