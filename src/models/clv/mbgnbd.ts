/**
 * MBG/NBD: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and
 * comparison of models for customer base analysis. International Journal of Research in
 * Marketing 24(3), 201–209.
 *
 * As the BG/NBD (λ ~ Gamma(r, α), drop-out probability p ~ Beta(a, b)), except that a
 * customer may drop out at time 0, right after the first purchase, as well as after each
 * repeat purchase. So a customer who never bought again is not certainly alive: their
 * P(alive) falls with the time since the first purchase, which the BG/NBD's does not.
 */
import { horizonFactor, probabilityOfPurchases, startingValues, type BgNbdFit, type BgNbdParams } from './bgnbd.js';
import { maximizeLikelihood } from './optimize.js';
import { digamma, gammaln, hyp2f1 } from './special.js';
import type { Triples } from './triples.js';

/** The same four parameters as the BG/NBD's (λ ~ Gamma(r, α), p ~ Beta(a, b)). */
export type MbgNbdParams = BgNbdParams;
export type MbgNbdFit = BgNbdFit;

/**
 * Log-likelihood over grouped customers (Batislam et al. 2007, eq. 3, in logs), and its
 * gradient with respect to (r, α, a, b):
 *   ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+1) − ln B(a, b)
 *        + ln[ (α+T)^−(r+x) + a/(b+x) · (α+t_x)^−(r+x) ]
 * The second term of the sum is present for x = 0 too (drop-out at the first purchase).
 */
export function mbgnbdLogLikelihood(d: Triples, p: Float64Array, grad: Float64Array): number {
  const r = p[0]!;
  const alpha = p[1]!;
  const a = p[2]!;
  const b = p[3]!;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return Number.NaN;
  const nx = d.xValues.length;
  const lnA = Math.log(a);
  const lnAlpha = Math.log(alpha);
  const lgr = gammaln(r);
  const lgab = gammaln(a + b);
  const lgb = gammaln(b);
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const psiB = digamma(b);
  let ll = 0;
  let gr = 0;
  let galpha = 0;
  let ga = 0;
  let gb = 0;
  const logW = new Float64Array(nx);
  for (let k = 0; k < nx; k++) {
    const x = d.xValues[k]!;
    const w = d.xWeight[k]!;
    ll += w * (gammaln(r + x) - lgr + r * lnAlpha + lgab + gammaln(b + x + 1) - lgb - gammaln(a + b + x + 1));
    const psiABx = digamma(a + b + x + 1);
    gr += w * (digamma(r + x) - psiR + lnAlpha);
    galpha += (w * r) / alpha;
    ga += w * (psiAB - psiABx);
    gb += w * (psiAB + digamma(b + x + 1) - psiB - psiABx);
    logW[k] = lnA - Math.log(b + x);
  }
  const nT = d.tValues.length;
  const lnAT = new Float64Array(nT);
  const invAT = new Float64Array(nT);
  for (let k = 0; k < nT; k++) {
    const v = alpha + d.tValues[k]!;
    lnAT[k] = Math.log(v);
    invAT[k] = 1 / v;
  }
  const nTx = d.txValues.length;
  const lnAt = new Float64Array(nTx);
  const invAt = new Float64Array(nTx);
  for (let k = 0; k < nTx; k++) {
    const v = alpha + d.txValues[k]!;
    lnAt[k] = Math.log(v);
    invAt[k] = 1 / v;
  }
  for (let g = 0; g < d.size; g++) {
    const x = d.x[g]!;
    const w = d.weight[g]!;
    const k = r + x;
    const ti = d.tIndex[g]!;
    const si = d.txIndex[g]!;
    const u = -k * lnAT[ti]!;
    const v = logW[d.xIndex[g]!]! - k * lnAt[si]!;
    let s: number;
    let pv: number;
    if (u >= v) {
      const e = Math.exp(v - u);
      s = u + Math.log1p(e);
      pv = e / (1 + e);
    } else {
      const e = Math.exp(u - v);
      s = v + Math.log1p(e);
      pv = 1 / (1 + e);
    }
    const pu = 1 - pv;
    ll += w * s;
    gr -= w * (pu * lnAT[ti]! + pv * lnAt[si]!);
    galpha -= w * k * (pu * invAT[ti]! + pv * invAt[si]!);
    ga += (w * pv) / a;
    gb -= (w * pv) / (b + x);
  }
  grad[0] = gr;
  grad[1] = galpha;
  grad[2] = ga;
  grad[3] = gb;
  return ll;
}

/** Fits the MBG/NBD by maximum likelihood over grouped customers (the BG/NBD's optimizer). */
export function fitMbgNbd(d: Triples, options: { penalizer?: number; start?: MbgNbdParams } = {}): MbgNbdFit {
  if (d.customers === 0) throw new RangeError('MBG/NBD: no customers to fit');
  const s = options.start ?? startingValues(d);
  const res = maximizeLikelihood((p, g) => mbgnbdLogLikelihood(d, p, g), {
    start: [s.r, s.alpha, s.a, s.b],
    weight: d.customers,
    penalizer: options.penalizer ?? 0,
  });
  const [r, alpha, a, b] = res.params as [number, number, number, number];
  return { params: { r, alpha, a, b }, logLikelihood: res.logLikelihood, customers: d.customers, triples: d.size, convergence: res.convergence };
}

/** P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))  (Batislam et al. 2007, eq. 5). */
export function mbgPAlive(p: MbgNbdParams, x: number, tx: number, T: number): number {
  const lo = Math.log(p.a) - Math.log(p.b + x) + (p.r + x) * (Math.log(p.alpha + T) - Math.log(p.alpha + tx));
  return lo > 700 ? 0 : 1 / (1 + Math.exp(lo));
}

/**
 * E[X(T, T+t] | x, t_x, T] (Batislam et al. 2007, eq. 6):
 *   (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+1; a+b+x; z)] · P(alive),
 * z = t/(α+T+t); the 2F1 term by Euler's transformation as (1−z)^(a−1) · 2F1(a+b−r, a−1; a+b+x; z),
 * whose parameters do not grow with x.
 */
export function mbgConditionalExpectedPurchases(p: MbgNbdParams, t: number, x: number, tx: number, T: number): number {
  if (t <= 0) return 0;
  const z = t / (p.alpha + T + t);
  const c = p.a + p.b + x;
  const term = Math.pow(1 - z, p.a - 1) * hyp2f1(p.a + p.b - p.r, p.a - 1, c, z);
  return (c / (p.a - 1)) * (1 - term) * mbgPAlive(p, x, tx, T);
}

/**
 * The part of the conditional expectation (eq. 6) that does not depend on t_x, so that
 * E[X(T, T+t] | x, t_x, T] = this · P(alive):
 *   (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+1; a+b+x; z)].
 * It is the BG/NBD's (FHL 2005, eq. 10) with b + 1 for b: an active MBG/NBD customer has come
 * through x + 1 chances to drop out, one more than a BG/NBD customer with x repeat purchases.
 */
export function mbgHorizonFactor(p: MbgNbdParams, x: number, T: number, t: number): number {
  return horizonFactor({ r: p.r, alpha: p.alpha, a: p.a, b: p.b + 1 }, x, T, t);
}

/**
 * P(X(T, T+t] = n | x, t_x, T): a customer who has left makes no purchase; one still active at
 * T has λ ~ Gamma(r+x, α+T) and, having come through x + 1 chances to drop out (at the first
 * purchase and after each repeat), p ~ Beta(a, b+x+1); from T on they buy and may drop out after
 * each purchase as a new BG/NBD customer does (FHL 2005, eq. 8):
 *   (1 − P(alive)) · 1{n=0} + P(alive) · [eq. 8 with r → r+x, α → α+T, b → b+x+1].
 * Its mean is mbgConditionalExpectedPurchases.
 */
export function mbgConditionalProbabilityOfPurchases(p: MbgNbdParams, n: number, t: number, x: number, tx: number, T: number): number {
  const alive = mbgPAlive(p, x, tx, T);
  return (n === 0 ? 1 - alive : 0) + alive * probabilityOfPurchases({ r: p.r + x, alpha: p.alpha + T, a: p.a, b: p.b + x + 1 }, n, t);
}

/** E[X(t)] for a new customer (Batislam et al. 2007, eq. 4): b/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b+1; a+b; t/(α+t))]. */
export function mbgExpectedPurchases(p: MbgNbdParams, t: number): number {
  const z = t / (p.alpha + t);
  return (p.b / (p.a - 1)) * (1 - Math.pow(p.alpha / (p.alpha + t), p.r) * hyp2f1(p.r, p.b + 1, p.a + p.b, z));
}
