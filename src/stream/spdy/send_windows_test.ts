import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { SpdyProtocolError } from "../../errors.ts";
import { DEFAULT_WINDOW, SendWindows } from "./send_windows.ts";

const ok = () => {};

Deno.test("windows are counted but not enforced until the peer shows flow control", async () => {
  const w = new SendWindows();
  const s = { id: 1, sendWindow: w.initial };
  assertEquals(
    await w.take(s, { want: 100_000, check: ok }),
    100_000,
    "a spdystream peer is never throttled",
  );
  assertEquals(s.sendWindow, DEFAULT_WINDOW - 100_000);
  // The peer's first WINDOW_UPDATE turns enforcement on; both windows are still in debt.
  assert(w.update(s, 40_000));
  let got = 0;
  const waiting = w.take(s, { want: 5000, check: ok }).then((n) => got = n);
  await new Promise((r) => setTimeout(r, 1));
  assertEquals(got, 0, "waits while the session window is shut");
  assert(w.update("session", 40_000));
  await waiting;
  assertEquals(got, 5000);
  assertEquals(s.sendWindow, DEFAULT_WINDOW - 100_000 + 40_000 - 5000);
});

Deno.test("SETTINGS moves open streams' windows; overflows are errors", async () => {
  const w = new SendWindows();
  const a = { id: 1, sendWindow: w.initial };
  w.setInitial(1000, [a]);
  assertEquals(a.sendWindow, 1000);
  assertEquals(
    await w.take(a, { want: 5000, check: ok }),
    1000,
    "capped by the stream window once enforced",
  );
  assert(w.update(a, 0x7fffffff), "exactly the maximum is allowed");
  assert(!w.update(a, 1), "stream overflow is reported for a reset");
  assertThrows(() => w.update("session", 0x7fffffff), SpdyProtocolError, "session window");
  assertThrows(() => w.setInitial(0x80000000, []), SpdyProtocolError);
  // A writer waiting on a shut window gives up when its check says the stream ended.
  const b = { id: 3, sendWindow: 0 };
  let ended = false;
  const check = () => {
    if (ended) throw new SpdyProtocolError("ended");
  };
  const waiting = w.take(b, { want: 10, check: check }).catch((e) => e);
  ended = true;
  w.wake();
  assert((await waiting) instanceof SpdyProtocolError);
});
