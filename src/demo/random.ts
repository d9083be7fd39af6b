/**
 * A small seeded pseudo-random generator and the samplers the demo company needs. Nothing in
 * the demo calls Math.random: every stream is derived from (seed, stream labels), so each
 * customer's story depends only on the seed and its own index, never on how many other
 * customers were generated or in which order.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state,
 * passes PractRand), seeded through the cyrb128 string hash (bryc, public domain).
 */

/** cyrb128: four 32-bit words from a string, used to seed sfc32 and to make stable ids. */
export function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A stable identifier of `length` base-36 characters for the given labels (e.g. user ids). */
export function stableId(length: number, ...labels: readonly (string | number)[]): string {
  const [a, b, c, d] = hash128(labels.join('\u0001'));
  const s = a.toString(36).padStart(7, '0') + b.toString(36).padStart(7, '0') + c.toString(36).padStart(7, '0') + d.toString(36).padStart(7, '0');
  return s.slice(0, length);
}

/**
 * `items[index]`, throwing instead of returning undefined when the index is out of range.
 * For indices that only a distant invariant keeps in range (a category index, a drawn index).
 */
export function itemAt<T>(items: ArrayLike<T>, index: number): T {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) {
    throw new RangeError(`index ${index} is out of range for a list of ${items.length}`);
  }
  return items[index] as T;
}

/** The last element, throwing on an empty list. */
export function last<T>(items: ArrayLike<T>): T {
  if (items.length === 0) throw new RangeError('last of an empty list');
  return itemAt(items, items.length - 1);
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  private constructor(state: readonly [number, number, number, number]) {
    [this.a, this.b, this.c, this.d] = state;
    // Warm-up, as recommended for sfc32 seeded from a hash.
    for (let i = 0; i < 12; i++) this.next();
  }

  /**
   * The stream for the given labels under a seed.
   * @example Rng.from(1, 'customer', 42).float()
   */
  static from(seed: number, ...labels: readonly (string | number)[]): Rng {
    return new Rng(hash128(`${seed}\u0001${labels.join('\u0001')}`));
  }

  /** Next 32-bit unsigned integer (sfc32). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1) with 53 bits. */
  float(): number {
    const hi = this.next() >>> 5;
    const lo = this.next() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform on the open interval (0, 1): safe under log() and 1/x. */
  open(): number {
    return (this.next() + 0.5) / TWO_POW_32;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Integer on [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Integer on [lo, hi] inclusive. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return itemAt(items, this.int(items.length));
  }

  /**
   * One of `items`, drawn with probability proportional to `weights` (one weight per item);
   * the same draw as `items[weighted(weights)]`.
   */
  pickWeighted<T>(items: readonly T[], weights: ArrayLike<number>): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    if (weights.length !== items.length) throw new Error(`${weights.length} weights for ${items.length} items`);
    return itemAt(items, this.weighted(weights));
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    if (!(total > 0)) return this.int(weights.length);
    let u = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** Standard normal, Marsaglia's polar method (one spare value cached). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  /** Exponential with the given rate (mean 1/rate); Infinity when the rate is 0. */
  exponential(rate: number): number {
    if (rate <= 0) return Number.POSITIVE_INFINITY;
    return -Math.log(this.open()) / rate;
  }

  /**
   * Gamma(shape, rate) (mean shape/rate), Marsaglia & Tsang (2000), "A simple method for
   * generating gamma variables", ACM TOMS 26(3); shape < 1 by their boosting step
   * Gamma(shape) = Gamma(shape + 1) · U^(1/shape).
   */
  gamma(shape: number, rate = 1): number {
    if (!(shape > 0) || !(rate > 0)) throw new Error(`gamma needs positive shape and rate, got ${shape}, ${rate}`);
    if (shape < 1) return this.gamma(shape + 1, rate) * Math.pow(this.open(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.open();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return (d * v) / rate;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return (d * v) / rate;
    }
  }

  /** Beta(a, b) as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** Dirichlet(alphas) as normalised independent gammas. */
  dirichlet(alphas: readonly number[]): number[] {
    const g = alphas.map((a) => this.gamma(a));
    const s = g.reduce((x, y) => x + y, 0);
    return g.map((x) => x / s);
  }

  /** Poisson(mean) by Knuth's product method, in pieces of mean ≤ 10 to stay exact and fast. */
  poisson(mean: number): number {
    let k = 0;
    let left = mean;
    while (left > 0) {
      const m = Math.min(left, 10);
      left -= m;
      const limit = Math.exp(-m);
      let p = this.open();
      while (p > limit) {
        k++;
        p *= this.open();
      }
    }
    return k;
  }

  /** A random version-4 UUID (for anonymous ids). */
  uuid(): string {
    let hex = '';
    for (let i = 0; i < 4; i++) hex += this.next().toString(16).padStart(8, '0');
    const variant = (8 + (this.next() & 3)).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}
