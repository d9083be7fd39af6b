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

/**
 * Numbers to dense indexes (0, 1, 2… in order of first appearance): an open-addressing hash
 * table on the number's bits. A Map with number keys does the same at about three times the
 * cost, which is a fifth of a million-customer fit.
 */
class NumberIndex {
  private keys: Float64Array;
  private slots: Int32Array;
  private mask: number;
  readonly values: number[] = [];
  private readonly bits = new Float64Array(1);
  private readonly words = new Uint32Array(this.bits.buffer);

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  private hash(v: number): number {
    this.bits[0] = v;
    // MurmurHash3's 32-bit finalizer over both words: a double's low bits are often all zero
    // (small integers, short decimals), so the bits must be mixed before masking.
    let h = this.words[0]! ^ Math.imul(this.words[1]!, 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  of(v: number): number {
    if (v === 0) v = 0; // −0 and 0 are one value
    const keys = this.keys;
    const slots = this.slots;
    const mask = this.mask;
    let h = this.hash(v) & mask;
    for (;;) {
      const slot = slots[h]!;
      if (slot === -1) break;
      if (keys[h] === v) return slot;
      h = (h + 1) & mask;
    }
    const index = this.values.length;
    keys[h] = v;
    slots[h] = index;
    this.values.push(v);
    if (this.values.length * 2 > mask) this.grow();
    return index;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i]!;
      let h = this.hash(v) & this.mask;
      while (this.slots[h] !== -1) h = (h + 1) & this.mask;
      this.keys[h] = v;
      this.slots[h] = i;
    }
  }
}

/** Every n-th customer of a summary: a systematic subsample for a pilot fit. */
export function everyNth(s: Pick<RfmSummary, 'frequency' | 'recency' | 'T'>, n: number): Pick<RfmSummary, 'frequency' | 'recency' | 'T'> {
  const k = Math.floor(s.frequency.length / n);
  const out = { frequency: new Float64Array(k), recency: new Float64Array(k), T: new Float64Array(k) };
  for (let i = 0; i < k; i++) {
    out.frequency[i] = s.frequency[i * n]!;
    out.recency[i] = s.recency[i * n]!;
    out.T[i] = s.T[i * n]!;
  }
  return out;
}

/** Groups customers into distinct (x, t_x, T) triples. */
export function groupTriples(s: Pick<RfmSummary, 'frequency' | 'recency' | 'T'>): Triples {
  const n = s.frequency.length;
  const xs = new NumberIndex();
  const ts = new NumberIndex();
  const txs = new NumberIndex();
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
  const groups = new NumberIndex();
  const byString = new Map<string, number>();
  const firstOf: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    let g: number;
    if (numeric) {
      g = groups.of((xi[i]! * nTx + txi[i]!) * nT + ti[i]!);
    } else {
      const key = `${xi[i]!}:${txi[i]!}:${ti[i]!}`;
      g = byString.get(key) ?? byString.size;
      if (g === byString.size) byString.set(key, g);
    }
    if (g === firstOf.length) {
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
