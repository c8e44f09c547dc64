import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { SpdyProtocolError } from "../../errors.ts";
import { SPDY3_DICTIONARY } from "./dictionary.ts";
import { HeaderCompressor, HeaderDecompressor, libzPath } from "./header_zlib.ts";
import { libcPath } from "../../storage/libc.ts";
import { runScoped } from "../../testing/scoped_run.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function adler32(b: Uint8Array): number {
  let a = 1, s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

Deno.test("the SPDY/3 dictionary has the draft's length and zlib id", () => {
  assertEquals(SPDY3_DICTIONARY.length, 1423);
  assertEquals(adler32(SPDY3_DICTIONARY).toString(16), "e3c6a7c2");
});

Deno.test("blocks share one context per direction and carry the dictionary id", () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  try {
    const first = c.compress(enc.encode("accept-encoding gzip streamtype stdout"));
    // CMF: deflate with a 2 KiB window; FLG with FDICT (0x20); then the dictionary's adler32.
    assertEquals(first[0], 0x38);
    assert((first[1] & 0x20) !== 0, "FDICT set");
    assertEquals(new DataView(first.buffer).getUint32(2).toString(16), "e3c6a7c2");
    assertEquals(dec.decode(d.decompress(first, 1024)), "accept-encoding gzip streamtype stdout");
    const second = c.compress(enc.encode("accept-encoding gzip streamtype stdout"));
    assert(second.length < first.length, "history from the first block is reused");
    assertEquals(dec.decode(d.decompress(second, 1024)), "accept-encoding gzip streamtype stdout");
    // Large blocks cross the 16 KiB chunk size both ways.
    const big = enc.encode("x".repeat(40_000) + crypto.randomUUID().repeat(2000));
    assertEquals(d.decompress(c.compress(big), 200_000), big);
  } finally {
    c.close();
    d.close();
  }
});

Deno.test("a zlib bomb stops at the bound", () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  try {
    const bomb = c.compress(new Uint8Array(4 * 1024 * 1024));
    assert(bomb.length < 10_000, "compresses well");
    assertThrows(() => d.decompress(bomb, 64 * 1024), SpdyProtocolError, "more than");
  } finally {
    c.close();
    d.close();
  }
});

Deno.test("garbage and trailing bytes are protocol errors; closed contexts refuse use", () => {
  const d = new HeaderDecompressor();
  assertThrows(() => d.decompress(enc.encode("not zlib at all"), 1024), SpdyProtocolError);
  d.close();
  d.close();
  assertThrows(() => d.decompress(new Uint8Array(4), 1024), SpdyProtocolError, "closed");
  const c = new HeaderCompressor();
  c.close();
  assertThrows(() => c.compress(new Uint8Array(4)), SpdyProtocolError, "closed");
});

Deno.test("a peer compressing without the dictionary still decodes", async () => {
  // Deno's node:zlib deflate ignores `dictionary`; what a lax peer sends looks the same.
  const zlib = await import("node:zlib");
  const plain = zlib.deflateSync(enc.encode("method GET"));
  const d = new HeaderDecompressor();
  try {
    assertEquals(dec.decode(d.decompress(plain, 1024)), "method GET");
  } finally {
    d.close();
  }
});

Deno.test("works under the daemon's scoped FFI permission (libc and libz paths only)", async () => {
  const r = await runScoped(
    `import { HeaderCompressor, HeaderDecompressor } from "{{repo}}src/stream/spdy/header_zlib.ts";
const c = new HeaderCompressor(), d = new HeaderDecompressor();
const out = d.decompress(c.compress(new TextEncoder().encode("port 8080")), 1024);
Deno.stdout.writeSync(out);`,
    [`--allow-ffi=${libcPath()},${libzPath()}`],
  );
  assertEquals(r.stdout, "port 8080", r.stderr);
});
