/**
 * The next best actions' SQL: which customers are worth looking at, what is open between them
 * and the company, and the actions themselves.
 */
import { sql } from 'kysely';
import type { Conn } from '../store/db.js';
import type { ActionStatus } from '../store/schema.js';

const OPEN_TICKET = ['open', 'pending', 'new', 'waiting'];

/** Candidate customers: the largest opportunities, the cooling ones with the most at risk, and those with open tickets. */
export async function candidateCustomers(db: Conn, limit: number): Promise<number[]> {
  const [opp, cooling, tickets] = await Promise.all([
    db.selectFrom('customer_stages').select('customer_id').where('opportunity', '>', 0).orderBy('opportunity', 'desc').limit(limit).execute(),
    db
      .selectFrom('customer_stages as s')
      .innerJoin('customer_values as v', 'v.customer_id', 's.customer_id')
      .select('s.customer_id')
      .where('s.momentum', '=', 'cooling')
      .where('v.value_at_risk', '>', 0)
      .orderBy('v.value_at_risk', 'desc')
      .limit(limit)
      .execute(),
    db.selectFrom('feedback').select('customer_id').distinct().where('kind', '=', 'ticket').where(sql<boolean>`lower(status) in (${sql.join(OPEN_TICKET)})`).where('customer_id', 'is not', null).limit(limit).execute(),
  ]);
  const ids = new Set<number>();
  for (const r of [...tickets, ...opp, ...cooling]) if (r.customer_id !== null) ids.add(Number(r.customer_id));
  return [...ids];
}

export interface CustomerFacts {
  id: number;
  user_id: string | null;
  first_seen: number | null;
  traits: string;
  stage: number;
  momentum: 'warming' | 'steady' | 'cooling';
  opportunity: number | null;
  contribution: number | null;
  clv: number | null;
  value_at_risk: number | null;
}

export async function customerFacts(db: Conn, ids: readonly number[]): Promise<CustomerFacts[]> {
  if (ids.length === 0) return [];
  const r = await db
    .selectFrom('customers as c')
    .innerJoin('customer_stages as s', 's.customer_id', 'c.id')
    .leftJoin('customer_values as v', 'v.customer_id', 'c.id')
    .select(['c.id', 'c.user_id', 'c.first_seen', 'c.traits', 's.stage', 's.momentum', 's.opportunity', 's.contribution', 'v.clv', 'v.value_at_risk'])
    .where('c.id', 'in', ids)
    .execute();
  return r.map((x) => ({ ...x, id: Number(x.id), first_seen: x.first_seen === null ? null : Number(x.first_seen), stage: Number(x.stage) }));
}

/** Open tickets per customer that no answer (an interaction named in `answered`) followed: how many, and the oldest's time. */
export async function openTickets(db: Conn, ids: readonly number[], answered: readonly string[]): Promise<Map<number, { count: number; oldest: number }>> {
  const out = new Map<number, { count: number; oldest: number }>();
  if (ids.length === 0) return out;
  const names = answered.length > 0 ? answered : ['ticket answered'];
  const r = await db
    .selectFrom('feedback as f')
    .select((eb) => ['f.customer_id', eb.fn.countAll<number>().as('n'), eb.fn.min('f.created_at').as('oldest')])
    .where('f.kind', '=', 'ticket')
    .where(sql<boolean>`lower(f.status) in (${sql.join(OPEN_TICKET)})`)
    .where('f.customer_id', 'in', ids)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('interactions as i')
            .select('i.id')
            .whereRef('i.customer_id', '=', 'f.customer_id')
            .whereRef('i.occurred_at', '>', 'f.created_at')
            .where(sql<boolean>`lower(i.name) in (${sql.join([...names])})`),
        ),
      ),
    )
    .groupBy('f.customer_id')
    .execute();
  for (const x of r) out.set(Number(x.customer_id), { count: Number(x.n), oldest: Number(x.oldest) });
  return out;
}

/** Ideas (interactions named in `ideas`) since the company's last outbound or mutual word through a conversation channel. */
export async function ideasUnthanked(db: Conn, ids: readonly number[], ideas: readonly string[], channels: readonly string[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (ids.length === 0 || ideas.length === 0) return out;
  const conv = channels.length > 0 ? channels : ['email'];
  const r = await db
    .selectFrom('interactions as i')
    .select((eb) => ['i.customer_id', eb.fn.countAll<number>().as('n')])
    .where('i.customer_id', 'in', ids)
    .where(sql<boolean>`lower(i.name) in (${sql.join([...ideas])})`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('interactions as o')
            .select('o.id')
            .whereRef('o.customer_id', '=', 'i.customer_id')
            .whereRef('o.occurred_at', '>', 'i.occurred_at')
            .where('o.direction', 'in', ['outbound', 'mutual'])
            .where(sql<boolean>`lower(o.channel) in (${sql.join([...conv])})`),
        ),
      ),
    )
    .groupBy('i.customer_id')
    .execute();
  for (const x of r) out.set(Number(x.customer_id), Number(x.n));
  return out;
}

/** Action kinds done for these customers since `since`. */
export async function doneSince(db: Conn, ids: readonly number[], since: number): Promise<Map<number, Set<string>>> {
  const out = new Map<number, Set<string>>();
  if (ids.length === 0) return out;
  const r = await db.selectFrom('relationship_actions').select(['customer_id', 'kind']).where('customer_id', 'in', ids).where('status', 'in', ['done', 'dismissed']).where('done_at', '>=', since).execute();
  for (const x of r) {
    const k = Number(x.customer_id);
    const s = out.get(k) ?? new Set<string>();
    s.add(x.kind);
    out.set(k, s);
  }
  return out;
}

export interface NewAction {
  customer_id: number;
  run_id: number;
  kind: string;
  title: string;
  reasons: string;
  priority: number;
  value: number;
  value_basis: string;
  stage: number;
  created_at: number;
}

/** Replaces the open actions with a run's. */
export async function replaceOpenActions(db: Conn, rows: readonly NewAction[]): Promise<void> {
  await db.deleteFrom('relationship_actions').where('status', '=', 'open').execute();
  for (let k = 0; k < rows.length; k += 500) {
    const part = rows.slice(k, k + 500).map((r) => ({ ...r, status: 'open' as const }));
    // Customers erased meanwhile are skipped.
    const alive = new Set((await db.selectFrom('customers').select('id').where('id', 'in', part.map((r) => r.customer_id)).execute()).map((c) => Number(c.id)));
    const kept = part.filter((r) => alive.has(r.customer_id));
    if (kept.length > 0) await db.insertInto('relationship_actions').values(kept).execute();
  }
}

export interface ActionRow {
  id: number;
  kind: string;
  title: string;
  reasons: string;
  value: number;
  value_basis: string;
  stage: number;
  status: ActionStatus;
  created_at: number;
  done_at: number | null;
  done_by: string | null;
  note: string | null;
  customer_id: number;
  user_id: string | null;
  name: string | null;
  email: string | null;
}

function actionsQuery(db: Conn) {
  return db
    .selectFrom('relationship_actions as a')
    .innerJoin('customers as c', 'c.id', 'a.customer_id')
    .select(['a.id', 'a.kind', 'a.title', 'a.reasons', 'a.value', 'a.value_basis', 'a.stage', 'a.status', 'a.created_at', 'a.done_at', 'a.done_by', 'a.note', 'a.customer_id', 'c.user_id', 'c.name', 'c.email']);
}

export async function listActions(db: Conn, p: { status: ActionStatus; kind?: string | undefined; stage?: number | undefined; customerId?: number | undefined; limit: number; offset: number }): Promise<ActionRow[]> {
  let q = actionsQuery(db).where('a.status', '=', p.status);
  if (p.kind) q = q.where('a.kind', '=', p.kind);
  if (p.stage !== undefined) q = q.where('a.stage', '=', p.stage);
  if (p.customerId !== undefined) q = q.where('a.customer_id', '=', p.customerId);
  const order = p.status === 'open' ? q.orderBy('a.priority', 'desc').orderBy('a.value', 'desc') : q.orderBy('a.done_at', 'desc');
  return order.orderBy('a.id').limit(p.limit).offset(p.offset).execute();
}

export async function actionById(db: Conn, id: number): Promise<ActionRow | undefined> {
  return actionsQuery(db).where('a.id', '=', id).executeTakeFirst();
}

export async function countOpenActions(db: Conn): Promise<{ kind: string; n: number }[]> {
  const r = await db.selectFrom('relationship_actions').select((eb) => ['kind', eb.fn.countAll<number>().as('n')]).where('status', '=', 'open').groupBy('kind').execute();
  return r.map((x) => ({ kind: x.kind, n: Number(x.n) }));
}

export async function closeAction(db: Conn, id: number, set: { status: 'done' | 'dismissed'; done_at: number; done_by: string | null; note: string | null }): Promise<void> {
  await db.updateTable('relationship_actions').set(set).where('id', '=', id).execute();
}
