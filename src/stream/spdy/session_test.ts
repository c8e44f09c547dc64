import { assert, assertEquals, assertRejects } from "../../testing/asserts.ts";
import { SpdyProtocolError } from "../../errors.ts";
import { encode, RstStatus } from "./frames.ts";
import { SpdySession, type SpdyStream } from "./session.ts";
import { echo, pipePair, RawPeer, readAll } from "./test_peer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function sessions(serverLimits = {}, clientLimits = {}) {
  const { a, b, wire } = pipePair();
  const server = new SpdySession(a, { onStream: echo, limits: serverLimits });
  const client = new SpdySession(b, {
    role: "client",
    onStream: () => false,
    limits: clientLimits,
  });
  return { server, client, wire };
}

Deno.test("a client opens three streams and reads its echoes", async () => {
  const { server, client } = sessions();
  const streams = await Promise.all(
    ["stdin", "stdout", "error"].map((t) => client.openStream({ StreamType: t, port: "80" })),
  );
  assertEquals(streams.map((s) => s.id), [1, 3, 5]);
  const replies = streams.map((s) => readAll(s.readable));
  for (const s of streams) {
    await s.write(enc.encode("hello "));
    await s.write(enc.encode(`from ${s.id}`));
    await s.close();
    await s.close();
  }
  assertEquals((await Promise.all(replies)).map((r) => dec.decode(r)), [
    "stdin:hello from 1",
    "stdout:hello from 3",
    "error:hello from 5",
  ]);
  await Promise.all(streams.map((s) => s.done));
  await client.close();
  await server.closed;
  await client.closed;
});

Deno.test("refused streams and the stream cap answer REFUSED_STREAM", async () => {
  const { a, b } = pipePair();
  let seen = 0;
  const server = new SpdySession(a, {
    onStream: (s) => (++seen, s.headers.get("ok") === "yes"),
    limits: { maxStreams: 2 },
  });
  const client = new SpdySession(b, { role: "client", onStream: () => false });
  const refused = await assertRejects(() => client.openStream({ ok: "no" }), SpdyProtocolError);
  assertEquals(refused.status, RstStatus.REFUSED_STREAM);
  const one = await client.openStream({ ok: "yes" });
  const two = await client.openStream({ ok: "yes" });
  const three = await assertRejects(() => client.openStream({ ok: "yes" }), SpdyProtocolError);
  assertEquals(three.status, RstStatus.REFUSED_STREAM);
  assertEquals(seen, 3, "the stream over the cap never reaches onStream");
  one.reset();
  await one.done;
  await assertRejects(() => one.write(enc.encode("x")), SpdyProtocolError);
  await client.close({ now: true });
  await assertRejects(() => readAll(two.readable), SpdyProtocolError);
  await two.done;
  await server.closed;
});

Deno.test("a large write honours the peer's window and arrives intact", async () => {
  const window = 16 * 1024;
  const { a, b, wire } = pipePair();
  const payload = crypto.getRandomValues(new Uint8Array(60_000));
  const big = new Uint8Array(1024 * 1024);
  for (let i = 0; i < big.length; i += payload.length) big.set(payload.slice(0, big.length - i), i);
  const server = new SpdySession(a, {
    onStream: (s) => {
      s.write(big).then(() => s.close()).catch(() => {});
    },
  });
  const client = new SpdySession(b, {
    role: "client",
    onStream: () => false,
    limits: { initialWindowBytes: window },
  });
  const s = await client.openStream({}, { fin: true });
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
  // Nothing read yet: the server stopped at the stream window (plus frame headers and control).
  assert(wire.ab < window + 2048, `server sent ${wire.ab} bytes into a ${window}-byte window`);
  const got = await readAll(s.readable);
  assertEquals(got.length, big.length);
  assert(got.every((x, i) => x === big[i]), "same bytes");
  await s.done;
  await client.close();
  await server.closed;
});

Deno.test("a peer ignoring windows is throttled by not reading the transport", async () => {
  const { a, b } = pipePair();
  let stream: SpdyStream | undefined;
  const server = new SpdySession(a, {
    onStream: (s) => void (stream = s),
    limits: { maxBufferedBytesPerStream: 128 * 1024 },
  });
  const peer = new RawPeer(b);
  await peer.synStream(1, { streamtype: "stdin" });
  // The peer reads whatever the session says (SYN_REPLY, WINDOW_UPDATEs) all along.
  const heard = peer.drain();
  const frame = encode.data(1, new Uint8Array(32 * 1024).fill(1));
  let accepted = 0;
  const writes = Array.from({ length: 64 }, () => peer.write(frame).then(() => accepted++));
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
  assert(accepted < 16, `${accepted} frames of 32 KiB accepted past a 128 KiB bound`);
  const reading = readAll(stream!.readable);
  await Promise.all(writes);
  await peer.write(encode.data(1, new Uint8Array(0), { fin: true }));
  assertEquals((await reading).length, 64 * 32 * 1024);
  await stream!.close();
  await stream!.done;
  await server.close();
  const frames = await heard;
  assert(frames.some((f) => f.type === "window_update" && f.streamId === 1), "window updates");
  assert(frames.some((f) => f.type === "goaway" && f.status === 0), "GOAWAY OK");
  await peer.close();
});

Deno.test("PING is echoed; GOAWAY from the peer ends the session once streams finish", async () => {
  const { a, b } = pipePair();
  const server = new SpdySession(a, { onStream: echo });
  const peer = new RawPeer(b);
  await peer.write(encode.ping(7));
  assertEquals(await peer.until((f) => f.type === "ping"), { type: "ping", id: 7 });
  await peer.synStream(1, { streamtype: "x" }, { fin: true });
  await peer.until((f) => f.type === "syn_reply");
  await peer.write(encode.goaway(0, 0));
  // The echo finishes stream 1 (prefix, then FIN), and then the session ends by itself.
  const frames = await peer.drain();
  const data = frames.filter((f) => f.type === "data");
  assertEquals(data.map((f) => f.type === "data" && dec.decode(f.data)), ["x:", ""]);
  await server.closed;
  await peer.close();
});

Deno.test("close() sends GOAWAY and waits for open streams; now:true does not", async () => {
  const { server, client } = sessions();
  const s = await client.openStream({ streamtype: "a" });
  const closing = server.close();
  // Sent before the GOAWAY arrives: refused, or cut off by GOAWAY's last good id.
  await assertRejects(() => client.openStream({}), SpdyProtocolError);
  await assertRejects(() => client.openStream({}), SpdyProtocolError, "closing");
  const reply = readAll(s.readable);
  await s.write(enc.encode("late"));
  await s.close();
  assertEquals(dec.decode(await reply), "a:late");
  await closing;
  await client.closed;

  const two = sessions();
  const t = await two.client.openStream({ streamtype: "b" });
  await two.server.close({ now: true });
  await assertRejects(() => readAll(t.readable), SpdyProtocolError);
  await two.client.closed;
});

Deno.test("ping() resolves on the peer's echo and rejects once the session is gone", async () => {
  const { server, client } = sessions();
  await client.ping();
  await server.ping();
  await Promise.all([server.ping(), server.ping(), client.ping()]);
  await client.close();
  await server.closed;
  await assertRejects(() => server.ping(), SpdyProtocolError, "closed");
});

Deno.test("a flood of 1-byte DATA frames is bounded in pieces, not only in bytes", async () => {
  const { a, b } = pipePair();
  let stream: SpdyStream | undefined;
  const server = new SpdySession(a, { onStream: (s) => void (stream = s) });
  const peer = new RawPeer(b);
  await peer.synStream(1, {});
  const heard = peer.drain();
  const batch = new Uint8Array(9 * 100);
  for (let i = 0; i < 100; i++) batch.set(encode.data(1, new Uint8Array([i])), 9 * i);
  let accepted = 0;
  const writes = Array.from({ length: 1000 }, () => peer.write(batch).then(() => accepted++));
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
  // 256 KiB of 1-byte pieces would be 2600 batches; with per-piece overhead about 40 fit.
  assert(accepted < 100, `${accepted} batches of 100 one-byte frames accepted`);
  const reading = readAll(stream!.readable);
  await Promise.all(writes);
  await peer.write(encode.data(1, new Uint8Array(0), { fin: true }));
  assertEquals((await reading).length, 100_000);
  await server.close({ now: true });
  await heard.catch(() => {}); // the pipe errors: the server aborted its side
  await peer.close();
});
