import { assertEquals } from "../src/testing/asserts.ts";
import { median, percentile, ratio, summarize } from "./stats.ts";

Deno.test("percentile: nearest rank, every result is a sample", () => {
  const v = [5, 1, 4, 2, 3];
  assertEquals(percentile(v, 0), 1);
  assertEquals(percentile(v, 20), 1);
  assertEquals(percentile(v, 21), 2);
  assertEquals(percentile(v, 50), 3);
  assertEquals(percentile(v, 99), 5);
  assertEquals(percentile(v, 100), 5);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assertEquals(percentile(hundred, 99), 99);
  assertEquals(percentile(hundred, 50), 50);
  assertEquals(Number.isNaN(percentile([], 50)), true);
});

Deno.test("percentile: refuses p outside 0..100", () => {
  let threw = false;
  try {
    percentile([1], 101);
  } catch {
    threw = true;
  }
  assertEquals(threw, true);
});

Deno.test("median: middle sample, or the mean of the two middle ones", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertEquals(median([7]), 7);
});

Deno.test("summarize: does not reorder its input", () => {
  const v = [3, 1, 2];
  const s = summarize(v);
  assertEquals(v, [3, 1, 2]);
  assertEquals({ n: s.n, min: s.min, max: s.max, mean: s.mean, median: s.median }, {
    n: 3,
    min: 1,
    max: 3,
    mean: 2,
    median: 2,
  });
  assertEquals(summarize([]).n, 0);
});

Deno.test("ratio: undefined when a side is missing or zero", () => {
  assertEquals(ratio(1, 2), 0.5);
  assertEquals(ratio(undefined, 2), undefined);
  assertEquals(ratio(1, 0), undefined);
  assertEquals(ratio(NaN, 1), undefined);
});
