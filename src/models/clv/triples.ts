/**
 * The repeat-purchase summary the models work on, one entry per customer, in the units of
 * the chosen period (the lifetimes convention): `frequency` x = repeat purchases,
 * `recency` t_x = time of the last purchase since the first, `T` = time since the first.
 */
export interface RfmSummary {
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  /** Mean value of the repeat purchases (0 when none), for the spend model. */
  monetary?: Float64Array;
}

/**
 * Identical (x, t_x, T) customers grouped once: the likelihoods cost grows with the distinct
 * triples, not with the customers. Each triple also points into the distinct values of x, t_x
 * and T, so that terms depending on one of them alone are computed once per value.
 */
export interface Triples {
  /** Number of distinct triples. */
  size: number;
  /** Customers in all (the sum of the weights). */
  customers: number;
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** Customers sharing the triple. */
  weight: Float64Array;
  /** Distinct x values, and for each triple the index of its x among them. */
  xValues: Float64Array;
  xIndex: Int32Array;
  /** Total weight per distinct x. */
  xWeight: Float64Array;
  tValues: Float64Array;
  tIndex: Int32Array;
  txValues: Float64Array;
  txIndex: Int32Array;
}

function indexer(): { map: Map<number, number>; values: number[]; of: (v: number) => number } {
  const map = new Map<number, number>();
  const values: number[] = [];
  return {
    map,
    values,
    of(v: number): number {
      let i = map.get(v);
      if (i === undefined) {
        i = values.length;
        map.set(v, i);
        values.push(v);
      }
      return i;
    },
  };
}

/** Groups customers into distinct (x, t_x, T) triples. */
export function groupTriples(s: Pick<RfmSummary, 'frequency' | 'recency' | 'T'>): Triples {
  const n = s.frequency.length;
  const xs = indexer();
  const ts = indexer();
  const txs = indexer();
  const xi = new Int32Array(n);
  const ti = new Int32Array(n);
  const txi = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    xi[i] = xs.of(s.frequency[i]!);
    ti[i] = ts.of(s.T[i]!);
    txi[i] = txs.of(s.recency[i]!);
  }
  const nT = ts.values.length;
  const nTx = txs.values.length;
  const numeric = xs.values.length * nTx * nT < Number.MAX_SAFE_INTEGER;
  const groups = new Map<number | string, number>();
  const firstOf: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = numeric ? (xi[i]! * nTx + txi[i]!) * nT + ti[i]! : `${xi[i]!}:${txi[i]!}:${ti[i]!}`;
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, firstOf.length);
      firstOf.push(i);
      weights.push(1);
    } else {
      weights[g]! += 1;
    }
  }
  const size = firstOf.length;
  const out: Triples = {
    size,
    customers: n,
    x: new Float64Array(size),
    tx: new Float64Array(size),
    T: new Float64Array(size),
    weight: Float64Array.from(weights),
    xValues: Float64Array.from(xs.values),
    xIndex: new Int32Array(size),
    xWeight: new Float64Array(xs.values.length),
    tValues: Float64Array.from(ts.values),
    tIndex: new Int32Array(size),
    txValues: Float64Array.from(txs.values),
    txIndex: new Int32Array(size),
  };
  for (let g = 0; g < size; g++) {
    const i = firstOf[g]!;
    out.x[g] = s.frequency[i]!;
    out.tx[g] = s.recency[i]!;
    out.T[g] = s.T[i]!;
    out.xIndex[g] = xi[i]!;
    out.tIndex[g] = ti[i]!;
    out.txIndex[g] = txi[i]!;
    out.xWeight[xi[i]!]! += weights[g]!;
  }
  return out;
}
