/**
 * Lifetime Opportunity Value in a stages run: each customer's CLV, contributions and
 * opportunity (models/stages/lov.ts), from the run's counts, the customer-value run and the
 * latest stage history's moves up.
 */
import { DAY_MS } from '../core/time.js';
import type { Features } from '../models/stages/features.js';
import { tenureBand, type HistorySummary } from '../models/stages/history.js';
import { cellKey, INTERVAL, opportunityCells, type OpportunityCell } from '../models/stages/lov.js';
import { STAGE_KEYS, type StageRules } from '../models/stages/rules.js';
import { monthOfMs } from '../models/time.js';
import type { Store } from '../store/db.js';
import { latestHistoryRun } from './history.repository.js';
import { sameRules } from './rules.js';
import { recentClv, referredClv, type CustomerList } from './stages.repository.js';

export interface LovReport {
  horizonMonths: number;
  /** The stage history run the moves up were read from (null: none, so no opportunity). */
  historyRunId: number | null;
  intervalLevel: number;
  notes: string[];
  contributions: { group: string; worth: number; basis: string }[];
  cells: OpportunityCell[];
  totals: { stage: number; customers: number; clv: number; contribution: number; opportunity: number; lov: number }[];
}

export interface LovValues {
  clv: Float64Array;
  contribution: Float64Array;
  /** NaN without a history. */
  opportunity: Float64Array;
  low: Float64Array;
  high: Float64Array;
  lov: Float64Array;
  report: LovReport;
}

/** The worth of one event of each contribution group; referrals at the mean CLV of the customers referrals brought. */
export async function contributionWorths(store: Store, rules: StageRules, asOf: number, recentMean?: () => { customers: number; mean: number | null }): Promise<LovReport['contributions']> {
  const out: LovReport['contributions'] = [];
  for (const c of rules.value.contributions) {
    if (c.worth !== 'referred_clv') {
      out.push({ group: c.group, worth: c.worth, basis: 'the rules file' });
      continue;
    }
    const referred = await referredClv(store);
    if (referred.mean !== null && referred.customers > 0) {
      out.push({ group: c.group, worth: referred.mean, basis: `the mean CLV of the ${referred.customers.toLocaleString('en-US')} valued customers a referral brought (a referred_by trait)` });
      continue;
    }
    const recent = recentMean ? recentMean() : await recentClv(store, asOf - 365 * DAY_MS);
    out.push({
      group: c.group,
      worth: recent.mean ?? 0,
      basis:
        recent.mean === null
          ? 'no valued customer a referral brought, nor any new valued customer: worth 0'
          : `no customer is known to have come by referral (no referred_by trait): the mean CLV of the ${recent.customers.toLocaleString('en-US')} valued customers first seen in the last year stands in`,
    });
  }
  return out;
}

export async function computeLov(
  store: Store,
  rules: StageRules,
  f: Features,
  list: CustomerList,
  stage: Uint8Array,
  values: readonly unknown[][],
): Promise<LovValues> {
  const n = list.ids.length;
  const asOf = f.plan.asOf;
  const clv = new Float64Array(n).fill(Number.NaN);
  const segment = new Int32Array(n).fill(-1);
  for (const [id, v, , , seg] of values) {
    const i = list.positionOf(Number(id));
    if (i < 0) continue;
    if (v !== null) clv[i] = Number(v);
    if (seg !== null && seg !== undefined) segment[i] = Number(seg);
  }
  const nowMonth = monthOfMs(asOf);
  const band = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const first = f.firstOf(i);
    band[i] = tenureBand(Number.isFinite(first) ? nowMonth - monthOfMs(first) : 0);
  }
  const notes: string[] = [];
  const history = await latestHistoryRun(store.db);
  let moves: HistorySummary['moves'] | null = null;
  if (!history) notes.push('No stage history yet (`rapport stages history`): opportunity needs the moves up it observes.');
  else if (!sameRules(history.rules_source, rules)) notes.push('The stage history was placed with other rules: opportunity waits for a history with the rules in force.');
  else moves = (JSON.parse(history.summary) as HistorySummary).moves;
  const cells = opportunityCells({ stage, band, segment, clv, moves: moves?.cells ?? null, stages: STAGE_KEYS.length });
  // The stand-in for referrals, from what is in memory: valued customers first seen in the last year.
  const recentMean = (): { customers: number; mean: number | null } => {
    let k = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isNaN(clv[i]!) && f.firstOf(i) >= asOf - 365 * DAY_MS) {
        k++;
        total += clv[i]!;
      }
    }
    return { customers: k, mean: k > 0 ? total / k : null };
  };
  const worths = await contributionWorths(store, rules, asOf, recentMean);
  const slots = worths.map((w) => f.plan.slotOf(`events:${w.group}`, null));
  const out = {
    clv: new Float64Array(n),
    contribution: new Float64Array(n),
    opportunity: new Float64Array(n).fill(Number.NaN),
    low: new Float64Array(n).fill(Number.NaN),
    high: new Float64Array(n).fill(Number.NaN),
    lov: new Float64Array(n),
  };
  const totals = STAGE_KEYS.map((_, s) => ({ stage: s, customers: 0, clv: 0, contribution: 0, opportunity: 0, lov: 0 }));
  const top = STAGE_KEYS.length - 1;
  for (let i = 0; i < n; i++) {
    const c = Number.isNaN(clv[i]!) ? 0 : clv[i]!;
    let given = 0;
    for (let k = 0; k < slots.length; k++) given += f.value(i, slots[k]!) * worths[k]!.worth;
    out.clv[i] = c;
    out.contribution[i] = given;
    const s = stage[i]!;
    let opp = 0;
    if (moves) {
      if (s === top) {
        out.opportunity[i] = 0;
        out.low[i] = 0;
        out.high[i] = 0;
      } else {
        const cell = cells.get(cellKey(s, band[i]!, segment[i]!))!;
        opp = cell.opportunity;
        out.opportunity[i] = opp;
        out.low[i] = cell.low;
        out.high[i] = cell.high;
      }
    }
    out.lov[i] = c + given + opp;
    const t = totals[s]!;
    t.customers++;
    t.clv += c;
    t.contribution += given;
    t.opportunity += opp;
    t.lov += out.lov[i]!;
  }
  return {
    ...out,
    report: { horizonMonths: rules.history.horizonMonths, historyRunId: moves ? Number(history!.run_id) : null, intervalLevel: INTERVAL, notes, contributions: worths, cells: [...cells.values()], totals },
  };
}
