/**
 * Sessions over real loopback TCP connections (Deno.Conn as the transport), ended every way; the
 * test's resource sanitizer fails it if any connection is left open.
 */
import { assertEquals, assertRejects } from "../../testing/asserts.ts";
import { SpdyProtocolError } from "../../errors.ts";
import { SpdySession } from "./session.ts";
import { echo, readAll } from "./test_peer.ts";

Deno.test("TCP sessions close their connections however they end", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const enc = new TextEncoder();
  for (let i = 0; i < 60; i++) {
    const dialing = Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const serverConn = await listener.accept();
    const server = new SpdySession(serverConn, { onStream: echo });
    const clientConn = await dialing;
    const client = new SpdySession(clientConn, { role: "client", onStream: () => false });
    const s = await client.openStream({ streamtype: `n${i}` });
    const reply = readAll(s.readable);
    await s.write(enc.encode("ping"));
    switch (i % 3) {
      case 0: // both sides finish, then the client says goodbye
        await s.close();
        assertEquals(new TextDecoder().decode(await reply), `n${i}:ping`);
        await client.close();
        break;
      case 1: // the server drops the session at once
        await server.close({ now: true });
        await reply.catch(() => {});
        break;
      case 2: // the client's connection goes away under it
        await client.close({ now: true });
        await assertRejects(() => reply, SpdyProtocolError);
        break;
    }
    await Promise.all([server.closed, client.closed]);
  }
});
