/**
 * Accounts (Segment groups) as readers see them: the list, most valuable first, and one
 * account's page: its stage from its people and why, its people per stage, its Lifetime
 * Opportunity Value and opportunity, and its people most valuable first.
 */
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { notFound } from '../core/errors.js';
import { parseTraits } from '../ingest/traits.js';
import { MOMENTA, STAGE_KEYS } from '../models/stages/rules.js';
import type { Store } from '../store/db.js';
import * as repo from './accounts.repository.js';
import { rulesInForce } from './rules.js';
import { latestRun, StageInfo } from './stages.service.js';

const Cursor = z.string().max(500).optional().describe('the nextCursor of the previous page');

export const AccountListParams = z.object({
  q: z.string().max(200).optional().describe("matches the account's name or group id (ignoring case)"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: Cursor,
});

export const AccountList = z
  .object({
    items: z.array(
      z.object({
        groupId: z.string(),
        name: z.string().nullable(),
        stage: z.enum(STAGE_KEYS).nullable().describe('the latest stages run’s placement (null: not placed: no people when it ran, or new since)'),
        stageName: z.string().nullable(),
        people: z.number().describe('people of the account now'),
        lov: z.number().nullable().describe("the sum of its people's Lifetime Opportunity Value at the latest stages run"),
        opportunity: z.number().nullable().describe("the sum of its people's opportunity (null before a stage history gave one)"),
      }),
    ),
    total: z.number().describe('accounts matching q'),
    nextCursor: z.string().nullable(),
    order: z.string(),
  })
  .meta({ id: 'AccountList' });

const isListKey = (v: unknown): v is [number | null, number] => Array.isArray(v) && v.length === 2 && (v[0] === null || typeof v[0] === 'number') && Number.isSafeInteger(v[1]);

/** Accounts most valuable first: those the latest stages run valued by LOV, then the others, newest first. */
export async function listAccounts(store: Store, p: z.infer<typeof AccountListParams>): Promise<z.infer<typeof AccountList>> {
  const after = p.cursor ? decodeCursor(p.cursor, isListKey) : undefined;
  const want = p.limit + 1;
  const rows: repo.AccountListRow[] = [];
  if (!after || after[0] !== null) rows.push(...(await repo.valuedAccounts(store.db, { q: p.q, limit: want, after: after ? { lov: after[0]!, id: after[1] } : undefined })));
  if (rows.length < want) rows.push(...(await repo.otherAccounts(store.db, { q: p.q, limit: want - rows.length, after: after && after[0] === null ? after[1] : undefined })));
  const [total, force] = await Promise.all([repo.countAccounts(store.db, p.q), rulesInForce(store.db)]);
  const page = rows.slice(0, p.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      groupId: r.group_id,
      name: r.name,
      stage: r.stage === null ? null : STAGE_KEYS[r.stage]!,
      stageName: r.stage === null ? null : (force.rules.stages[r.stage]?.name ?? null),
      people: r.people,
      lov: r.lov,
      opportunity: r.opportunity,
    })),
    total,
    nextCursor: rows.length > p.limit && last ? encodeCursor([last.lov, last.id]) : null,
    order: "Lifetime Opportunity Value (the sum of its people's, from the latest stages run), highest first; accounts without one (not placed by a run) after them, newest first.",
  };
}

export const AccountParams = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('people per page'),
  cursor: Cursor,
});

const Person = z.object({
  userId: z.string().nullable(),
  name: z.string().nullable().describe('the name, else the e-mail'),
  email: z.string().nullable(),
  stage: z.enum(STAGE_KEYS).nullable(),
  stageName: z.string().nullable(),
  momentum: z.enum(MOMENTA).nullable(),
  clv: z.number().nullable().describe('the latest customer-value run’s'),
  lov: z.number().nullable().describe('their Lifetime Opportunity Value at the latest stages run'),
});

export const AccountReply = z
  .object({
    groupId: z.string(),
    name: z.string().nullable(),
    traits: z.record(z.string(), z.unknown()),
    firstSeen: z.string().describe('when Rapport first recorded the account (its first group call)'),
    asOf: z.string().nullable().describe('the as-of time of the latest stages run'),
    stage: StageInfo.nullable().describe('the latest stages run’s placement (null: not placed)'),
    basis: z.enum(['people', 'most_valuable']).nullable().describe('people: held by at least min_people of its people; most_valuable: its most valuable person’s stage, higher'),
    explanation: z.string(),
    lines: z.array(z.string()).describe('why, in words: the rule with its numbers, what the next stage needs, and the value'),
    minPeople: z.number().describe('the rules’ accounts.min_people'),
    lead: Person.pick({ userId: true, name: true, stage: true, stageName: true, clv: true }).nullable().describe('its most valuable person (by CLV) at the run'),
    lov: z.number().nullable().describe("the sum of its people's Lifetime Opportunity Value at the latest stages run (null: not placed)"),
    opportunity: z.number().nullable().describe("the sum of its people's opportunity (null: not placed, or no stage history yet)"),
    counts: z.object({
      people: z.number().describe('people of the account now'),
      placed: z.number().nullable().describe('people the latest run counted'),
      holders: z.number().nullable().describe('people at or above the account’s stage at the run'),
      byStage: z.array(z.object({ key: z.enum(STAGE_KEYS), name: z.string(), people: z.number() })),
      notPlaced: z.number().describe('people the latest run did not place (new since)'),
    }),
    people: z.array(Person).describe('most valuable first: LOV, highest first; people not placed yet last'),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'Account' });

const isPeopleKey = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && Number.isSafeInteger(v[1]);
const money = (v: number): string => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** One account: its stage and why, people per stage, LOV and opportunity, and a page of its people, most valuable first. */
export async function accountOf(store: Store, groupId: string, p: z.infer<typeof AccountParams>): Promise<z.infer<typeof AccountReply>> {
  const a = await repo.accountByGroupId(store.db, groupId);
  if (!a) throw notFound(`account ${groupId}`);
  const after = p.cursor ? decodeCursor(p.cursor, isPeopleKey) : undefined;
  const [stored, perStage, rows, force, run] = await Promise.all([
    repo.storedAccountStage(store.db, a.id),
    repo.peoplePerStage(store.db, a.id),
    repo.accountPeople(store.db, a.id, { limit: p.limit + 1, after: after ? { lov: after[0], id: after[1] } : undefined }),
    rulesInForce(store.db),
    latestRun(store),
  ]);
  const stages = force.rules.stages;
  const minPeople = force.rules.accounts.minPeople;
  const name = (k: number | null): string | null => (k === null ? null : (stages[k]?.name ?? null));
  const key = (k: number | null) => (k === null ? null : STAGE_KEYS[k]!);
  const byStage = stages.map((s, k) => ({ key: s.key, name: s.name, people: perStage.find((x) => x.stage === k)?.people ?? 0 }));
  const people = perStage.reduce((n, x) => n + x.people, 0);
  const notPlaced = perStage.find((x) => x.stage === null)?.people ?? 0;
  const atOrAbove = (k: number): number => byStage.slice(k).reduce((n, x) => n + x.people, 0);
  const stage = stored ? { key: stages[stored.stage]!.key, name: stages[stored.stage]!.name, description: stages[stored.stage]!.description } : null;
  const lead = stored?.lead ? { userId: stored.lead.user_id, name: stored.lead.name ?? stored.lead.email, stage: key(stored.lead.stage), stageName: name(stored.lead.stage), clv: stored.lead.clv } : null;

  const rule = `The rule: an account sits at the highest stage that at least ${plural(minPeople, 'person', 'people')} of it reached, or at its most valuable person's (by CLV) when that is higher.`;
  let explanation: string;
  const lines: string[] = [];
  if (!stored) {
    explanation = people === 0 ? 'Not placed: it has no people.' : 'Not placed by a stages run yet.';
    lines.push(people === 0 ? 'Not placed: no customer belongs to it (a Segment group call links one).' : 'Not placed by a stages run yet: its people joined since the latest run (run `rapport stages run` or POST /api/stages/run).', rule);
  } else {
    const s = stored.stage;
    const n = plural(stored.people, 'person', 'people');
    explanation =
      stored.basis === 'most_valuable'
        ? stored.people >= minPeople
          ? `${stage!.name}: the stage of its most valuable person, higher than any stage ${minPeople} of its ${n} hold.`
          : `${stage!.name}: the stage of its most valuable person (with ${n} it has fewer than the ${minPeople} a stage held by its people needs).`
        : s === 0 && stored.people < minPeople
          ? `${stage!.name}: where every account starts (with ${n} no stage is held by ${minPeople}, and its most valuable person is not higher).`
          : `${stage!.name}: held by ${stored.holders} of its ${n}.`;
    lines.push(`${stage!.name}: ${stage!.description}`, rule);
    lines.push(`People per stage: ${byStage.map((x) => `${x.name} ${x.people}`).join(', ')}${notPlaced > 0 ? `; not placed yet ${notPlaced}` : ''}.`);
    if (stored.basis === 'people') lines.push(`${plural(stored.holders, 'person is', 'people are')} at ${stage!.name} or above (${minPeople} needed): the highest stage so held.`);
    else lines.push(`Fewer than ${minPeople} people are at ${stage!.name} or above, but its most valuable person${lead ? `, ${lead.name ?? lead.userId ?? 'a customer'}${lead.clv === null ? '' : ` (CLV ${money(lead.clv)})`},` : ''} is: the account takes their stage.`);
    if (lead && stored.basis === 'people') lines.push(`Its most valuable person, ${lead.name ?? lead.userId ?? 'a customer'}${lead.clv === null ? '' : ` (CLV ${money(lead.clv)})`}, is at ${lead.stageName ?? 'no stage'}: not higher.`);
    if (!lead) lines.push('No person of it has a CLV from the customer-value run: the stage is what its people hold.');
    if (s < stages.length - 1) {
      const next = stages[s + 1]!;
      const have = atOrAbove(s + 1);
      lines.push(`For ${next.name}: ${plural(minPeople, 'person', 'people')} at ${next.name} or above (it has ${have}), or its most valuable person there.`);
    } else lines.push('At the top of the ladder.');
    if (stored.lov !== null) {
      lines.push(
        `Lifetime Opportunity Value ${money(stored.lov)}: the sum of ${stored.people === 1 ? 'its one person' : `its ${stored.people} people`}'s (each: CLV + contributions + opportunity)${stored.opportunity === null ? '; the opportunity is unknown until a stage history runs' : `, of which opportunity ${money(stored.opportunity)}: the expected gain of moving each of them up one stage`}.`,
      );
    }
    if (stored.people !== people) lines.push(`Its people changed since the run (${stored.people} then, ${people} now): the next run places it again.`);
  }
  const page = rows.slice(0, p.limit);
  const last = page.at(-1);
  return {
    groupId: a.group_id,
    name: a.name,
    traits: parseTraits(a.traits),
    firstSeen: new Date(a.created_at).toISOString(),
    asOf: run ? run.report.asOf : null,
    stage,
    basis: stored?.basis ?? null,
    explanation,
    lines,
    minPeople,
    lead,
    lov: stored?.lov ?? null,
    opportunity: stored?.opportunity ?? null,
    counts: { people, placed: stored?.people ?? null, holders: stored?.holders ?? null, byStage, notPlaced },
    people: page.map((r) => ({
      userId: r.user_id,
      name: r.name ?? r.email,
      email: r.email,
      stage: key(r.stage),
      stageName: name(r.stage),
      momentum: r.momentum === null ? null : (r.momentum as (typeof MOMENTA)[number]),
      clv: r.clv,
      lov: r.lov,
    })),
    nextCursor: rows.length > p.limit && last ? encodeCursor([last.lov ?? repo.NO_LOV, last.id]) : null,
  };
}
