/**
 * RFM scores: recency, frequency and monetary value each scored 1–5 by quintile over the
 * customers scored together (5 = most recent, most frequent, highest spend), and the usual
 * named groups from the recency × frequency grid.
 */

export interface RfmInput {
  /** Time since the last purchase (any unit; smaller is more recent). */
  recency: Float64Array;
  /** Purchases. */
  frequency: Float64Array;
  /** Spend (total or mean; the caller says which). */
  monetary: Float64Array;
}

export type RfmGroup =
  | 'champions'
  | 'loyal'
  | 'potential loyalists'
  | 'new customers'
  | 'promising'
  | 'need attention'
  | 'about to sleep'
  | 'at risk'
  | "can't lose them"
  | 'hibernating';

export interface RfmScores {
  r: Uint8Array;
  f: Uint8Array;
  m: Uint8Array;
  group: RfmGroup[];
}

/**
 * Quintile scores 1–5: a value's score is 1 + ⌊5 · (customers with a strictly smaller value) / (n − 1)⌋
 * (capped at 5), so the best customer scores 5 whatever n, and equal values always share a score (many customers with one purchase do not straddle
 * two scores). `higherIsBetter = false` reverses the scale (recency).
 */
export function quintileScores(values: Float64Array, higherIsBetter: boolean): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n);
  if (n === 0) return out;
  if (n === 1) return out.fill(3);
  const sorted = Float64Array.from(values).sort();
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // Customers with a strictly smaller (or, reversed, strictly larger) value.
    const below = higherIsBetter ? lowerBound(sorted, v) : n - upperBound(sorted, v);
    out[i] = 1 + Math.min(4, Math.floor((5 * below) / (n - 1)));
  }
  return out;
}

function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The named group of an (R, F) pair, from the common RFM segment grid:
 * R 5 & F 4–5 champions; R 3–5 & F 4–5 loyal; R 4–5 & F 2–3 potential loyalists;
 * R 5 & F 1 new customers; R 4 & F 1 promising; R 3 & F 3 need attention; R 3 & F 1–2 about
 * to sleep; R 1–2 & F 5 can't lose them; R 1–2 & F 3–4 at risk; R 1–2 & F 1–2 hibernating.
 */
export function rfmGroup(r: number, f: number): RfmGroup {
  if (r >= 3) {
    if (f >= 4) return r === 5 ? 'champions' : 'loyal';
    if (r >= 4) return f >= 2 ? 'potential loyalists' : r === 5 ? 'new customers' : 'promising';
    return f === 3 ? 'need attention' : 'about to sleep';
  }
  if (f === 5) return "can't lose them";
  return f >= 3 ? 'at risk' : 'hibernating';
}

export function rfmScores(input: RfmInput): RfmScores {
  const r = quintileScores(input.recency, false);
  const f = quintileScores(input.frequency, true);
  const m = quintileScores(input.monetary, true);
  const group: RfmGroup[] = new Array<RfmGroup>(r.length);
  for (let i = 0; i < r.length; i++) group[i] = rfmGroup(r[i]!, f[i]!);
  return { r, f, m, group };
}
