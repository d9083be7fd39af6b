/**
 * The CLV job: from the stored orders to per-customer value.
 *
 *  1. the database summarises the orders per customer (orders-summary.ts);
 *  2. BG/NBD and Gamma-Gamma are fitted on that summary (clv/fit.ts);
 *  3. the models are validated: refitted on a calibration period of a sample of customers
 *     and their predictions compared with what the sample actually bought in the holdout;
 *  4. every customer is scored (P(alive), expected purchases and spend, discounted CLV, value
 *     at risk) and given RFM scores;
 *  5. the scores replace the previous run's in one transaction, and the run is recorded with
 *     its report (parameters, diagnostics, validation, distribution).
 *
 * It runs from `rapport clv run`, after imports that brought orders, on the server's schedule,
 * and after the demo company is loaded.
 */
import { sql } from 'kysely';
import { RapportError } from '../core/errors.js';
import { fitSummary, fitTransactions, type FitReport } from './fit.js';
import { preferenceMatrices, samplePurchases, summarizeOrders, type OrdersSummary } from './orders-summary.js';
import { DEFAULT_VALUE_OPTIONS, scoreCustomers, type Scores } from '../models/clv/score.js';
import { isoOfDay, PERIOD_DAYS, type Period } from '../models/clv/summary.js';
import type { HoldoutReport } from '../models/clv/validation.js';
import { rfmScores, type RfmGroup, type RfmScores } from '../models/segments/rfm.js';
import { microSegments, type SegmentCard } from '../models/segments/micro.js';
import type { Store } from '../store/db.js';
import type { ClvTrigger } from '../store/schema.js';
import { defineJob, directContext, type Due, type DuePolicy, type JobContext } from '../jobs/job.js';
import { recordRun, reportField } from '../jobs/runs.js';
import { lastEndedRun, lastOkRun, markRunOk, MARK_RUN_OK_SQLITE, runReport, type RunOutcome } from '../jobs/runs.repository.js';

/** The job's name in the registry and the runs table. */
export const CLV_JOB = 'clv';

export interface ClvSettings {
  /** Months of future purchases valued (default 12). */
  horizonMonths: number;
  /** Discount rate per month (default 0.01). */
  monthlyDiscountRate: number;
  /** Share of revenue that is margin (default 1: CLV in revenue). */
  margin: number;
}

export const DEFAULT_CLV_SETTINGS: ClvSettings = {
  horizonMonths: DEFAULT_VALUE_OPTIONS.horizonMonths,
  monthlyDiscountRate: DEFAULT_VALUE_OPTIONS.monthlyDiscountRate,
  margin: DEFAULT_VALUE_OPTIONS.margin,
};

/** Where the settings of the last run that named any are kept, for scheduled runs. */
const SETTINGS_KEY = 'clv.settings';

export interface ClvRunOptions {
  trigger: ClvTrigger;
  /** Last day observed (days since 1970-01-01, UTC); default: the day of the latest order. */
  asOfDay?: number;
  settings?: Partial<ClvSettings>;
  /** At most about this many customers in the validation sample (default 100,000). */
  validationCustomers?: number;
  now?: () => number;
  /**
   * Runs the run's writes (its record, the results swap) one at a time with the caller's other
   * writes: the server passes its write queue, so that no write transaction is open around them.
   */
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
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
}

export interface ClvRunReport {
  asOf: string;
  /** The newest order row when the run started: orders stored since make the results stale (−1: a run as of an earlier day). */
  lastOrderRef: number;
  period: Period;
  settings: ClvSettings;
  orders: number;
  customers: number;
  repeatCustomers: number;
  fit: FitReport;
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

export interface ClvRunResult {
  runId: number;
  report: ClvRunReport;
}

/** Holdout length for validation: a third of the observed span, at most 26 weeks, at least 4. */
const HOLDOUT_MAX_DAYS = 26 * 7;
const HOLDOUT_MIN_DAYS = 4 * 7;

/**
 * The customer-value job: registered in the server's job registry, run by the job runner (on a
 * worker thread in `rapport serve`) and by its schedule after new orders and at least daily.
 */
export const clvJob = defineJob<ClvRunOptions, ClvRunResult>({
  name: CLV_JOB,
  module: import.meta.url,
  run: (ctx, options) => doRun(ctx, options),
  schedule: {
    title: 'customer value',
    due: clvDue,
    options: { trigger: 'schedule' },
    done: ({ report }, why) => `customer value recomputed (${why}): ${report.customers} customers in ${(report.timings.totalMs / 1000).toFixed(1)} s`,
  },
});

/** Runs the CLV job here, on the caller's thread (the CLI, tests). */
export function runClv(store: Store, options: ClvRunOptions): Promise<ClvRunResult> {
  return clvJob.run(directContext(store, options), options);
}

/**
 * Whether customer value should run now:
 *  - when there are orders and no successful run yet,
 *  - when orders arrived since the last run (from any path: imports, the tracking API) and
 *    have settled for `settleMs` (a burst of orders makes one run, not one per order),
 *  - and at least every `everyMs` as a safety net.
 * A run that failed is not retried for the same orders before `everyMs`; new orders retry it.
 */
export async function clvDue(store: Store, now: number, o: DuePolicy): Promise<Due> {
  const ref = await lastOrderRef(store);
  if (ref === 0) return { due: false };
  const last = await lastEndedRun(store.db, CLV_JOB);
  if (!last) return { due: true, why: 'no run yet' };
  const at = last.finishedAt ?? last.startedAt;
  if (now - at >= o.everyMs) return { due: true, why: 'scheduled' };
  // The orders the last run saw (a failed run too: it is retried once others arrive).
  const seen = reportField<number>(last.report, 'lastOrderRef');
  if (seen !== ref && now - at >= o.settleMs) return { due: true, why: last.status === 'failed' ? 'new orders since the failed run' : 'new orders' };
  return { due: false };
}

/**
 * A run after new data (an import, the demo): a run that cannot fit yet (nobody bought twice)
 * is reported, not thrown, since the data itself was stored fine.
 */
export async function runClvAfterLoad(store: Store, trigger: ClvTrigger): Promise<{ customers: number; seconds: number } | { error: string }> {
  try {
    const { report } = await runClv(store, { trigger });
    return { customers: report.customers, seconds: report.timings.totalMs / 1000 };
  } catch (e) {
    // Whatever went wrong (no repeat buyers yet, a busy database), the loaded data is stored:
    // the caller reports this and succeeds; the failed run is recorded and retried later.
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** The one line the CLI prints about such a run. */
export function afterLoadLine(r: { customers: number; seconds: number } | { error: string }): string {
  return 'error' in r ? `Customer value not recomputed: ${r.error}` : `Customer value recomputed for ${r.customers.toLocaleString('en-US')} customers in ${r.seconds.toFixed(1)} s`;
}

async function readSettings(store: Store, given: Partial<ClvSettings> | undefined): Promise<ClvSettings> {
  const row = await store.db.selectFrom('meta').select('value').where('key', '=', SETTINGS_KEY).executeTakeFirst();
  let saved: Partial<ClvSettings> = {};
  if (row) {
    try {
      saved = JSON.parse(row.value) as Partial<ClvSettings>;
    } catch {
      saved = {};
    }
  }
  const defined = Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) as Partial<ClvSettings>;
  const settings = { ...DEFAULT_CLV_SETTINGS, ...saved, ...defined };
  if (Object.keys(defined).length > 0) {
    const value = JSON.stringify(settings);
    await store.db.insertInto('meta').values({ key: SETTINGS_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }
  return settings;
}

async function doRun(ctx: JobContext, options: ClvRunOptions): Promise<ClvRunResult> {
  const { store, now, serialize } = ctx;
  const ref = await lastOrderRef(store);
  const { runId, result } = await recordRun(
    ctx,
    // A failed run records the orders it failed on: the schedule retries once others arrive.
    { job: CLV_JOB, trigger: options.trigger, failedReport: () => ({ lastOrderRef: ref }), atStart: () => readSettings(store, options.settings) },
    (runId, settings) => compute(store, { ...options, serialize }, settings, runId, now, ref),
  );
  return { runId, report: result };
}

/** The newest order's row id (0 without orders). */
export async function lastOrderRef(store: Store): Promise<number> {
  const r = await store.db.selectFrom('orders').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

async function compute(
  store: Store,
  options: ClvRunOptions & { serialize: <T>(fn: () => Promise<T>) => Promise<T> },
  settings: ClvSettings,
  runId: number,
  now: () => number,
  /** The newest order's row id when the run started. */
  ref: number,
): Promise<ClvRunReport> {
  const period: Period = 'week';
  const per = PERIOD_DAYS[period];
  const t0 = performance.now();
  // A run as of an earlier day is not the current picture: marked so (no order has ref −1),
  // the schedule replaces it once the orders have settled.
  const lastRef = options.asOfDay === undefined ? ref : -1;
  const orders = await summarizeOrders(store, options.asOfDay);
  if (orders.customerId.length === 0) throw new RapportError('invalid_input', 'no orders stored yet: customer value needs order history (import orders, or load the demo)');
  const asOfDay = options.asOfDay ?? orders.maxDay;
  const t1 = performance.now();

  const n = orders.customerId.length;
  const frequency = new Float64Array(n);
  const recency = new Float64Array(n);
  const T = new Float64Array(n);
  const monetary = new Float64Array(n);
  let repeatCustomers = 0;
  for (let i = 0; i < n; i++) {
    const x = orders.purchaseDays[i]! - 1;
    frequency[i] = x;
    recency[i] = (orders.lastDay[i]! - orders.firstDay[i]!) / per;
    T[i] = (asOfDay - orders.firstDay[i]!) / per;
    monetary[i] = x > 0 ? (orders.spend[i]! - orders.firstDaySpend[i]!) / x : 0;
    if (x > 0) repeatCustomers++;
  }
  const summary = { frequency, recency, T, monetary };
  let fit = fitSummary(summary, { model: 'bgnbd' });
  let scores = scoreCustomers(fit.bgnbd!, fit.gammaGamma, summary, { ...settings, periodDays: per });
  if (!finiteScores(scores, fit.gammaGamma !== undefined)) {
    // Few customers can drive a and b of BG/NBD off to infinity (no drop-out at all fits them
    // best), where the forecasts cannot be evaluated. A small L2 penalty, as lifetimes
    // recommends for small data, keeps the parameters finite.
    const b0 = fit.bgnbd!;
    fit = fitSummary(summary, { model: 'bgnbd', penalizer: DEGENERATE_PENALIZER });
    fit.warnings.unshift(
      `the plain maximum-likelihood fit was degenerate on ${n} customers (a = ${b0.a.toPrecision(3)}, b = ${b0.b.toPrecision(3)}); refitted with an L2 penalty of ${DEGENERATE_PENALIZER}`,
    );
    scores = scoreCustomers(fit.bgnbd!, fit.gammaGamma, summary, { ...settings, periodDays: per });
    if (!finiteScores(scores, fit.gammaGamma !== undefined)) {
      throw new RapportError('invalid_input', `the models cannot be fitted meaningfully on ${n} customers with orders (${repeatCustomers} bought again): the forecasts are not finite`);
    }
  }
  const t2 = performance.now();

  const validation = await validate(store, orders, asOfDay, options.validationCustomers ?? 100_000);
  const t3 = performance.now();

  const rfmRecency = new Float64Array(n);
  const rfmFrequency = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    rfmRecency[i] = asOfDay - orders.lastDay[i]!;
    rfmFrequency[i] = orders.purchaseDays[i]!;
  }
  const rfm = rfmScores({ recency: rfmRecency, frequency: rfmFrequency, monetary: orders.spend });
  const t4 = performance.now();
  const seg = await segment(store, orders, scores, fit.gammaGamma !== undefined, asOfDay);
  const t5 = performance.now();

  const warnings = [...fit.warnings];
  if (!fit.gammaGamma) warnings.push('no spend model: CLV and value at risk are left empty (P(alive) and expected purchases are still scored)');
  if ('skipped' in validation) warnings.push(`validation skipped: ${validation.skipped}`);
  const report: ClvRunReport = {
    asOf: isoOfDay(asOfDay),
    lastOrderRef: lastRef,
    period,
    settings,
    orders: orders.orders,
    customers: n,
    repeatCustomers,
    fit,
    validation,
    distribution: distribution(scores, fit.gammaGamma !== undefined),
    rfm: rfmSummary(rfm, scores, orders.spend, fit.gammaGamma !== undefined),
    segments: seg.report,
    timings: { summaryMs: t1 - t0, fitMs: t2 - t1, validationMs: t3 - t2, scoreMs: t4 - t3, segmentMs: t5 - t4, writeMs: 0, totalMs: 0 },
    warnings,
  };
  await options.serialize(() =>
    writeResults(store, runId, orders, scores, rfm, seg.labels, fit.gammaGamma !== undefined, () => {
      report.timings.writeMs = performance.now() - t5;
      report.timings.totalMs = performance.now() - t0;
      return { finishedAt: now(), items: n, report: JSON.stringify(report) };
    }),
  );
  return report;
}

const DEGENERATE_PENALIZER = 0.01;

function finiteScores(s: Scores, valued: boolean): boolean {
  for (let i = 0; i < s.pAlive.length; i++) {
    if (!Number.isFinite(s.pAlive[i]!) || !Number.isFinite(s.expectedPurchases[i]!)) return false;
    if (valued && !Number.isFinite(s.clv[i]!)) return false;
  }
  return true;
}

/** Segments need a few customers per cluster to say anything. */
const MIN_SEGMENT_CUSTOMERS = 60;

/**
 * Micro-segments from category spend, cadence, value (CLV, else spend) and channel mix
 * (models/segments/micro.ts). Seeded: the same data give the same segments.
 */
async function segment(store: Store, o: OrdersSummary, s: Scores, valued: boolean, asOfDay: number): Promise<{ labels: Int32Array | undefined; report: ClvRunReport['segments'] }> {
  const n = o.customerId.length;
  if (n < MIN_SEGMENT_CUSTOMERS) return { labels: undefined, report: { skipped: `${n} customers with orders; segments need at least ${MIN_SEGMENT_CUSTOMERS}` } };
  const p = await preferenceMatrices(store, o.customerId, { categories: 8, channels: 5 }, asOfDay);
  const cadenceDays = new Float64Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = o.purchaseDays[i]! - 1;
    cadenceDays[i] = x > 0 ? (o.lastDay[i]! - o.firstDay[i]!) / x : Number.NaN;
    value[i] = valued ? s.clv[i]! : o.spend[i]!;
  }
  const r = microSegments({ n, categories: p.categories, categorySpend: p.categorySpend, channels: p.channels, channelCounts: p.channelCounts, cadenceDays, value }, { seed: 1 });
  const features = [...p.categories.map((c) => `${c} share of spend`), 'bought again', 'days between purchases (log)', valued ? 'CLV (log)' : 'spend (log)', ...p.channels.map((c) => `${c} share of interactions`)];
  return { labels: r.labels, report: { k: r.k, criterion: r.criterion, silhouettes: r.silhouettes, fittedOn: r.fittedOn, features, cards: r.cards } };
}

/**
 * Calibration/holdout validation on a sample of customers: the last third of the observed
 * span (at most 26 weeks) is held out, the models are refitted on the time before it, and
 * the repeat purchases they predict for the holdout are compared with the actual ones.
 */
async function validate(store: Store, orders: OrdersSummary, asOfDay: number, maxCustomers: number): Promise<ValidationReport | { skipped: string }> {
  let firstDay = Number.POSITIVE_INFINITY;
  for (let i = 0; i < orders.firstDay.length; i++) if (orders.firstDay[i]! < firstDay) firstDay = orders.firstDay[i]!;
  const span = asOfDay - firstDay + 1;
  const holdout = Math.min(HOLDOUT_MAX_DAYS, Math.floor(span / 3));
  if (holdout < HOLDOUT_MIN_DAYS) return { skipped: `the order history spans ${span} days; validation needs at least ${3 * HOLDOUT_MIN_DAYS}` };
  const every = Math.max(1, Math.ceil(orders.customerId.length / maxCustomers));
  const p = await samplePurchases(store, asOfDay, every);
  // Customer ids to dense indexes.
  const index = new Map<number, number>();
  const customer = new Int32Array(p.customer.length);
  let lastDay = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < p.customer.length; i++) {
    let k = index.get(p.customer[i]!);
    if (k === undefined) {
      k = index.size;
      index.set(p.customer[i]!, k);
    }
    customer[i] = k;
    if (p.day[i]! > lastDay) lastDay = p.day[i]!;
  }
  const calibrationEnd = asOfDay - holdout;
  if (!(lastDay > calibrationEnd)) return { skipped: 'no orders in the holdout period' };
  try {
    const r = fitTransactions(
      { customer, day: p.day, amount: p.amount, customers: index.size, hasAmounts: false },
      { model: 'bgnbd', period: 'week', calibrationEnd, holdoutEnd: Math.min(asOfDay, lastDay) },
    );
    const h = r.holdout!;
    return {
      calibrationEnd: isoOfDay(calibrationEnd),
      holdoutEnd: isoOfDay(Math.min(asOfDay, lastDay)),
      customers: r.customers,
      sampleEvery: every,
      bgnbd: { r: r.bgnbd!.r, alpha: r.bgnbd!.alpha, a: r.bgnbd!.a, b: r.bgnbd!.b },
      holdoutLength: h.holdoutLength,
      predictedRepeatPurchases: h.predictedRepeatPurchases,
      actualRepeatPurchases: h.actualRepeatPurchases,
      byFrequency: h.byFrequency,
      tracking: h.tracking,
    };
  } catch (e) {
    if (e instanceof RapportError) return { skipped: e.message };
    throw e;
  }
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

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function distribution(scores: Scores, valued: boolean): ClvRunReport['distribution'] {
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
  return {
    clv: {
      total,
      mean: n > 0 ? total / n : 0,
      median: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max,
      top10Share: total > 0 ? top / total : 0,
      histogram: histogram(scores.clv, niceEdges(max)),
    },
    pAlive,
    valueAtRisk: atRisk,
  };
}

function rfmSummary(rfm: RfmScores, scores: Scores, spend: Float64Array, valued: boolean): ClvRunReport['rfm'] {
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

type RunUpdate = RunOutcome;

/** Replaces every customer's value with this run's, and marks the run done, in one transaction. */
async function writeResults(
  store: Store,
  runId: number,
  o: OrdersSummary,
  s: Scores,
  rfm: RfmScores,
  segments: Int32Array | undefined,
  valued: boolean,
  finish: () => RunUpdate,
): Promise<void> {
  const n = o.customerId.length;
  const num = (v: number): number | null => (valued && Number.isFinite(v) ? v : null);
  const row = (i: number) => ({
    customer_id: o.customerId[i]!,
    run_id: runId,
    first_day: o.firstDay[i]!,
    last_day: o.lastDay[i]!,
    purchase_days: o.purchaseDays[i]!,
    spend: o.spend[i]!,
    repeat_spend: o.purchaseDays[i]! > 1 ? (o.spend[i]! - o.firstDaySpend[i]!) / (o.purchaseDays[i]! - 1) : 0,
    p_alive: s.pAlive[i]!,
    expected_purchases: s.expectedPurchases[i]!,
    expected_spend: num(s.expectedSpend[i]!),
    clv: num(s.clv[i]!),
    value_at_risk: num((1 - s.pAlive[i]!) * s.valueIfAlive[i]!),
    rfm_r: rfm.r[i]!,
    rfm_f: rfm.f[i]!,
    rfm_m: rfm.m[i]!,
    rfm_group: rfm.group[i]!,
    segment: segments ? segments[i]! : null,
  });
  if (store.sqlite) {
    // A fresh table filled without secondary indexes, indexed once, then swapped in: 3× faster
    // than deleting and re-inserting 1M rows under two indexes. The table's and its indexes'
    // definitions are read from the schema, so the migration stays their only source.
    const db = store.sqlite;
    const schema = db.prepare(`select type, sql from sqlite_master where tbl_name = 'customer_values' and sql is not null`).all() as { type: string; sql: string }[];
    const table = schema.find((r) => r.type === 'table')!.sql;
    const indexes = schema.filter((r) => r.type === 'index').map((r) => r.sql);
    const update = db.prepare(MARK_RUN_OK_SQLITE);
    db.transaction(() => {
      db.exec('drop table if exists customer_values_next');
      db.exec(table.replace(/customer_values/, 'customer_values_next'));
      // Customers erased or merged away since the summary was read: foreign keys are checked at
      // commit, and their rows are dropped with one anti-join before it.
      db.pragma('defer_foreign_keys = ON');
      const insert = db.prepare(
        `insert into customer_values_next (customer_id, run_id, first_day, last_day, purchase_days, spend, repeat_spend, p_alive, expected_purchases, expected_spend, clv, value_at_risk, rfm_r, rfm_f, rfm_m, rfm_group, segment)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (let i = 0; i < n; i++) {
        const x = o.purchaseDays[i]! - 1;
        insert.run(
          o.customerId[i]!,
          runId,
          o.firstDay[i]!,
          o.lastDay[i]!,
          x + 1,
          o.spend[i]!,
          x > 0 ? (o.spend[i]! - o.firstDaySpend[i]!) / x : 0,
          s.pAlive[i]!,
          s.expectedPurchases[i]!,
          num(s.expectedSpend[i]!),
          num(s.clv[i]!),
          num((1 - s.pAlive[i]!) * s.valueIfAlive[i]!),
          rfm.r[i]!,
          rfm.f[i]!,
          rfm.m[i]!,
          rfm.group[i]!,
          segments ? segments[i]! : null,
        );
      }
      db.exec('delete from customer_values_next where not exists (select 1 from customers c where c.id = customer_values_next.customer_id)');
      db.exec('drop table customer_values');
      db.exec('alter table customer_values_next rename to customer_values');
      for (const ddl of indexes) db.exec(ddl);
      const u = finish();
      update.run(u.finishedAt, u.items, u.report, runId);
    }).immediate();
    return;
  }
  await store.db.transaction().execute(async (trx) => {
    await sql`delete from customer_values`.execute(trx);
    const chunk = 2000;
    for (let s0 = 0; s0 < n; s0 += chunk) {
      const rows = [];
      for (let i = s0; i < Math.min(n, s0 + chunk); i++) rows.push(row(i));
      // Customers erased or merged away since the summary was read are skipped.
      const alive = new Set(
        (
          await trx
            .selectFrom('customers')
            .select('id')
            .where(
              'id',
              'in',
              rows.map((r) => r.customer_id),
            )
            .forShare()
            .execute()
        ).map((r) => Number(r.id)),
      );
      const kept = rows.filter((r) => alive.has(r.customer_id));
      if (kept.length > 0) await trx.insertInto('customer_values').values(kept).execute();
    }
    await markRunOk(trx, runId, finish());
  });
}

/** Per store (a process may open several): the latest run's parsed report. */
const cachedReports = new WeakMap<Store, { id: number; report: ClvRunReport }>();

/** The latest successful run's report, or undefined before the first (parsed once per run). */
export async function latestClvRun(store: Store): Promise<{ id: number; finishedAt: number; trigger: ClvTrigger; report: ClvRunReport } | undefined> {
  const r = await lastOkRun(store.db, CLV_JOB);
  if (!r) return undefined;
  let cached = cachedReports.get(store);
  if (cached?.id !== r.id) {
    const report = await runReport(store.db, r.id);
    if (!report) return undefined;
    cached = { id: r.id, report: JSON.parse(report) as ClvRunReport };
    cachedReports.set(store, cached);
  }
  return { id: r.id, finishedAt: Number(r.finishedAt), trigger: r.trigger as ClvTrigger, report: cached.report };
}
