/**
 * The LOVE stages' rules, as the engine uses them once read and checked (the rules file's
 * format and its checks are relationships/rules-file.ts). Pure data.
 *
 * The LOVE model (Lifetime Opportunity Value Equation; Rubicon Consulting, 2009–2010) sees a
 * customer relationship as two-way interaction that deepens through five stages, in order.
 */

export const STAGE_KEYS = ['introduction', 'information', 'commitment', 'affinity', 'co-creation'] as const;
export type StageKey = (typeof STAGE_KEYS)[number];

export const MOMENTA = ['warming', 'steady', 'cooling'] as const;
export type Momentum = (typeof MOMENTA)[number];

/**
 * What a condition can count, each over the customer's history up to the run's as-of time
 * (or its last `windowDays`):
 *  - interactions, inbound, outbound, mutual: interactions (all, or of one direction);
 *  - two_way_months: calendar months with a conversation (a mutual interaction, or both an
 *    inbound and an outbound one through a conversation channel: e-mail, support, phone…);
 *  - active_months: calendar months in which the customer did something (an inbound or mutual
 *    interaction, an order, feedback);
 *  - orders, spend, order_months: orders, their total, calendar months with an order;
 *  - feedback, feedback:<kind>: feedback items (all, or of one kind);
 *  - promoters, detractors: survey answers rated at least `promoterMin` / at most `detractorMax`;
 *  - positive_feedback: feedback the listening run read as positive;
 *  - sentiment: the mean sentiment (−1…1) of the customer's analysed feedback;
 *  - tenure_days: days from the first thing seen of the customer to the as-of time;
 *  - days_since_contact: days since the customer's last inbound or mutual interaction, order
 *    or feedback (no such touch: the tenure);
 *  - events:<group>: interactions whose event name is in a group of the rules' `events`.
 */
export const BASE_MEASURES = [
  'interactions',
  'inbound',
  'outbound',
  'mutual',
  'two_way_months',
  'active_months',
  'orders',
  'spend',
  'order_months',
  'feedback',
  'promoters',
  'detractors',
  'positive_feedback',
  'sentiment',
  'tenure_days',
  'days_since_contact',
] as const;
export type BaseMeasure = (typeof BASE_MEASURES)[number];

/** Measures counted in calendar months: they look back at most this many months. */
export const MONTH_MEASURES: readonly BaseMeasure[] = ['two_way_months', 'active_months', 'order_months'];
export const MAX_MONTHS = 64;

/** A measure: a base one, `feedback:<kind>` or `events:<group>`. */
export type Measure = BaseMeasure | `feedback:${string}` | `events:${string}`;

export type Condition =
  | { measure: Measure; windowDays: number | null; atLeast: number | null; atMost: number | null }
  | { all: Condition[] }
  | { any: Condition[] }
  | { atLeast: number; of: Condition[] };

export interface StageRule {
  key: StageKey;
  name: string;
  description: string;
  /** Null for Introduction, where everyone starts. */
  when: Condition | null;
}

export interface MomentumRules {
  windowDays: number;
  warming: { activityRatioAtLeast: number; minRecent: number; pAliveRise: number };
  cooling: { activityRatioAtMost: number; minPrevious: number; pAliveDrop: number };
}

export interface StageRules {
  version: number;
  name: string;
  /** Event-name groups, names lower-cased. */
  events: Record<string, string[]>;
  /** Channels (lower-cased) whose inbound and outbound interactions make a two-way exchange. */
  conversationChannels: string[];
  /** Event names (lower-cased) that only react to a company message: no exchange, no activity of the customer's own. */
  reactions: string[];
  scores: { promoterMin: number; detractorMax: number };
  /** The five stages in ladder order. */
  stages: StageRule[];
  momentum: MomentumRules;
  accounts: { minPeople: number };
  /** The monthly history: months kept, and how far ahead a move up is looked for (Lifetime Opportunity Value). */
  history: { months: number; horizonMonths: number };
  /** What a customer's contributions are worth: per event of a group, a sum, or the mean CLV of the customers referrals brought. */
  value: { contributions: { group: string; worth: number | 'referred_clv' }[] };
}

/** Whether a condition is a leaf (a measure and its bound). */
export function isLeaf(c: Condition): c is Extract<Condition, { measure: Measure }> {
  return 'measure' in c;
}

/** Every leaf of a condition tree, depth first. */
export function leaves(c: Condition): Extract<Condition, { measure: Measure }>[] {
  if (isLeaf(c)) return [c];
  if ('all' in c) return c.all.flatMap(leaves);
  if ('any' in c) return c.any.flatMap(leaves);
  return c.of.flatMap(leaves);
}

/** Each base measure in words, as explanations show it. */
export const MEASURE_LABELS: Record<BaseMeasure, string> = {
  interactions: 'interactions',
  inbound: 'inbound interactions (the customer spoke)',
  outbound: 'outbound interactions (the company spoke)',
  mutual: 'conversations (mutual interactions)',
  two_way_months: 'months with a two-way exchange',
  active_months: 'months with activity of their own',
  orders: 'orders',
  spend: 'spend',
  order_months: 'months with an order',
  feedback: 'feedback items',
  promoters: 'promoter survey answers',
  detractors: 'detractor survey answers',
  positive_feedback: 'positive feedback items',
  sentiment: 'mean sentiment of their feedback',
  tenure_days: 'days since first seen',
  days_since_contact: 'days since their last touch',
};

export function measureLabel(m: Measure): string {
  if (m.startsWith('events:')) return `events in group ${m.slice(7)}`;
  if (m.startsWith('feedback:')) return `feedback of kind ${m.slice(9)}`;
  return MEASURE_LABELS[m as BaseMeasure] ?? m;
}
