import { assert, assertEquals } from "../testing/asserts.ts";
import { listMemo, ViewMemo } from "./view_memo.ts";

Deno.test("the same source and part give the same frozen view; a new part or source a new one", () => {
  const memo = new ViewMemo<{ id: string }, number, { id: string; state: number }>();
  const src = { id: "a" };
  let made = 0;
  const make = (state: number) => () => (made++, { id: src.id, state });
  const v1 = memo.get(src, 0, make(0));
  assert(Object.isFrozen(v1));
  assert(memo.get(src, 0, make(0)) === v1);
  assertEquals(made, 1);
  const v2 = memo.get(src, 1, make(1));
  assertEquals(v2.state, 1);
  assert(memo.get({ id: "a" }, 1, make(1)) !== v2, "another source object is another view");
  assertEquals(made, 3);
});

Deno.test("listMemo maps a frozen list once, and any other list every time", () => {
  let calls = 0;
  const views = listMemo((s: { id: string }) => (calls++, s.id));
  const frozen = Object.freeze([{ id: "a" }, { id: "b" }]);
  const first = views(frozen);
  assertEquals(first, ["a", "b"]);
  assert(Object.isFrozen(first));
  assert(views(frozen) === first);
  assertEquals(calls, 2);
  const open = [{ id: "c" }];
  assertEquals(views(open), ["c"]);
  open.push({ id: "d" });
  assertEquals(views(open), ["c", "d"], "a list that can change is mapped again");
  assertEquals(calls, 5);
});
