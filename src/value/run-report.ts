/**
 * The CLV run's report: its shape (stored as JSON with the run, read by the summary API and
 * the CLI) and the summaries of the scores it carries (the CLV and P(alive) distributions,
 * the RFM groups).
 */
import type { FitReport, PurchaseModel } from './fit.js';
import type { Scores } from '../models/clv/score.js';
import type { Period } from '../models/clv/summary.js';
import type { HoldoutReport } from '../models/clv/validation.js';
import type { RfmGroup, RfmScores } from '../models/segments/rfm.js';
import type { SegmentCard } from '../models/segments/micro.js';
import { quantileSorted } from '../models/stats/proportions.js';
import type { ValueCurrency } from './currency.js';

export interface ClvSettings {
  /** Months of future purchases valued (default 12). */
  horizonMonths: number;
  /** Discount rate per month (default 0.01). */
  monthlyDiscountRate: number;
  /** Share of revenue that is margin (default 1: CLV in revenue). */
  margin: number;
}

export interface HistogramBin {
  from: number;
  to: number;
  customers: number;
}

export interface ValidationReport extends HoldoutReport {
  calibrationEnd: string;
  holdoutEnd: string;
  /** Customers of the sample in the calibration cohort, and the sampling step (every n-th customer id). */
  customers: number;
  sampleEvery: number;
  bgnbd: { r: number; alpha: number; a: number; b: number };
  /**
   * Every purchase model validated on the same sample and holdout: its parameters and its mean
   * absolute error per customer over the holdout. `preferred` has the lowest error.
   */
  models?: { model: 'bgnbd' | 'mbgnbd'; params: { r: number; alpha: number; a: number; b: number }; meanAbsoluteError: number; predictedRepeatPurchases: number }[];
  preferred?: 'bgnbd' | 'mbgnbd';
  /** The model whose figures the fields above (predicted, tracking, by frequency) are: the one that scored (BG/NBD in runs before the choice). */
  model?: 'bgnbd' | 'mbgnbd';
}

/** Which purchase model scored the run's customers, and why. */
export interface ScoringReport {
  model: PurchaseModel;
  /** holdout: the lowest holdout mean absolute error; bic: no holdout, the lowest BIC; requested: `--model`. */
  by: 'holdout' | 'bic' | 'requested';
  /** The reason in words, with every candidate's figure. */
  reason: string;
  candidates: { model: PurchaseModel; bic: number; logLikelihood: number; holdoutMeanAbsoluteError: number | null }[];
}

export interface ClvRunReport {
  asOf: string;
  /** Why this as-of day: today for live data, else the latest order, and which stray or future-dated orders were left out. */
  asOfReason?: string;
  /** live: the data end within LIVE_WINDOW_DAYS of today, so the as-of day is today; end of data: an imported history. Absent for a day asked for. */
  asOfRule?: 'live' | 'end of data';
  /** The end of the data (robust to strays), which is the as-of day unless the data are live. */
  dataEnd?: string;
  /** The newest order row when the run started: orders stored since make the results stale (−1: a run as of an earlier day). */
  lastOrderRef: number;
  period: Period;
  settings: ClvSettings;
  /** The currency every amount of the run is in (currency.ts); absent in reports of runs before it was recorded. */
  currency?: ValueCurrency | null;
  orders: number;
  customers: number;
  repeatCustomers: number;
  fit: FitReport;
  /** The purchase model that scored and why (runs before the choice: absent, BG/NBD scored). */
  scoring?: ScoringReport;
  validation: ValidationReport | { skipped: string };
  distribution: {
    clv: { total: number; mean: number; median: number; p90: number; p99: number; max: number; top10Share: number; histogram: HistogramBin[] } | null;
    pAlive: HistogramBin[];
    valueAtRisk: number | null;
  };
  rfm: { group: RfmGroup; customers: number; clv: number | null; spend: number; pAlive: number }[];
  segments: { k: number; criterion: string; silhouettes: { k: number; silhouette: number }[]; fittedOn: number; features: string[]; cards: SegmentCard[] } | { skipped: string };
  timings: { summaryMs: number; fitMs: number; validationMs: number; scoreMs: number; segmentMs: number; writeMs: number; totalMs: number };
  warnings: string[];
}

/** 0, 1, 2, 5, 10, 20, 50, …: bin edges that read well for a heavy-tailed amount. */
export function niceEdges(max: number): number[] {
  const edges = [0];
  for (let decade = 1; edges[edges.length - 1]! < max; decade *= 10) {
    for (const m of [1, 2, 5]) {
      edges.push(m * decade);
      if (m * decade >= max) break;
    }
  }
  return edges;
}

function histogram(values: Float64Array, edges: number[]): HistogramBin[] {
  const bins = edges.slice(0, -1).map((from, i) => ({ from, to: edges[i + 1]!, customers: 0 }));
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    let lo = 0;
    let hi = bins.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bins[mid]!.from <= v) lo = mid;
      else hi = mid - 1;
    }
    bins[lo]!.customers++;
  }
  return bins;
}

/**
 * How CLV and P(alive) are spread over the customers, and the value at risk in all; without a
 * spend model (`valued` false) only P(alive).
 */
export function distribution(scores: Scores, valued: boolean): ClvRunReport['distribution'] {
  const pAlive = histogram(scores.pAlive, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0000001]);
  pAlive[pAlive.length - 1]!.to = 1;
  if (!valued) return { clv: null, pAlive, valueAtRisk: null };
  const sorted = Float64Array.from(scores.clv).sort();
  const n = sorted.length;
  let total = 0;
  for (const v of sorted) total += v;
  let top = 0;
  for (let i = n - Math.ceil(n / 10); i < n; i++) top += sorted[i]!;
  let atRisk = 0;
  for (let i = 0; i < n; i++) atRisk += (1 - scores.pAlive[i]!) * scores.valueIfAlive[i]!;
  const max = sorted[n - 1] ?? 0;
  const q = (p: number): number => (n > 0 ? quantileSorted(sorted, p) : 0);
  return {
    clv: {
      total,
      mean: n > 0 ? total / n : 0,
      median: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      max,
      top10Share: total > 0 ? top / total : 0,
      histogram: histogram(scores.clv, niceEdges(max)),
    },
    pAlive,
    valueAtRisk: atRisk,
  };
}

/** Customers, CLV (null without a spend model), spend and mean P(alive) per RFM group, most valuable first. */
export function rfmSummary(rfm: RfmScores, scores: Scores, spend: Float64Array, valued: boolean): ClvRunReport['rfm'] {
  const groups = new Map<RfmGroup, { group: RfmGroup; customers: number; clv: number; spend: number; pAlive: number }>();
  for (let i = 0; i < rfm.group.length; i++) {
    const g = rfm.group[i]!;
    let e = groups.get(g);
    if (!e) {
      e = { group: g, customers: 0, clv: 0, spend: 0, pAlive: 0 };
      groups.set(g, e);
    }
    e.customers++;
    if (valued) e.clv += scores.clv[i]!;
    e.spend += spend[i]!;
    e.pAlive += scores.pAlive[i]!;
  }
  return [...groups.values()]
    .map((e) => ({ ...e, clv: valued ? e.clv : null, pAlive: e.pAlive / e.customers }))
    .sort((a, b) => (b.clv ?? b.spend) - (a.clv ?? a.spend));
}
