/**
 * Cohorts drawn from known BG/NBD and Gamma-Gamma parameters: the ground truth the CLV fits
 * are checked against (tests, `npm run bench -- clv`, `rapport clv simulate`).
 *
 * Each customer has a purchase rate λ ~ Gamma(r, α) and a drop-out probability p ~ Beta(a, b);
 * after the first purchase (time 0) purchases follow a Poisson process of rate λ, and after
 * each one the customer leaves with probability p (FHL 2005, assumptions i–v). Observation
 * lengths are whole days and the last purchase's time is rounded to its day, as order dates
 * are (purchases are not merged by day: the model's process is continuous); times are in weeks. Spend per purchase is
 * Gamma(p_s, ν) with ν ~ Gamma(q, v).
 */
import type { BgNbdParams } from '../models/clv/bgnbd.js';
import type { GammaGammaParams } from '../models/clv/gamma-gamma.js';
import { round } from '../core/numbers.js';
import { DAY_MS, WEEK_MS } from '../core/time.js';
import { Rng } from './random.js';

export interface CohortOptions {
  customers: number;
  seed: number;
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
  /** Observation length in days: each customer's T is uniform on [minDays, maxDays]. */
  minDays: number;
  maxDays: number;
}

export const DEFAULT_COHORT: Omit<CohortOptions, 'customers' | 'seed'> = {
  bgnbd: { r: 0.25, alpha: 4, a: 0.8, b: 2.5 },
  gammaGamma: { p: 6, q: 4, v: 15 },
  minDays: 182,
  maxDays: 365,
};

export interface Cohort {
  /** In weeks (days / 7). */
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array;
  /** Days, as drawn (recency and T before the division by 7). */
  recencyDays: Int32Array;
  TDays: Int32Array;
}

export function drawCohort(o: CohortOptions): Cohort {
  const rng = Rng.from(o.seed, 'clv-cohort');
  const n = o.customers;
  const c: Cohort = {
    frequency: new Float64Array(n),
    recency: new Float64Array(n),
    T: new Float64Array(n),
    monetary: new Float64Array(n),
    recencyDays: new Int32Array(n),
    TDays: new Int32Array(n),
  };
  const { r, alpha, a, b } = o.bgnbd;
  const g = o.gammaGamma;
  for (let i = 0; i < n; i++) {
    const Tdays = o.minDays + rng.int(o.maxDays - o.minDays + 1);
    const Tw = Tdays / 7;
    const lambda = rng.gamma(r, alpha);
    const p = rng.beta(a, b);
    let t = 0;
    let lastDay = 0;
    let x = 0;
    for (;;) {
      t += rng.exponential(lambda);
      if (t > Tw) break;
      x++;
      lastDay = Math.min(Tdays, Math.round(t * 7));
      if (rng.chance(p)) break;
    }
    let spend = 0;
    if (x > 0) {
      const nu = rng.gamma(g.q, g.v);
      for (let k = 0; k < x; k++) spend += rng.gamma(g.p, nu);
      spend /= x;
    }
    c.frequency[i] = x;
    c.recencyDays[i] = lastDay;
    c.TDays[i] = Tdays;
    c.recency[i] = lastDay / 7;
    c.T[i] = Tw;
    c.monetary[i] = spend;
  }
  return c;
}

/** The cohort as a summary CSV (`customer_id,frequency,recency,T,monetary_value`). */
export function* cohortCsv(c: Cohort): Generator<string> {
  yield 'customer_id,frequency,recency,T,monetary_value\n';
  const n = c.frequency.length;
  const chunk = 10_000;
  for (let s = 0; s < n; s += chunk) {
    let out = '';
    for (let i = s; i < Math.min(n, s + chunk); i++) {
      out += `c${i + 1},${c.frequency[i]},${c.recency[i]!.toFixed(6)},${c.T[i]!.toFixed(6)},${c.monetary[i]!.toFixed(2)}\n`;
    }
    yield out;
  }
}

export interface HistoryOptions {
  seed: number;
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
  /** First and last day of the history (days since 1970-01-01); first purchases are uniform on it. */
  startDay: number;
  endDay: number;
}

/** One drawn order: customer index, time (ms since the epoch, UTC) and amount. */
export interface DrawnOrder {
  customer: number;
  at: number;
  amount: number;
}

/**
 * Order histories drawn customer by customer from the same process as drawCohort, but as
 * timestamped orders (several can fall on one day) over a calendar period: what a shop's
 * order table holds. Stops after `customers` customers or `maxOrders` orders, whichever
 * comes first. Amounts are rounded to cents (at least 0.01).
 */
export function* drawOrderHistory(o: HistoryOptions & { customers: number; maxOrders?: number }): Generator<DrawnOrder> {
  const rng = Rng.from(o.seed, 'clv-history');
  const { r, alpha, a, b } = o.bgnbd;
  const g = o.gammaGamma;
  const startMs = o.startDay * DAY_MS;
  const endMs = (o.endDay + 1) * DAY_MS;
  let orders = 0;
  const max = o.maxOrders ?? Number.POSITIVE_INFINITY;
  for (let c = 0; c < o.customers && orders < max; c++) {
    const lambda = rng.gamma(r, alpha) / WEEK_MS;
    const p = rng.beta(a, b);
    const nu = rng.gamma(g.q, g.v);
    let t = startMs + Math.floor(rng.float() * (endMs - startMs));
    for (let k = 0; ; k++) {
      yield { customer: c, at: t, amount: Math.max(0.01, round(rng.gamma(g.p, nu))) };
      if (++orders >= max) return;
      if (k > 0 && rng.chance(p)) break;
      t += Math.ceil(rng.exponential(lambda));
      if (!(t < endMs)) break;
    }
  }
}
