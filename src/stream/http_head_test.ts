import { assertEquals, assertRejects, assertThrows } from "../testing/asserts.ts";
import { headerTokens, HttpHeadError, parseHead, readHead } from "./http_head.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function chunks(...parts: (string | Uint8Array)[]): ReadableStreamDefaultReader<Uint8Array> {
  return ReadableStream.from(parts.map((p) => (typeof p === "string" ? enc(p) : p))).getReader();
}

Deno.test("head: request split over chunks; what follows the head is handed back", async () => {
  const got = await readHead(chunks(
    "POST /exec/abc HTTP/1.1\r\nHost: x\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r",
    "\nx-stream-protocol-version: v3.channel.k8s.io, v2.channel.k8s.io\r\n",
    "Connection: Upgrade\r\n\r\nSPDYBYTES",
  ));
  assertEquals(got!.head.method, "POST");
  assertEquals(got!.head.target, "/exec/abc");
  assertEquals(headerTokens(got!.head, "x-stream-protocol-version"), [
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
  ]);
  assertEquals(new TextDecoder().decode(got!.rest), "SPDYBYTES");
});

Deno.test("head: a peer that closes before sending anything is not an error", async () => {
  assertEquals(await readHead(chunks()), null);
});

Deno.test("head: bounded in bytes and lines", async () => {
  const big = "GET / HTTP/1.1\r\nX: " + "a".repeat(20_000) + "\r\n\r\n";
  const e = await assertRejects(() => readHead(chunks(big)), HttpHeadError);
  assertEquals(e.status, 431);
  // Never terminated: refused once the bound is reached, not read forever.
  const endless = Array.from({ length: 100 }, () => "X: " + "b".repeat(500) + "\r\n");
  await assertRejects(() => readHead(chunks("GET / HTTP/1.1\r\n", ...endless)), HttpHeadError);
  const many = "GET / HTTP/1.1\r\n" + "A: b\r\n".repeat(65);
  const e2 = assertThrows(() => parseHead(enc(many.slice(0, -2))), HttpHeadError);
  assertEquals(e2.status, 431);
});

Deno.test("head: malformed heads are refused with 400", () => {
  for (
    const bad of [
      "GET /x HTTP/2.0",
      "get /x HTTP/1.1",
      "GET x HTTP/1.1",
      "GET /x HTTP/1.1\r\n folded: no",
      "GET /x HTTP/1.1\r\nNo colon",
      "GET /x HTTP/1.1\r\nBad Name: x",
      "GET /x HTTP/1.1\r\nA: b\nC: d",
      "GET /x HTTP/1.1\r\nA: b\0",
      "POST /x HTTP/1.1\r\nContent-Length: 5",
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked",
    ]
  ) {
    const e = assertThrows(() => parseHead(enc(bad)), HttpHeadError, undefined);
    assertEquals(e.status, 400, bad);
  }
});
