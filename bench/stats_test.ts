import { deepEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { iqr, median, quantile } from "./stats.ts";

Deno.test("median: the middle value; of an even count the mean of the two middle ones", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertEquals(median([10, 1]), 5.5);
  assertEquals(median([7]), 7);
});

Deno.test("iqr: the 25th and 75th percentiles, interpolated", () => {
  assertEquals(iqr([1, 2, 3, 4, 5]), { q1: 2, q3: 4 });
  assertEquals(iqr([1, 2, 3, 4]), { q1: 1.75, q3: 3.25 });
  assertEquals(iqr([5]), { q1: 5, q3: 5 });
});

Deno.test("quantile: the ends are the extremes; input left unsorted", () => {
  const xs = [9, 1, 5];
  assertEquals([quantile(xs, 0), quantile(xs, 1), quantile(xs, 0.9)], [1, 9, 8.2]);
  assertEquals(xs, [9, 1, 5]);
});

Deno.test("no samples or a quantile outside [0, 1] is an error, not NaN", () => {
  assertThrows(() => median([]), /no samples/);
  assertThrows(() => quantile([1], 1.5), /not in \[0, 1\]/);
});
