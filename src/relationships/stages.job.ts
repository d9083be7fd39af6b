/**
 * The stages job: every customer placed on the LOVE ladder, with momentum, and every account
 * from its people.
 *
 *  1. the rules in force (the team's or the default) are compiled into the features to count;
 *  2. interactions, orders and feedback are read in id slices and counted per customer
 *     (models/stages/features.ts), up to the as-of time: now, or the latest activity when the
 *     data end earlier (an imported history);
 *  3. each customer is placed at the highest stage whose rule they meet; momentum compares
 *     their activity in the last window with the one before, and P(alive) from the latest
 *     customer-value run with P(alive) one window before its as-of day;
 *  4. accounts take the highest stage held by at least `min_people` of their people, or their
 *     most valuable person's, whichever is higher;
 *  5. the placements replace the previous run's, swapped in with the run's record (in turns of
 *     the write queue: store/table-swap.ts).
 *
 * It runs from `rapport stages run`, `POST /api/stages/run`, after the demo is loaded, and on
 * the server's schedule once new data have settled.
 */
import { RapportError } from '../core/errors.js';
import { DAY_MS } from '../core/time.js';
import { defineJob, directContext, type Due, type DuePolicy, type JobContext } from '../jobs/job.js';
import { recordRun, reportField } from '../jobs/runs.js';
import { lastEndedRun, markRunOk } from '../jobs/runs.repository.js';
import { modelPAlive } from '../models/clv/purchase-model.js';
import { placer } from '../models/stages/engine.js';
import { featurePlan } from '../models/stages/features.js';
import { momentumOf } from '../models/stages/momentum.js';
import { MOMENTA, STAGE_KEYS, type Momentum } from '../models/stages/rules.js';
import type { Store } from '../store/db.js';
import { fittedModel } from '../value/fit.js';
import { summarizeOrders } from '../value/orders.repository.js';
import { latestClvRun } from '../value/runs.js';
import { gatherFeatures } from './features.js';
import { computeLov, type LovReport } from './lov.js';
import { rulesInForce } from './rules.js';
import { accountMembers, customerValues, latestSeen, listCustomers, replaceStages } from './stages.repository.js';
import { newestIds } from './refs.repository.js';

export const STAGES_JOB = 'stages';

export interface StagesRunOptions {
  trigger: string;
  /** As-of time (epoch ms); default now, or the latest activity when the data end earlier. */
  asOf?: number;
  /** Interactions from which a SQLite file's are counted on two threads (default 1,000,000). */
  parallelAbove?: number;
}

export interface StagesRunReport {
  asOf: string;
  asOfRule: 'now' | 'end of data' | 'given';
  rules: { version: number | null; name: string };
  customers: number;
  stages: { key: string; name: string; customers: number }[];
  momentum: Record<Momentum, number>;
  /** Customers whose P(alive) trend was read (valued by a customer-value run). */
  pAliveRead: number;
  accounts: number;
  /** What the run had seen: the newest interaction, order and feedback ids. */
  seen: { interactions: number; orders: number; feedback: number };
  timings: { readMs: number; placeMs: number; writeMs: number; totalMs: number };
  /** Threads that counted the interactions. */
  threads: number;
  /** Lifetime Opportunity Value: the worths, the opportunity cells and the totals per stage. */
  lov: LovReport;
}

export interface StagesRunResult {
  runId: number;
  report: StagesRunReport;
}

export const stagesJob = defineJob<StagesRunOptions, StagesRunResult>({
  name: STAGES_JOB,
  module: import.meta.url,
  run: (ctx, options) => doRun(ctx, options),
  deadlineMs: 15 * 60_000,
  schedule: {
    title: 'relationship stages',
    due: stagesDue,
    options: { trigger: 'schedule' },
    done: ({ report }, why) => `relationship stages recomputed (${why}): ${report.customers} customers in ${(report.timings.totalMs / 1000).toFixed(1)} s`,
  },
  records: { seen: async (store) => ({ seen: await newestIds(store.db) }) },
});

/** Runs the stages job on the caller's thread (the CLI, tests). */
export function runStages(store: Store, options: StagesRunOptions, now?: () => number): Promise<StagesRunResult> {
  return stagesJob.run(directContext(store, now ? { now } : {}), options);
}

/** Due when there are customers and no run yet, when data arrived since the last run and settled, and at least every `everyMs`. */
export async function stagesDue(store: Store, now: number, o: DuePolicy): Promise<Due> {
  const seen = await newestIds(store.db);
  if (seen.interactions + seen.orders + seen.feedback === 0) return { due: false };
  const last = await lastEndedRun(store.db, STAGES_JOB);
  if (!last) return { due: true, why: 'no run yet' };
  const at = last.finishedAt ?? last.startedAt;
  if (now - at >= o.everyMs) return { due: true, why: 'scheduled' };
  const before = reportField<StagesRunReport['seen']>(last.report, 'seen');
  const changed = !before || before.interactions !== seen.interactions || before.orders !== seen.orders || before.feedback !== seen.feedback;
  if (changed && now - at >= o.settleMs) return { due: true, why: last.status === 'failed' ? 'new data since the failed run' : 'new data' };
  return { due: false };
}

async function doRun(ctx: JobContext, options: StagesRunOptions): Promise<StagesRunResult> {
  const seen = await newestIds(ctx.store.db);
  const { runId, result } = await recordRun(ctx, { job: STAGES_JOB, trigger: options.trigger, failedReport: () => ({ seen }) }, (runId) => compute(ctx, options, runId, seen));
  return { runId, report: result };
}

/** The as-of time: the one given, else now, or the latest activity when the data end before now. */
export async function stagesAsOf(store: Store, now: number, given?: number): Promise<{ asOf: number; rule: StagesRunReport['asOfRule'] }> {
  if (given !== undefined) return { asOf: given, rule: 'given' };
  const latest = await latestSeen(store.db);
  return latest !== null && latest < now ? { asOf: latest, rule: 'end of data' } : { asOf: now, rule: 'now' };
}

/** P(alive) now (the CLV run's) and one window before its as-of day, per customer id. */
async function pAliveTrend(store: Store, windowDays: number, values: readonly unknown[][]): Promise<Map<number, { now: number; then: number }>> {
  const out = new Map<number, { now: number; then: number }>();
  const run = await latestClvRun(store);
  if (!run) return out;
  const { report } = run;
  const modelName = report.scoring?.model ?? 'bgnbd';
  if (!report.fit[modelName]) return out;
  const model = fittedModel(report.fit, modelName);
  const asOfDay = Math.floor(Date.parse(report.asOf) / DAY_MS);
  const thenDay = asOfDay - windowDays;
  const per = 7;
  const then = await summarizeOrders(store, thenDay);
  const thenOf = new Map<number, number>();
  for (let i = 0; i < then.customerId.length; i++) {
    const first = then.firstDay[i]!;
    const x = then.purchaseDays[i]! - 1;
    const tx = (then.lastDay[i]! - first) / per;
    const T = (thenDay + 1 - first) / per;
    thenOf.set(then.customerId[i]!, T > 0 ? modelPAlive(model, x, tx, T) : 1);
  }
  for (const [id, , pAlive, firstDay] of values) {
    const c = Number(id);
    // A customer whose first purchase came after that day was not yet a buyer: no trend.
    if (Number(firstDay) > thenDay) continue;
    const t = thenOf.get(c);
    if (t !== undefined) out.set(c, { now: Number(pAlive), then: t });
  }
  return out;
}

async function compute(ctx: JobContext, options: StagesRunOptions, runId: number, seen: StagesRunReport['seen']): Promise<StagesRunReport> {
  const { store } = ctx;
  const t0 = performance.now();
  const force = await rulesInForce(store.db);
  const { rules } = force;
  const { asOf, rule } = await stagesAsOf(store, ctx.now(), options.asOf);
  const plan = featurePlan(rules, asOf);
  const list = await listCustomers(store);
  if (list.ids.length === 0) throw new RapportError('invalid_input', 'no customers stored yet: stages need customers and their interactions (import them, or load the demo)');
  const f = await gatherFeatures(store, plan, rules, list, options.parallelAbove === undefined ? {} : { parallelAbove: options.parallelAbove });
  // Every valued customer's CLV, P(alive) and first purchase day, read once for momentum and accounts.
  const values = await customerValues(store);
  const trend = await pAliveTrend(store, rules.momentum.windowDays, values);
  const t1 = performance.now();

  const n = list.ids.length;
  const stage = new Uint8Array(n);
  const met = new Uint8Array(n);
  const momentum = new Uint8Array(n);
  const pThen = new Float64Array(n).fill(Number.NaN);
  const place = placer(rules, plan);
  const perStage = new Array<number>(STAGE_KEYS.length).fill(0);
  const perMomentum: Record<Momentum, number> = { warming: 0, steady: 0, cooling: 0 };
  for (let i = 0; i < n; i++) {
    const p = place.place(f, i);
    stage[i] = p.stage;
    met[i] = p.met;
    perStage[p.stage]! += 1;
    const tr = trend.get(list.ids[i]!);
    if (tr) pThen[i] = tr.then;
    const m = momentumOf(rules.momentum, f.recentOf(i), f.previousOf(i), tr?.now ?? Number.NaN, tr?.then ?? Number.NaN).momentum;
    momentum[i] = MOMENTA.indexOf(m);
    perMomentum[m] += 1;
  }
  // Lifetime Opportunity Value: CLV, contributions and the opportunity of moving up.
  const lov = await computeLov(store, rules, f, list, stage, values);
  // Accounts: the highest stage held by at least min_people, or the most valuable person's.
  const clv = new Map<number, number>();
  for (const [id, v] of values) if (v !== null) clv.set(Number(id), Number(v));
  const members = new Map<number, number[]>();
  for (const [a, c] of await accountMembers(store)) {
    const i = list.positionOf(Number(c));
    if (i < 0) continue;
    const k = Number(a);
    const m = members.get(k);
    if (m) m.push(i);
    else members.set(k, [i]);
  }
  const accounts: unknown[][] = [];
  for (const [account, people] of members) {
    const byStage = new Array<number>(STAGE_KEYS.length).fill(0);
    let lead = -1;
    let leadValue = Number.NEGATIVE_INFINITY;
    for (const i of people) {
      byStage[stage[i]!]! += 1;
      const v = clv.get(list.ids[i]!) ?? Number.NEGATIVE_INFINITY;
      if (lead < 0 || v > leadValue) {
        lead = i;
        leadValue = v;
      }
    }
    let held = 0;
    let atOrAbove = 0;
    for (let s = STAGE_KEYS.length - 1; s >= 0; s--) {
      atOrAbove += byStage[s]!;
      if (atOrAbove >= rules.accounts.minPeople) {
        held = s;
        break;
      }
    }
    const leadStage = lead >= 0 && leadValue > Number.NEGATIVE_INFINITY ? stage[lead]! : 0;
    const basis = leadStage > held ? 'most_valuable' : 'people';
    const s = Math.max(held, leadStage);
    const holders = people.filter((i) => stage[i]! >= s).length;
    let value = 0;
    let opportunity = 0;
    for (const i of people) {
      value += lov.lov[i]!;
      if (!Number.isNaN(lov.opportunity[i]!)) opportunity += lov.opportunity[i]!;
    }
    accounts.push([account, runId, s, people.length, holders, basis, lead >= 0 ? list.ids[lead]! : null, value, lov.report.historyRunId === null ? null : opportunity]);
  }
  const t2 = performance.now();

  const report = (writeMs: number): StagesRunReport => ({
    asOf: new Date(asOf).toISOString(),
    asOfRule: rule,
    rules: { version: force.version, name: rules.name },
    customers: n,
    stages: rules.stages.map((s, k) => ({ key: s.key, name: s.name, customers: perStage[k]! })),
    momentum: perMomentum,
    pAliveRead: trend.size,
    accounts: accounts.length,
    seen,
    threads: f.threads,
    lov: lov.report,
    timings: { readMs: Math.round(t1 - t0), placeMs: Math.round(t2 - t1), writeMs: Math.round(writeMs), totalMs: Math.round(performance.now() - t0) },
  });
  const row: unknown[] = new Array(14);
  const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
  const t3 = performance.now();
  await replaceStages(
    store,
    {
      count: n,
      row: (i) => {
        row[0] = list.ids[i];
        row[1] = runId;
        row[2] = stage[i];
        row[3] = met[i];
        row[4] = MOMENTA[momentum[i]!];
        row[5] = f.recentOf(i);
        row[6] = f.previousOf(i);
        row[7] = Number.isNaN(pThen[i]!) ? null : pThen[i];
        row[8] = lov.clv[i];
        row[9] = lov.contribution[i];
        row[10] = orNull(lov.opportunity[i]!);
        row[11] = orNull(lov.low[i]!);
        row[12] = orNull(lov.high[i]!);
        row[13] = lov.lov[i];
        return row;
      },
    },
    { count: accounts.length, row: (i) => accounts[i]! },
    (db) => markRunOk(db, runId, { finishedAt: ctx.now(), items: n, report: JSON.stringify(report(performance.now() - t3)) }),
    ctx.serialize,
  );
  return report(performance.now() - t3);
}

