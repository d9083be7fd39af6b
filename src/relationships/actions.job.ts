/**
 * The actions job: the next best relationship action of the customers most worth a look (the
 * largest opportunities, the cooling ones with the most at risk, those with an open ticket),
 * each explained (models/stages/actions.ts). A run replaces the open actions; done and dismissed
 * ones stay, and an action done for a customer is not suggested again for 30 days.
 *
 * It runs after the stages run (`rapport actions run`, `POST /api/actions/run`, the schedule).
 */
import { DAY_MS } from '../core/time.js';
import { defineJob, directContext, type Due, type DuePolicy, type JobContext } from '../jobs/job.js';
import { recordRun } from '../jobs/runs.js';
import { lastEndedRun, lastOkRun, markRunOk } from '../jobs/runs.repository.js';
import { candidateActions, type ActionKind } from '../models/stages/actions.js';
import { explainStage } from '../models/stages/engine.js';
import { featurePlan } from '../models/stages/features.js';
import type { Store } from '../store/db.js';
import * as repo from './actions.repository.js';
import { gatherFeatures } from './features.js';
import { rulesInForce } from './rules.js';
import { STAGES_JOB, stagesAsOf } from './stages.job.js';

export const ACTIONS_JOB = 'actions';
/** Customers looked at per source (largest opportunities, cooling, open tickets). */
const DEFAULT_CANDIDATES = 1000;
const RECENT_MS = 30 * DAY_MS;

export interface ActionsRunOptions {
  trigger: string;
  candidates?: number;
}

export interface ActionsRunReport {
  asOf: string;
  customers: number;
  actions: number;
  byKind: Record<string, number>;
  timings: { totalMs: number };
}

export const actionsJob = defineJob<ActionsRunOptions, { runId: number; report: ActionsRunReport }>({
  name: ACTIONS_JOB,
  module: import.meta.url,
  run: async (ctx, options) => {
    const { runId, result } = await recordRun(ctx, { job: ACTIONS_JOB, trigger: options.trigger }, (runId) => compute(ctx, options, runId));
    return { runId, report: result };
  },
  deadlineMs: 10 * 60_000,
  schedule: {
    title: 'next best actions',
    due: actionsDue,
    options: { trigger: 'schedule' },
    done: ({ report }, why) => `next best actions (${why}): ${report.actions} for ${report.customers} customers in ${(report.timings.totalMs / 1000).toFixed(1)} s`,
  },
});

export function runActions(store: Store, options: ActionsRunOptions, now?: () => number): Promise<{ runId: number; report: ActionsRunReport }> {
  return actionsJob.run(directContext(store, now ? { now } : {}), options);
}

/** Due after each successful stages run, and at least every `everyMs`. */
export async function actionsDue(store: Store, now: number, o: DuePolicy): Promise<Due> {
  const stages = await lastOkRun(store.db, STAGES_JOB);
  if (!stages) return { due: false };
  const last = await lastEndedRun(store.db, ACTIONS_JOB);
  if (!last) return { due: true, why: 'no run yet' };
  if (last.id < stages.id) return { due: true, why: 'new stages' };
  if (now - (last.finishedAt ?? last.startedAt) >= o.everyMs) return { due: true, why: 'scheduled' };
  return { due: false };
}

/** A renewal date in the customer's traits (renewal_date, renewalDate, renews_at, renewal_at), as epoch ms. */
function renewalOf(traits: string): number | null {
  let t: unknown;
  try {
    t = JSON.parse(traits);
  } catch {
    return null;
  }
  if (typeof t !== 'object' || t === null) return null;
  const o = t as Record<string, unknown>;
  for (const k of ['renewal_date', 'renewalDate', 'renews_at', 'renewal_at', 'renewsAt']) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'number') {
      const at = typeof v === 'number' ? v : Date.parse(v);
      if (Number.isFinite(at) && at > Date.UTC(2000, 0, 1) && at < Date.UTC(2200, 0, 1)) return at;
    }
  }
  return null;
}

async function compute(ctx: JobContext, options: ActionsRunOptions, runId: number): Promise<ActionsRunReport> {
  const { store } = ctx;
  const t0 = performance.now();
  const now = ctx.now();
  const { rules } = await rulesInForce(store.db);
  const { asOf } = await stagesAsOf(store, now);
  const limit = Math.max(1, Math.min(10_000, options.candidates ?? DEFAULT_CANDIDATES));
  const ids = await repo.candidateCustomers(store.db, limit);
  const facts = await repo.customerFacts(store.db, ids);
  const answered = [...(rules.events['answered'] ?? []), 'ticket answered'];
  const [tickets, ideas, done] = await Promise.all([
    repo.openTickets(store.db, ids, answered),
    repo.ideasUnthanked(store.db, ids, rules.events['ideas'] ?? [], rules.conversationChannels),
    repo.doneSince(store.db, ids, now - RECENT_MS),
  ]);
  const plan = featurePlan(rules, asOf);
  const names = rules.stages.map((s) => s.name);
  const rows: repo.NewAction[] = [];
  const byKind: Record<string, number> = {};
  for (const c of facts) {
    // The next stage's missing conditions, from the customer's rows as the explanation reads them.
    const list = { ids: Float64Array.of(c.id), firstSeen: Float64Array.of(c.first_seen ?? Number.POSITIVE_INFINITY), positionOf: (id: number) => (id === c.id ? 0 : -1) };
    const f = await gatherFeatures(store, plan, rules, list, { customerId: c.id });
    const e = explainStage(rules, f, 0);
    const t = tickets.get(c.id);
    const renewal = renewalOf(c.traits);
    const best = candidateActions({
      stage: c.stage,
      stageNames: names,
      momentum: c.momentum,
      clv: Number(c.clv ?? 0),
      valueAtRisk: c.value_at_risk === null ? null : Number(c.value_at_risk),
      opportunity: c.opportunity === null ? null : Number(c.opportunity),
      contribution: Number(c.contribution ?? 0),
      openTickets: t?.count ?? 0,
      oldestTicketDays: t ? Math.max(0, Math.floor((asOf - t.oldest) / DAY_MS)) : null,
      ideasUnthanked: ideas.get(c.id) ?? 0,
      renewalInDays: renewal === null ? null : Math.floor((renewal - asOf) / DAY_MS),
      missing: e.next?.missing ?? [],
      recentlyDone: done.get(c.id) ?? new Set(),
    })[0];
    if (!best || !(best.value > 0 || best.priority > 1)) continue;
    rows.push({ customer_id: c.id, run_id: runId, kind: best.kind, title: best.title, reasons: JSON.stringify(best.reasons), priority: best.priority, value: best.value, value_basis: best.valueBasis, stage: c.stage, created_at: now });
    byKind[best.kind] = (byKind[best.kind] ?? 0) + 1;
  }
  const report: ActionsRunReport = { asOf: new Date(asOf).toISOString(), customers: facts.length, actions: rows.length, byKind, timings: { totalMs: 0 } };
  await ctx.serialize(() =>
    store.db.transaction().execute(async (trx) => {
      await repo.replaceOpenActions(trx, rows);
      report.timings.totalMs = Math.round(performance.now() - t0);
      await markRunOk(trx, runId, { finishedAt: ctx.now(), items: rows.length, report: JSON.stringify(report) });
    }),
  );
  return report;
}

export type { ActionKind };
