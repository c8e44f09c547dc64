import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { SpdyProtocolError } from "../../errors.ts";
import {
  DEFAULT_FRAME_LIMITS,
  encode,
  encodeHeaderBlock,
  type Frame,
  FrameType,
  RstStatus,
} from "./frames.ts";
import { FrameParser } from "./frame_parser.ts";
import { HeaderCompressor, HeaderDecompressor } from "./header_zlib.ts";
import { rawControl, u32s } from "./test_peer.ts";

/** A compressor/parser pair as the two ends of one direction of a session. */
function pair(limits = DEFAULT_FRAME_LIMITS) {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const p = new FrameParser(limits, d);
  return { c, p, [Symbol.dispose]: () => (c.close(), d.close()) };
}

function drain(p: FrameParser): Frame[] {
  const out: Frame[] = [];
  for (let f = p.next(); f; f = p.next()) out.push(f);
  return out;
}

Deno.test("every frame type round-trips, fed one byte at a time", () => {
  using t = pair();
  const headers = new Map([["streamtype", "stdout"], ["port", "80"], ["empty", ""]]);
  const bytes = [
    encode.synStream(t.c, { streamId: 1, headers, fin: true, priority: 5 }),
    encode.synReply(t.c, { streamId: 1, headers: new Map() }),
    encode.headers(t.c, { streamId: 3, headers: [["x", "y"]], fin: true }),
    encode.data(1, new TextEncoder().encode("hello"), { fin: true }),
    encode.rstStream(3, RstStatus.CANCEL),
    encode.settings([{ flags: 1, id: 7, value: 65536 }], true),
    encode.ping(2),
    encode.goaway(7, 1),
    encode.windowUpdate(0, 0x7fffffff),
  ];
  const frames: Frame[] = [];
  for (const b of bytes) {
    for (const x of b) {
      t.p.push(new Uint8Array([x]));
      frames.push(...drain(t.p));
    }
  }
  assertEquals(frames.slice(0, 3), [
    {
      type: "syn_stream",
      streamId: 1,
      associatedId: 0,
      priority: 5,
      fin: true,
      unidirectional: false,
      headers,
    },
    { type: "syn_reply", streamId: 1, fin: false, headers: new Map() },
    { type: "headers", streamId: 3, fin: true, headers: new Map([["x", "y"]]) },
  ]);
  const data = frames.filter((f) => f.type === "data");
  assertEquals(data.map((f) => f.type === "data" ? f.data[0] : 0), [
    ...new TextEncoder().encode("hello"),
  ]);
  assertEquals(data.map((f) => f.type === "data" && f.fin), [false, false, false, false, true]);
  assertEquals(frames.slice(8), [
    { type: "rst_stream", streamId: 3, status: RstStatus.CANCEL },
    { type: "settings", clear: true, entries: [{ flags: 1, id: 7, value: 65536 }] },
    { type: "ping", id: 2 },
    { type: "goaway", lastGoodStreamId: 7, status: 1 },
    { type: "window_update", streamId: 0, delta: 0x7fffffff },
  ]);
  assertEquals(t.p.buffered, 0);
});

Deno.test("a large DATA frame is returned in pieces as it arrives, and unknown types skipped", () => {
  using t = pair();
  const big = encode.data(5, new Uint8Array(3 * 1024 * 1024).fill(7), { fin: true });
  t.p.push(rawControl(10, new Uint8Array(12)));
  t.p.push(big.subarray(0, 100_000));
  const first = drain(t.p);
  assertEquals(first.length, 1);
  assert(first[0].type === "data" && first[0].data.length === 100_000 - 8 && !first[0].fin);
  t.p.push(big.subarray(100_000));
  const rest = drain(t.p);
  assert(rest[0].type === "data" && rest[0].fin && rest[0].data.every((x) => x === 7));
  assertEquals(rest.length, 1);
});

Deno.test("a truncated frame waits for more bytes", () => {
  using t = pair();
  const f = encode.ping(1);
  t.p.push(f.subarray(0, 7));
  assertEquals(t.p.next(), undefined);
  t.p.push(f.subarray(7, 11));
  assertEquals(t.p.next(), undefined);
  t.p.push(f.subarray(11));
  assertEquals(t.p.next(), { type: "ping", id: 1 });
});

function rejects(frame: Uint8Array, includes: string, limits = DEFAULT_FRAME_LIMITS) {
  using t = pair(limits);
  t.p.push(frame);
  assertThrows(() => drain(t.p), SpdyProtocolError, includes);
  assertThrows(() => t.p.next(), SpdyProtocolError, "after a protocol error");
}

Deno.test("malformed control frames are protocol errors", () => {
  rejects(rawControl(FrameType.PING, u32s(1), { version: 2 }), "version 2");
  rejects(rawControl(FrameType.PING, new Uint8Array(2)), "PING frame of 2 bytes");
  rejects(rawControl(FrameType.PING, u32s(1), { flags: 1 }), "PING frame with flags");
  rejects(rawControl(FrameType.RST_STREAM, u32s(0, 5)), "on stream 0");
  rejects(rawControl(FrameType.RST_STREAM, u32s(1, 0)), "status 0");
  rejects(rawControl(FrameType.GOAWAY, u32s(1)), "GOAWAY frame of 4 bytes");
  rejects(rawControl(FrameType.WINDOW_UPDATE, u32s(1, 0)), "delta 0");
  rejects(rawControl(FrameType.SYN_STREAM, new Uint8Array(6)), "at least 10");
  rejects(rawControl(FrameType.SYN_REPLY, new Uint8Array(2)), "at least 4");
  rejects(encode.data(0, new Uint8Array(1)), "stream 0");
  // A length near 16 MiB is refused from the 8-byte header, before any payload arrives.
  const huge = rawControl(FrameType.SYN_STREAM, new Uint8Array(0));
  new DataView(huge.buffer).setUint32(4, 0xffffff);
  rejects(huge, "control frame of 16777215 bytes");
});

Deno.test("SETTINGS counts are bounded and must match the length", () => {
  rejects(rawControl(FrameType.SETTINGS, u32s(0xffffffff)), "4294967295 entries");
  rejects(rawControl(FrameType.SETTINGS, u32s(2, 7, 1)), "for 2 entries");
  rejects(rawControl(FrameType.SETTINGS, new Uint8Array(2)), "without a count");
});

function synStreamWithBlock(block: Uint8Array): Uint8Array {
  const c = new HeaderCompressor();
  try {
    const prefix = u32s(1, 0, 0);
    const z = c.compress(block);
    const p = new Uint8Array(10 + z.length);
    p.set(prefix.subarray(0, 10));
    p.set(z, 10);
    return rawControl(FrameType.SYN_STREAM, p);
  } finally {
    c.close();
  }
}

Deno.test("header blocks: counts, sizes, names and duplicates are checked", () => {
  const many = encodeHeaderBlock(Array.from({ length: 300 }, (_, i) => [`h${i}`, "v"]));
  rejects(synStreamWithBlock(many), "300 headers");
  rejects(synStreamWithBlock(u32s(1, 0xfffffff0)), "exceeds the block");
  rejects(synStreamWithBlock(u32s(2)), "truncated");
  const upper = encodeHeaderBlock([["x", "1"]]);
  upper[8] = 0x58; // "X"
  rejects(synStreamWithBlock(upper), "lower-case");
  const nul = encodeHeaderBlock([["x", "1"]]);
  nul[8] = 0;
  rejects(synStreamWithBlock(nul), "lower-case");
  rejects(synStreamWithBlock(encodeHeaderBlock([["a", "1"], ["a", "2"]])), "duplicate header a");
  rejects(synStreamWithBlock(u32s(1, 0, 0)), "empty header name");
  const trailing = new Uint8Array([...encodeHeaderBlock([["a", "1"]]), 9]);
  rejects(synStreamWithBlock(trailing), "bytes after");
  // A decompression bomb: 8 MiB of zeros in a few KiB of frame.
  rejects(synStreamWithBlock(new Uint8Array(8 << 20)), "decompresses to more than");
  rejects(rawControl(FrameType.SYN_STREAM, new Uint8Array([...u32s(1, 0), 0, 0, 1, 2, 3])), "zlib");
});
