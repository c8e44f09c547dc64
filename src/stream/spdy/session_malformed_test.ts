/**
 * Malformed input ends the one session cleanly: GOAWAY PROTOCOL_ERROR, the transport closes,
 * open streams' readables error, `closed` resolves, nothing throws and nothing is left running.
 */
import { assert, assertEquals, assertRejects } from "../../testing/asserts.ts";
import { SpdyProtocolError } from "../../errors.ts";
import { encode, encodeHeaderBlock, FrameType, GoAwayStatus } from "./frames.ts";
import { SpdySession, type SpdyStream } from "./session.ts";
import { echo, pipePair, rawControl, RawPeer, readAll, u32s } from "./test_peer.ts";
import { liveZlibContexts } from "./header_zlib.ts";

/** A SYN_STREAM whose header block is `block`, compressed by the peer's own context. */
function synWithBlock(peer: RawPeer, id: number, block: Uint8Array): Uint8Array {
  const z = peer.compressor.compress(block);
  const p = new Uint8Array(10 + z.length);
  p.set(u32s(id, 0).subarray(0, 8));
  p.set(z, 10);
  return rawControl(FrameType.SYN_STREAM, p);
}

/**
 * Opens stream 1 properly, then sends `bad`; expects GOAWAY PROTOCOL_ERROR, the pipe closed,
 * stream 1's readable errored and the session's `closed` resolved.
 */
async function expectSessionError(bad: (peer: RawPeer) => Uint8Array, what: string) {
  const { a, b } = pipePair();
  const streams: SpdyStream[] = [];
  const server = new SpdySession(a, { onStream: (s) => void streams.push(s) });
  const peer = new RawPeer(b);
  await peer.synStream(1, { streamtype: "stdin" });
  await peer.until((f) => f.type === "syn_reply");
  peer.write(bad(peer)).catch(() => {});
  const frames = await peer.drain();
  const goaway = frames.find((f) => f.type === "goaway");
  assertEquals(
    goaway,
    { type: "goaway", lastGoodStreamId: 1, status: GoAwayStatus.PROTOCOL_ERROR },
    what,
  );
  await server.closed;
  await assertRejects(() => readAll(streams[0].readable), SpdyProtocolError);
  await assertRejects(() => streams[0].write(new Uint8Array(1)), SpdyProtocolError);
  await streams[0].done;
  await peer.close();
}

Deno.test("malformed frames end the session with GOAWAY PROTOCOL_ERROR", async () => {
  await expectSessionError(
    () => rawControl(FrameType.PING, u32s(1), { version: 2 }),
    "bad version",
  );
  await expectSessionError(() => {
    const f = rawControl(FrameType.SETTINGS, new Uint8Array(0));
    new DataView(f.buffer).setUint32(4, 0xffffff);
    return f;
  }, "huge length");
  await expectSessionError(
    () => rawControl(FrameType.SETTINGS, u32s(0x7fffffff)),
    "settings count",
  );
  await expectSessionError(() => rawControl(FrameType.RST_STREAM, u32s(1)), "short RST_STREAM");
  await expectSessionError((p) => synWithBlock(p, 3, u32s(5000)), "too many headers");
  await expectSessionError((p) => {
    const b = encodeHeaderBlock([["host", "x"]]);
    b[8] = 0x48; // "H"
    return synWithBlock(p, 3, b);
  }, "upper-case header name");
  await expectSessionError((p) => {
    const b = encodeHeaderBlock([["ho", "x"]]);
    b[9] = 0;
    return synWithBlock(p, 3, b);
  }, "NUL in header name");
  await expectSessionError((p) => synWithBlock(p, 3, new Uint8Array(16 << 20)), "zlib bomb");
  await expectSessionError(
    (p) => encode.synStream(p.compressor, { streamId: 1, headers: [] }),
    "dup id",
  );
  await expectSessionError(
    (p) => encode.synStream(p.compressor, { streamId: 4, headers: [] }),
    "even id",
  );
  await expectSessionError(
    () => encode.data(9, new Uint8Array(3)),
    "data on a never-opened stream",
  );
  await expectSessionError(() => encode.data(0, new Uint8Array(3)), "data on stream 0");
  await expectSessionError(
    () => rawControl(FrameType.WINDOW_UPDATE, u32s(0, 0x7fffffff)),
    "overflow",
  );
});

Deno.test("a frame cut off by the peer's close ends the session without GOAWAY", async () => {
  const { a, b } = pipePair();
  const streams: SpdyStream[] = [];
  const server = new SpdySession(a, { onStream: (s) => void streams.push(s) });
  const peer = new RawPeer(b);
  await peer.synStream(1, {});
  await peer.until((f) => f.type === "syn_reply");
  await peer.write(encode.data(1, new Uint8Array(100)).subarray(0, 50));
  const frames = peer.drain();
  await peer.close();
  await server.closed;
  await assertRejects(() => readAll(streams[0].readable), SpdyProtocolError);
  await streams[0].done;
  assert(!(await frames).some((f) => f.type === "goaway" && f.status !== 0));
});

Deno.test("stream-level faults reset only that stream", async () => {
  const { a, b } = pipePair();
  const streams: SpdyStream[] = [];
  const server = new SpdySession(a, { onStream: (s) => void streams.push(s) });
  const peer = new RawPeer(b);
  await peer.synStream(1, {}, { fin: true });
  await peer.synStream(3, {});
  await peer.until((f) => f.type === "syn_reply" && f.streamId === 3);
  // DATA after FIN on stream 1: RST STREAM_ALREADY_CLOSED for 1, stream 3 unaffected.
  await peer.write(encode.data(1, new Uint8Array(2)));
  const rst = await peer.until((f) => f.type === "rst_stream");
  assertEquals(rst, { type: "rst_stream", streamId: 1, status: 9 });
  // Data for a stream the peer reset a moment ago is dropped silently.
  await peer.write(encode.rstStream(3, 5));
  await streams[1].done;
  await peer.write(encode.data(3, new Uint8Array(2), { fin: true }));
  await peer.write(encode.ping(3));
  assertEquals(await peer.until((f) => f.type === "ping"), { type: "ping", id: 3 });
  await assertRejects(() => readAll(streams[1].readable), SpdyProtocolError, "reset by peer");
  const closing = server.close();
  await peer.drain();
  await closing;
  await peer.close();
});

Deno.test("a PING flood from a peer that never reads ends its session", async () => {
  const { a, b } = pipePair();
  const server = new SpdySession(a, { onStream: () => false });
  const peer = new RawPeer(b);
  const pings = new Uint8Array(12 * 30_000);
  for (let i = 0; i < 30_000; i++) pings.set(encode.ping(2 * i + 1), 12 * i);
  const flood = peer.write(pings).catch(() => {});
  await server.closed;
  await flood;
  await peer.close();
});

Deno.test("hundreds of sessions, ended every way, free every zlib context", async () => {
  const before = liveZlibContexts();
  for (let i = 0; i < 150; i++) {
    const { a, b } = pipePair();
    const server = new SpdySession(a, { onStream: echo });
    if (i % 3 === 2) {
      // A malformed frame (bad version) after a stream opened.
      const peer = new RawPeer(b);
      await peer.synStream(1, { streamtype: "x" });
      peer.write(rawControl(FrameType.PING, u32s(1), { version: 9 })).catch(() => {});
      await peer.drain();
      await server.closed;
      await peer.close();
      continue;
    }
    const client = new SpdySession(b, { role: "client", onStream: () => false });
    const s = await client.openStream({ streamtype: "x" });
    if (i % 3 === 0) {
      await s.close();
      await readAll(s.readable);
      await client.close();
    } else {
      await server.close({ now: true });
    }
    await Promise.all([server.closed, client.closed]);
  }
  assertEquals(liveZlibContexts(), before);
});

Deno.test("close({now}) ends a graceful close stuck on a peer that never reads", async () => {
  const { a, b } = pipePair();
  const server = new SpdySession(a, { onStream: () => true });
  const peer = new RawPeer(b);
  await peer.synStream(1, {}, { fin: true });
  // Stream 1 stays half open and the peer reads nothing, so the server's frames stay queued.
  let closed = false;
  const graceful = server.close().then(() => closed = true);
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 1));
  assert(!closed, "a graceful close waits for open streams and for its frames to be taken");
  await server.close({ now: true });
  await graceful;
  await peer.close();
});
