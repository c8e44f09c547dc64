import { assert, assertEquals, assertThrows } from "../testing/asserts.ts";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { ObjectIndex } from "./object_index.ts";
import { NameRegistrar } from "./registrar.ts";

Deno.test("ObjectIndex.find() resolves unique prefixes and refuses ambiguous ones", () => {
  const idx = new ObjectIndex<{ id: string }>("pod sandbox");
  idx.add({ id: "abc123" });
  idx.add({ id: "abd456" });
  assertEquals(idx.find("abc")?.id, "abc123");
  assertEquals(idx.find("zzz"), undefined);
  assertThrows(() => idx.find("ab"), InvalidArgumentError, "ambiguous");
  assertThrows(() => idx.get("zzz"), NotFoundError, 'pod sandbox "zzz" not found');
  // exact(): whole ids only, never a prefix.
  assertEquals(idx.exact("abc123")?.id, "abc123");
  assertEquals(idx.exact("abc"), undefined);
  assertEquals(idx.exact("ab"), undefined);
});

Deno.test("NameRegistrar.reserve() gives a name to one id at a time", () => {
  const r = new NameRegistrar();
  r.reserve("k8s_a", { id: "1", key: "h" });
  assertThrows(
    () => r.reserve("k8s_a", { id: "2", key: "h" }),
    AlreadyExistsError,
    "reserved for 1",
  );
  r.release("k8s_a", "2");
  assertEquals(r.get("k8s_a")?.id, "1");
  r.release("k8s_a", "1");
  r.reserve("k8s_a", { id: "2", key: "h" });
});

Deno.test("ObjectIndex.list() keeps its order and is rebuilt only after a change", () => {
  const idx = new ObjectIndex<{ id: string; at: number }>("container", {
    order: (a, b) => a.at - b.at,
  });
  idx.add({ id: "b", at: 2 });
  idx.add({ id: "a", at: 1 });
  const first = idx.list();
  assertEquals(first.map((o) => o.id), ["a", "b"]);
  assert(idx.list() === first, "unchanged index answers with the same frozen list");
  assert(Object.isFrozen(first));
  idx.add({ id: "b", at: 2 });
  const second = idx.list();
  assert(second !== first, "a replaced object is listed anew");
  idx.delete("zzz");
  assert(idx.list() === second, "deleting an unknown id changes nothing");
  idx.delete("a");
  assertEquals(idx.list().map((o) => o.id), ["b"]);
});
