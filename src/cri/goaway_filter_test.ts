import { assertEquals } from "../testing/asserts.ts";
import { concatBytes } from "../util/bytes.ts";
import { ClientGoawayFilter } from "./goaway_filter.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

function frame(type: number, payloadLength: number, fill: number): Uint8Array {
  const f = new Uint8Array(9 + payloadLength).fill(fill, 9);
  f[0] = payloadLength >> 16;
  f[1] = (payloadLength >> 8) & 0xff;
  f[2] = payloadLength & 0xff;
  f[3] = type;
  f[8] = 1;
  return f;
}

/** A connection's bytes: SETTINGS, HEADERS, a large DATA, GOAWAY, a DATA that looks like GOAWAY. */
function conversation() {
  const goaway = frame(0x7, 8, 0);
  const kept = [
    PREFACE,
    frame(0x4, 6, 0x11),
    frame(0x1, 40, 0x22),
    frame(0x0, 70_000, 0x07), // payload bytes equal to GOAWAY's type must not confuse the parser
  ];
  const tail = [frame(0x6, 8, 0x33), frame(0x0, 0, 0)];
  return {
    input: concatBytes([...kept, goaway, ...tail, goaway]),
    expected: concatBytes([...kept, ...tail]),
  };
}

function run(input: Uint8Array, cuts: number[]): { out: Uint8Array; dropped: number } {
  const f = new ClientGoawayFilter();
  const out: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    out.push(...f.push(input.subarray(at, cut)));
    at = cut;
  }
  return { out: concatBytes(out), dropped: f.dropped };
}

Deno.test("goaway filter: drops only GOAWAY frames when the bytes arrive in one chunk", () => {
  const { input, expected } = conversation();
  const r = run(input, []);
  assertEquals(r.out, expected);
  assertEquals(r.dropped, 2);
});

Deno.test("goaway filter: any chunking gives the same bytes (headers split anywhere)", () => {
  const { input, expected } = conversation();
  // Every single-byte split point in the preface and the frame headers, then random chunkings.
  for (let cut = 1; cut < 120; cut++) assertEquals(run(input, [cut]).out, expected);
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 200; round++) {
    const cuts = new Set<number>();
    const count = 1 + rand(40);
    for (let i = 0; i < count; i++) cuts.add(1 + rand(input.length - 1));
    const r = run(input, [...cuts].sort((a, b) => a - b));
    assertEquals(r.out, expected);
    assertEquals(r.dropped, 2);
  }
});

Deno.test("goaway filter: a byte at a time", () => {
  const { input, expected } = conversation();
  const small = input.subarray(0, 24 + 15 + 49);
  const cuts = Array.from({ length: small.length - 1 }, (_, i) => i + 1);
  assertEquals(run(small, cuts).out, expected.subarray(0, small.length));
});

Deno.test("goaway filter: passes payload slices without copying them", () => {
  const { input } = conversation();
  const f = new ClientGoawayFilter();
  const parts = f.push(input);
  const big = parts.find((p) => p.length === 70_000)!;
  assertEquals(big.buffer, input.buffer);
});
