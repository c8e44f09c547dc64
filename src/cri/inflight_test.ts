import { assertEquals, assertThrows } from "../testing/asserts.ts";
import { InflightCalls } from "./inflight.ts";

Deno.test("inflight: idle resolves at once with no call, and when the last call leaves", async () => {
  const calls = new InflightCalls();
  assertEquals(await calls.idle(new AbortController().signal), true);
  calls.enter();
  calls.enter();
  let settled: boolean | undefined;
  const waiting = calls.idle(new AbortController().signal).then((v) => (settled = v));
  calls.leave();
  await Promise.resolve();
  assertEquals(settled, undefined, "one call is still in flight");
  calls.leave();
  assertEquals(await waiting, true);
  assertEquals(calls.count, 0);
});

Deno.test("inflight: idle gives up when its signal aborts; leave without enter throws", async () => {
  const calls = new InflightCalls();
  calls.enter();
  const stop = new AbortController();
  const waiting = calls.idle(stop.signal);
  stop.abort();
  assertEquals(await waiting, false);
  calls.leave();
  assertThrows(() => calls.leave());
});
