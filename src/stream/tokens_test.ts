import { assert, assertEquals, assertThrows } from "../testing/asserts.ts";
import { ResourceExhaustedError } from "../errors.ts";
import { TokenCache } from "./tokens.ts";

Deno.test("tokens: a token is URL-safe, unique and works once", () => {
  const c = new TokenCache<string>();
  const a = c.insert("a");
  const b = c.insert("b");
  assert(/^[A-Za-z0-9_-]{8}$/.test(a), a);
  assert(a !== b);
  assertEquals(c.consume(a), "a");
  assertEquals(c.consume(a), undefined);
  assertEquals(c.consume("nope"), undefined);
  assertEquals(c.size, 1);
});

Deno.test("tokens: expire after one minute, and an expired token is gone once tried", () => {
  let now = 1_000_000;
  const c = new TokenCache<string>({ now: () => now });
  const a = c.insert("a");
  const b = c.insert("b");
  now += 60_000;
  assertEquals(c.consume(a), "a"); // exactly at the TTL still valid, as the kubelet (After)
  now += 1;
  assertEquals(c.consume(b), undefined);
  assertEquals(c.size, 0);
});

Deno.test("tokens: at 1000 outstanding the next is refused; expired ones make room", () => {
  let now = 0;
  const c = new TokenCache<number>({ now: () => now });
  for (let i = 0; i < 1000; i++) {
    c.insert(i);
    now += 10;
  }
  assertThrows(() => c.insert(1000), ResourceExhaustedError, "maximum number of in-flight");
  // The first two inserted are now past their minute; the next insert drops them.
  now = 60_015;
  c.insert(1000);
  assertEquals(c.size, 999);
});
