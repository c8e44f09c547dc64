import { deepStrictEqual as assertEquals } from "node:assert";
import { nnpBinary, pauseBinary } from "./elf.ts";

// Run through busybox env (which execs, keeping the PID) so the test's
// --allow-run can stay a fixed list instead of naming random temp paths.
const ENV = ["/bin/busybox", "env"] as const;

async function install(bytes: Uint8Array<ArrayBuffer>): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "elf-test-" });
  const path = `${dir}/prog`;
  await Deno.writeFile(path, bytes, { mode: 0o755 });
  return { path, dir };
}

Deno.test("nnp prints its effective uid in one line", async () => {
  const { path, dir } = await install(nnpBinary());
  try {
    const out = await new Deno.Command(ENV[0], {
      args: [ENV[1], path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0);
    assertEquals(new TextDecoder().decode(out.stdout), `Effective uid: ${Deno.uid()}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`pause waits, then exits 0 on ${sig}`, async () => {
    const { path, dir } = await install(pauseBinary());
    try {
      const child = new Deno.Command(ENV[0], {
        args: [ENV[1], path],
        stdout: "null",
        stderr: "null",
      }).spawn();
      let exited = false;
      child.status.then(() => (exited = true));
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(exited, false, "pause must keep running until signalled");
      child.kill(sig);
      const status = await child.status;
      assertEquals(status.code, 0);
      assertEquals(status.signal, null);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
