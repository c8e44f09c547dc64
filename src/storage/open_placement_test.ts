import { assertEquals } from "../testing/asserts.ts";
import { OpenPlacement } from "./open_placement.ts";

/** Runs n opens that cost costUs when made in place; returns how many went to the pool. */
function run(p: OpenPlacement, n: number, costUs: number): number {
  let pooled = 0;
  for (let i = 0; i < n; i++) {
    if (p.usePool()) pooled++;
    else p.measured(costUs);
  }
  return pooled;
}

Deno.test("opens stay on the JS thread while they are cheap", () => {
  const p = new OpenPlacement();
  assertEquals(run(p, 1000, 20), 0);
  assertEquals(p.averageUs, 20);
});

Deno.test("dear opens go to the pool, with every 32nd still made in place to measure", () => {
  const p = new OpenPlacement();
  // The first open has no measurement yet: it is made in place.
  assertEquals(run(p, 1 + 32 * 10, 400), 31 * 10);
});

Deno.test("the pool is left once the probes find opens cheap again", () => {
  const p = new OpenPlacement();
  run(p, 200, 400);
  assertEquals(p.usePool(), true);
  // Each probe pulls the average an eighth of the way down: 12 probes take 400 µs below 100.
  const pooled = run(p, 32 * 13, 20);
  assertEquals(p.averageUs! < 100, true, `average ${p.averageUs} µs`);
  assertEquals(pooled >= 31 * 11, true, `${pooled} opens pooled while the cost was learnt`);
  assertEquals(run(p, 100, 20), 0);
});

Deno.test("one slow open among cheap ones moves few opens to the pool", () => {
  const p = new OpenPlacement();
  run(p, 100, 20);
  p.measured(5000);
  const pooled = run(p, 2000, 20);
  assertEquals(pooled < 31 * 20, true, `${pooled} opens pooled`);
  assertEquals(p.usePool(), false);
});
