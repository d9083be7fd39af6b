/**
 * Relationships as readers see them: the ladder (customers, momentum and value per stage),
 * one customer's placement explained, an account's stage and people, and the rules.
 */
import { z } from 'zod';
import { notFound } from '../core/errors.js';
import { explainStage, type ExplainedCondition, type StageExplanation } from '../models/stages/engine.js';
import { featurePlan } from '../models/stages/features.js';
import { momentumOf, type MomentumReading } from '../models/stages/momentum.js';
import { MOMENTA, STAGE_KEYS, type Momentum } from '../models/stages/rules.js';
import type { Store } from '../store/db.js';
import { lastOkRun, runReport } from '../jobs/runs.repository.js';
import { gatherFeatures } from './features.js';
import { checkRules, MAX_RULES_BYTES } from './rules-file.js';
import { replaceRules, rulesInForce } from './rules.js';
import { STAGES_JOB, stagesAsOf, type StagesRunReport } from './stages.job.js';
import * as repo from './stages.repository.js';

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

async function latestRun(store: Store): Promise<{ id: number; finishedAt: number; report: StagesRunReport } | undefined> {
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
      }),
    ),
    momentum: z.record(z.string(), z.number()),
    notes: z.array(z.string()),
  })
  .meta({ id: 'StagesSummary' });

/** The ladder: customers, momentum and value per stage, from the latest run. */
export async function stagesSummary(store: Store): Promise<z.infer<typeof StagesSummary>> {
  const [run, totals, accounts, force] = await Promise.all([latestRun(store), repo.stageTotals(store.db), repo.accountTotals(store.db), rulesInForce(store.db)]);
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
    return { key: s.key, name: s.name, description: s.description, customers: n, share: customers > 0 ? n / customers : 0, momentum: m, valued, clv, meanClv: clv === null ? null : clv / valued, accounts: accounts.find((a) => a.stage === k)?.accounts ?? 0 };
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
    notes,
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
  })
  .meta({ id: 'CustomerStage' });

/** One customer's stage explained: recomputed from their rows with the rules in force, as of the latest run. */
export async function customerStageOf(store: Store, userId: string, now = Date.now()): Promise<z.infer<typeof CustomerStageReply>> {
  const c = await repo.customerByUserId(store.db, userId);
  if (!c) throw notFound(`customer ${userId}`);
  const [force, stored, run, value] = await Promise.all([rulesInForce(store.db), repo.customerStage(store.db, c.id), latestRun(store), repo.customerValueOf(store.db, c.id)]);
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
  };
}

/** A customer's stored placement (the latest run's), with the stage's name and description in the rules in force. */
export async function storedStage(store: Store, customerId: number): Promise<{ stage: { key: (typeof STAGE_KEYS)[number]; name: string; description: string }; momentum: Momentum } | null> {
  const [row, force] = await Promise.all([repo.customerStage(store.db, customerId), rulesInForce(store.db)]);
  if (!row) return null;
  const s = force.rules.stages[row.stage]!;
  return { stage: { key: s.key, name: s.name, description: s.description }, momentum: row.momentum };
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

