/**
 * Confidence intervals for proportions and their differences, for churn rates among the
 * customers who raised a defect against the rate among all customers.
 *
 * Wilson's score interval (Wilson 1927) keeps its coverage for small groups and rates near 0
 * or 1, where the textbook p ± z·√(p(1−p)/n) interval collapses to a point or leaves [0, 1].
 * The difference of two independent proportions uses Newcombe's hybrid score interval
 * (Newcombe 1998, "Interval estimation for the difference between independent proportions",
 * Statistics in Medicine 17, method 10), built from the two Wilson intervals.
 */

/** The normal quantile for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * Wilson score interval for k successes in n trials (Wilson 1927, eq. for p̂ with continuity
 * correction omitted). For n = 0 the proportion is unknown: NaN with the whole [0, 1].
 *
 * @example wilson(5, 20) // { estimate: 0.25, low: 0.112, high: 0.469 }
 */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (n <= 0) return { estimate: NaN, low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Newcombe's interval for p1 − p2 (method 10): with Wilson limits (l1, u1) and (l2, u2),
 * low = d − √((p1 − l1)² + (u2 − p2)²) and high = d + √((u1 − p1)² + (p2 − l2)²).
 * An interval that excludes 0 marks a difference unlikely to be chance at the 5% level.
 *
 * @example newcombe(30, 100, 200, 1000) // 0.30 − 0.20: { estimate: 0.1, low: 0.015, high: 0.199 }
 */
export function newcombe(k1: number, n1: number, k2: number, n2: number, z = Z95): Interval {
  const a = wilson(k1, n1, z);
  const b = wilson(k2, n2, z);
  if (n1 <= 0 || n2 <= 0) return { estimate: NaN, low: -1, high: 1 };
  const d = a.estimate - b.estimate;
  const low = d - Math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2);
  const high = d + Math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2);
  return { estimate: d, low: Math.max(-1, low), high: Math.min(1, high) };
}

/** The q-quantile (0…1) of numbers by linear interpolation between order statistics (type 7); NaN when empty. */
export function quantile(values: readonly number[] | Float64Array, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

/**
 * `quantile` of numbers already sorted ascending, for callers that take several quantiles of
 * one large array and sort it once.
 */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
