import { sql, type SqlBool, type Expression, type ExpressionBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Conn, Dialect } from '../store/db.js';
import { monthOfMs } from '../store/sql.js';

/** Queries behind the customer 360. Only queries: mapping and logic live in the service. */

export type CustomerSort = 'last_seen' | 'first_seen' | 'revenue' | 'orders' | 'interactions' | 'name' | 'clv';

const SORT_COLUMN = {
  last_seen: 'last_seen',
  first_seen: 'first_seen',
  revenue: 'revenue',
  orders: 'order_count',
  interactions: 'interaction_count',
  name: 'name',
  clv: 'customer_values.clv',
} as const;

/** What a missing sort value counts as: customers without a value (no run yet, no orders) come last either way. */
export function blankSortValue(sort: CustomerSort, order: 'asc' | 'desc'): string | number {
  if (sort === 'name') return '';
  if (sort === 'clv') return order === 'desc' ? -1e300 : 1e300;
  return -1;
}

export interface ListQuery {
  q?: string | undefined;
  sort: CustomerSort;
  order: 'asc' | 'desc';
  limit: number;
  /** Keyset position: the sort value and id of the last row of the previous page. */
  after?: { value: string | number | null; id: number } | undefined;
}

export async function listCustomers(db: Conn, query: ListQuery) {
  const col = SORT_COLUMN[query.sort];
  const blankValue = blankSortValue(query.sort, query.order);
  const key = sql<string | number>`coalesce(${sql.ref(col)}, ${sql.lit(blankValue)})`;
  let qb = db
    .selectFrom('customers')
    .leftJoin('customer_values', 'customer_values.customer_id', 'customers.id')
    .leftJoin('customer_stages', 'customer_stages.customer_id', 'customers.id')
    .selectAll('customers')
    .select(['customer_values.clv', 'customer_values.p_alive', 'customer_values.segment', 'customer_values.rfm_group', 'customer_stages.stage', 'customer_stages.momentum', 'customer_stages.lov'])
    .where(filtered(query.q));
  if (query.after) {
    const { value, id } = query.after;
    const v = value ?? blankValue;
    const cmp = query.order === 'desc' ? '<' : '>';
    qb = qb.where(sql<SqlBool>`(${key} ${sql.raw(cmp)} ${v} or (${key} = ${v} and customers.id ${sql.raw(cmp)} ${id}))` as Expression<SqlBool>);
  }
  return qb
    .orderBy(key, query.order)
    .orderBy('customers.id', query.order)
    .limit(query.limit + 1)
    .execute();
}

/** How many identified customers match the list's filter (the list's total). */
export async function countCustomers(db: Conn, q: string | undefined): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(filtered(q))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The list's filter: identified customers, matching `q` on user id, e-mail or name. */
function filtered(q: string | undefined) {
  return (eb: ExpressionBuilder<Database, 'customers'>): Expression<SqlBool> => {
    const identified = eb('customers.user_id', 'is not', null);
    const text = q?.trim() ?? '';
    if (text.length === 0) return identified;
    const lower = text.toLowerCase();
    const like = `%${lower.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return eb.and([
      identified,
      eb.or([
        eb('customers.user_id', '=', text),
        eb(sql`lower(customers.email)`, 'like', sql<string>`${like} escape '\\'`),
        eb(sql`lower(customers.name)`, 'like', sql<string>`${like} escape '\\'`),
        eb(sql`lower(customers.user_id)`, 'like', sql<string>`${like} escape '\\'`),
      ]),
    ]);
  };
}

/** Whether the customers table has a row (one index look-up). */
export async function anyCustomer(db: Conn): Promise<boolean> {
  return (await db.selectFrom('customers').select('id').limit(1).execute()).length > 0;
}

export async function customerByUserId(db: Conn, userId: string) {
  return db.selectFrom('customers').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function accountsOf(db: Conn, customerId: number) {
  return db
    .selectFrom('customer_accounts')
    .innerJoin('accounts', 'accounts.id', 'customer_accounts.account_id')
    .select(['accounts.group_id', 'accounts.name', 'accounts.traits', 'customer_accounts.created_at'])
    .where('customer_accounts.customer_id', '=', customerId)
    .orderBy('customer_accounts.created_at')
    .execute();
}

export async function anonymousIdsOf(db: Conn, customerId: number) {
  return db
    .selectFrom('identities')
    .select(['value'])
    .where('customer_id', '=', customerId)
    .where('kind', '=', 'anonymous')
    .orderBy('created_at')
    .limit(50)
    .execute();
}

export async function interactionMix(db: Conn, customerId: number) {
  return db.selectFrom('customer_channels').select(['channel', 'direction', 'count']).where('customer_id', '=', customerId).execute();
}

export async function revenueByCurrency(db: Conn, customerId: number) {
  return db
    .selectFrom('orders')
    .select(['currency', (eb) => eb.fn.sum<number>('total').as('total'), (eb) => eb.fn.countAll<number>().as('count')])
    .where('customer_id', '=', customerId)
    .groupBy('currency')
    .execute();
}

/** Order value per customer and currency of a page of customers (each one's own currency). */
export async function currenciesOf(db: Conn, customerIds: readonly number[]) {
  if (customerIds.length === 0) return [];
  return db
    .selectFrom('orders')
    .select(['customer_id', 'currency', (eb) => eb.fn.sum<number | string>('total').as('total'), (eb) => eb.fn.countAll<number | string>().as('count')])
    .where('customer_id', 'in', customerIds)
    .groupBy(['customer_id', 'currency'])
    .execute();
}

export async function feedbackMix(db: Conn, customerId: number) {
  return db
    .selectFrom('feedback')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('count')])
    .where('customer_id', '=', customerId)
    .groupBy('kind')
    .execute();
}

/** Keyset bound for one timeline table: rows strictly after the cursor in (time desc, rank desc, id desc). */
export interface TimelineBound {
  at: number;
  rank: number;
  id: number;
}

function timelineWhere(bound: TimelineBound | undefined, rank: number, timeCol: string): Expression<SqlBool> | undefined {
  if (!bound) return undefined;
  const t = sql.ref(timeCol);
  if (rank < bound.rank) return sql<SqlBool>`${t} <= ${bound.at}`;
  if (rank > bound.rank) return sql<SqlBool>`${t} < ${bound.at}`;
  return sql<SqlBool>`(${t} < ${bound.at} or (${t} = ${bound.at} and id < ${bound.id}))`;
}

export const TIMELINE_RANK = { order: 3, feedback: 2, interaction: 1 } as const;

export async function timelineOrders(db: Conn, customerId: number, limit: number, bound?: TimelineBound) {
  let q = db.selectFrom('orders').selectAll().where('customer_id', '=', customerId);
  const w = timelineWhere(bound, TIMELINE_RANK.order, 'occurred_at');
  if (w) q = q.where(w);
  return q.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function timelineInteractions(db: Conn, customerId: number, limit: number, bound?: TimelineBound) {
  let q = db.selectFrom('interactions').selectAll().where('customer_id', '=', customerId);
  const w = timelineWhere(bound, TIMELINE_RANK.interaction, 'occurred_at');
  if (w) q = q.where(w);
  return q.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function timelineFeedback(db: Conn, customerId: number, limit: number, bound?: TimelineBound) {
  let q = db.selectFrom('feedback').selectAll().where('customer_id', '=', customerId);
  const w = timelineWhere(bound, TIMELINE_RANK.feedback, 'created_at');
  if (w) q = q.where(w);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function linesOf(db: Conn, orderRefs: readonly number[]) {
  if (orderRefs.length === 0) return [];
  return db.selectFrom('order_lines').selectAll().where('order_ref', 'in', orderRefs).orderBy('order_ref').orderBy('line_no').execute();
}

/** Tables with a `customer_id`: an erasure removes their rows of the customer. */
const BY_CUSTOMER = ['identities', 'customer_accounts', 'customer_channels', 'interactions', 'orders', 'order_lines', 'feedback', 'customer_values', 'customer_stages', 'customer_stage_history', 'panel_members', 'visits', 'relationship_actions', 'search_docs', 'search_dirty'] as const;
/** Tables keyed by a feedback item: their rows of the customer's feedback go with it. */
const BY_FEEDBACK = ['feedback_insights', 'feedback_tags', 'theme_pins'] as const;

export type ErasedTable = 'customers' | 'demo_truth' | (typeof BY_CUSTOMER)[number] | (typeof BY_FEEDBACK)[number];

/** How many rows of each table are about the customer (what an erasure removes). */
export async function rowsAbout(db: Conn, c: { id: number; user_id: string | null }): Promise<{ table: ErasedTable; rows: number }[]> {
  const n = (r: { n: number | string }) => Number(r.n);
  const out: { table: ErasedTable; rows: number }[] = [{ table: 'customers', rows: 1 }];
  for (const table of BY_CUSTOMER) {
    const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('customer_id', '=', c.id).executeTakeFirstOrThrow();
    out.push({ table, rows: n(r) });
  }
  for (const table of BY_FEEDBACK) {
    const r = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('feedback_id', 'in', (eb) => eb.selectFrom('feedback').select('id').where('customer_id', '=', c.id))
      .executeTakeFirstOrThrow();
    out.push({ table, rows: n(r) });
  }
  const truth = c.user_id === null ? { n: 0 } : await db.selectFrom('demo_truth').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', c.user_id).executeTakeFirstOrThrow();
  out.push({ table: 'demo_truth', rows: n(truth) });
  return out;
}

/**
 * Removes the customer: their rows in other tables go by ON DELETE CASCADE (and the search
 * documents by the sources' triggers), the demo's true parameters of them by their user id.
 */
export async function deleteCustomer(db: Conn, c: { id: number; user_id: string | null }): Promise<void> {
  await db.deleteFrom('customers').where('id', '=', c.id).execute();
  if (c.user_id !== null) await db.deleteFrom('demo_truth').where('user_id', '=', c.user_id).execute();
}

/** Monthly interactions by direction, for the overview. */
export async function monthlyInteractions(db: Conn, dialect: Dialect) {
  const month = monthOfMs(dialect, 'occurred_at');
  return db
    .selectFrom('interactions')
    .select([month.as('month'), 'direction', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy([month, 'direction'])
    .orderBy(month)
    .execute();
}

export async function totals(db: Conn) {
  const c = await db
    .selectFrom('customers')
    .select([
      (eb) => eb.fn.countAll<number>().as('customers'),
      (eb) => eb.fn.count<number>('user_id').as('identified'),
      (eb) => eb.fn.sum<number>('order_count').as('orders'),
      (eb) => eb.fn.sum<number>('revenue').as('revenue'),
      (eb) => eb.fn.sum<number>('interaction_count').as('interactions'),
    ])
    .executeTakeFirstOrThrow();
  const f = await db.selectFrom('feedback').select(['kind', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('kind').execute();
  return { ...c, feedback: f };
}
