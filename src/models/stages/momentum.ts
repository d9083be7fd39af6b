/**
 * Momentum, separate from the stage: is a relationship warming, steady or cooling? Two
 * signals are read, each with its own threshold (the rules file's `momentum`):
 *  - activity: the customer's own touches (inbound and mutual interactions, orders, feedback)
 *    in the last window against the window before;
 *  - P(alive) now against P(alive) one window ago, both from the customer-value run's model
 *    (absent for customers who never bought, or before a customer-value run).
 * A signal says warming, cooling or nothing; when they disagree the relationship is steady.
 */
import type { Momentum, MomentumRules } from './rules.js';

export type Signal = 'warming' | 'cooling' | null;

export interface MomentumReading {
  momentum: Momentum;
  activity: Signal;
  pAlive: Signal;
}

export function activitySignal(r: MomentumRules, recent: number, previous: number): Signal {
  if (recent >= r.warming.minRecent && recent >= r.warming.activityRatioAtLeast * previous && recent > previous) return 'warming';
  if (previous >= r.cooling.minPrevious && recent <= r.cooling.activityRatioAtMost * previous) return 'cooling';
  return null;
}

export function pAliveSignal(r: MomentumRules, now: number, then: number): Signal {
  if (!Number.isFinite(now) || !Number.isFinite(then)) return null;
  if (now - then >= r.warming.pAliveRise) return 'warming';
  if (then - now >= r.cooling.pAliveDrop) return 'cooling';
  return null;
}

export function momentumOf(r: MomentumRules, recent: number, previous: number, pAliveNow: number, pAliveThen: number): MomentumReading {
  const activity = activitySignal(r, recent, previous);
  const pAlive = pAliveSignal(r, pAliveNow, pAliveThen);
  const momentum: Momentum = activity === null ? (pAlive ?? 'steady') : pAlive === null || pAlive === activity ? activity : 'steady';
  return { momentum, activity, pAlive };
}
