/**
 * Per-customer scores from fitted models: P(alive), expected purchases over a horizon,
 * expected spend per purchase, discounted CLV and churn risk, for every customer at once.
 *
 * Cost grows with customers only through one P(alive) each: everything that involves the
 * hypergeometric function depends on (x, T) alone (see bgnbd.horizonFactor) and is computed
 * once per distinct pair.
 */
import type { BgNbdParams } from './bgnbd.js';
import { conditionalExpectedSpend, type GammaGammaParams } from './gamma-gamma.js';
import { modelHorizonFactor, modelPAlive, type PurchaseModelFit } from './purchase-model.js';
import { PERIOD_DAYS } from './summary.js';
import type { RfmSummary } from './triples.js';

export interface ValueOptions {
  /** Months of future purchases counted (default 12). */
  horizonMonths: number;
  /** Days per period of the summary (7 for weeks). */
  periodDays: number;
  /** Discount rate per month (default 0.01). */
  monthlyDiscountRate: number;
  /** Share of revenue that is margin (default 1: CLV in revenue). */
  margin: number;
}

export const DEFAULT_VALUE_OPTIONS: ValueOptions = { horizonMonths: 12, periodDays: 7, monthlyDiscountRate: 0.01, margin: 1 };

export interface Scores {
  pAlive: Float64Array;
  /** Expected purchases over the horizon. */
  expectedPurchases: Float64Array;
  /** Expected value of each future purchase (Gamma-Gamma), or NaN without a spend model. */
  expectedSpend: Float64Array;
  /** Discounted margin over the horizon, or NaN without a spend model. */
  clv: Float64Array;
  /**
   * Discounted margin over the horizon if the customer is surely alive now (CLV / P(alive)):
   * (1 − P(alive)) times it is the value lost if they have already left. NaN without a spend model.
   */
  valueIfAlive: Float64Array;
  /** 1 − P(alive): the probability that the customer has already left. */
  churnRisk: Float64Array;
}

/**
 * Per unit of P(alive), for a customer with x repeat purchases known for T periods: the
 * expected purchases over the horizon (E[X(t_H)] / P(alive)) and their discounted sum
 * Σ_{i=1..H} (E[X(t_i)] − E[X(t_{i−1})]) / (1 + d)^i, with t_i the end of month i.
 */
export function horizonSums(model: PurchaseModelFit, x: number, T: number, o: Pick<ValueOptions, 'horizonMonths' | 'periodDays' | 'monthlyDiscountRate'>): { purchases: number; discounted: number } {
  const monthInPeriods = PERIOD_DAYS.month / o.periodDays;
  const H = Math.max(0, Math.round(o.horizonMonths));
  let prev = 0;
  let discounted = 0;
  for (let m = 0; m < H; m++) {
    const cur = modelHorizonFactor(model, x, T, (m + 1) * monthInPeriods);
    discounted += (cur - prev) * Math.pow(1 + o.monthlyDiscountRate, -(m + 1));
    prev = cur;
  }
  return { purchases: prev, discounted };
}

/**
 * Scores every customer of a summary with the BG/NBD (see scoreWith).
 */
export function scoreCustomers(bg: BgNbdParams, gg: GammaGammaParams | undefined, s: RfmSummary, options: Partial<ValueOptions> = {}): Scores {
  return scoreWith({ model: 'bgnbd', params: bg }, gg, s, options);
}

/**
 * Scores every customer of a summary with a fitted purchase model (BG/NBD, MBG/NBD or
 * Pareto/NBD) and the spend model.
 *
 * CLV = margin · E(M) · Σ_{i=1..H} (E[X(t_i)] − E[X(t_{i−1})]) / (1 + d)^i with t_i the end of
 * month i, E[X(t)] the model's conditional expectation (BG/NBD: FHL 2005, eq. 10; MBG/NBD: Batislam et al. 2007, eq. 6; Pareto/NBD: Schmittlein et al. 1987, eq. 22) and E(M) the Gamma-Gamma
 * expected spend (FHL 2005 "RFM and CLV", eq. 5): purchases expected in a month are valued
 * at that month's discount.
 */
export function scoreWith(model: PurchaseModelFit, gg: GammaGammaParams | undefined, s: RfmSummary, options: Partial<ValueOptions> = {}): Scores {
  const o = { ...DEFAULT_VALUE_OPTIONS, ...options };
  const n = s.frequency.length;
  // Per distinct (x, T): expected purchases over the horizon and the discounted sum, per unit of P(alive).
  const tIndex = new Map<number, number>();
  const pairs = new Map<number, number>();
  const pairHorizon: number[] = [];
  const pairDiscounted: number[] = [];
  const out: Scores = {
    pAlive: new Float64Array(n),
    expectedPurchases: new Float64Array(n),
    expectedSpend: new Float64Array(n),
    clv: new Float64Array(n),
    valueIfAlive: new Float64Array(n),
    churnRisk: new Float64Array(n),
  };
  const stride = 1 << 20;
  for (let i = 0; i < n; i++) {
    const x = s.frequency[i]!;
    const T = s.T[i]!;
    let ti = tIndex.get(T);
    if (ti === undefined) {
      ti = tIndex.size;
      tIndex.set(T, ti);
    }
    const key = x * stride + ti;
    let pi = pairs.get(key);
    if (pi === undefined) {
      pi = pairHorizon.length;
      pairs.set(key, pi);
      const h = horizonSums(model, x, T, o);
      pairHorizon.push(h.purchases);
      pairDiscounted.push(h.discounted);
    }
    const alive = modelPAlive(model, x, s.recency[i]!, T);
    out.pAlive[i] = alive;
    out.churnRisk[i] = 1 - alive;
    out.expectedPurchases[i] = alive * pairHorizon[pi]!;
    if (gg) {
      const spend = conditionalExpectedSpend(gg, x, s.monetary ? s.monetary[i]! : 0);
      const ifAlive = o.margin * spend * pairDiscounted[pi]!;
      out.expectedSpend[i] = spend;
      out.valueIfAlive[i] = ifAlive;
      out.clv[i] = alive * ifAlive;
    } else {
      out.expectedSpend[i] = Number.NaN;
      out.valueIfAlive[i] = Number.NaN;
      out.clv[i] = Number.NaN;
    }
  }
  return out;
}
