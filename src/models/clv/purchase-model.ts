/**
 * One fitted purchase model, whichever of the three: BG/NBD (FHL 2005), MBG/NBD (Batislam et
 * al. 2007) or Pareto/NBD (Schmittlein et al. 1987). Scoring, the customer page's derivation
 * and the purchase outlook ask it for P(alive), the t_x-free part of the conditional
 * expectation and the conditional PMF, and need not know which model it is.
 */
import { conditionalProbabilityOfPurchases, horizonFactor, pAlive, type BgNbdParams } from './bgnbd.js';
import { mbgConditionalProbabilityOfPurchases, mbgHorizonFactor, mbgPAlive, type MbgNbdParams } from './mbgnbd.js';
import { paretoConditionalProbabilityOfPurchases, paretoHorizonFactor, paretoPAlive, type ParetoNbdParams } from './pareto-nbd.js';

/** The purchase models by their report key. */
export type PurchaseModelName = 'bgnbd' | 'mbgnbd' | 'paretoNbd';

export const PURCHASE_MODEL_LABELS: Record<PurchaseModelName, string> = { bgnbd: 'BG/NBD', mbgnbd: 'MBG/NBD', paretoNbd: 'Pareto/NBD' };

export type PurchaseModelFit =
  | { model: 'bgnbd'; params: BgNbdParams }
  | { model: 'mbgnbd'; params: MbgNbdParams }
  | { model: 'paretoNbd'; params: ParetoNbdParams };

/** P(alive | x, t_x, T) of the model (BG/NBD: FHL 2008 eq. 2; MBG/NBD: Batislam et al. eq. 5; Pareto/NBD: F&H 2005 note eq. 18). */
export function modelPAlive(m: PurchaseModelFit, x: number, tx: number, T: number): number {
  switch (m.model) {
    case 'bgnbd':
      return pAlive(m.params, x, tx, T);
    case 'mbgnbd':
      return mbgPAlive(m.params, x, tx, T);
    case 'paretoNbd':
      return paretoPAlive(m.params, x, tx, T);
  }
}

/** E[X(T, T+t] | x, t_x, T] / P(alive): depends on (x, T) only, so scoring computes it once per distinct pair. */
export function modelHorizonFactor(m: PurchaseModelFit, x: number, T: number, t: number): number {
  switch (m.model) {
    case 'bgnbd':
      return horizonFactor(m.params, x, T, t);
    case 'mbgnbd':
      return mbgHorizonFactor(m.params, x, T, t);
    case 'paretoNbd':
      return paretoHorizonFactor(m.params, x, T, t);
  }
}

/** P(X(T, T+t] = n | x, t_x, T): the probability of exactly n purchases in the next t periods given the history. */
export function modelConditionalPmf(m: PurchaseModelFit, n: number, t: number, x: number, tx: number, T: number): number {
  switch (m.model) {
    case 'bgnbd':
      return conditionalProbabilityOfPurchases(m.params, n, t, x, tx, T);
    case 'mbgnbd':
      return mbgConditionalProbabilityOfPurchases(m.params, n, t, x, tx, T);
    case 'paretoNbd':
      return paretoConditionalProbabilityOfPurchases(m.params, n, t, x, tx, T);
  }
}
