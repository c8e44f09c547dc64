import { assertEquals } from "../../testing/asserts.ts";
import { SpdySession } from "./session.ts";
import { echo, pipePair, readAll } from "./test_peer.ts";
import { resumedTransport } from "./transport.ts";

Deno.test("a session resumes a connection whose upgrade request was read with extra bytes", async () => {
  const { a, b } = pipePair();
  const client = new SpdySession(b, { role: "client", onStream: () => false });
  // The upgrade handler reads a chunk that holds the request and the client's first frames.
  const reader = a.readable.getReader();
  const first = await reader.read();
  const request = new TextEncoder().encode("GET /exec/x HTTP/1.1\r\n\r\n");
  const chunk = new Uint8Array([...request, ...first.value!]);
  const head = chunk.subarray(request.length);
  const server = new SpdySession(resumedTransport({ head, reader, writable: a.writable }), {
    onStream: echo,
  });
  const s = await client.openStream({ streamtype: "in" });
  const reply = readAll(s.readable);
  await s.write(new TextEncoder().encode("hi"));
  await s.close();
  assertEquals(new TextDecoder().decode(await reply), "in:hi");
  await client.close();
  await server.closed;
});
