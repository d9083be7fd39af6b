/**
 * Listening coverage's only SQL. Every query is bounded by the selection: the most valuable
 * customers come off the index by CLV (`customer_values_clv`, read backwards from the top), and
 * their interactions, feedback and visits are read for those ids alone through the indexes by
 * customer and time, however many customers there are.
 */
import { sql } from 'kysely';
import type { Conn, Dialect } from '../store/db.js';
import { monthOfMs } from '../store/sql.js';

export interface ValuedCustomer {
  customer_id: number;
  user_id: string | null;
  name: string | null;
  email: string | null;
  clv: number;
  p_alive: number;
  stage: number | null;
}

/**
 * The `limit` identified customers of highest CLV in the latest customer-value run (within
 * [min, max] when given), most valuable first. Ordered exactly as the index is read backwards
 * (clv, then customer id, both descending), so the database stops after `limit` rows.
 */
export function topByClvQuery(db: Conn, o: { limit: number; min?: number | undefined; max?: number | undefined }) {
  let q = db
    .selectFrom('customer_values as v')
    .innerJoin('customers as c', 'c.id', 'v.customer_id')
    .leftJoin('customer_stages as s', 's.customer_id', 'v.customer_id')
    .select(['v.customer_id as customer_id', 'c.user_id as user_id', 'c.name as name', 'c.email as email', 'v.clv as clv', 'v.p_alive as p_alive', 's.stage as stage'])
    .where('v.clv', 'is not', null)
    .where('c.user_id', 'is not', null);
  if (o.min !== undefined) q = q.where('v.clv', '>=', o.min);
  if (o.max !== undefined) q = q.where('v.clv', '<=', o.max);
  return q.orderBy('v.clv', 'desc').orderBy('v.customer_id', 'desc').limit(o.limit);
}

export async function topByClv(db: Conn, o: { limit: number; min?: number | undefined; max?: number | undefined }): Promise<ValuedCustomer[]> {
  const rows = await topByClvQuery(db, o).execute();
  return rows.map((r) => ({ ...r, customer_id: Number(r.customer_id), clv: Number(r.clv), p_alive: Number(r.p_alive), stage: r.stage === null ? null : Number(r.stage) }));
}

/** Lower-cased names for `lower(x) in (…)`; an empty list matches nothing. */
const inList = (values: readonly string[]) => (values.length === 0 ? sql`(null)` : sql`(${sql.join(values.map((v) => v.toLowerCase()))})`);

/**
 * The customers' conversation touches in [since, until], per customer, calendar month and
 * direction, each the latest time: mutual interactions on any channel, inbound and outbound
 * ones through the conversation channels; reactions left out. Direction coded 0 in, 1 out, 2 mutual.
 */
export function conversationTouchesQuery(db: Conn, dialect: Dialect, o: { customerIds: readonly number[]; since: number; until: number; channels: readonly string[]; reactions: readonly string[] }) {
  const month = monthOfMs(dialect, 'occurred_at');
  const direction = sql<number>`(case direction when 'inbound' then 0 when 'outbound' then 1 else 2 end)`;
  return db
    .selectFrom('interactions')
    .select([
      'customer_id as customer_id',
      month.as('month'),
      direction.as('direction'),
      (eb) => eb.fn.max('occurred_at').as('at'),
    ])
    .where('customer_id', 'in', o.customerIds)
    .where('occurred_at', '>=', o.since)
    .where('occurred_at', '<=', o.until)
    .where((eb) => eb.or([eb('direction', '=', 'mutual'), sql<boolean>`lower(channel) in ${inList(o.channels)}`]))
    .where(sql<boolean>`lower(name) not in ${inList(o.reactions.length === 0 ? [''] : o.reactions)}`)
    .groupBy(['customer_id', month, direction]);
}

export async function conversationTouches(db: Conn, dialect: Dialect, o: Parameters<typeof conversationTouchesQuery>[2]): Promise<{ customer_id: number; month: string; direction: number; at: number }[]> {
  if (o.customerIds.length === 0) return [];
  const rows = await conversationTouchesQuery(db, dialect, o).execute();
  return rows.map((r) => ({ customer_id: Number(r.customer_id), month: String(r.month), direction: Number(r.direction), at: Number(r.at) }));
}

/** The customers' feedback in [since, until] of the kinds they write themselves (not the team's notes), oldest first. */
export async function customerFeedback(db: Conn, o: { customerIds: readonly number[]; since: number; until: number; leaveOut: readonly string[] }): Promise<{ customer_id: number; id: number; kind: string; at: number }[]> {
  if (o.customerIds.length === 0) return [];
  let q = db
    .selectFrom('feedback')
    .select(['customer_id as customer_id', 'id as id', 'kind as kind', 'created_at as at'])
    .where('customer_id', 'in', o.customerIds)
    .where('created_at', '>=', o.since)
    .where('created_at', '<=', o.until);
  if (o.leaveOut.length > 0) q = q.where('kind', 'not in', o.leaveOut as ('visit_note' | 'interview')[]);
  const rows = await q.orderBy('created_at').execute();
  return rows.map((r) => ({ customer_id: Number(r.customer_id), id: Number(r.id), kind: String(r.kind), at: Number(r.at) }));
}

/** Per customer: the latest visit done by `until`, and the soonest one planned from `plannedFrom` on. */
export async function visitTimes(db: Conn, o: { customerIds: readonly number[]; until: number; plannedFrom: number }): Promise<{ customer_id: number; last_done: number | null; next_planned: number | null }[]> {
  if (o.customerIds.length === 0) return [];
  const rows = await db
    .selectFrom('visits')
    .select([
      'customer_id as customer_id',
      sql<number | null>`max(case when status = 'done' and at <= ${o.until} then at end)`.as('last_done'),
      sql<number | null>`min(case when status = 'planned' and at >= ${o.plannedFrom} then at end)`.as('next_planned'),
    ])
    .where('customer_id', 'in', o.customerIds)
    .groupBy('customer_id')
    .execute();
  return rows.map((r) => ({ customer_id: Number(r.customer_id), last_done: r.last_done === null ? null : Number(r.last_done), next_planned: r.next_planned === null ? null : Number(r.next_planned) }));
}
