/**
 * Special functions for the CLV models, from @stdlib (accurate to ~1e-15), plus the few
 * log-space helpers the likelihoods need to stay finite for extreme customers.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import digamma from '@stdlib/math-base-special-digamma';
import hyp2f1 from '@stdlib/math-base-special-hyp2f1';
import betaln from '@stdlib/math-base-special-betaln';

export { gammaln, digamma, hyp2f1, betaln };

/** ln(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** ln(e^a − e^b) for a ≥ b (−∞ when equal). */
export function logSubExp(a: number, b: number): number {
  if (b === Number.NEGATIVE_INFINITY) return a;
  if (b >= a) return Number.NEGATIVE_INFINITY;
  return a + Math.log1p(-Math.exp(b - a));
}
