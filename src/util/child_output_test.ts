import { assertEquals } from "../testing/asserts.ts";
import { childOutput, readAllBytes } from "./child_output.ts";

Deno.test("readAllBytes: empty, small and multi-chunk streams, in order", async () => {
  const of = (...chunks: Uint8Array[]) =>
    new ReadableStream<Uint8Array>({
      type: "bytes",
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
  assertEquals(await readAllBytes(of()), new Uint8Array());
  assertEquals(await readAllBytes(of(new Uint8Array([1, 2, 3]))), new Uint8Array([1, 2, 3]));
  const big = new Uint8Array(100_000).map((_, i) => i % 253);
  const parts = [big.subarray(0, 5000), big.subarray(5000, 70_000), big.subarray(70_000)];
  assertEquals(await readAllBytes(of(...parts.map((p) => p.slice()))), big);
  // Not a byte stream (what a test double may hand over): read chunk by chunk.
  const plain = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([7]));
      c.enqueue(new Uint8Array([8, 9]));
      c.close();
    },
  });
  assertEquals(await readAllBytes(plain), new Uint8Array([7, 8, 9]));
});

Deno.test("childOutput: a process's stdout, stderr and exit code, also past 64 KiB", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "yes x | head -c 200000; echo oops >&2; exit 3"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await childOutput(child);
  assertEquals(out.code, 3);
  assertEquals(out.stdout.length, 200_000);
  assertEquals(out.stdout.every((b, i) => b === (i % 2 ? 0x0a : 0x78)), true);
  assertEquals(new TextDecoder().decode(out.stderr), "oops\n");
});
