import { assert, assertEquals } from "../testing/asserts.ts";
import { loadSchema } from "./schema.ts";

const schema = loadSchema();
const runtime = schema.definitions.RuntimeService;

function container(i: number, labels: Record<string, string> = {}) {
  return {
    id: `c${i}`.padEnd(64, "0"),
    podSandboxId: `p${i}`.padEnd(64, "0"),
    metadata: { name: `c${i}`, attempt: i },
    image: { image: "busybox", annotations: {} },
    imageRef: "sha256:" + "a".repeat(64),
    imageId: "sha256:" + "b".repeat(64),
    state: 1,
    createdAt: "1764370000123456789",
    labels,
    annotations: { "io.kubernetes.container.hash": String(i) },
  };
}

Deno.test("list responses decode to what was encoded, frozen or not, in order", () => {
  const def = runtime.ListContainers;
  const items = Array.from(
    { length: 40 },
    (_, i) => i % 2 ? Object.freeze(container(i, { k: `v${i}` })) : container(i),
  );
  const decoded = def.responseDeserialize(def.responseSerialize({ containers: items })) as {
    containers: ReturnType<typeof container>[];
  };
  assertEquals(decoded.containers.map((c) => c.id), items.map((c) => c.id));
  assertEquals(decoded.containers[3].labels, { k: "v3" });
  assertEquals(decoded.containers[7].metadata, { name: "c7", attempt: 7 });
  assertEquals(String(decoded.containers[7].createdAt), "1764370000123456789");
});

Deno.test("an item that is not frozen is encoded again after it changes", () => {
  const def = runtime.ListContainers;
  const item = container(1);
  def.responseSerialize({ containers: [item] });
  item.labels = { changed: "yes" };
  const out = def.responseDeserialize(def.responseSerialize({ containers: [item] })) as {
    containers: { labels: Record<string, string> }[];
  };
  assertEquals(out.containers[0].labels, { changed: "yes" });
});

Deno.test("items longer than one and two varint bytes keep their length prefix right", () => {
  const def = runtime.ListContainers;
  for (const size of [100, 200, 20_000, 70_000]) {
    const item = Object.freeze(container(size, { big: "x".repeat(size) }));
    const out = def.responseDeserialize(def.responseSerialize({ containers: [item, item] })) as {
      containers: { labels: Record<string, string> }[];
    };
    assertEquals(out.containers.length, 2);
    assertEquals(out.containers[1].labels.big.length, size);
  }
});

Deno.test("other fields are kept next to the repeated ones", () => {
  const def = runtime.PodSandboxStatus;
  const res = {
    status: { id: "pod", state: 0, createdAt: "5" },
    info: { info: "{}" },
    containersStatuses: [Object.freeze({ id: "c1", exitCode: 3 }), { id: "c2" }],
    timestamp: "1764370000123456789",
  };
  const out = def.responseDeserialize(def.responseSerialize(res)) as Record<string, unknown>;
  assertEquals((out.status as { id: string }).id, "pod");
  assertEquals(out.info, { info: "{}" });
  assertEquals(String(out.timestamp), "1764370000123456789");
  assertEquals(
    (out.containersStatuses as { id: string; exitCode: number }[]).map((c) => [c.id, c.exitCode]),
    [["c1", 3], ["c2", 0]],
  );
});

Deno.test("the same frozen item gives the same bytes without being encoded again", () => {
  const def = runtime.ListPodSandbox;
  const item = Object.freeze({ id: "p", state: 0, createdAt: "1", labels: { a: "b" } });
  const a = def.responseSerialize({ items: [item] });
  const b = def.responseSerialize({ items: [item] });
  assertEquals(new Uint8Array(a), new Uint8Array(b));
});

Deno.test("the same frozen items answer with the same bytes; a changed list is encoded anew", () => {
  const def = runtime.ListContainers;
  const a = Object.freeze(container(1));
  const b = Object.freeze(container(2));
  const first = def.responseSerialize({ containers: [a, b] });
  assert(def.responseSerialize({ containers: [a, b] }) === first, "unchanged list reused");
  const swapped = def.responseSerialize({ containers: [b, a] });
  assert(swapped !== first);
  const out = def.responseDeserialize(swapped) as { containers: { id: string }[] };
  assertEquals(out.containers.map((c) => c.id), [b.id, a.id]);
  const fewer = def.responseDeserialize(def.responseSerialize({ containers: [b] })) as {
    containers: unknown[];
  };
  assertEquals(fewer.containers.length, 1);
  // A list with an item that is not frozen is never kept: its item may change in place.
  const loose = container(3);
  const withLoose = def.responseSerialize({ containers: [a, loose] });
  loose.labels = { changed: "yes" };
  const again = def.responseSerialize({ containers: [a, loose] });
  assert(again !== withLoose);
  const decoded = def.responseDeserialize(again) as {
    containers: { labels: Record<string, string> }[];
  };
  assertEquals(decoded.containers[1].labels, { changed: "yes" });
  // The same array, grown in place, is a different list.
  const shared = [a];
  def.responseSerialize({ containers: shared });
  shared.push(b);
  const grown = def.responseDeserialize(def.responseSerialize({ containers: shared })) as {
    containers: unknown[];
  };
  assertEquals(grown.containers.length, 2);
});
