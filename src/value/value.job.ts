/**
 * The CLV job: from the stored orders to per-customer value.
 *
 *  1. the database summarises the orders per customer (orders.repository.ts);
 *  2. the purchase models (BG/NBD, MBG/NBD) and Gamma-Gamma are fitted on that summary (fit.ts);
 *  3. the models are validated: refitted on a calibration period of a sample of customers
 *     and their predictions compared with what the sample actually bought in the holdout;
 *     the purchase model with the lowest holdout error scores (the lowest BIC without a holdout);
 *  4. every customer is scored with it (P(alive), expected purchases and spend, discounted CLV,
 *     value at risk) and given RFM scores;
 *  5. the scores replace the previous run's in one transaction, and the run is recorded with
 *     its report (parameters, diagnostics, validation, distribution).
 *
 * It runs from `rapport clv run`, after imports that brought orders, on the server's schedule,
 * and after the demo company is loaded.
 */
import { RapportError } from '../core/errors.js';
import { fitSummary, fitTransactions, fittedModel, type FitReport, type PurchaseModel } from './fit.js';
import { newestOrderId, samplePurchases, summarizeOrders, type OrdersSummary } from './orders.repository.js';
import { preferenceMatrices } from './preferences.js';
import { ordersCurrency } from './currency.js';
import { distribution, rfmSummary, type ClvRunReport, type ClvSettings, type ScoringReport, type ValidationReport } from './run-report.js';
import { CLV_JOB, finishRun, type RunDone } from './runs.repository.js';
import { readMeta, replaceCustomerValues, writeMeta, type CustomerValueTuple } from './value.repository.js';
import { LIVE_WINDOW_DAYS, runAsOf, STRAY_GAP_DAYS, type RunAsOf } from '../models/clv/as-of.js';
import { DAY_MS } from '../models/time.js';
import { PURCHASE_MODEL_LABELS } from '../models/clv/purchase-model.js';
import { DEFAULT_VALUE_OPTIONS, scoreWith, type Scores } from '../models/clv/score.js';
import { isoOfDay, meanRepeatSpend, PERIOD_DAYS, type Period } from '../models/clv/summary.js';
import { rfmScores, type RfmScores } from '../models/segments/rfm.js';
import { microSegments } from '../models/segments/micro.js';
import type { Store } from '../store/db.js';
import type { ClvTrigger } from '../store/schema.js';
import { defineJob, directContext, type Due, type DuePolicy, type JobContext } from '../jobs/job.js';
import { recordRun, reportField } from '../jobs/runs.js';
import { lastEndedRun } from '../jobs/runs.repository.js';

export { CLV_JOB };

export type { ClvRunReport, ClvSettings, HistogramBin, ValidationReport } from './run-report.js';
export { latestClvRun } from './runs.js';

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
  /** Score with this purchase model instead of the one the holdout prefers (`rapport clv run --model`). */
  model?: RunModel;
  now?: () => number;
  /**
   * Runs the run's writes (its record, the results swap) one at a time with the caller's other
   * writes: the server passes its write queue, so that no write transaction is open around them.
   */
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface ClvRunResult {
  runId: number;
  report: ClvRunReport;
}

/** The purchase models a run fits, validates and chooses from. */
export const RUN_MODELS = ['bgnbd', 'mbgnbd'] as const satisfies readonly PurchaseModel[];
export type RunModel = (typeof RUN_MODELS)[number];

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
  records: { seen: async (store) => ({ lastOrderRef: await lastOrderRef(store) }) },
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
  const stored = await readMeta(store.db, SETTINGS_KEY);
  let saved: Partial<ClvSettings> = {};
  if (stored !== undefined) {
    try {
      saved = JSON.parse(stored) as Partial<ClvSettings>;
    } catch {
      saved = {};
    }
  }
  const defined = Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) as Partial<ClvSettings>;
  const settings = { ...DEFAULT_CLV_SETTINGS, ...saved, ...defined };
  if (Object.keys(defined).length > 0) await writeMeta(store.db, SETTINGS_KEY, JSON.stringify(settings));
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
  return newestOrderId(store.db);
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
  let orders = await summarizeOrders(store, options.asOfDay);
  if (orders.customerId.length === 0) throw new RapportError('invalid_input', 'no orders stored yet: customer value needs order history (import orders, or load the demo)');
  // Today for live data, else the end of the data, robust to a stray late or future-dated order (see as-of.ts).
  const asOf: RunAsOf | undefined = options.asOfDay === undefined ? runAsOf(orders.lastDay, Math.floor(now() / DAY_MS)) : undefined;
  const asOfDay = asOf ? asOf.day : options.asOfDay!;
  if (asOfDay < orders.maxDay) orders = await summarizeOrders(store, asOfDay);
  const t1 = performance.now();

  const { summary, repeatCustomers } = modelInput(orders, asOfDay, per);
  let fit = fitSummary(summary, { model: 'all', models: RUN_MODELS });
  const t2 = performance.now();

  const validation = await validate(store, orders, asOfDay, options.validationCustomers ?? 100_000, options.model);
  const t3 = performance.now();

  const scoring = chooseModel(fit, validation, options.model);
  const scored = scoreChosen(summary, fit, scoring.model, settings, per, repeatCustomers);
  fit = scored.fit;
  const { scores } = scored;
  if (scoring.by === 'holdout') {
    fit.preferred = scoring.model;
    fit.preferredBy = 'holdout';
  }
  const valued = fit.gammaGamma !== undefined;
  const t4 = performance.now();

  const rfm = rfmOf(orders, asOfDay);
  const t5 = performance.now();
  const seg = await segment(store, orders, scores, valued, asOfDay);
  const t6 = performance.now();

  const currency = await ordersCurrency(store, asOfDay);
  const warnings = [...fit.warnings, ...(currency?.note ? [currency.note] : [])];
  if (!valued) warnings.push('no spend model: CLV and value at risk are left empty (P(alive) and expected purchases are still scored)');
  if ('skipped' in validation) warnings.push(`validation skipped: ${validation.skipped}`);
  const report: ClvRunReport = {
    asOf: isoOfDay(asOfDay),
    asOfReason: asOf ? asOfText(asOf) : 'the day asked for',
    ...(asOf ? { asOfRule: asOf.live ? ('live' as const) : ('end of data' as const), dataEnd: isoOfDay(asOf.dataEnd) } : {}),
    lastOrderRef: lastRef,
    period,
    settings,
    currency,
    orders: orders.orders,
    customers: orders.customerId.length,
    repeatCustomers,
    fit,
    scoring,
    validation,
    distribution: distribution(scores, valued),
    rfm: rfmSummary(rfm, scores, orders.spend, valued),
    segments: seg.report,
    // The fit's time includes scoring with the chosen model, as before the choice existed.
    timings: { summaryMs: t1 - t0, fitMs: t2 - t1 + (t4 - t3), validationMs: t3 - t2, scoreMs: t5 - t4, segmentMs: t6 - t5, writeMs: 0, totalMs: 0 },
    warnings,
  };
  await options.serialize(() =>
    writeResults(store, runId, orders, scores, rfm, seg.labels, valued, () => {
      report.timings.writeMs = performance.now() - t6;
      report.timings.totalMs = performance.now() - t0;
      return { finishedAt: now(), items: orders.customerId.length, report: JSON.stringify(report) };
    }),
  );
  return report;
}

/** The sentence the value page shows after "As of <day>": which rule gave the day, and why. */
function asOfText(a: RunAsOf): string {
  const who = `${a.ignoredCustomers.toLocaleString('en-US')} customer${a.ignoredCustomers === 1 ? '' : 's'}`;
  const behind = a.daysBehind === 0 ? 'today' : a.daysBehind === 1 ? '1 day ago' : `${a.daysBehind.toLocaleString('en-US')} days ago`;
  const left =
    a.reason === 'future orders ignored'
      ? `; orders of ${who} dated in the future (up to ${isoOfDay(a.latestDay)}) are left out`
      : a.reason === 'stray orders ignored'
        ? `; the last orders of ${who}, dated up to ${isoOfDay(a.latestDay)} after a gap of ${STRAY_GAP_DAYS} days or more, are left out as strays`
        : '';
  if (a.live) return `today: live data, orders are still arriving (the latest ${behind}, within ${LIVE_WINDOW_DAYS} days)${left}`;
  const end = a.reason === 'stray orders ignored' ? 'the end of the order history' : 'the latest order';
  return `${end}: an imported history, its last order ${behind} (more than ${LIVE_WINDOW_DAYS} days), so it is taken as complete up to then${left}`;
}

type ModelSummary = { frequency: Float64Array; recency: Float64Array; T: Float64Array; monetary: Float64Array };

/** The models' input from the orders summary: repeat purchases x, recency t_x and age T in periods, and mean repeat spend. */
function modelInput(orders: OrdersSummary, asOfDay: number, per: number): { summary: ModelSummary; repeatCustomers: number } {
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
    monetary[i] = meanRepeatSpend(orders.spend[i]!, orders.firstDaySpend[i]!, orders.purchaseDays[i]!);
    if (x > 0) repeatCustomers++;
  }
  return { summary: { frequency, recency, T, monetary }, repeatCustomers };
}

/**
 * Which purchase model scores: the one asked for; else the lowest holdout mean absolute error
 * per customer (the models refitted on the calibration period of the same sample); without a
 * holdout (too little history), the lowest BIC of the fits on everyone. The report names it,
 * why, and every candidate's figures.
 */
function chooseModel(fit: FitReport, validation: ValidationReport | { skipped: string }, requested: RunModel | undefined): ScoringReport {
  const errors = new Map<PurchaseModel, number>();
  if (!('skipped' in validation)) for (const m of validation.models ?? []) if (Number.isFinite(m.meanAbsoluteError)) errors.set(m.model, m.meanAbsoluteError);
  const candidates = RUN_MODELS.filter((m) => fit[m] !== undefined).map((m) => ({
    model: m,
    bic: fit[m]!.bic,
    logLikelihood: fit[m]!.logLikelihood,
    holdoutMeanAbsoluteError: errors.get(m) ?? null,
  }));
  const name = (m: PurchaseModel): string => PURCHASE_MODEL_LABELS[m];
  const list = (key: 'holdoutMeanAbsoluteError' | 'bic', digits: number): string =>
    [...candidates].sort((a, b) => (a[key] ?? Infinity) - (b[key] ?? Infinity)).map((c) => `${name(c.model)} ${c[key]!.toFixed(digits)}`).join(', ');
  if (requested) return { model: requested, by: 'requested', reason: `${name(requested)} as asked for (--model)`, candidates };
  if (candidates.every((c) => c.holdoutMeanAbsoluteError !== null)) {
    const best = candidates.reduce((a, b) => (b.holdoutMeanAbsoluteError! < a.holdoutMeanAbsoluteError! ? b : a));
    return {
      model: best.model,
      by: 'holdout',
      reason: `lowest holdout error: mean absolute error of the repeat purchases predicted per customer, ${list('holdoutMeanAbsoluteError', 4)}`,
      candidates,
    };
  }
  const best = candidates.reduce((a, b) => (b.bic < a.bic ? b : a));
  const why = 'skipped' in validation ? 'no holdout validation' : 'no finite holdout error for every model';
  return { model: best.model, by: 'bic', reason: `${why}, so the lowest BIC on all customers: ${list('bic', 1)}`, candidates };
}

/**
 * Every customer scored with the chosen purchase model and Gamma-Gamma. A handful of customers
 * can drive a and b off to infinity (no drop-out at all fits them best), where the forecasts
 * cannot be evaluated: the chosen model (and the spend model) are then refitted with a small
 * L2 penalty, as lifetimes recommends for small data.
 */
function scoreChosen(summary: ModelSummary, fit: FitReport, m: PurchaseModel, settings: ClvSettings, per: number, repeatCustomers: number): { fit: FitReport; scores: Scores } {
  const n = summary.frequency.length;
  const options = { ...settings, periodDays: per };
  let scores = scoreWith(fittedModel(fit, m), fit.gammaGamma, summary, options);
  if (finiteScores(scores, fit.gammaGamma !== undefined)) return { fit, scores };
  const before: Record<string, number> = { ...fittedModel(fit, m).params };
  const refit = fitSummary(summary, { model: 'all', models: [m], penalizer: DEGENERATE_PENALIZER });
  const shown = Object.entries(before)
    .map(([k, v]) => `${k} = ${v.toPrecision(3)}`)
    .join(', ');
  const merged: FitReport = { ...fit, [m]: refit[m], gammaGamma: refit.gammaGamma, warnings: [...fit.warnings] };
  if (!refit.gammaGamma) delete merged.gammaGamma;
  merged.warnings.unshift(`the plain maximum-likelihood fit of ${PURCHASE_MODEL_LABELS[m]} was degenerate on ${n} customers (${shown}); refitted with an L2 penalty of ${DEGENERATE_PENALIZER}`);
  scores = scoreWith(fittedModel(merged, m), merged.gammaGamma, summary, options);
  if (!finiteScores(scores, merged.gammaGamma !== undefined)) {
    throw new RapportError('invalid_input', `the models cannot be fitted meaningfully on ${n} customers with orders (${repeatCustomers} bought again): the forecasts are not finite`);
  }
  return { fit: merged, scores };
}

/** RFM scores: recency in days before the as-of day, frequency in purchase days, monetary in total spend. */
function rfmOf(orders: OrdersSummary, asOfDay: number): RfmScores {
  const n = orders.customerId.length;
  const recency = new Float64Array(n);
  const frequency = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    recency[i] = asOfDay - orders.lastDay[i]!;
    frequency[i] = orders.purchaseDays[i]!;
  }
  return rfmScores({ recency, frequency, monetary: orders.spend });
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
  const p = await preferenceMatrices(store.db, o.customerId, { categories: 8, channels: 5 }, asOfDay);
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
 * span (at most 26 weeks) is held out, the purchase models are refitted on the time before
 * it, and the repeat purchases they predict for the holdout are compared with the actual ones.
 */
async function validate(store: Store, orders: OrdersSummary, asOfDay: number, maxCustomers: number, requested: RunModel | undefined): Promise<ValidationReport | { skipped: string }> {
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
    const holdoutEnd = Math.min(asOfDay, lastDay);
    const r = fitTransactions({ customer, day: p.day, amount: p.amount, customers: index.size, hasAmounts: false }, { model: 'all', models: RUN_MODELS, period: 'week', calibrationEnd, holdoutEnd });
    const models = RUN_MODELS.map((m) => {
      const f = r[m]!;
      const mh = r.holdoutByModel![m]!;
      return { model: m, params: { r: f.r, alpha: f.alpha, a: f.a, b: f.b }, meanAbsoluteError: mh.meanAbsoluteError, predictedRepeatPurchases: mh.predictedRepeatPurchases };
    });
    const preferred: RunModel = r.preferred === 'mbgnbd' ? 'mbgnbd' : 'bgnbd';
    // The stored figures (tracking, by frequency) are those of the model that scores: the
    // preferred one unless the run asks for another (every model's error is in `models`).
    const shown = requested ?? preferred;
    const h = r.holdoutByModel![shown]!;
    return {
      calibrationEnd: isoOfDay(calibrationEnd),
      holdoutEnd: isoOfDay(holdoutEnd),
      customers: r.customers,
      sampleEvery: every,
      bgnbd: { r: r.bgnbd!.r, alpha: r.bgnbd!.alpha, a: r.bgnbd!.a, b: r.bgnbd!.b },
      holdoutLength: h.holdoutLength,
      predictedRepeatPurchases: h.predictedRepeatPurchases,
      actualRepeatPurchases: h.actualRepeatPurchases,
      meanAbsoluteError: h.meanAbsoluteError,
      byFrequency: h.byFrequency,
      tracking: h.tracking,
      models,
      preferred,
      model: shown,
    };
  } catch (e) {
    if (e instanceof RapportError) return { skipped: e.message };
    throw e;
  }
}

/** Replaces every customer's value with this run's, and marks the run done, in one transaction. */
async function writeResults(
  store: Store,
  runId: number,
  o: OrdersSummary,
  s: Scores,
  rfm: RfmScores,
  segments: Int32Array | undefined,
  valued: boolean,
  finish: () => RunDone,
): Promise<void> {
  const num = (v: number): number | null => (valued && Number.isFinite(v) ? v : null);
  // One tuple filled anew for each row: the swap reads it before asking for the next.
  const t: CustomerValueTuple = [0, runId, 0, 0, 0, 0, 0, 0, 0, null, null, null, 0, 0, 0, '', null];
  const row = (i: number): CustomerValueTuple => {
    t[0] = o.customerId[i]!;
    t[2] = o.firstDay[i]!;
    t[3] = o.lastDay[i]!;
    t[4] = o.purchaseDays[i]!;
    t[5] = o.spend[i]!;
    t[6] = meanRepeatSpend(o.spend[i]!, o.firstDaySpend[i]!, o.purchaseDays[i]!);
    t[7] = s.pAlive[i]!;
    t[8] = s.expectedPurchases[i]!;
    t[9] = num(s.expectedSpend[i]!);
    t[10] = num(s.clv[i]!);
    t[11] = num((1 - s.pAlive[i]!) * s.valueIfAlive[i]!);
    t[12] = rfm.r[i]!;
    t[13] = rfm.f[i]!;
    t[14] = rfm.m[i]!;
    t[15] = rfm.group[i]!;
    t[16] = segments ? segments[i]! : null;
    return t;
  };
  await replaceCustomerValues(store, o.customerId.length, row, (db) => finishRun(db, runId, finish()));
}
