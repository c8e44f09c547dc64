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
