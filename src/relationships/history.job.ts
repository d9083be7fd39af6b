/**
 * The stage history job: where every customer stood on the LOVE ladder at the end of each of
 * the last complete months (the rules' `history.months`), from the stored rows, and what that
 * says of the population (models/stages/history.ts).
 *
 *  - full: every customer's rows are read once and placed month by month (models/stages/timeline.ts);
 *  - incremental: when the months and the rules are those of the last run and few customers
 *    have rows newer than it (an import, a day of events), only those customers are read again;
 *    the population's summary is then recomputed from every stored history.
 * A month that completes moves the window: that run is full.
 *
 * It runs from `rapport stages history`, `POST /api/stages/history/run`, after the demo is
 * loaded, and on the server's schedule once new data have settled (before the stages run,
 * whose opportunity values read its moves up).
 */
import { RapportError } from '../core/errors.js';
import { defineJob, directContext, type Due, type DuePolicy, type JobContext } from '../jobs/job.js';
import { recordRun, reportField } from '../jobs/runs.js';
import { lastEndedRun, markRunOk } from '../jobs/runs.repository.js';
import { featurePlan } from '../models/stages/features.js';
import { customerHistory, summarizeHistory, type HistorySummary } from '../models/stages/history.js';
import { ABSENT, historyMonths, monthLabel, Timeline } from '../models/stages/timeline.js';
import { monthOfMs } from '../models/time.js';
import type { Conn, Store } from '../store/db.js';
import { gatherTimeline, readRows, timelineSink } from './features.js';
import { customerSegments, customersWithRowsAfter, eachHistory, firstSeenOf, latestHistoryRun, replaceHistories, saveHistoryRun, updateHistories } from './history.repository.js';
import { newestIds } from './refs.repository.js';
import { rulesInForce, sameRules } from './rules.js';
import { stagesAsOf } from './stages.job.js';
import { idRange, listCustomers, positions, type CustomerList } from './stages.repository.js';

export const HISTORY_JOB = 'stage-history';
/** Customers with new rows above which a run reads everyone again. */
const INCREMENTAL_LIMIT = 20_000;

export interface HistoryRunOptions {
  trigger: string;
  asOf?: number;
  /** Read every customer even when an incremental run would do. */
  full?: boolean;
  /** Interactions from which a SQLite file's are read on two threads (default 1,000,000). */
  parallelAbove?: number;
}

export interface HistoryRunReport {
  asOf: string;
  months: { first: string; last: string; count: number };
  mode: 'full' | 'incremental';
  /** Threads that read the interactions. */
  threads: number;
  /** Why the run read what it read. */
  why: string;
  customers: number;
  /** Customers read again (incremental), or every customer. */
  read: number;
  rows: number;
  placements: number;
  seen: { interactions: number; orders: number; feedback: number };
  timings: { readMs: number; placeMs: number; summaryMs: number; writeMs: number; totalMs: number };
}

export interface HistoryRunResult {
  runId: number;
  report: HistoryRunReport;
}

export const historyJob = defineJob<HistoryRunOptions, HistoryRunResult>({
  name: HISTORY_JOB,
  module: import.meta.url,
  run: (ctx, options) => doRun(ctx, options),
  deadlineMs: 15 * 60_000,
  schedule: {
    title: 'relationship history',
    due: historyDue,
    options: { trigger: 'schedule' },
    done: ({ report }, why) => `relationship history recomputed (${why}, ${report.mode}): ${report.read} of ${report.customers} customers read in ${(report.timings.totalMs / 1000).toFixed(1)} s`,
  },
  records: { seen: async (store) => ({ seen: await newestIds(store.db) }) },
});

export function runHistory(store: Store, options: HistoryRunOptions, now?: () => number): Promise<HistoryRunResult> {
  return historyJob.run(directContext(store, now ? { now } : {}), options);
}

/** Due with customers and no run yet, after new data settled, when a month completed, and at least every `everyMs`. */
export async function historyDue(store: Store, now: number, o: DuePolicy): Promise<Due> {
  const seen = await newestIds(store.db);
  if (seen.interactions + seen.orders + seen.feedback === 0) return { due: false };
  const last = await lastEndedRun(store.db, HISTORY_JOB);
  if (!last) return { due: true, why: 'no run yet' };
  const at = last.finishedAt ?? last.startedAt;
  if (now - at >= o.everyMs) return { due: true, why: 'scheduled' };
  if (monthOfMs(now) !== monthOfMs(at) && last.status === 'ok') {
    const stored = await latestHistoryRun(store.db);
    const { asOf } = await stagesAsOf(store, now);
    if (stored && stored.first_month + stored.months - 1 !== historyMonths(asOf, stored.months).at(-1)) return { due: true, why: 'a month completed' };
  }
  const before = reportField<HistoryRunReport['seen']>(last.report, 'seen');
  const changed = !before || before.interactions !== seen.interactions || before.orders !== seen.orders || before.feedback !== seen.feedback;
  if (changed && now - at >= o.settleMs) return { due: true, why: last.status === 'failed' ? 'new data since the failed run' : 'new data' };
  return { due: false };
}

async function doRun(ctx: JobContext, options: HistoryRunOptions): Promise<HistoryRunResult> {
  const seen = await newestIds(ctx.store.db);
  const { runId, result } = await recordRun(ctx, { job: HISTORY_JOB, trigger: options.trigger, failedReport: () => ({ seen }) }, (runId) => compute(ctx, options, runId, seen));
  return { runId, report: result };
}

const DIGITS = '01234';

/** A customer's months as text: a digit per month, - before first seen. */
function historyText(stages: Uint8Array, K: number, i: number): string {
  let s = '';
  for (let k = 0; k < K; k++) {
    const v = stages[i * K + k]!;
    s += v === ABSENT ? '-' : DIGITS[v]!;
  }
  return s;
}

function historyRow(runId: number, id: number, stages: Uint8Array, K: number, i: number, firstAt: number): unknown[] {
  const h = customerHistory(stages, K, i);
  return [id, runId, Number.isFinite(firstAt) ? monthOfMs(firstAt) : null, historyText(stages, K, i), h?.stage ?? null, h?.monthsAtStage ?? 0, h?.peak ?? null];
}

async function compute(ctx: JobContext, options: HistoryRunOptions, runId: number, seen: HistoryRunReport['seen']): Promise<HistoryRunReport> {
  const { store } = ctx;
  const t0 = performance.now();
  const force = await rulesInForce(store.db);
  const { rules } = force;
  const { asOf } = await stagesAsOf(store, ctx.now(), options.asOf);
  const months = historyMonths(asOf, rules.history.months);
  const K = months.length;
  const plan = featurePlan(rules, asOf);
  const stored = await latestHistoryRun(store.db);
  // What the last run had seen, when it succeeded and its history is the one stored.
  const lastRun = await lastEndedRun(store.db, HISTORY_JOB);
  const before = lastRun?.status === 'ok' && stored?.run_id === lastRun.id ? reportField<HistoryRunReport['seen']>(lastRun.report, 'seen') : undefined;
  let why = 'first run';
  let changed: number[] | null = null;
  if (options.full) why = 'asked for a full run';
  else if (stored && before) {
    if (stored.first_month !== months[0] || stored.months !== K) why = 'the months moved';
    else if (!sameRules(stored.rules_source, rules)) why = 'the rules changed';
    else {
      const c = await customersWithRowsAfter(store, before, INCREMENTAL_LIMIT);
      if (c.length > INCREMENTAL_LIMIT) why = `more than ${INCREMENTAL_LIMIT.toLocaleString('en')} customers have new rows`;
      else changed = c;
    }
  }
  const segmentOf = new Map<number, number>();
  for (const [id, s] of await customerSegments(store)) segmentOf.set(Number(id), Number(s));

  if (changed === null) {
    // Full: every customer's rows, read once.
    const list = await listCustomers(store);
    if (list.ids.length === 0) throw new RapportError('invalid_input', 'no customers stored yet: a stage history needs customers and their interactions (import them, or load the demo)');
    const n = list.ids.length;
    const [ilo, ihi] = await idRange(store, 'interactions');
    const [olo, ohi] = await idRange(store, 'orders');
    const [flo, fhi] = await idRange(store, 'feedback');
    const timeline = new Timeline(rules, plan, months, n, { interactions: ihi - ilo + 1, others: ohi - olo + 1 + (fhi - flo + 1) });
    const threads = await gatherTimeline(store, plan, rules, list, timeline, options.parallelAbove === undefined ? {} : { parallelAbove: options.parallelAbove });
    const t1 = performance.now();
    const res = timeline.place();
    const t2 = performance.now();
    const segment = Int32Array.from(list.ids, (id) => segmentOf.get(id) ?? -1);
    const firstMonth = Float64Array.from(res.firstAt, (t) => (Number.isFinite(t) ? monthOfMs(t) : Number.NaN));
    const summary = summarizeHistory({ months, stages: res.stages, firstMonth, segment, horizonMonths: rules.history.horizonMonths });
    const t3 = performance.now();
    const report = (writeMs: number): HistoryRunReport => ({
      asOf: new Date(asOf).toISOString(),
      months: { first: monthLabel(months[0]!), last: monthLabel(months[K - 1]!), count: K },
      mode: 'full',
      why,
      threads,
      customers: n,
      read: n,
      rows: res.rows,
      placements: res.placements,
      seen,
      timings: { readMs: Math.round(t1 - t0), placeMs: Math.round(t2 - t1), summaryMs: Math.round(t3 - t2), writeMs: Math.round(writeMs), totalMs: Math.round(performance.now() - t0) },
    });
    const t4 = performance.now();
    await replaceHistories(
      store,
      { count: n, row: (i) => historyRow(runId, list.ids[i]!, res.stages, K, i, res.firstAt[i]!) },
      async (db) => {
        await saveRun(db, runId, asOf, months, force.source, summary, ctx.now());
        await markRunOk(db, runId, { finishedAt: ctx.now(), items: n, report: JSON.stringify(report(performance.now() - t4)) });
      },
      ctx.serialize,
    );
    return report(performance.now() - t4);
  }

  // Incremental: the customers with new rows are read again, one by one.
  const ids = Float64Array.from(changed);
  const first = await firstSeenOf(store.db, changed);
  const list: CustomerList = { ids, firstSeen: Float64Array.from(changed, (id) => first.get(id) ?? Number.POSITIVE_INFINITY), positionOf: positions(ids) };
  const timeline = new Timeline(rules, plan, months, ids.length);
  list.firstSeen.forEach((t, i) => {
    if (Number.isFinite(t)) timeline.seen(i, t);
  });
  const sink = timelineSink(timeline);
  for (const id of changed) await readRows(store, plan, rules, list, sink, { customerId: id });
  const t1 = performance.now();
  const res = timeline.place();
  const t2 = performance.now();
  const t4 = performance.now();
  await ctx.serialize(() => store.db.transaction().execute((trx) => updateHistories(trx, changed.map((id, i) => historyRow(runId, id, res.stages, K, i, res.firstAt[i]!)))));
  const writeMs = performance.now() - t4;
  // The population's summary, from every stored history.
  const all: { ids: number[]; first: number[]; text: string[] } = { ids: [], first: [], text: [] };
  await eachHistory(store, (slice) => {
    for (const [id, fm, h] of slice) {
      all.ids.push(Number(id));
      all.first.push(fm === null ? Number.NaN : Number(fm));
      all.text.push(String(h));
    }
  });
  const n = all.ids.length;
  const stages = new Uint8Array(n * K);
  all.text.forEach((h, i) => {
    for (let k = 0; k < K; k++) {
      const c = h.charCodeAt(k);
      stages[i * K + k] = c >= 48 && c <= 52 ? c - 48 : ABSENT;
    }
  });
  const summary = summarizeHistory({ months, stages, firstMonth: Float64Array.from(all.first), segment: Int32Array.from(all.ids, (id) => segmentOf.get(id) ?? -1), horizonMonths: rules.history.horizonMonths });
  const t3 = performance.now();
  const report: HistoryRunReport = {
    asOf: new Date(asOf).toISOString(),
    months: { first: monthLabel(months[0]!), last: monthLabel(months[K - 1]!), count: K },
    mode: 'incremental',
    threads: 1,
    why: changed.length === 0 ? 'no customer has new rows' : `${changed.length} customers have new rows`,
    customers: n,
    read: changed.length,
    rows: res.rows,
    placements: res.placements,
    seen,
    timings: { readMs: Math.round(t1 - t0), placeMs: Math.round(t2 - t1), summaryMs: Math.round(t3 - t2 - writeMs), writeMs: Math.round(writeMs), totalMs: Math.round(performance.now() - t0) },
  };
  await ctx.serialize(() =>
    store.db.transaction().execute(async (trx) => {
      await saveRun(trx, runId, asOf, months, force.source, summary, ctx.now());
      await markRunOk(trx, runId, { finishedAt: ctx.now(), items: changed.length, report: JSON.stringify(report) });
    }),
  );
  return report;
}

async function saveRun(db: Conn, runId: number, asOf: number, months: number[], rulesSource: string, summary: HistorySummary, at: number): Promise<void> {
  await saveHistoryRun(db, { run_id: runId, as_of: asOf, first_month: months[0]!, months: months.length, rules_source: rulesSource, summary: JSON.stringify(summary), created_at: at });
}
