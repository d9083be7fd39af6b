/**
 * BG/NBD: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the
 * Easy Way: An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275–284.
 *
 * While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
 * purchase they become inactive with probability p ~ Beta(a, b).
 */
import { maximizeLikelihood, type Convergence } from './optimize.js';
import { digamma, gammaln, hyp2f1, betaln } from './special.js';
import type { Triples } from './triples.js';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface BgNbdFit {
  params: BgNbdParams;
  logLikelihood: number;
  /** Customers the fit saw. */
  customers: number;
  /** Distinct (x, t_x, T) triples the likelihood was evaluated on. */
  triples: number;
  convergence: Convergence;
}

/**
 * Log-likelihood of the BG/NBD over grouped customers (FHL 2005, eq. 6, in logs), and its
 * gradient with respect to (r, α, a, b):
 *   ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
 *        + ln[ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]
 * The last term is a log-sum-exp, finite for any x and any t_x ≥ 0.
 */
export function bgnbdLogLikelihood(d: Triples, p: Float64Array, grad: Float64Array): number {
  const r = p[0]!;
  const alpha = p[1]!;
  const a = p[2]!;
  const b = p[3]!;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return Number.NaN;
  // Terms that depend on x alone, weighted by the customers with that x.
  const nx = d.xValues.length;
  const lnB = Math.log(b);
  const lnA = Math.log(a);
  let ll = 0;
  let gr = 0;
  let galpha = 0;
  let ga = 0;
  let gb = 0;
  const lgr = gammaln(r);
  const lgab = gammaln(a + b);
  const lgb = gammaln(b);
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const psiB = digamma(b);
  const lnAlpha = Math.log(alpha);
  // Per distinct x: ln a − ln(b+x−1) (the second term's log weight).
  const logW = new Float64Array(nx);
  for (let k = 0; k < nx; k++) {
    const x = d.xValues[k]!;
    const w = d.xWeight[k]!;
    ll += w * (gammaln(r + x) - lgr + r * lnAlpha + lgab + gammaln(b + x) - lgb - gammaln(a + b + x));
    const psiABx = digamma(a + b + x);
    gr += w * (digamma(r + x) - psiR + lnAlpha);
    galpha += (w * r) / alpha;
    ga += w * (psiAB - psiABx);
    gb += w * (psiAB + digamma(b + x) - psiB - psiABx);
    logW[k] = x > 0 ? lnA - (x === 1 ? lnB : Math.log(b + x - 1)) : Number.NEGATIVE_INFINITY;
  }
  // ln(α+T) and 1/(α+T) per distinct T, and the same per distinct t_x.
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
  const xs = d.x;
  const wt = d.weight;
  const xIndex = d.xIndex;
  const tIndex = d.tIndex;
  const txIndex = d.txIndex;
  for (let g = 0; g < d.size; g++) {
    const x = xs[g]!;
    const w = wt[g]!;
    const k = r + x;
    const ti = tIndex[g]!;
    const u = -k * lnAT[ti]!;
    if (x === 0) {
      ll += w * u;
      gr -= w * lnAT[ti]!;
      galpha -= w * k * invAT[ti]!;
      continue;
    }
    const xi = xIndex[g]!;
    const si = txIndex[g]!;
    const v = logW[xi]! - k * lnAt[si]!;
    // log-sum-exp and the two terms' shares of it.
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
    gb -= (w * pv) / (b + x - 1);
  }
  grad[0] = gr;
  grad[1] = galpha;
  grad[2] = ga;
  grad[3] = gb;
  return ll;
}

export interface FitOptions {
  penalizer?: number;
  start?: BgNbdParams;
  /**
   * A subsample of the same customers (see triples.everyNth): fitted first, its solution
   * starts the full fit, which then needs a third of the iterations.
   */
  pilot?: Triples;
}

/** Fits the BG/NBD by maximum likelihood over grouped customers. */
export function fitBgNbd(d: Triples, options: FitOptions = {}): BgNbdFit {
  if (d.customers === 0) throw new RangeError('BG/NBD: no customers to fit');
  let s = options.start ?? startingValues(d);
  if (options.pilot) {
    const pilot = fitBgNbd(options.pilot, { ...(options.penalizer !== undefined ? { penalizer: options.penalizer } : {}), start: s });
    // Only the solution carries over: BFGS's inverse Hessian from the pilot measured as a poor
    // start on this likelihood (more iterations, not fewer).
    if (pilot.convergence.converged) s = pilot.params;
  }
  const res = maximizeLikelihood((p, g) => bgnbdLogLikelihood(d, p, g), {
    start: [s.r, s.alpha, s.a, s.b],
    weight: d.customers,
    penalizer: options.penalizer ?? 0,
  });
  const [r, alpha, a, b] = res.params as [number, number, number, number];
  return { params: { r, alpha, a, b }, logLikelihood: res.logLikelihood, customers: d.customers, triples: d.size, convergence: res.convergence };
}

/** Moment-style starting values: the purchase rate sets r/α; a and b start at a mild drop-out (also the MBG/NBD's). */
export function startingValues(d: Triples): BgNbdParams {
  let xs = 0;
  let ts = 0;
  for (let g = 0; g < d.size; g++) {
    xs += d.weight[g]! * d.x[g]!;
    ts += d.weight[g]! * d.T[g]!;
  }
  const rate = xs > 0 && ts > 0 ? xs / ts : 0.1;
  return { r: 1, alpha: 1 / rate, a: 1, b: 3 };
}

// ---- Per-customer quantities -------------------------------------------------------------

/** 1 / P(alive) − 1 = 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x), in logs (−∞ when x = 0). */
function logOdds(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return Number.NEGATIVE_INFINITY;
  return Math.log(p.a) - Math.log(p.b + x - 1) + (p.r + x) * (Math.log(p.alpha + T) - Math.log(p.alpha + tx));
}

/**
 * P(alive | x, t_x, T): Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD
 * model", eq. 2: 1 / (1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
 */
export function pAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  const lo = logOdds(p, x, tx, T);
  return lo > 700 ? 0 : 1 / (1 + Math.exp(lo));
}

/**
 * The part of the conditional expectation (FHL 2005, eq. 10) that does not depend on t_x:
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))],
 * with the 2F1 term rewritten by Euler's transformation, 2F1(α',β';γ;z) = (1−z)^(γ−α'−β')
 * 2F1(γ−α', γ−β'; γ; z), as (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z), whose parameters do
 * not grow with x (no overflow for heavy buyers). E[X(t) | x, t_x, T] = this · P(alive).
 */
export function horizonFactor(p: BgNbdParams, x: number, T: number, t: number): number {
  if (t <= 0) return 0;
  const z = t / (p.alpha + T + t);
  const c = p.a + p.b + x - 1;
  const term = Math.pow(1 - z, p.a - 1) * hyp2f1(p.a + p.b - 1 - p.r, p.a - 1, c, z);
  return (c / (p.a - 1)) * (1 - term);
}

/** E[X(T, T+t] | x, t_x, T]: expected purchases in the next t periods (FHL 2005, eq. 10). */
export function conditionalExpectedPurchases(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  return horizonFactor(p, x, T, t) * pAlive(p, x, tx, T);
}

/** E[X(t)] for a new customer (FHL 2005, eq. 9). */
export function expectedPurchases(p: BgNbdParams, t: number): number {
  const z = t / (p.alpha + t);
  return ((p.a + p.b - 1) / (p.a - 1)) * (1 - Math.pow(p.alpha / (p.alpha + t), p.r) * hyp2f1(p.r, p.b, p.a + p.b - 1, z));
}

/**
 * P(X(t) = n) for a new customer (FHL 2005, eq. 8):
 *   B(a, b+n)/B(a, b) · Γ(r+n)/(Γ(r) n!) · (α/(α+t))^r (t/(α+t))^n
 *   + 1{n>0} · B(a+1, b+n−1)/B(a, b) · [1 − (α/(α+t))^r Σ_{j<n} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j]
 * The first term: n purchases in t and survival after each; the second: the n-th purchase was
 * the last (drop-out right after it), whenever in t it came.
 */
export function probabilityOfPurchases(p: BgNbdParams, n: number, t: number): number {
  return purchasePmf(p.r, p.alpha, p.a, p.b, n, t);
}

function purchasePmf(r: number, alpha: number, a: number, b: number, n: number, t: number): number {
  const lbab = betaln(a, b);
  const lq = Math.log(alpha / (alpha + t));
  const lz = t > 0 ? Math.log(t / (alpha + t)) : Number.NEGATIVE_INFINITY;
  const nbd = (j: number): number => Math.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * lq + (j > 0 ? j * lz : 0));
  let prob = Math.exp(betaln(a, b + n) - lbab) * nbd(n);
  if (n > 0) {
    let cum = 0;
    for (let j = 0; j < n; j++) cum += nbd(j);
    prob += Math.exp(betaln(a + 1, b + n - 1) - lbab) * Math.max(0, 1 - cum);
  }
  return prob;
}

/**
 * P(X(T, T+t] = n | x, t_x, T): the probability of exactly n purchases in the next t periods
 * given the customer's history (the conditional PMF in Fader, Hardie & Lee's note "Deriving
 * the conditional PMF of the BG/NBD model"). A customer who has left makes none; one still
 * active at T buys as a new customer would, with the posterior λ ~ Gamma(r+x, α+T) and
 * p ~ Beta(a, b+x):
 *   (1 − P(alive)) · 1{n=0} + P(alive) · [eq. 8 with r → r+x, α → α+T, b → b+x].
 */
export function conditionalProbabilityOfPurchases(p: BgNbdParams, n: number, t: number, x: number, tx: number, T: number): number {
  const alive = pAlive(p, x, tx, T);
  return (n === 0 ? 1 - alive : 0) + alive * purchasePmf(p.r + x, p.alpha + T, p.a, p.b + x, n, t);
}
