import { assertEquals } from "../testing/asserts.ts";
import { resizeEvents } from "./resize.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function sizes(...chunks: string[]) {
  const out = [];
  for await (const s of resizeEvents(ReadableStream.from(chunks.map(enc)))) out.push(s);
  return out;
}

Deno.test("resize: a stream of JSON objects, split anywhere, names in any case", async () => {
  assertEquals(await sizes('{"Width":80,', '"Height":24}\n {"width":1,"height":2}'), [
    { width: 80, height: 24 },
    { width: 1, height: 2 },
  ]);
});

Deno.test("resize: malformed or oversized input ends the stream, as the kubelet's decoder", async () => {
  assertEquals(await sizes('{"Width":80,"Height":24}', "garbage"), [{ width: 80, height: 24 }]);
  assertEquals(await sizes('{"Width":-1,"Height":24}'), []);
  assertEquals(await sizes('{"Width":70000,"Height":24}'), []);
  assertEquals(await sizes('{"Width":' + " ".repeat(5000)), []);
  assertEquals(await sizes('{"a":"}{"}'), [{ width: 0, height: 0 }]);
});
