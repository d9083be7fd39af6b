/**
 * Relationships as readers see them: the ladder (customers, momentum and value per stage),
 * one customer's placement explained, an account's stage and people, and the rules.
 */
import { z } from 'zod';
import { notFound } from '../core/errors.js';
import { explainStage, type ExplainedCondition, type StageExplanation } from '../models/stages/engine.js';
import { featurePlan, type Features } from '../models/stages/features.js';
import { TENURE_BANDS, tenureBand } from '../models/stages/history.js';
import { monthOfMs } from '../models/time.js';
import { momentumOf, type MomentumReading } from '../models/stages/momentum.js';
import { MOMENTA, STAGE_KEYS, type Momentum } from '../models/stages/rules.js';
import type { Store } from '../store/db.js';
import { lastOkRun, runReport } from '../jobs/runs.repository.js';
import { gatherFeatures } from './features.js';
import { checkRules, MAX_RULES_BYTES } from './rules-file.js';
import { replaceRules, rulesInForce } from './rules.js';
import { STAGES_JOB, stagesAsOf, type StagesRunReport } from './stages.job.js';
import * as repo from './stages.repository.js';
import { latestClvRun } from '../value/runs.js';
import { historyOf, latestHistoryMonths } from './history.repository.js';
import { monthLabel } from '../models/stages/timeline.js';

const fmt = (v: number): string => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2));

/** A condition in words: "orders in the last 365 days: 3 (at least 2) — met". */
export function conditionLines(c: ExplainedCondition, depth = 0): string[] {
  const pad = '  '.repeat(depth);
  if (c.kind === 'measure') {
    const window = c.windowDays === null ? '' : ` in the last ${c.windowDays} days`;
    const bound = [c.atLeast !== null ? `at least ${fmt(c.atLeast)}` : null, c.atMost !== null ? `at most ${fmt(c.atMost)}` : null].filter(Boolean).join(' and ');
    return [`${pad}${c.met ? '✓' : '✗'} ${c.label}${window}: ${c.value === null ? 'none' : fmt(c.value)} (${bound})`];
  }
  const head = c.kind === 'at_least' ? `at least ${c.need} of (${c.metCount} met)` : c.kind === 'all' ? 'all of' : 'any of';
  return [`${pad}${c.met ? '✓' : '✗'} ${head}:`, ...c.parts.flatMap((p) => conditionLines(p, depth + 1))];
}

export async function latestRun(store: Store): Promise<{ id: number; finishedAt: number; report: StagesRunReport } | undefined> {
  const r = await lastOkRun(store.db, STAGES_JOB);
  if (!r) return undefined;
  const text = await runReport(store.db, r.id);
  return text ? { id: r.id, finishedAt: Number(r.finishedAt ?? r.startedAt), report: JSON.parse(text) as StagesRunReport } : undefined;
}

export const StageInfo = z.object({ key: z.enum(STAGE_KEYS), name: z.string(), description: z.string() });

export const StagesSummary = z
  .object({
    run: z.object({ id: z.number(), finishedAt: z.string(), asOf: z.string(), asOfRule: z.string(), rules: z.object({ version: z.number().nullable(), name: z.string() }), seconds: z.number() }).nullable(),
    customers: z.number(),
    stages: z.array(
      StageInfo.extend({
        customers: z.number(),
        share: z.number(),
        momentum: z.record(z.string(), z.number()),
        valued: z.number().describe('customers at the stage with a CLV from the latest customer-value run'),
        clv: z.number().nullable().describe('total CLV of the valued customers at the stage'),
        meanClv: z.number().nullable(),
        accounts: z.number(),
        lov: z.number().nullable().describe('total Lifetime Opportunity Value of the stage: CLV (0 for customers not valued) + contributions + opportunity'),
        contribution: z.number().nullable(),
        opportunity: z.number().nullable().describe('total expected gain of moving each customer up one stage (0 at Co-creation)'),
      }),
    ),
    lov: z.object({ horizonMonths: z.number(), historyRunId: z.number().nullable(), contributions: z.array(z.object({ group: z.string(), worth: z.number(), basis: z.string() })), notes: z.array(z.string()) }).nullable(),
    segments: z
      .array(z.object({ segment: z.number().nullable(), label: z.string(), customers: z.number(), clv: z.number().nullable(), contribution: z.number().nullable(), opportunity: z.number().nullable(), lov: z.number().nullable() }))
      .describe('LOV and its parts per micro-segment of the latest customer-value run (null: customers it did not segment), largest LOV first'),
    momentum: z.record(z.string(), z.number()),
    notes: z.array(z.string()),
  })
  .meta({ id: 'StagesSummary' });

/** The ladder: customers, momentum and value per stage, from the latest run. */
export async function stagesSummary(store: Store): Promise<z.infer<typeof StagesSummary>> {
  const [run, totals, accounts, force, bySegment, clvRun] = await Promise.all([latestRun(store), repo.stageTotals(store.db), repo.accountTotals(store.db), rulesInForce(store.db), repo.segmentTotals(store.db), latestClvRun(store)]);
  const cards = clvRun && 'cards' in clvRun.report.segments ? clvRun.report.segments.cards : [];
  const segments = bySegment
    .map((x) => ({ ...x, label: x.segment === null ? 'not segmented (no purchase yet, or before a customer-value run)' : (cards.find((c) => c.id === x.segment)?.label ?? `segment ${x.segment}`) }))
    .sort((a, b) => (b.lov ?? 0) - (a.lov ?? 0));
  const customers = totals.reduce((a, t) => a + t.customers, 0);
  const momentum: Record<string, number> = Object.fromEntries(MOMENTA.map((m) => [m, 0]));
  const stages = force.rules.stages.map((s, k) => {
    const rows = totals.filter((t) => t.stage === k);
    const n = rows.reduce((a, t) => a + t.customers, 0);
    const valued = rows.reduce((a, t) => a + t.valued, 0);
    const clv = valued > 0 ? rows.reduce((a, t) => a + (t.clv ?? 0), 0) : null;
    const m: Record<string, number> = Object.fromEntries(MOMENTA.map((x) => [x, 0]));
    for (const t of rows) {
      m[t.momentum] = (m[t.momentum] ?? 0) + t.customers;
      momentum[t.momentum] = (momentum[t.momentum] ?? 0) + t.customers;
    }
    const sum = (field: 'lov' | 'contribution' | 'opportunity'): number | null => (rows.some((t) => t[field] !== null) ? rows.reduce((a, t) => a + (t[field] ?? 0), 0) : null);
    return {
      key: s.key,
      name: s.name,
      description: s.description,
      customers: n,
      share: customers > 0 ? n / customers : 0,
      momentum: m,
      valued,
      clv,
      meanClv: clv === null ? null : clv / valued,
      accounts: accounts.find((a) => a.stage === k)?.accounts ?? 0,
      lov: sum('lov'),
      contribution: sum('contribution'),
      opportunity: sum('opportunity'),
    };
  });
  const notes: string[] = [];
  if (!run) notes.push('No stages run yet: run `rapport stages run` or POST /api/stages/run.');
  else if (run.report.rules.version !== force.version) notes.push('The rules changed since the latest run: its placements follow the earlier rules until the next run.');
  if (run && run.report.pAliveRead === 0) notes.push('No customer-value run yet: momentum reads activity only, not P(alive).');
  return {
    run: run ? { id: run.id, finishedAt: new Date(run.finishedAt).toISOString(), asOf: run.report.asOf, asOfRule: run.report.asOfRule, rules: run.report.rules, seconds: run.report.timings.totalMs / 1000 } : null,
    customers,
    stages,
    momentum,
    segments,
    lov: run?.report.lov ? { horizonMonths: run.report.lov.horizonMonths, historyRunId: run.report.lov.historyRunId, contributions: run.report.lov.contributions, notes: run.report.lov.notes } : null,
    notes,
  };
}

export const OpportunityParams = z.object({
  stage: z.enum(STAGE_KEYS).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const Opportunities = z
  .object({
    items: z.array(
      z.object({
        userId: z.string().nullable(),
        name: z.string().nullable(),
        email: z.string().nullable(),
        stage: z.enum(STAGE_KEYS),
        momentum: z.string(),
        clv: z.number().nullable(),
        contribution: z.number().nullable(),
        opportunity: z.number(),
        opportunityLow: z.number().nullable(),
        opportunityHigh: z.number().nullable(),
        lov: z.number().nullable(),
      }),
    ),
    basis: z.string(),
  })
  .meta({ id: 'StageOpportunities' });

/** The customers whose move up one stage is worth most (an observational estimate). */
export async function topOpportunities(store: Store, p: z.infer<typeof OpportunityParams>): Promise<z.infer<typeof Opportunities>> {
  const rows = await repo.topOpportunities(store.db, { stage: p.stage === undefined ? undefined : STAGE_KEYS.indexOf(p.stage), limit: p.limit, offset: p.offset });
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    items: rows.map((r) => ({
      userId: r.user_id,
      name: r.name,
      email: r.email,
      stage: STAGE_KEYS[r.stage]!,
      momentum: r.momentum,
      clv: n(r.clv),
      contribution: n(r.contribution),
      opportunity: Number(r.opportunity),
      opportunityLow: n(r.opportunity_low),
      opportunityHigh: n(r.opportunity_high),
      lov: n(r.lov),
    })),
    basis: 'Opportunity = P(moving up one stage within the horizon, observed in the stage history among customers of the same stage, tenure band and micro-segment) × (mean CLV at the next stage − at the current one among similar customers). An observational estimate, with a 90% bootstrap interval.',
  };
}

export const CustomerStageReply = z
  .object({
    userId: z.string(),
    stage: StageInfo.nullable().describe('the stored placement of the latest run (null before the first run)'),
    momentum: z.enum(MOMENTA).nullable(),
    asOf: z.string(),
    explanation: z.unknown().describe('each stage rule as this customer meets it, and what is missing for the next stage'),
    lines: z.array(z.string()).describe('the explanation in words'),
    momentumReading: z.object({
      windowDays: z.number(),
      activityRecent: z.number(),
      activityPrevious: z.number(),
      activity: z.enum(['warming', 'cooling']).nullable(),
      pAliveNow: z.number().nullable(),
      pAliveThen: z.number().nullable(),
      pAlive: z.enum(['warming', 'cooling']).nullable(),
      momentum: z.enum(MOMENTA),
    }),
    note: z.string().nullable().describe('why the explanation differs from the stored placement, when it does'),
    lov: z
      .object({
        total: z.number(),
        clv: z.number(),
        contribution: z.number(),
        opportunity: z.number().nullable(),
        opportunityLow: z.number().nullable(),
        opportunityHigh: z.number().nullable(),
        parts: z.array(z.object({ group: z.string(), events: z.number(), worth: z.number(), value: z.number(), basis: z.string() })),
        move: z
          .object({
            next: z.string(),
            p: z.number(),
            atRisk: z.number(),
            moved: z.number(),
            stageP: z.number(),
            horizonMonths: z.number(),
            clvNow: z.number(),
            clvNext: z.number(),
            level: z.string(),
            nNow: z.number(),
            nNext: z.number(),
            tenureBand: z.string(),
            segment: z.number().nullable(),
          })
          .nullable(),
        lines: z.array(z.string()),
      })
      .nullable()
      .describe('Lifetime Opportunity Value = CLV + contributions + opportunity, each part explained (null before a run computed it)'),
    history: z
      .object({ months: z.array(z.string()), stages: z.string().describe('one character a month-end: 0 Introduction … 4 Co-creation, - not yet seen') })
      .nullable()
      .describe('where the customer stood at each month-end of the latest stage history'),
  })
  .meta({ id: 'CustomerStage' });

const money = (v: number): string => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A customer's LOV from the stored run, each part explained with what the run read. */
function lovOf(
  stored: Awaited<ReturnType<typeof repo.customerStage>>,
  run: Awaited<ReturnType<typeof latestRun>>,
  f: Features,
  segment: number | null,
  names: readonly string[],
): z.infer<typeof CustomerStageReply>['lov'] {
  if (!stored || stored.lov === null || !run?.report.lov) return null;
  const r = run.report.lov;
  const parts = r.contributions.map((c) => {
    const events = f.value(0, f.plan.slotOf(`events:${c.group}`, null));
    return { group: c.group, events, worth: c.worth, value: events * c.worth, basis: c.basis };
  });
  const clv = Number(stored.clv ?? 0);
  const contribution = Number(stored.contribution ?? 0);
  const opportunity = stored.opportunity === null ? null : Number(stored.opportunity);
  const top = STAGE_KEYS.length - 1;
  const first = f.firstOf(0);
  const band = tenureBand(Number.isFinite(first) ? monthOfMs(f.plan.asOf) - monthOfMs(first) : 0);
  const cell = stored.stage < top ? r.cells.find((c) => c.stage === stored.stage && c.band === band && c.segment === (segment ?? -1)) : undefined;
  const bandText = `${TENURE_BANDS[band]}${TENURE_BANDS[band + 1] === undefined ? '+' : `–${TENURE_BANDS[band + 1]! - 1}`} months since first seen`;
  const move = cell
    ? { next: names[stored.stage + 1]!, p: cell.p, atRisk: cell.atRisk, moved: cell.moved, stageP: cell.stageP, horizonMonths: r.horizonMonths, clvNow: cell.clvNow, clvNext: cell.clvNext, level: cell.level, nNow: cell.nNow, nNext: cell.nNext, tenureBand: bandText, segment }
    : null;
  const lines = [`Lifetime Opportunity Value ${money(Number(stored.lov))} = CLV ${money(clv)} + contributions ${money(contribution)} + opportunity ${opportunity === null ? 'unknown' : money(opportunity)}.`];
  lines.push(stored.clv === null || clv === 0 ? 'CLV: 0 (not valued by the customer-value run: no purchase yet).' : `CLV ${money(clv)}: the customer-value run's.`);
  for (const p of parts) if (p.events > 0) lines.push(`Contribution: ${p.events} ${p.group} event${p.events === 1 ? '' : 's'} × ${money(p.worth)} = ${money(p.value)} (${p.basis}).`);
  if (contribution === 0) lines.push('Contributions: none yet.');
  if (stored.stage === top) lines.push('Opportunity: 0 at Co-creation, the top of the ladder.');
  else if (opportunity === null) lines.push(`Opportunity: unknown. ${r.notes.join(' ')}`);
  else if (move)
    lines.push(
      `Opportunity ${money(opportunity)} (90% interval ${money(Number(stored.opportunity_low))} to ${money(Number(stored.opportunity_high))}) = P(reaching ${move.next} within ${move.horizonMonths} months) ${(100 * move.p).toFixed(1)}% × (mean CLV at ${move.next} ${money(move.clvNext)} − at ${names[stored.stage]} ${money(move.clvNow)}).`,
      `P: ${move.moved} of ${move.atRisk} similar customers (same stage, ${bandText}, ${segment === null ? 'no segment' : `segment ${segment}`}) moved up in the history, weighed with the stage's ${(100 * move.stageP).toFixed(1)}%; the CLV means are among customers of the same ${move.level} (${move.nNext} and ${move.nNow}).`,
      'This is an observational estimate: customers who moved up may differ from those who did not in more than their stage.',
    );
  return { total: Number(stored.lov), clv, contribution, opportunity, opportunityLow: stored.opportunity_low === null ? null : Number(stored.opportunity_low), opportunityHigh: stored.opportunity_high === null ? null : Number(stored.opportunity_high), parts, move, lines };
}

/** One customer's stage explained: recomputed from their rows with the rules in force, as of the latest run. */
export async function customerStageOf(store: Store, userId: string, now = Date.now()): Promise<z.infer<typeof CustomerStageReply>> {
  const c = await repo.customerByUserId(store.db, userId);
  if (!c) throw notFound(`customer ${userId}`);
  const [force, stored, run, value, months, h] = await Promise.all([
    rulesInForce(store.db),
    repo.customerStage(store.db, c.id),
    latestRun(store),
    repo.customerValueOf(store.db, c.id),
    historyMonthsStored(store),
    historyOf(store.db, c.id),
  ]);
  const asOf = run ? Date.parse(run.report.asOf) : (await stagesAsOf(store, now)).asOf;
  const plan = featurePlan(force.rules, asOf);
  const list = { ids: Float64Array.of(c.id), firstSeen: Float64Array.of(c.first_seen ?? Number.POSITIVE_INFINITY), positionOf: (id: number) => (id === c.id ? 0 : -1) };
  const f = await gatherFeatures(store, plan, force.rules, list, { customerId: c.id });
  const explanation: StageExplanation = explainStage(force.rules, f, 0);
  const pNow = value?.p_alive ?? Number.NaN;
  const pThen = stored?.p_alive_then ?? Number.NaN;
  const reading: MomentumReading = momentumOf(force.rules.momentum, f.recentOf(0), f.previousOf(0), pNow, pThen);
  const storedKey = stored ? STAGE_KEYS[stored.stage]! : null;
  const lines: string[] = [];
  const at = force.rules.stages.find((s) => s.key === explanation.stage)!;
  lines.push(`${at.name}: ${at.description}`);
  for (const s of explanation.stages) {
    if (!s.rule) continue;
    lines.push(`${s.name} — ${s.met ? 'rule met' : 'rule not met'}:`);
    lines.push(...conditionLines(s.rule, 1));
  }
  if (explanation.next) lines.push(`For ${explanation.next.name}: ${explanation.next.need}.`);
  else lines.push('At the top of the ladder.');
  let note: string | null = null;
  if (stored && storedKey !== explanation.stage) note = `The latest run placed them at ${force.rules.stages[stored.stage]!.name}; with the data and rules as they are now they are at ${at.name} (the next run will say so).`;
  else if (!stored) note = 'Not placed by a run yet (new since the latest run, or no run yet): this is where the rules place them now.';
  const stageInfo = (k: number) => ({ key: force.rules.stages[k]!.key, name: force.rules.stages[k]!.name, description: force.rules.stages[k]!.description });
  return {
    userId,
    stage: stored ? stageInfo(stored.stage) : null,
    momentum: stored ? stored.momentum : null,
    asOf: new Date(asOf).toISOString(),
    explanation,
    lines,
    momentumReading: {
      windowDays: force.rules.momentum.windowDays,
      activityRecent: f.recentOf(0),
      activityPrevious: f.previousOf(0),
      activity: reading.activity,
      pAliveNow: Number.isFinite(pNow) ? pNow : null,
      pAliveThen: Number.isFinite(pThen) ? pThen : null,
      pAlive: reading.pAlive,
      momentum: reading.momentum,
    },
    note,
    lov: lovOf(stored, run, f, value?.segment ?? null, force.rules.stages.map((x) => x.name)),
    history: h && months && h.history.length === months.length ? { months, stages: h.history } : null,
  };
}

/** A customer's stored placement (the latest run's), with the stage's name and description in the rules in force, LOV and monthly history. */
export async function storedStage(
  store: Store,
  customerId: number,
): Promise<{
  stage: { key: (typeof STAGE_KEYS)[number]; name: string; description: string };
  momentum: Momentum;
  lov: { total: number; clv: number; contribution: number; opportunity: number | null; opportunityLow: number | null; opportunityHigh: number | null } | null;
  history: { months: string[]; stages: string } | null;
}| null> {
  const [row, force, months, h] = await Promise.all([repo.customerStage(store.db, customerId), rulesInForce(store.db), historyMonthsStored(store), historyOf(store.db, customerId)]);
  if (!row) return null;
  const s = force.rules.stages[row.stage]!;
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return {
    stage: { key: s.key, name: s.name, description: s.description },
    momentum: row.momentum,
    lov: row.lov === null ? null : { total: Number(row.lov), clv: Number(row.clv ?? 0), contribution: Number(row.contribution ?? 0), opportunity: n(row.opportunity), opportunityLow: n(row.opportunity_low), opportunityHigh: n(row.opportunity_high) },
    history: h && months && h.history.length === months.length ? { months, stages: h.history } : null,
  };
}

/** The months of the stored stage history, as labels. */
async function historyMonthsStored(store: Store): Promise<string[] | null> {
  const run = await latestHistoryMonths(store.db);
  return run ? Array.from({ length: Number(run.months) }, (_, k) => monthLabel(Number(run.first_month) + k)) : null;
}

export const StageListParams = z.object({
  stage: z.enum(STAGE_KEYS),
  momentum: z.enum(MOMENTA).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const StageCustomers = z
  .object({ items: z.array(z.object({ userId: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable(), momentum: z.string(), clv: z.number().nullable(), pAlive: z.number().nullable() })) })
  .meta({ id: 'StageCustomers' });

export async function customersAt(store: Store, p: z.infer<typeof StageListParams>): Promise<z.infer<typeof StageCustomers>> {
  const rows = await repo.customersAtStage(store.db, { stage: STAGE_KEYS.indexOf(p.stage), momentum: p.momentum, limit: p.limit, offset: p.offset });
  return { items: rows.map((r) => ({ userId: r.user_id, name: r.name, email: r.email, momentum: r.momentum, clv: r.clv, pAlive: r.p_alive })) };
}

export const AccountStageReply = z
  .object({
    groupId: z.string(),
    name: z.string().nullable(),
    stage: StageInfo.nullable(),
    basis: z.string().nullable(),
    explanation: z.string(),
    people: z.array(z.object({ userId: z.string().nullable(), name: z.string().nullable(), stage: z.string().nullable(), momentum: z.string().nullable(), clv: z.number().nullable() })),
  })
  .meta({ id: 'AccountStage' });

export async function accountStageOf(store: Store, groupId: string): Promise<z.infer<typeof AccountStageReply>> {
  const a = await repo.accountByGroupId(store.db, groupId);
  if (!a) throw notFound(`account ${groupId}`);
  const [stored, people, force] = await Promise.all([repo.accountStage(store.db, a.id), repo.accountPeople(store.db, a.id), rulesInForce(store.db)]);
  const names = force.rules.stages;
  const stage = stored ? { key: names[stored.stage]!.key, name: names[stored.stage]!.name, description: names[stored.stage]!.description } : null;
  const explanation = !stored
    ? 'Not placed by a run yet.'
    : stored.basis === 'most_valuable'
      ? `${stage!.name}: the stage of its most valuable person (higher than what ${force.rules.accounts.minPeople} of its ${stored.people} people hold).`
      : `${stage!.name}: held by ${stored.holders} of its ${stored.people} people (the rule: the highest stage at least ${force.rules.accounts.minPeople} people reached, or the most valuable person's if higher).`;
  return {
    groupId,
    name: a.name,
    stage,
    basis: stored?.basis ?? null,
    explanation,
    people: people.map((p) => ({ userId: p.user_id, name: p.name ?? p.email, stage: p.stage === null ? null : names[p.stage]!.key, momentum: p.momentum, clv: p.clv })),
  };
}

export const RulesReply = z
  .object({
    source: z.string().describe('the rules file (YAML) in force'),
    version: z.number().nullable().describe('the saved version in force; null: the default that ships with Rapport'),
    name: z.string(),
    savedAt: z.string().nullable(),
    savedBy: z.string().nullable(),
    stages: z.array(StageInfo),
    history: z.array(z.object({ version: z.number(), name: z.string(), savedAt: z.string(), savedBy: z.string().nullable() })),
  })
  .meta({ id: 'StageRules' });

export async function rulesReply(store: Store): Promise<z.infer<typeof RulesReply>> {
  const [force, history] = await Promise.all([rulesInForce(store.db), repo.rulesHistory(store.db)]);
  return {
    source: force.source,
    version: force.version,
    name: force.rules.name,
    savedAt: force.savedAt === null ? null : new Date(force.savedAt).toISOString(),
    savedBy: force.savedBy,
    stages: force.rules.stages.map((s) => ({ key: s.key, name: s.name, description: s.description })),
    history: history.map((h) => ({ version: h.id, name: h.name, savedAt: new Date(h.created_at).toISOString(), savedBy: h.created_by })),
  };
}

export const RulesBody = z.object({ source: z.string().max(MAX_RULES_BYTES).describe('the rules file (YAML)') });

export async function saveRulesText(store: Store, source: string, by: string | null, now = Date.now()): Promise<z.infer<typeof RulesReply>> {
  await replaceRules(store.db, source, now, by);
  return rulesReply(store);
}

export const RulesCheck = z.object({ ok: z.boolean(), issues: z.array(z.string()) }).meta({ id: 'StageRulesCheck' });

export function checkRulesText(source: string): z.infer<typeof RulesCheck> {
  const issues = checkRules(source);
  return { ok: issues.length === 0, issues };
}

/** The momentum a stored placement reads, for callers that show one customer. */
export function isMomentum(v: string): v is Momentum {
  return (MOMENTA as readonly string[]).includes(v);
}

