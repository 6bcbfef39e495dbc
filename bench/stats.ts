/**
 * The statistics of every bench report, declared once so that two reports of
 * the same samples agree.
 *
 * Quantiles interpolate linearly between the two nearest order statistics
 * (Hyndman and Fan's type 7, the default of R and NumPy): the median of an
 * even count is the mean of the two middle values, and the interquartile
 * range is the 25th to the 75th percentile on the same rule.
 */

/** The values sorted ascending; throws on an empty list (a statistic of nothing is a bug). */
function sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new Error("a statistic of no samples");
  return [...xs].sort((a, b) => a - b);
}

/** The q-quantile (0 ≤ q ≤ 1) of `xs`, interpolated linearly between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q} is not in [0, 1]`);
  const s = sorted(xs);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** The median: the middle value, or the mean of the two middle values of an even count. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** The interquartile range as its two ends: the 25th and the 75th percentile. */
export function iqr(xs: readonly number[]): { q1: number; q3: number } {
  return { q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) };
}
