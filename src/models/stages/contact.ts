/**
 * When a customer last had a two-way contact with the company, and which of their feedback
 * went unanswered: the same reading of "two-way" as the LOVE rules' `two_way_months`
 * (features.ts): a mutual interaction on any channel, or an inbound and an outbound one through
 * a conversation channel in the same calendar month; reactions (an e-mail opened) are no word
 * of theirs and come in filtered out. Input is one customer's conversation touches summarised
 * per month and direction (the latest time of each), so that only a few numbers per month
 * travel from the database.
 */
import { INBOUND, MUTUAL, OUTBOUND } from './features.js';

/** The latest touch of one direction in one calendar month (`YYYY-MM`, UTC). */
export interface MonthTouch {
  month: string;
  /** 0 inbound, 1 outbound (both through a conversation channel), 2 mutual (any channel). */
  direction: number;
  at: number;
}

/**
 * The time of the latest two-way contact, or null without one: the latest mutual touch, or in a
 * month with both an inbound and an outbound touch the later of the two.
 *
 * @example lastTwoWay([{ month: '2026-05', direction: 0, at: 10 }, { month: '2026-05', direction: 1, at: 12 }]) // → 12
 */
export function lastTwoWay(touches: readonly MonthTouch[]): number | null {
  let best: number | null = null;
  const months = new Map<string, [number, number]>();
  for (const t of touches) {
    if (t.direction === MUTUAL) {
      if (best === null || t.at > best) best = t.at;
    } else if (t.direction === INBOUND || t.direction === OUTBOUND) {
      const m = months.get(t.month) ?? [Number.NaN, Number.NaN];
      const k = t.direction === INBOUND ? 0 : 1;
      if (!(m[k] >= t.at)) m[k] = t.at;
      months.set(t.month, m);
    }
  }
  for (const [inbound, outbound] of months.values()) {
    if (Number.isNaN(inbound) || Number.isNaN(outbound)) continue;
    const at = Math.max(inbound, outbound);
    if (best === null || at > best) best = at;
  }
  return best;
}

/** The latest time the company spoke to the customer in a conversation (outbound through a conversation channel, or mutual), or null. */
export function lastAnswer(touches: readonly MonthTouch[]): number | null {
  let best: number | null = null;
  for (const t of touches) if ((t.direction === OUTBOUND || t.direction === MUTUAL) && (best === null || t.at > best)) best = t.at;
  return best;
}

/**
 * Feedback with no later answer: the items written after the last answer (an answer at the same
 * moment counts, as a visit's notes do with the visit), how many and the oldest.
 */
export function unanswered<T extends { at: number }>(items: readonly T[], answeredAt: number | null): { count: number; oldest: T | null } {
  let count = 0;
  let oldest: T | null = null;
  for (const f of items) {
    if (answeredAt !== null && f.at <= answeredAt) continue;
    count++;
    if (oldest === null || f.at < oldest.at) oldest = f;
  }
  return { count, oldest };
}
