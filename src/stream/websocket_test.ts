import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { frame } from "../testing/ws_client.ts";
import { ByteReader } from "../storage/byte_reader.ts";
import { parseHead } from "./http_head.ts";
import { acceptHandshake, CLOSE, OP, readFrame, WsConn, WsProtocolError } from "./websocket.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function head(extra: string[]) {
  return parseHead(enc([
    "GET /exec/t HTTP/1.1",
    "Upgrade: websocket",
    "Connection: keep-alive, Upgrade",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ...extra,
  ].join("\r\n")));
}

Deno.test("websocket: the RFC 6455 accept value and the first supported subprotocol", async () => {
  const r = await acceptHandshake(
    head(["Sec-WebSocket-Protocol: v9.channel.k8s.io, v5.channel.k8s.io, v4.channel.k8s.io"]),
    ["v4.channel.k8s.io", "v5.channel.k8s.io"],
  );
  assert(!("error" in r));
  assertEquals(r.protocol, "v5.channel.k8s.io");
  assert(
    r.headers.some(([k, v]) =>
      k === "Sec-WebSocket-Accept" && v === "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    ),
  );
  const refused = await acceptHandshake(head(["Sec-WebSocket-Protocol: nope"]), [
    "v4.channel.k8s.io",
  ]);
  assert("error" in refused);
  assert("error" in await acceptHandshake(head([]), ["v4.channel.k8s.io"]));
});

function reader(...frames: Uint8Array[]) {
  return new ByteReader(ReadableStream.from(frames));
}

async function protocolError(frames: Uint8Array[], max = 1024): Promise<number> {
  const e = await assertRejects(async () => {
    const r = reader(...frames);
    for (;;) if (!(await readFrame(r, max))) return;
  }, WsProtocolError);
  return e.code;
}

Deno.test("websocket: malformed client frames are protocol errors with the right close code", async () => {
  const data = enc("hello");
  assertEquals(await protocolError([frame(OP.binary, data, { mask: false })]), CLOSE.protocol);
  assertEquals(await protocolError([frame(OP.binary, new Uint8Array(2000))]), CLOSE.tooBig);
  assertEquals(await protocolError([frame(3, data)]), CLOSE.protocol);
  assertEquals(await protocolError([frame(OP.ping, data, { fin: false })]), CLOSE.protocol);
  assertEquals(await protocolError([frame(OP.ping, new Uint8Array(126))]), CLOSE.protocol);
  const rsv = frame(OP.binary, data);
  rsv[0] |= 0x40;
  assertEquals(await protocolError([rsv]), CLOSE.protocol);
  // A 64-bit length far past the bound is refused before anything is allocated.
  const huge = new Uint8Array([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assertEquals(await protocolError([huge]), CLOSE.tooBig);
  assertEquals(await protocolError([frame(OP.binary, data).subarray(0, 6)]), CLOSE.protocol);
});

function pair(...frames: Uint8Array[]) {
  const written: Uint8Array[] = [];
  const ws = new WsConn({
    readable: ReadableStream.from(frames),
    writable: new WritableStream({ write: (c) => void written.push(c) }),
  }, { maxMessage: 16 });
  return { ws, written };
}

Deno.test("websocket: fragments join into one message, pings get pongs, close is answered", async () => {
  const { ws, written } = pair(
    frame(OP.binary, enc("ab"), { fin: false }),
    frame(OP.ping, enc("p")),
    frame(OP.cont, enc("cd")),
    frame(OP.close, new Uint8Array([3, 232])),
  );
  const m = await ws.next();
  assertEquals(m, { binary: true, data: enc("abcd") });
  assertEquals(await ws.next(), null);
  assertEquals(written[0], new Uint8Array([0x8a, 1, 112])); // pong "p", unmasked
  assertEquals(written[1], new Uint8Array([0x88, 2, 3, 232])); // close 1000
});

Deno.test("websocket: message bounds, stray continuations and bad UTF-8 are refused", async () => {
  const over = pair(
    frame(OP.binary, new Uint8Array(10), { fin: false }),
    frame(OP.cont, new Uint8Array(10)),
  );
  assertEquals((await assertRejects(() => over.ws.next(), WsProtocolError)).code, CLOSE.tooBig);
  const stray = pair(frame(OP.cont, enc("x")));
  assertEquals((await assertRejects(() => stray.ws.next(), WsProtocolError)).code, CLOSE.protocol);
  const nested = pair(frame(OP.text, enc("x"), { fin: false }), frame(OP.text, enc("y")));
  assertEquals((await assertRejects(() => nested.ws.next(), WsProtocolError)).code, CLOSE.protocol);
  const utf = pair(frame(OP.text, new Uint8Array([0xff, 0xfe])));
  assertEquals((await assertRejects(() => utf.ws.next(), WsProtocolError)).code, CLOSE.invalidData);
});

Deno.test("websocket: server frames use the 16- and 64-bit length forms", async () => {
  const { ws, written } = pair();
  await ws.send(true, new Uint8Array(300));
  assertEquals([...written[0].subarray(0, 4)], [0x82, 126, 1, 44]);
  await ws.send(true, new Uint8Array(70000));
  assertEquals(written[1][1], 127);
  assertEquals(written[1].length, 70000 + 10);
});

Deno.test("websocket: as a SPDY tunnel, empty binary messages are skipped, not an end", async () => {
  const { wsByteStream } = await import("./upgrade.ts");
  const { ws } = pair(
    frame(OP.binary, new Uint8Array(0)),
    frame(OP.binary, enc("spdy")),
    frame(OP.close, new Uint8Array([3, 232])),
  );
  const chunks: string[] = [];
  for await (const c of wsByteStream(ws).readable) chunks.push(new TextDecoder().decode(c));
  assertEquals(chunks, ["spdy"]);
});
