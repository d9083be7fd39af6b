/**
 * Calibration/holdout validation of a purchase model (BG/NBD or Pareto/NBD), as in the BG/NBD paper's figures:
 * predicted against actual repeat purchases in the holdout per calibration frequency
 * (Fig. 4 of FHL 2005) and cumulative repeat purchases over time (Fig. 3).
 */
import type { CustomerSummary } from './summary.js';

/** What a purchase model predicts: E[X(T, T+t] | x, t_x, T] and E[X(t)] for a new customer. */
export interface Predictor {
  conditional(t: number, x: number, tx: number, T: number): number;
  unconditional(t: number): number;
}

export interface FrequencyBucket {
  /** Calibration frequency: "0" … "6", and "7+" for the rest. */
  frequency: string;
  customers: number;
  /** Mean repeat purchases in the holdout: predicted (conditional expectation) and actual. */
  predicted: number;
  actual: number;
}

export interface TrackingPoint {
  /** Periods since the earliest first purchase. */
  period: number;
  /** Cumulative repeat purchases of the cohort up to the end of the period. */
  actual: number;
  predicted: number;
}

export interface HoldoutReport {
  holdoutLength: number;
  predictedRepeatPurchases: number;
  actualRepeatPurchases: number;
  /** Σ |E[X_i] − x_i| / n over the customers' holdout purchases: the per-customer error the model choice compares. */
  meanAbsoluteError: number;
  byFrequency: FrequencyBucket[];
  tracking: TrackingPoint[];
}

const TOP_BUCKET = 7;

export function validateHoldout(p: Predictor, s: CustomerSummary, periodDays: number): HoldoutReport {
  if (!s.holdoutFrequency || s.holdoutLength === undefined) throw new Error('validateHoldout: the summary has no holdout period');
  const t = s.holdoutLength;
  const buckets = Array.from({ length: TOP_BUCKET + 1 }, (_, i) => ({ frequency: i === TOP_BUCKET ? `${TOP_BUCKET}+` : String(i), customers: 0, predicted: 0, actual: 0 }));
  let predicted = 0;
  let actual = 0;
  let absError = 0;
  for (let i = 0; i < s.frequency.length; i++) {
    const x = s.frequency[i]!;
    const e = p.conditional(t, x, s.recency[i]!, s.T[i]!);
    const a = s.holdoutFrequency[i]!;
    predicted += e;
    actual += a;
    absError += Math.abs(e - a);
    const b = buckets[Math.min(TOP_BUCKET, x)]!;
    b.customers++;
    b.predicted += e;
    b.actual += a;
  }
  for (const b of buckets) {
    if (b.customers > 0) {
      b.predicted /= b.customers;
      b.actual /= b.customers;
    }
  }
  return {
    holdoutLength: t,
    predictedRepeatPurchases: predicted,
    actualRepeatPurchases: actual,
    meanAbsoluteError: s.frequency.length > 0 ? absError / s.frequency.length : 0,
    byFrequency: buckets.filter((b) => b.customers > 0),
    tracking: cumulativeTracking(p, s, periodDays),
  };
}

/**
 * Cumulative repeat purchases of the cohort, period by period over calibration and holdout:
 * actual from the transactions; predicted as Σ_customers E[X(now − first purchase)] with the
 * unconditional expectation (FHL 2005, eq. 9), summed per first-purchase day.
 */
export function cumulativeTracking(p: Predictor, s: CustomerSummary, periodDays: number): TrackingPoint[] {
  const { start, counts } = s.repeatsByDay;
  const cohorts = new Map<number, number>();
  for (let i = 0; i < s.firstDay.length; i++) cohorts.set(s.firstDay[i]!, (cohorts.get(s.firstDay[i]!) ?? 0) + 1);
  const points: TrackingPoint[] = [];
  let cum = 0;
  let dayIdx = 0;
  const periods = Math.ceil(counts.length / periodDays);
  for (let k = 1; k <= periods; k++) {
    const endDay = Math.min(counts.length, Math.round(k * periodDays));
    for (; dayIdx < endDay; dayIdx++) cum += counts[dayIdx]!;
    // Time observed by the end of this period's last day, for a customer who joined on day f.
    const now = start + endDay;
    let pred = 0;
    for (const [f, n] of cohorts) if (f < now) pred += n * p.unconditional((now - f - 1) / periodDays);
    points.push({ period: k, actual: cum, predicted: pred });
  }
  return points;
}
