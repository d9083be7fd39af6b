/**
 * The next best relationship action for a customer (pure): from what is open between the two
 * sides (an unanswered ticket, an idea nobody thanked for, a renewal coming), which way the
 * relationship is moving, and what the next LOVE stage still misses, the candidate actions,
 * each with the value at stake and its reasons; the best first.
 *
 * What is at stake:
 *  - a move up one stage is worth the customer's opportunity (LOV);
 *  - answering a ticket, reaching out to a cooling relationship, calling before a renewal
 *    protect what the customer may be lost with: the value at risk (CLV × (1 − P(alive)) as the
 *    customer-value run computes it), or their CLV when a renewal is close;
 *  - thanking for an idea keeps what the customer gives: their contributions.
 * An unanswered ticket comes first whatever it protects: it is the company's turn to speak.
 */
import type { ExplainedCondition } from './engine.js';
import { STAGE_KEYS } from './rules.js';

export const ACTION_KINDS = [
  'answer_ticket',
  'call_before_renewal',
  'reach_out_cooling',
  'thank_for_idea',
  'start_conversation',
  'check_in',
  'invite_survey',
  'invite_review',
  'invite_ideas',
  'invite_referral',
  'invite_interview',
  'invite_panel',
  'work_toward_next_stage',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface ActionSignals {
  stage: number;
  stageNames: readonly string[];
  momentum: 'warming' | 'steady' | 'cooling';
  clv: number;
  valueAtRisk: number | null;
  opportunity: number | null;
  contribution: number;
  /** Open tickets with no later word from the company: the oldest one's age in days. */
  openTickets: number;
  oldestTicketDays: number | null;
  /** Ideas submitted since the company last wrote to them. */
  ideasUnthanked: number;
  /** Days to a renewal the customer's traits name (null without one). */
  renewalInDays: number | null;
  /** The next stage's conditions not met yet (from the placement's explanation). */
  missing: readonly ExplainedCondition[];
  /** Action kinds done for this customer recently (not suggested again). */
  recentlyDone: ReadonlySet<string>;
}

export interface Action {
  kind: ActionKind;
  title: string;
  reasons: string[];
  value: number;
  valueBasis: string;
  /** Ordering: urgent actions first, then by value. */
  priority: number;
}

const money = (v: number): string => v.toFixed(2);

/** The measures a condition (and its parts) reads. */
function measures(c: ExplainedCondition): string[] {
  return c.kind === 'measure' ? [c.measure] : c.parts.flatMap(measures);
}

/** The actions worth taking with this customer, best first. */
export function candidateActions(s: ActionSignals): Action[] {
  const out: Action[] = [];
  const atRisk = Math.max(0, s.valueAtRisk ?? 0);
  const names = s.stageNames;
  const add = (a: Omit<Action, 'priority'> & { priority?: number }): void => {
    if (!s.recentlyDone.has(a.kind)) out.push({ ...a, priority: a.priority ?? 1 });
  };
  if (s.openTickets > 0) {
    add({
      kind: 'answer_ticket',
      title: s.openTickets === 1 ? `Answer their open ticket (${s.oldestTicketDays ?? 0} days old)` : `Answer their ${s.openTickets} open tickets (the oldest ${s.oldestTicketDays ?? 0} days old)`,
      reasons: [`${s.openTickets} ticket${s.openTickets === 1 ? '' : 's'} with no answer from the company since.`, atRisk > 0 ? `Value at risk if they leave: ${money(atRisk)}.` : 'It is the company’s turn to speak.'],
      value: atRisk + Math.max(0, s.opportunity ?? 0),
      valueBasis: 'value at risk plus the opportunity of moving up',
      priority: 3,
    });
  }
  if (s.renewalInDays !== null && s.renewalInDays >= 0 && s.renewalInDays <= 45) {
    add({
      kind: 'call_before_renewal',
      title: `Call before their renewal in ${s.renewalInDays} days`,
      reasons: [`Their renewal is ${s.renewalInDays} days away.`, `CLV ${money(s.clv)}.`],
      value: s.clv,
      valueBasis: 'CLV',
      priority: 2,
    });
  }
  if (s.momentum === 'cooling' && s.stage >= 2 && atRisk > 0) {
    add({
      kind: 'reach_out_cooling',
      title: `Reach out: ${/^[aeiou]/i.test(names[s.stage]!) ? 'an' : 'a'} ${names[s.stage]} relationship is cooling`,
      reasons: ['Their own activity or P(alive) fell against the window before.', `Value at risk: ${money(atRisk)}.`],
      value: atRisk,
      valueBasis: 'value at risk',
    });
  }
  if (s.ideasUnthanked > 0) {
    add({
      kind: 'thank_for_idea',
      title: s.ideasUnthanked === 1 ? 'Thank them for their idea' : `Thank them for their ${s.ideasUnthanked} ideas`,
      reasons: [`${s.ideasUnthanked} idea${s.ideasUnthanked === 1 ? '' : 's'} since the company last wrote to them.`, `Their contributions are worth ${money(s.contribution)}.`],
      value: s.contribution,
      valueBasis: 'contributions',
    });
  }
  const top = STAGE_KEYS.length - 1;
  if (s.stage < top && s.opportunity !== null) {
    const next = names[s.stage + 1]!;
    const read = new Set(s.missing.flatMap(measures));
    const has = (m: string): boolean => read.has(m);
    const move = (kind: ActionKind, title: string, why: string): void =>
      add({ kind, title, reasons: [why, `Moving up to ${next} is worth ${money(s.opportunity!)} (opportunity).`], value: s.opportunity!, valueBasis: 'opportunity of moving up one stage' });
    const before = out.length;
    if (s.stage === 0 && (has('mutual') || has('events:answered') || has('two_way_months'))) move('start_conversation', 'Start a conversation: answer a question or check in on onboarding', `${next} needs a two-way exchange.`);
    if (s.stage === 1) {
      if (has('feedback:survey')) move('invite_survey', 'Invite them to a survey', `${next} counts survey answers.`);
      if (has('two_way_months')) move('check_in', 'Check in regularly (conversations over several months)', `${next} counts months with a two-way exchange.`);
    }
    if (s.stage === 2) {
      if (has('events:reviews')) move('invite_review', 'Invite them to review what they bought', `${next} counts reviews.`);
      if (has('events:community') || has('events:ideas')) move('invite_ideas', 'Invite them to vote on or post ideas', `${next} counts ideas, votes and answers to other customers.`);
      if (has('events:referrals')) move('invite_referral', 'Invite them to refer a friend', `${next} counts referrals.`);
      if (has('promoters')) move('invite_survey', 'Ask how likely they are to recommend you (NPS)', `${next} counts promoter answers.`);
    }
    if (s.stage === 3) {
      if (has('feedback:interview') || has('events:research')) move('invite_interview', 'Invite them to an interview', `${next} counts interviews and visits.`);
      if (has('events:research')) move('invite_panel', 'Invite them to a co-creation panel or beta', `${next} counts panel and beta participation.`);
    }
    if (out.length === before && s.missing.length > 0) {
      const labels = s.missing.flatMap((c) => (c.kind === 'measure' ? [c.label] : [])).slice(0, 3);
      move('work_toward_next_stage', `Work toward ${next}`, `${next} still misses: ${labels.length > 0 ? labels.join(', ') : 'some of its conditions'}.`);
    }
  }
  return out.sort((a, b) => b.priority - a.priority || b.value - a.value);
}

/** What marking an action done records: an interaction of the company's (or both sides'). */
export const DONE_EVENTS: Record<ActionKind, { name: string; channel: string; direction: 'outbound' | 'mutual' }> = {
  answer_ticket: { name: 'Ticket Answered', channel: 'support', direction: 'outbound' },
  call_before_renewal: { name: 'Renewal Call Completed', channel: 'phone', direction: 'mutual' },
  reach_out_cooling: { name: 'Check-in Completed', channel: 'phone', direction: 'mutual' },
  thank_for_idea: { name: 'Idea Thanked', channel: 'email', direction: 'outbound' },
  start_conversation: { name: 'Question Answered', channel: 'email', direction: 'outbound' },
  check_in: { name: 'Check-in Completed', channel: 'phone', direction: 'mutual' },
  invite_survey: { name: 'Survey Invitation Sent', channel: 'email', direction: 'outbound' },
  invite_review: { name: 'Review Invitation Sent', channel: 'email', direction: 'outbound' },
  invite_ideas: { name: 'Ideas Invitation Sent', channel: 'email', direction: 'outbound' },
  invite_referral: { name: 'Referral Invitation Sent', channel: 'email', direction: 'outbound' },
  invite_interview: { name: 'Interview Invitation Sent', channel: 'email', direction: 'outbound' },
  invite_panel: { name: 'Panel Invitation Sent', channel: 'email', direction: 'outbound' },
  work_toward_next_stage: { name: 'Relationship Action Completed', channel: 'email', direction: 'outbound' },
};
