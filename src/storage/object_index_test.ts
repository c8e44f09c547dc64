import { assertEquals, assertThrows } from "../testing/asserts.ts";
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
