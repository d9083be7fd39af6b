/**
 * The stage history as readers see it: the flow between two months, cohorts, the time to
 * reach each stage, the usual stay at each stage and who has stayed longer (stuck), who fell
 * back, and one customer's months.
 */
import { z } from 'zod';
import { RapportError } from '../core/errors.js';
import { MIN_STAYS, TENURE_BANDS, USUAL_QUANTILE, type HistorySummary } from '../models/stages/history.js';
import { STAGE_KEYS } from '../models/stages/rules.js';
import { monthLabel, monthOfLabel } from '../models/stages/timeline.js';
import type { Store } from '../store/db.js';
import * as repo from './history.repository.js';
import { rulesInForce } from './rules.js';

const Stage = z.enum(STAGE_KEYS);
const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM');
const Matrix = z.array(z.array(z.number())).describe('rows: from Introduction … Co-creation, then not yet seen; columns: to Introduction … Co-creation');

export const FlowParams = z.object({ from: Month.optional(), to: Month.optional() });

export const FlowReply = z
  .object({
    runId: z.number(),
    asOf: z.string(),
    months: z.array(z.string()).describe('the month ends from `from` to `to`'),
    stages: z.array(z.object({ key: Stage, name: z.string() })),
    counts: z.array(z.array(z.number())).describe('customers per month (rows) and stage (columns)'),
    steps: z.array(z.object({ from: z.string(), to: z.string(), matrix: Matrix })).describe('month to next month'),
    overall: z.object({ from: z.string(), to: z.string(), matrix: Matrix, moved: z.object({ up: z.number(), same: z.number(), down: z.number(), new: z.number() }) }),
    basis: z.string(),
  })
  .meta({ id: 'StageFlow' });

async function latest(store: Store): Promise<{ runId: number; asOf: number; summary: HistorySummary }> {
  const run = await repo.latestHistoryRun(store.db);
  if (!run) throw new RapportError('not_found', 'no stage history yet: run `rapport stages history` or POST /api/stages/history/run (the server runs it after new data)');
  return { runId: Number(run.run_id), asOf: Number(run.as_of), summary: JSON.parse(run.summary) as HistorySummary };
}

function monthIndex(summary: HistorySummary, label: string | undefined, fallback: number, field: string): number {
  if (label === undefined) return fallback;
  const k = summary.months.indexOf(monthOfLabel(label));
  if (k < 0) throw new RapportError('invalid_input', `${field}: ${label} is not in the history (${monthLabel(summary.months[0]!)} to ${monthLabel(summary.months.at(-1)!)})`, [{ field, message: 'outside the history' }]);
  return k;
}

/** Flows between months: every step from `from` to `to`, and `from` straight to `to`. */
export async function stageFlow(store: Store, q: z.infer<typeof FlowParams>): Promise<z.infer<typeof FlowReply>> {
  const { runId, asOf, summary } = await latest(store);
  const K = summary.months.length;
  const a = monthIndex(summary, q.from, Math.max(0, K - 13), 'from');
  const b = monthIndex(summary, q.to, K - 1, 'to');
  if (b <= a) throw new RapportError('invalid_input', `to (${q.to ?? monthLabel(summary.months[b]!)}) must come after from (${q.from ?? monthLabel(summary.months[a]!)})`, [{ field: 'to', message: 'not after from' }]);
  const rules = (await rulesInForce(store.db)).rules;
  const pair = (x: number, y: number): number[][] => summary.pairs[x]![y - x - 1]!;
  const steps = [];
  for (let k = a; k < b; k++) steps.push({ from: monthLabel(summary.months[k]!), to: monthLabel(summary.months[k + 1]!), matrix: pair(k, k + 1) });
  const m = pair(a, b);
  const moved = { up: 0, same: 0, down: 0, new: 0 };
  m.forEach((row, f) =>
    row.forEach((v, t) => {
      if (f === STAGE_KEYS.length) moved.new += v;
      else if (t > f) moved.up += v;
      else if (t === f) moved.same += v;
      else moved.down += v;
    }),
  );
  return {
    runId,
    asOf: new Date(asOf).toISOString(),
    months: summary.months.slice(a, b + 1).map(monthLabel),
    stages: rules.stages.map((s) => ({ key: s.key, name: s.name })),
    counts: summary.counts.slice(a, b + 1),
    steps,
    overall: { from: monthLabel(summary.months[a]!), to: monthLabel(summary.months[b]!), matrix: m, moved },
    basis: 'Each customer is placed at the end of each month with the rules in force, from the stored interactions, orders and feedback up to that moment; a customer counts from the month they were first seen.',
  };
}

export const HistoryReply = z
  .object({
    runId: z.number(),
    asOf: z.string(),
    months: z.array(z.string()),
    counts: z.array(z.array(z.number())),
    cohorts: z.array(z.object({ month: z.string(), size: z.number(), byAge: z.array(z.array(z.number())).describe('customers per stage at each age in months') })),
    timeTo: z.array(z.object({ key: Stage, name: z.string(), customers: z.number(), medianMonths: z.number().nullable(), curve: z.array(z.object({ age: z.number(), atRisk: z.number(), reached: z.number(), p: z.number() })) })),
    stays: z.array(z.object({ key: Stage, name: z.string(), completed: z.number(), medianMonths: z.number().nullable(), usualMonths: z.number().nullable(), stuck: z.number() })),
    fellBack: z.array(z.object({ from: Stage, to: Stage, customers: z.number() })),
    moves: z.object({
      from: z.string(),
      horizonMonths: z.number(),
      stages: z.array(z.object({ key: Stage, atRisk: z.number(), moved: z.number(), share: z.number() })),
    }),
    basis: z.record(z.string(), z.string()),
  })
  .meta({ id: 'StageHistory' });

/** The population's history: counts, cohorts, time to each stage, usual stays, falls and moves up. */
export async function stageHistory(store: Store): Promise<z.infer<typeof HistoryReply>> {
  const { runId, asOf, summary } = await latest(store);
  const rules = (await rulesInForce(store.db)).rules;
  const name = (s: number): string => rules.stages[s]?.name ?? STAGE_KEYS[s]!;
  const fellBack: z.infer<typeof HistoryReply>['fellBack'] = [];
  summary.fellBack.forEach((row, peak) => row.forEach((v, now) => (now < peak && v > 0 ? fellBack.push({ from: STAGE_KEYS[peak]!, to: STAGE_KEYS[now]!, customers: v }) : undefined)));
  const moves = STAGE_KEYS.slice(0, -1).map((key, s) => {
    const cells = summary.moves.cells.filter((c) => c.stage === s);
    const atRisk = cells.reduce((x, c) => x + c.atRisk, 0);
    const moved = cells.reduce((x, c) => x + c.moved, 0);
    return { key, atRisk, moved, share: atRisk > 0 ? moved / atRisk : 0 };
  });
  return {
    runId,
    asOf: new Date(asOf).toISOString(),
    months: summary.months.map(monthLabel),
    counts: summary.counts,
    cohorts: summary.cohorts.map((c) => ({ month: monthLabel(c.month), size: c.size, byAge: c.byAge })),
    timeTo: summary.timeTo.map((t) => ({ key: STAGE_KEYS[t.stage]!, name: name(t.stage), customers: t.customers, medianMonths: t.medianMonths, curve: t.curve })),
    stays: summary.stays.map((s) => ({ key: STAGE_KEYS[s.stage]!, name: name(s.stage), completed: s.completed, medianMonths: s.medianMonths, usualMonths: s.usualMonths, stuck: s.stuck })),
    fellBack,
    moves: { from: monthLabel(summary.moves.from), horizonMonths: summary.moves.horizonMonths, stages: moves },
    basis: {
      timeTo: 'Kaplan–Meier: months from first seen to the first month-end at or above the stage. Customers who have not reached it count until their last month (censored); customers first seen before the history enter at their age when it begins, and those already at the stage then are left out.',
      stays: `A stay is a run of month-ends at one stage that began inside the history and ended in a move up; the usual stay is the ${Math.round(USUAL_QUANTILE * 100)}th percentile of those (said once ${MIN_STAYS} are known). Stuck: at the stage now for longer than that.`,
      fellBack: 'Customers whose stage at the last month-end is below the highest they held in the history.',
      moves: `Customers at each stage at ${monthLabel(summary.moves.from)} who were above it at any month-end in the ${summary.moves.horizonMonths} months after. Tenure bands: ${TENURE_BANDS.join(', ')}+ months.`,
    },
  };
}

export const HistoryListParams = z.object({
  kind: z.enum(['stuck', 'fell']),
  stage: Stage.optional().describe('stuck: the stage (required); fell: the highest stage they had held'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const HistoryList = z
  .object({
    kind: z.enum(['stuck', 'fell']),
    usualMonths: z.number().nullable(),
    months: z.array(z.string()),
    customers: z.array(
      z.object({
        userId: z.string().nullable(),
        name: z.string().nullable(),
        email: z.string().nullable(),
        stage: Stage.nullable(),
        monthsAtStage: z.number(),
        peak: Stage.nullable(),
        history: z.string().describe('one character a month-end: 0 Introduction … 4 Co-creation, - not yet seen'),
        clv: z.number().nullable(),
      }),
    ),
    note: z.string().nullable(),
  })
  .meta({ id: 'StageHistoryList' });

/** Stuck customers (at a stage longer than usual) or customers who fell back, most valuable first. */
export async function historyList(store: Store, q: z.infer<typeof HistoryListParams>): Promise<z.infer<typeof HistoryList>> {
  const { summary } = await latest(store);
  const months = summary.months.map(monthLabel);
  let usual: number | null = null;
  let rows: repo.HistoryListRow[] = [];
  let note: string | null = null;
  if (q.kind === 'stuck') {
    if (!q.stage) throw new RapportError('invalid_input', 'stage: required for stuck customers', [{ field: 'stage', message: 'required' }]);
    const s = STAGE_KEYS.indexOf(q.stage);
    const stay = summary.stays.find((x) => x.stage === s);
    usual = stay?.usualMonths ?? null;
    if (s === STAGE_KEYS.length - 1) note = 'Co-creation is the top of the ladder: nobody is stuck there.';
    else if (usual === null) note = `Fewer than ${MIN_STAYS} completed stays at this stage in the history: no usual length to compare with yet.`;
    else rows = await repo.historyList(store.db, { kind: 'stuck', stage: s, months: usual, limit: q.limit, offset: q.offset });
  } else rows = await repo.historyList(store.db, { kind: 'fell', stage: q.stage ? STAGE_KEYS.indexOf(q.stage) : undefined, limit: q.limit, offset: q.offset });
  return {
    kind: q.kind,
    usualMonths: usual,
    months,
    customers: rows.map((r) => ({
      userId: r.user_id,
      name: r.name,
      email: r.email,
      stage: r.stage === null ? null : STAGE_KEYS[r.stage]!,
      monthsAtStage: Number(r.months_at_stage),
      peak: r.peak === null ? null : STAGE_KEYS[r.peak]!,
      history: r.history,
      clv: r.clv === null ? null : Number(r.clv),
    })),
    note,
  };
}
