/**
 * Pareto/NBD: Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your
 * Customers: Who Are They and What Will They Do Next? Management Science 33(1), 1–24; the
 * likelihood as in Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
 * Related Expressions", eqs. 18–22.
 *
 * While alive, purchases are Poisson with rate λ ~ Gamma(r, α); lifetimes are exponential
 * with rate μ ~ Gamma(s, β).
 */
import { maximizeLikelihood, type Convergence } from './optimize.js';
import { gammaln, hyp2f1, logAddExp, logSubExp } from './special.js';
import type { Triples } from './triples.js';

export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

export interface ParetoNbdFit {
  params: ParetoNbdParams;
  logLikelihood: number;
  customers: number;
  triples: number;
  convergence: Convergence;
}

/**
 * ln A₀ (F&H 2005 note, eq. 19–21): with m = max(α, β), the other parameter n,
 * c = r+s+x and b' = s+1 when α ≥ β (else r+x),
 *   A₀ = 2F1(c, b'; c+1; |α−β|/(m+t_x)) / (m+t_x)^c − 2F1(c, b'; c+1; |α−β|/(m+T)) / (m+T)^c,
 * a difference of positive terms, taken in logs.
 */
function logA0(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  const c = r + s + x;
  const alphaLarger = alpha >= beta;
  const m = alphaLarger ? alpha : beta;
  const b2 = alphaLarger ? s + 1 : r + x;
  const diff = Math.abs(alpha - beta);
  const first = Math.log(hyp2f1(c, b2, c + 1, diff / (m + tx))) - c * Math.log(m + tx);
  const second = Math.log(hyp2f1(c, b2, c + 1, diff / (m + T))) - c * Math.log(m + T);
  return logSubExp(first, second);
}

/**
 * One customer's log-likelihood (F&H 2005 note, eq. 22):
 *   L = Γ(r+x) α^r β^s / Γ(r) · [ 1/((α+T)^(r+x) (β+T)^s) + s/(r+s+x) · A₀ ]
 */
export function paretoLogLikelihoodOne(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  const head = gammaln(r + x) - gammaln(r) + r * Math.log(alpha) + s * Math.log(beta);
  const stay = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  const gone = Math.log(s) - Math.log(r + s + x) + logA0(p, x, tx, T);
  return head + logAddExp(stay, gone);
}

function logLikelihood(d: Triples, p: ParetoNbdParams): number {
  let ll = 0;
  for (let g = 0; g < d.size; g++) ll += d.weight[g]! * paretoLogLikelihoodOne(p, d.x[g]!, d.tx[g]!, d.T[g]!);
  return ll;
}

const STEP = 1e-6;

/**
 * Fits the Pareto/NBD by maximum likelihood. The gradient is taken by central differences in
 * the logs of the parameters (its analytic form needs derivatives of 2F1 in its parameters);
 * this model is not on the fast path, the BG/NBD is.
 */
export function fitParetoNbd(d: Triples, options: { penalizer?: number; start?: ParetoNbdParams } = {}): ParetoNbdFit {
  if (d.customers === 0) throw new RangeError('Pareto/NBD: no customers to fit');
  const start = options.start ?? { r: 1, alpha: 10, s: 1, beta: 10 };
  const toParams = (v: ArrayLike<number>): ParetoNbdParams => ({ r: v[0]!, alpha: v[1]!, s: v[2]!, beta: v[3]! });
  const res = maximizeLikelihood(
    (params, grad) => {
      const base = toParams(params);
      if (!(base.r > 0 && base.alpha > 0 && base.s > 0 && base.beta > 0)) return Number.NaN;
      const value = logLikelihood(d, base);
      const shifted = Float64Array.from(params);
      for (let i = 0; i < 4; i++) {
        const v = params[i]!;
        shifted[i] = v * Math.exp(STEP);
        const up = logLikelihood(d, toParams(shifted));
        shifted[i] = v * Math.exp(-STEP);
        const down = logLikelihood(d, toParams(shifted));
        shifted[i] = v;
        grad[i] = (up - down) / (2 * STEP * v);
      }
      return value;
    },
    { start: [start.r, start.alpha, start.s, start.beta], weight: d.customers, penalizer: options.penalizer ?? 0, gradientTolerance: 1e-5 },
  );
  return { params: toParams(res.params), logLikelihood: res.logLikelihood, customers: d.customers, triples: d.size, convergence: res.convergence };
}

/** P(alive | x, t_x, T) = 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀)  (F&H 2005 note, eq. 18). */
export function paretoPAlive(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  const lo = Math.log(s) - Math.log(r + s + x) + (r + x) * Math.log(alpha + T) + s * Math.log(beta + T) + logA0(p, x, tx, T);
  return lo > 700 ? 0 : 1 / (1 + Math.exp(lo));
}

/**
 * E[X(T, T+t] | x, t_x, T] (Schmittlein et al. 1987, eq. 22; F&H 2005 note, eq. 27):
 *   (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)
 * with the limit (r+x)(β+T)/(α+T) · ln((β+T+t)/(β+T)) at s = 1.
 */
export function paretoConditionalExpectedPurchases(p: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  return paretoHorizonFactor(p, x, T, t) * paretoPAlive(p, x, tx, T);
}

/** The part of the conditional expectation above that does not depend on t_x: E[X(T, T+t] | x, t_x, T] / P(alive). */
export function paretoHorizonFactor(p: ParetoNbdParams, x: number, T: number, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, s, beta } = p;
  const base = ((r + x) * (beta + T)) / (alpha + T);
  const growth = Math.abs(s - 1) < 1e-9 ? Math.log((beta + T + t) / (beta + T)) : (1 - Math.pow((beta + T) / (beta + T + t), s - 1)) / (s - 1);
  return base * growth;
}

/** Simpson intervals for the lifetime integral of the conditional PMF (even). */
const PMF_INTERVALS = 400;

/**
 * P(X(T, T+t] = n | x, t_x, T). A customer who has left makes none. One still active at T has
 * λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T) (their likelihood given survival to T is
 * λ^x e^(−λT) · e^(−μT)), so their remaining lifetime τ has P(τ > u) = ((β+T)/(β+T+u))^s
 * (Schmittlein et al. 1987, eq. 9 with the updated parameters) and, given τ, the purchases in
 * min(τ, t) are NBD(r+x, α+T). So
 *   P(alive) · [ P(τ > t) · NBD(n; t) + ∫_0^t f_τ(u) NBD(n; u) du ] + (1 − P(alive)) · 1{n=0},
 * the integral by Simpson's rule (smooth, bounded integrand; checked in the tests against the
 * closed-form mean and a total of 1).
 */
export function paretoConditionalProbabilityOfPurchases(p: ParetoNbdParams, n: number, t: number, x: number, tx: number, T: number): number {
  const alive = paretoPAlive(p, x, tx, T);
  const r1 = p.r + x;
  const a1 = p.alpha + T;
  const b1 = p.beta + T;
  const head = gammaln(r1 + n) - gammaln(r1) - gammaln(n + 1);
  const nbd = (u: number): number => (u <= 0 ? (n === 0 ? 1 : 0) : Math.exp(head + r1 * Math.log(a1 / (a1 + u)) + n * Math.log(u / (a1 + u))));
  const survive = (u: number): number => Math.pow(b1 / (b1 + u), p.s);
  const density = (u: number): number => (p.s / (b1 + u)) * survive(u);
  let integral = 0;
  if (t > 0) {
    const h = t / PMF_INTERVALS;
    for (let k = 0; k <= PMF_INTERVALS; k++) {
      const u = k * h;
      const w = k === 0 || k === PMF_INTERVALS ? 1 : k % 2 === 1 ? 4 : 2;
      integral += w * density(u) * nbd(u);
    }
    integral *= h / 3;
  }
  return (n === 0 ? 1 - alive : 0) + alive * (survive(t) * nbd(t) + integral);
}

/**
 * E[X(t)] for a new customer (Schmittlein et al. 1987, eq. 17; F&H 2005 note, eq. 30):
 *   r β / (α (s−1)) · [1 − (β/(β+t))^(s−1)], with the limit r β/α · ln((β+t)/β) at s = 1.
 */
export function paretoExpectedPurchases(p: ParetoNbdParams, t: number): number {
  const { r, alpha, s, beta } = p;
  const growth = Math.abs(s - 1) < 1e-9 ? Math.log((beta + t) / beta) : (1 - Math.pow(beta / (beta + t), s - 1)) / (s - 1);
  return ((r * beta) / alpha) * growth;
}
