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

for (const where of ["in place", "on a pool thread"]) {
  Deno.test(`NewFile.create opens ${where} and names a failure's errno`, async () => {
    const dir = await Deno.makeTempDir();
    // A placement that has measured a dear open, and never probes again: every open is pooled.
    const placement = where === "in place"
      ? "undefined"
      : "new OpenPlacement({ poolAboveUs: 100, probeEvery: Infinity, weight: 1 })";
    try {
      const r = await runScoped(
        `import { NewFile } from "{{repo}}src/storage/libc.ts";
import { OpenPlacement } from "{{repo}}src/storage/open_placement.ts";
const placement = ${placement};
placement?.measured(1000);
const f = await NewFile.create("${dir}/a", 0o640, { placement });
f.writeAll(new TextEncoder().encode("data"));
f.close();
for (const p of ["${dir}/a", "${dir}/none/b"]) {
  try { await NewFile.create(p, 0o640, { placement }); } catch (e) { console.log(String(e)); }
}
console.log(placement ? placement.averageUs : "default");`,
        [`--allow-ffi=${libcPath()}`],
      );
      assertEquals(r.stdout.trim().split("\n"), [
        `Error: open ${dir}/a: EEXIST`,
        `Error: open ${dir}/none/b: ENOENT`,
        // Pooled opens are not measured, nor are failed ones.
        where === "in place" ? "default" : "1000",
      ], r.stderr);
      assertEquals(await Deno.readTextFile(`${dir}/a`), "data");
      assertEquals((await Deno.stat(`${dir}/a`)).mode! & 0o777, 0o640 & ~umask());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

function umask(): number {
  const old = Deno.umask(0);
  Deno.umask(old);
  return old;
}
