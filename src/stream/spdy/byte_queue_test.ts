import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { ByteQueue } from "./byte_queue.ts";

Deno.test("reads span chunks, and single-chunk reads share the chunk", () => {
  const q = new ByteQueue();
  const first = new Uint8Array([1, 2, 3]);
  q.push(first);
  q.push(new Uint8Array(0));
  q.push(new Uint8Array([4, 5]));
  q.push(new Uint8Array([6, 7, 8, 9]));
  assertEquals(q.length, 9);
  assertEquals([...q.peek(2)], [1, 2]);
  assertEquals(q.peek(2).buffer, first.buffer, "no copy within one chunk");
  assertEquals([...q.take(1)], [1]);
  assertEquals([...q.peek(5)], [2, 3, 4, 5, 6]);
  assertEquals([...q.take(5)], [2, 3, 4, 5, 6]);
  assertEquals([...q.takeSome(10)], [7, 8, 9]);
  assertEquals(q.length, 0);
  assertEquals(q.takeSome(4).length, 0);
  assertThrows(() => q.take(1), RangeError);
});

Deno.test("a frame trickled in byte by byte is assembled once", () => {
  const q = new ByteQueue();
  const n = 200_000;
  for (let i = 0; i < n; i++) q.push(new Uint8Array([i & 0xff]));
  const out = q.take(n);
  assertEquals(out.length, n);
  assertEquals(out[n - 1], (n - 1) & 0xff);
  assertEquals(q.length, 0);
});
