/**
 * Listening coverage: for the most valuable customers (the top N by CLV of the latest
 * customer-value run, or a CLV band), when the company last had a two-way contact with them
 * (as the LOVE rules in force count one), which of their feedback went unanswered, and their
 * visits, past and planned; and alerts that say how many of them are left unheard, each with
 * how it was computed.
 */
import { z } from 'zod';
import { invalid } from '../core/errors.js';
import { DAY_MS } from '../core/time.js';
import { STAGE_KEYS } from '../models/stages/rules.js';
import { lastAnswer, lastTwoWay, unanswered, type MonthTouch } from '../models/stages/contact.js';
import type { Store } from '../store/db.js';
import { latestClvRun } from '../value/runs.js';
import * as repo from './coverage.repository.js';
import { rulesInForce } from './rules.js';
import { stagesAsOf } from './stages.job.js';

/** How far back the rows are read: two years, as the rules' months measures look (or further, when a window asks). */
export const LOOKBACK_DAYS = 730;
/** Feedback the team writes itself (visit notes, interview notes) asks for no answer. */
const TEAM_WRITTEN = ['visit_note', 'interview'] as const;

export const CoverageParams = z
  .object({
    top: z.coerce.number().int().min(1).max(500).default(50).describe('how many of the most valuable customers (by CLV)'),
    days: z.coerce.number().int().min(7).max(730).default(90).describe('two-way contact is due within this many days'),
    answerDays: z.coerce.number().int().min(1).max(365).default(14).describe('feedback older than this without an answer raises an alert'),
    visitDays: z.coerce.number().int().min(30).max(1095).default(365).describe('a visit is due within this many days (or one planned)'),
    minClv: z.coerce.number().min(0).max(1e12).optional().describe('only customers with at least this CLV (a band with maxClv)'),
    maxClv: z.coerce.number().min(0).max(1e12).optional().describe('only customers with at most this CLV'),
  });
export type CoverageParams = z.input<typeof CoverageParams>;

export const ALERT_KEYS = ['no_two_way', 'unanswered', 'no_visit'] as const;
export type AlertKey = (typeof ALERT_KEYS)[number];

const CoverageRow = z.object({
  userId: z.string(),
  name: z.string().nullable(),
  clv: z.number(),
  pAlive: z.number(),
  stage: z.enum(STAGE_KEYS).nullable().describe('the stored LOVE stage (latest stages run)'),
  lastTwoWay: z.string().nullable().describe(`the latest two-way contact in the last ${LOOKBACK_DAYS} days (or the window read), null without one`),
  twoWayDaysAgo: z.number().nullable(),
  lastAnswer: z.string().nullable().describe('the latest outbound (conversation channel) or mutual interaction'),
  unanswered: z.object({ count: z.number(), oldest: z.object({ id: z.number(), kind: z.string(), at: z.string(), daysAgo: z.number() }).nullable() }).describe('their feedback written after the latest answer'),
  lastVisit: z.string().nullable().describe('the latest visit, call, meeting or interview done'),
  nextVisit: z.string().nullable().describe('the soonest one planned'),
  alerts: z.array(z.enum(ALERT_KEYS)),
});

export const CoverageReport = z
  .object({
    available: z.boolean().describe('false before the first customer-value run (nothing says who is most valuable)'),
    note: z.string().nullable(),
    asOf: z.string(),
    asOfRule: z.string().describe('now, or the latest activity when the data end before now'),
    selection: z.object({
      top: z.number(),
      minClv: z.number().nullable(),
      maxClv: z.number().nullable(),
      customers: z.number().describe('customers selected (fewer than top when fewer are valued)'),
      words: z.string().describe('the selection in words: "your 50 most valuable customers"'),
      valueRun: z.object({ id: z.number(), asOf: z.string(), currency: z.string().nullable() }).nullable(),
    }),
    windows: z.object({ days: z.number(), answerDays: z.number(), visitDays: z.number(), lookbackDays: z.number() }),
    alerts: z.array(
      z.object({
        key: z.enum(ALERT_KEYS),
        count: z.number(),
        of: z.number(),
        message: z.string(),
        basis: z.string().describe('how it was computed'),
        userIds: z.array(z.string()),
      }),
    ),
    rows: z.array(CoverageRow).describe('the selected customers, most valuable first'),
  })
  .meta({ id: 'CoverageReport' });
export type CoverageReport = z.infer<typeof CoverageReport>;

const iso = (t: number): string => new Date(t).toISOString();
const money = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
const period = (days: number): string => (days === 365 ? 'the last year' : days % 365 === 0 ? `the last ${days / 365} years` : `the last ${days} days`);

/**
 * The coverage of the most valuable customers as of the stages' as-of time (now, or the end of
 * the data). Reads the top N off the CLV index and then only their rows.
 *
 * @example const r = await coverage(store, { top: 50, days: 90 }); r.alerts[0].message // "12 of your 50 most valuable customers had no two-way contact in 90 days"
 */
export async function coverage(store: Store, params: CoverageParams = {}, now = Date.now()): Promise<CoverageReport> {
  const parsed = CoverageParams.safeParse(params);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw invalid(i.path.map(String).join('.') || 'query', i.message);
  }
  const p = parsed.data;
  if (p.minClv !== undefined && p.maxClv !== undefined && p.maxClv < p.minClv) throw invalid('maxClv', 'must not be below minClv');
  const [{ asOf, rule }, force, run] = await Promise.all([stagesAsOf(store, now), rulesInForce(store.db), latestClvRun(store)]);
  const band = p.minClv !== undefined || p.maxClv !== undefined;
  const lookbackDays = Math.max(LOOKBACK_DAYS, p.days, p.visitDays);
  const since = asOf - lookbackDays * DAY_MS;
  const rows = run ? await repo.topByClv(store.db, { limit: p.top, min: p.minClv, max: p.maxClv }) : [];
  const ids = rows.map((r) => r.customer_id);
  const [touches, feedback, visits] = await Promise.all([
    repo.conversationTouches(store.db, store.dialect, { customerIds: ids, since, until: asOf, channels: force.rules.conversationChannels, reactions: force.rules.reactions }),
    repo.customerFeedback(store.db, { customerIds: ids, since, until: asOf, leaveOut: TEAM_WRITTEN }),
    repo.visitTimes(store.db, { customerIds: ids, until: asOf + DAY_MS, plannedFrom: asOf - DAY_MS }),
  ]);
  const touchesOf = group(touches, (t) => t.customer_id);
  const feedbackOf = group(feedback, (f) => f.customer_id);
  const visitsOf = new Map(visits.map((v) => [v.customer_id, v]));

  const words = band
    ? `your ${rows.length} most valuable customers with a CLV ${p.minClv !== undefined && p.maxClv !== undefined ? `between ${money(p.minClv)} and ${money(p.maxClv)}` : p.minClv !== undefined ? `of at least ${money(p.minClv)}` : `of at most ${money(p.maxClv!)}`}`
    : `your ${rows.length} most valuable customers`;
  const daysAgo = (t: number): number => Math.floor((asOf - t) / DAY_MS);
  const out = rows.map((r) => {
    const mine: MonthTouch[] = touchesOf.get(r.customer_id) ?? [];
    const twoWay = lastTwoWay(mine);
    const answer = lastAnswer(mine);
    const open = unanswered(feedbackOf.get(r.customer_id) ?? [], answer);
    const v = visitsOf.get(r.customer_id);
    const lastDone = v?.last_done ?? null;
    const nextPlanned = v?.next_planned ?? null;
    const alerts: AlertKey[] = [];
    if (twoWay === null || twoWay < asOf - p.days * DAY_MS) alerts.push('no_two_way');
    if (open.oldest !== null && open.oldest.at < asOf - p.answerDays * DAY_MS) alerts.push('unanswered');
    if ((lastDone === null || lastDone < asOf - p.visitDays * DAY_MS) && nextPlanned === null) alerts.push('no_visit');
    return {
      userId: r.user_id ?? '',
      name: r.name ?? r.email,
      clv: r.clv,
      pAlive: r.p_alive,
      stage: r.stage === null ? null : (STAGE_KEYS[r.stage] ?? null),
      lastTwoWay: twoWay === null ? null : iso(twoWay),
      twoWayDaysAgo: twoWay === null ? null : daysAgo(twoWay),
      lastAnswer: answer === null ? null : iso(answer),
      unanswered: { count: open.count, oldest: open.oldest ? { id: open.oldest.id, kind: open.oldest.kind, at: iso(open.oldest.at), daysAgo: daysAgo(open.oldest.at) } : null },
      lastVisit: lastDone === null ? null : iso(lastDone),
      nextVisit: nextPlanned === null ? null : iso(nextPlanned),
      alerts,
    };
  });

  const asOfText = `${iso(asOf).slice(0, 10)} (the as-of day: ${rule})`;
  const channels = force.rules.conversationChannels.join(', ');
  const reactions = force.rules.reactions.length > 0 ? `; reactions (${force.rules.reactions.slice(0, 3).join(', ')}${force.rules.reactions.length > 3 ? ', …' : ''}) are not contact` : '';
  const of = out.length;
  const count = (k: AlertKey) => out.filter((r) => r.alerts.includes(k));
  const selected = `the ${of} customers of highest CLV in customer-value run ${run?.id ?? '–'}${band ? ` within the band` : ''}`;
  const alert = (key: AlertKey, message: (n: number) => string, basis: string) => {
    const hit = count(key);
    return { key, count: hit.length, of, message: message(hit.length), basis, userIds: hit.map((r) => r.userId) };
  };
  const alerts = of === 0
    ? []
    : [
        alert(
          'no_two_way',
          (n) => `${n} of ${words} had no two-way contact in ${p.days} days`,
          `Of ${selected}: those without a two-way contact in the ${p.days} days before ${asOfText}. Two-way, as the LOVE rules in force (${force.version === null ? 'the default' : `version ${force.version}`}) count it: a mutual interaction on any channel, or an inbound and an outbound interaction through a conversation channel (${channels}) in the same calendar month${reactions}. Interactions of the last ${lookbackDays} days are read.`,
        ),
        alert(
          'unanswered',
          (n) => `${n} of ${words} have unanswered feedback older than ${p.answerDays} days`,
          `Of ${selected}: those with a feedback item of their own (tickets, reviews, surveys and the like; not the team's visit or interview notes) written more than ${p.answerDays} days before ${asOfText} with no later answer: no outbound interaction through a conversation channel (${channels}) and no mutual interaction at or after it. Feedback and interactions of the last ${lookbackDays} days are read.`,
        ),
        alert(
          'no_visit',
          (n) => `${n} of ${words} have no visit in ${period(p.visitDays)} and none planned`,
          `Of ${selected}: those with no visit, call, meeting or interview done in the ${p.visitDays} days before ${asOfText}, and none planned from then on (a planned one left undone more than a day past its time does not count).`,
        ),
      ];
  const note = !run
    ? 'No customer-value run yet: nothing says who is most valuable. Run `rapport clv run` (it also runs after orders are imported and on the server’s schedule).'
    : of === 0
      ? 'No identified customer has a CLV in the latest customer-value run' + (band ? ' within the band' : '') + '.'
      : null;
  return {
    available: run !== undefined,
    note,
    asOf: iso(asOf),
    asOfRule: rule,
    selection: { top: p.top, minClv: p.minClv ?? null, maxClv: p.maxClv ?? null, customers: of, words, valueRun: run ? { id: run.id, asOf: run.report.asOf, currency: run.report.currency?.code ?? null } : null },
    windows: { days: p.days, answerDays: p.answerDays, visitDays: p.visitDays, lookbackDays },
    alerts,
    rows: out,
  };
}

function group<T>(items: readonly T[], key: (t: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}
