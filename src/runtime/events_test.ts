/** The event hub's fan-out, bounds and ends, with a fake clock and fake pod/container records. */
import { assertEquals } from "../testing/asserts.ts";
import { Logger } from "../log.ts";
import { fakeMeta } from "../testing/fake_containers.ts";
import type { Pod } from "./sandbox/pod_state.ts";
import type { Container } from "./container/container_state.ts";
import { EventHub, type EventHubOptions } from "./events.ts";

const POD = "p".repeat(64);
const pod = { id: POD, meta: {}, status: { state: "ready", ips: ["10.0.0.2"] } } as unknown as Pod;
const ctr = (id: string): Container => ({
  id,
  meta: fakeMeta(id),
  status: { state: "running" },
});

function setup(over: Partial<EventHubOptions> = {}) {
  const warnings: string[] = [];
  let clock = 1000n;
  let snapshots = 0;
  const containers = [ctr("a".repeat(64))];
  const hub = new EventHub({
    snapshot: (podId) => {
      snapshots++;
      return { pod: podId === POD ? pod : undefined, containers: [...containers] };
    },
    log: new Logger({ sink: { write: (l) => l.includes("dropped") && warnings.push(l) } }),
    now: () => clock++,
    ...over,
  });
  return { hub, warnings, containers, snapshots: () => snapshots };
}

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push((await it.next()).value as T);
  return out;
}

Deno.test("every subscriber gets every event, in order, with the snapshot taken when it happened", async () => {
  const t = setup();
  const c1 = new AbortController();
  const c2 = new AbortController();
  const s1 = t.hub.subscribe(c1.signal);
  const s2 = t.hub.subscribe(c2.signal);
  t.hub.emit("created", { id: "a".repeat(64), podId: POD });
  t.containers.push(ctr("b".repeat(64)));
  t.hub.emit("started", { id: "b".repeat(64), podId: POD });
  for (const s of [s1, s2]) {
    const got = await take(s, 2);
    assertEquals(got.map((e) => [e.kind, e.at, e.containers.length]), [
      ["created", "1000", 1],
      ["started", "1001", 2],
    ]);
    assertEquals(got[0].pod.status.ips, ["10.0.0.2"]);
  }
  c1.abort();
  c2.abort();
  assertEquals((await s1.next()).done, true);
  assertEquals(t.hub.subscribers, 0);
});

Deno.test("a subscriber that does not read keeps at most `capacity` events; the others get all", async () => {
  const t = setup({ capacity: 3 });
  const slow = new AbortController();
  const fast = new AbortController();
  const s = t.hub.subscribe(slow.signal);
  const f = t.hub.subscribe(fast.signal);
  const seen: string[] = [];
  const reading = (async () => {
    for await (const e of f) {
      seen.push(e.at);
      if (seen.length === 10) break;
    }
  })();
  for (let i = 0; i < 10; i++) {
    t.hub.emit("stopped", { id: "a".repeat(64), podId: POD });
    await new Promise((r) => setTimeout(r, 0));
  }
  await reading;
  assertEquals(seen.length, 10);
  assertEquals((await take(s, 3)).map((e) => e.at), ["1000", "1001", "1002"]);
  assertEquals(t.warnings.length, 7);
  slow.abort();
  assertEquals((await s.next()).done, true);
  assertEquals(t.hub.subscribers, 0);
});

Deno.test("cancel ends a waiting subscription; nobody listening takes no snapshot", async () => {
  const t = setup();
  t.hub.emit("created", { id: "a".repeat(64), podId: POD });
  assertEquals(t.snapshots(), 0);
  const c = new AbortController();
  const s = t.hub.subscribe(c.signal);
  const next = s.next();
  setTimeout(() => c.abort(), 5);
  assertEquals((await next).done, true);
  assertEquals(t.hub.subscribers, 0);
  // Aborted before it was ever read: still gone.
  const c2 = new AbortController();
  t.hub.subscribe(c2.signal);
  assertEquals(t.hub.subscribers, 1);
  c2.abort();
  assertEquals(t.hub.subscribers, 0);
});

Deno.test("a gone pod has no event; disabled events end a subscription at once", async () => {
  const t = setup();
  const c = new AbortController();
  const s = t.hub.subscribe(c.signal);
  t.hub.emit("deleted", { id: "x", podId: "gone" });
  t.hub.emit("deleted", { id: "a".repeat(64), podId: POD });
  assertEquals((await s.next()).value?.id, "a".repeat(64));
  c.abort();
  const off = setup({ enabled: () => false });
  const s2 = off.hub.subscribe(new AbortController().signal);
  assertEquals((await s2.next()).done, true);
  assertEquals(off.hub.subscribers, 0);
});
