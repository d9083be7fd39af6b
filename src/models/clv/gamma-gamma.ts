/**
 * Gamma-Gamma spend model: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV:
 * Using Iso-Value Curves for Customer Base Analysis. Journal of Marketing Research 42(4),
 * 415–430, with the likelihood as in Fader & Hardie (2013), "The Gamma-Gamma Model of
 * Monetary Value".
 *
 * A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers; only
 * customers with repeat purchases (x > 0) inform the fit, through the mean m̄ of their x
 * repeat transactions.
 */
import { maximizeLikelihood, type Convergence } from './optimize.js';
import { digamma, gammaln } from './special.js';

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  /** Repeat buyers the fit saw (customers with x > 0 and a positive mean spend). */
  customers: number;
  convergence: Convergence;
  /**
   * The model assumes spend does not depend on purchase frequency. Pearson correlation of
   * x and m̄ over the repeat buyers; |ρ| above 0.3 is reported as a warning.
   */
  independence: { correlation: number; holds: boolean };
}

/** Repeat buyers only: x > 0 and m̄ > 0. */
export interface SpendData {
  x: Float64Array;
  m: Float64Array;
}

/** Keeps the customers the spend model can use (x > 0, m̄ > 0, both finite). */
export function spendData(frequency: Float64Array, monetary: Float64Array): SpendData {
  let n = 0;
  for (let i = 0; i < frequency.length; i++) if (frequency[i]! > 0 && monetary[i]! > 0 && Number.isFinite(monetary[i]!)) n++;
  const x = new Float64Array(n);
  const m = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < frequency.length; i++) {
    if (frequency[i]! > 0 && monetary[i]! > 0 && Number.isFinite(monetary[i]!)) {
      x[j] = frequency[i]!;
      m[j] = monetary[i]!;
      j++;
    }
  }
  return { x, m };
}

/**
 * Log-likelihood (Fader & Hardie 2013, eq. 3, summed over customers) and its gradient:
 *   ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m̄ + px ln x − (px+q) ln(v + x m̄)
 * Terms in x alone are computed once per distinct x.
 */
function makeLogLikelihood(d: SpendData): (params: Float64Array, grad: Float64Array) => number {
  // Per distinct x: count, Σ ln m̄.
  const byX = new Map<number, { n: number; sumLnM: number }>();
  const lnM = new Float64Array(d.x.length);
  for (let i = 0; i < d.x.length; i++) {
    lnM[i] = Math.log(d.m[i]!);
    const e = byX.get(d.x[i]!);
    if (e) {
      e.n++;
      e.sumLnM += lnM[i]!;
    } else byX.set(d.x[i]!, { n: 1, sumLnM: lnM[i]! });
  }
  const xs = Float64Array.from(byX.keys());
  const counts = Float64Array.from([...byX.values()].map((e) => e.n));
  const sumLnM = Float64Array.from([...byX.values()].map((e) => e.sumLnM));
  const n = d.x.length;
  return (params, grad) => {
    const p = params[0]!;
    const q = params[1]!;
    const v = params[2]!;
    if (!(p > 0 && q > 0 && v > 0)) return Number.NaN;
    const lgq = gammaln(q);
    const psiQ = digamma(q);
    const lnV = Math.log(v);
    let ll = n * (q * lnV - lgq);
    let gp = 0;
    let gq = n * (lnV - psiQ);
    let gv = (n * q) / v;
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k]!;
      const c = counts[k]!;
      const lnX = Math.log(x);
      const px = p * x;
      ll += c * (gammaln(px + q) - gammaln(px) + px * lnX) + (px - 1) * sumLnM[k]!;
      const psiPxQ = digamma(px + q);
      gp += x * (c * (psiPxQ - digamma(px) + lnX) + sumLnM[k]!);
      gq += c * psiPxQ;
    }
    const x = d.x;
    const m = d.m;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const denom = v + xi * m[i]!;
      const ld = Math.log(denom);
      const k = p * xi + q;
      ll -= k * ld;
      gp -= xi * ld;
      gq -= ld;
      gv -= k / denom;
    }
    grad[0] = gp;
    grad[1] = gq;
    grad[2] = gv;
    return ll;
  };
}

export interface GammaGammaOptions {
  penalizer?: number;
  start?: GammaGammaParams;
  /** Fit every n-th repeat buyer first and start the full fit from there (for large data). */
  pilotEvery?: number;
}

export function fitGammaGamma(d: SpendData, options: GammaGammaOptions = {}): GammaGammaFit {
  if (d.x.length === 0) throw new RangeError('Gamma-Gamma: no repeat buyers (x > 0 with a positive mean spend) to fit');
  let start = options.start ?? startingValues(d);
  let hessianInverse: number[][] | undefined;
  const every = options.pilotEvery ?? 1;
  if (every > 1) {
    const k = Math.floor(d.x.length / every);
    const sub: SpendData = { x: new Float64Array(k), m: new Float64Array(k) };
    for (let i = 0; i < k; i++) {
      sub.x[i] = d.x[i * every]!;
      sub.m[i] = d.m[i * every]!;
    }
    if (k >= 100) {
      const pilot = maximizeLikelihood(makeLogLikelihood(sub), { start: [start.p, start.q, start.v], weight: k, penalizer: options.penalizer ?? 0 });
      if (pilot.convergence.converged) {
        start = { p: pilot.params[0]!, q: pilot.params[1]!, v: pilot.params[2]! };
        hessianInverse = pilot.hessianInverse;
      }
    }
  }
  const res = maximizeLikelihood(makeLogLikelihood(d), {
    start: [start.p, start.q, start.v],
    weight: d.x.length,
    penalizer: options.penalizer ?? 0,
    ...(hessianInverse ? { hessianInverse } : {}),
  });
  const [p, q, v] = res.params as [number, number, number];
  const correlation = pearson(d.x, d.m);
  return {
    params: { p, q, v },
    logLikelihood: res.logLikelihood,
    customers: d.x.length,
    convergence: res.convergence,
    independence: { correlation, holds: !(Math.abs(correlation) > 0.3) },
  };
}

/** Method-of-moments-like start: p a few transactions' shape, v from the mean spend. */
function startingValues(d: SpendData): GammaGammaParams {
  let mean = 0;
  for (let i = 0; i < d.m.length; i++) mean += d.m[i]!;
  mean /= d.m.length;
  return { p: 1, q: 2, v: Math.max(mean, 1e-6) };
}

/**
 * E(M | p, q, v, x, m̄) = p (v + x m̄) / (p x + q − 1): the expected value of a customer's
 * future transactions (FHL 2005 "RFM and CLV", eq. 5). For x = 0 it is the population mean
 * p v / (q − 1) (infinite when q ≤ 1: then NaN is avoided by returning m̄ or 0).
 */
export function conditionalExpectedSpend(g: GammaGammaParams, x: number, m: number): number {
  const denom = g.p * x + g.q - 1;
  if (denom <= 0) return x > 0 ? m : 0;
  return (g.p * (g.v + x * m)) / denom;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (n < 3) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
