import { assertEquals, assertThrows } from "../testing/asserts.ts";
import { FdSocket, SOCK_STREAM, sockaddrLoopback, sockaddrUn } from "./fd_socket.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

Deno.test("a SEQPACKET pair keeps message boundaries; half-close and close end reads", async () => {
  const [a, b] = FdSocket.pair();
  try {
    await a.write(enc("one"));
    await a.write(enc("two"));
    assertEquals([dec(await b.read()), dec(await b.read())], ["one", "two"]);
    a.closeWrite();
    assertEquals(await b.read(), null, "the peer's half-close reads as the end");
    await b.write(enc("back"));
    assertEquals(dec(await a.read()), "back", "reading goes on after closeWrite");
    const pending = b.read();
    await b.close();
    assertEquals(await pending, null, "close wakes a blocked read");
    assertEquals(await b.read(), null);
    await b.close(); // idempotent
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("writing to a closed peer rejects instead of raising SIGPIPE", async () => {
  const [a, b] = FdSocket.pair(SOCK_STREAM);
  await b.close();
  let failed = false;
  try {
    for (let i = 0; i < 100; i++) await a.write(new Uint8Array(64 << 10));
  } catch {
    failed = true;
  }
  await a.close();
  assertEquals(failed, true);
});

Deno.test("socket addresses: unix paths are bounded, loopback ports are big-endian", () => {
  assertThrows(() => sockaddrUn("/" + "x".repeat(120)));
  const un = sockaddrUn("/run/a");
  assertEquals([un[0], un[1], un[2]], [1, 0, "/".charCodeAt(0)]);
  const v4 = sockaddrLoopback(2, 0x1f90);
  assertEquals([...v4.subarray(0, 8)], [2, 0, 0x1f, 0x90, 127, 0, 0, 1]);
  const v6 = sockaddrLoopback(10, 80);
  assertEquals([v6.length, v6[3], v6[23]], [28, 80, 1]);
});

Deno.test("a socket path longer than sockaddr_un allows is reached through its directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fd-socket-" });
  const deep = `${dir}/${"d".repeat(60)}/${"e".repeat(40)}`;
  await Deno.mkdir(deep, { recursive: true });
  // The listener binds the way conmon does: a short name relative to the directory's fd.
  const short = `${dir}/s`;
  await Deno.symlink(deep, short);
  const listener = Deno.listen({ transport: "unix", path: `${short}/x` });
  try {
    // A stream listener refuses a SEQPACKET connect (EPROTOTYPE): the long path was found.
    const err = (() => {
      try {
        FdSocket.connectSeqpacket(`${deep}/x`);
        return "connected";
      } catch (e) {
        return String(e);
      }
    })();
    assertEquals(/errno 91/.test(err), true, err);
    assertThrows(() => FdSocket.connectSeqpacket(`${deep}/missing`), Deno.errors.ConnectionRefused);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writes on a SEQPACKET socket are split into messages conmon reads whole", async () => {
  const [a, b] = FdSocket.pair(undefined, { maxMessage: 16 << 10 });
  try {
    const data = new Uint8Array(40_000).map((_, i) => i % 251);
    const sent = a.write(data);
    const sizes: number[] = [];
    const got: number[] = [];
    while (got.length < data.length) {
      const m = (await b.read())!;
      sizes.push(m.length);
      got.push(...m);
    }
    await sent;
    assertEquals(sizes, [16384, 16384, 7232]);
    assertEquals(new Uint8Array(got), data);
  } finally {
    await a.close();
    await b.close();
  }
});
