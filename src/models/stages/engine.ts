/**
 * Placing customers on the LOVE ladder: a customer is at the highest stage whose rule they
 * meet (Introduction has none), and every placement can be explained — each condition with
 * the customer's value and whether it held, and what is missing for the next stage.
 */
import type { FeaturePlan, Features } from './features.js';
import { isLeaf, measureLabel, STAGE_KEYS, type Condition, type Measure, type StageKey, type StageRules } from './rules.js';

/** Where a placement reads its measures: the counts of a run (Features) or of one month of a history (timeline.ts). */
export interface StageValues {
  /** The value of slot `s` of the plan for row `i` (NaN for a mean of nothing). */
  value(i: number, s: number): number;
}

/** A compiled condition: true when row i meets it. */
type Test = (f: StageValues, i: number) => boolean;

function compile(c: Condition, slotOf: (m: Measure, w: number | null) => number): Test {
  if (isLeaf(c)) {
    const s = slotOf(c.measure, c.windowDays);
    const lo = c.atLeast ?? Number.NEGATIVE_INFINITY;
    const hi = c.atMost ?? Number.POSITIVE_INFINITY;
    // A mean of nothing (NaN) meets no bound.
    return (f, i) => {
      const v = f.value(i, s);
      return v >= lo && v <= hi;
    };
  }
  if ('all' in c) {
    const parts = c.all.map((x) => compile(x, slotOf));
    return (f, i) => parts.every((p) => p(f, i));
  }
  if ('any' in c) {
    const parts = c.any.map((x) => compile(x, slotOf));
    return (f, i) => parts.some((p) => p(f, i));
  }
  const parts = c.of.map((x) => compile(x, slotOf));
  const need = c.atLeast;
  return (f, i) => {
    let n = 0;
    for (const p of parts) if (p(f, i) && ++n >= need) return true;
    return false;
  };
}

export interface Placer {
  /** The stage index (0 Introduction … 4 Co-creation) of customer i, and the bit mask of stage rules met. */
  place(f: StageValues, i: number): { stage: number; met: number };
}

/** Compiles the rules' conditions against a plan's slots. */
export function placer(rules: StageRules, plan: Pick<FeaturePlan, 'slotOf'>): Placer {
  const tests = rules.stages.map((s) => (s.when ? compile(s.when, (m, w) => plan.slotOf(m, w)) : null));
  return {
    place(features, i) {
      let stage = 0;
      let met = 1;
      tests.forEach((t, k) => {
        if (t && t(features, i)) {
          met |= 1 << k;
          stage = k;
        }
      });
      return { stage, met };
    },
  };
}

export type ExplainedCondition =
  | { kind: 'measure'; measure: Measure; label: string; windowDays: number | null; atLeast: number | null; atMost: number | null; value: number | null; met: boolean }
  | { kind: 'all' | 'any'; met: boolean; parts: ExplainedCondition[] }
  | { kind: 'at_least'; need: number; metCount: number; met: boolean; parts: ExplainedCondition[] };

export interface StageExplanation {
  stage: StageKey;
  /** Each stage's rule as this customer meets it (Introduction: always met, no rule). */
  stages: { key: StageKey; name: string; met: boolean; rule: ExplainedCondition | null }[];
  /** The next stage up and the conditions of its rule not met yet (null at the top). */
  next: { key: StageKey; name: string; missing: ExplainedCondition[]; need: string } | null;
}

function explainCondition(c: Condition, f: Features, i: number): ExplainedCondition {
  if (isLeaf(c)) {
    const v = f.value(i, f.plan.slotOf(c.measure, c.windowDays));
    const met = v >= (c.atLeast ?? Number.NEGATIVE_INFINITY) && v <= (c.atMost ?? Number.POSITIVE_INFINITY);
    return { kind: 'measure', measure: c.measure, label: measureLabel(c.measure), windowDays: c.windowDays, atLeast: c.atLeast, atMost: c.atMost, value: Number.isNaN(v) ? null : v, met };
  }
  if ('all' in c) {
    const parts = c.all.map((x) => explainCondition(x, f, i));
    return { kind: 'all', met: parts.every((p) => p.met), parts };
  }
  if ('any' in c) {
    const parts = c.any.map((x) => explainCondition(x, f, i));
    return { kind: 'any', met: parts.some((p) => p.met), parts };
  }
  const parts = c.of.map((x) => explainCondition(x, f, i));
  const metCount = parts.filter((p) => p.met).length;
  return { kind: 'at_least', need: c.atLeast, metCount, met: metCount >= c.atLeast, parts };
}

/** Why customer i is where they are, and what is missing for the next stage. */
export function explainStage(rules: StageRules, f: Features, i: number): StageExplanation {
  const stages = rules.stages.map((s) => {
    const rule = s.when ? explainCondition(s.when, f, i) : null;
    return { key: s.key, name: s.name, met: rule === null ? true : rule.met, rule };
  });
  let at = 0;
  stages.forEach((s, k) => {
    if (s.met) at = k;
  });
  const up = stages[at + 1];
  let next: StageExplanation['next'] = null;
  if (up && up.rule) {
    const missing = unmet(up.rule);
    next = { key: up.key, name: up.name, missing, need: needText(up.rule) };
  }
  return { stage: STAGE_KEYS[at]!, stages, next };
}

function unmet(c: ExplainedCondition): ExplainedCondition[] {
  if (c.met) return [];
  if (c.kind === 'measure') return [c];
  return c.parts.filter((p) => !p.met);
}

function needText(c: ExplainedCondition): string {
  if (c.kind === 'at_least') return `${c.need - c.metCount} more of the ${c.parts.length - c.metCount} conditions not yet met`;
  if (c.kind === 'any') return 'any one of the conditions';
  if (c.kind === 'all') return 'every condition not yet met';
  return 'the condition';
}
