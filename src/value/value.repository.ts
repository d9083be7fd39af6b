/**
 * Customer value as stored: every customer's scores from the latest run (customer_values) and
 * the settings scheduled runs reuse (meta).
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Conn, Store } from '../store/db.js';
import type { CustomerValuesTable } from '../store/schema.js';
import { refillTable } from '../store/table-swap.js';

/** A meta setting's stored value, or undefined when it was never written. */
export async function readMeta(db: Conn, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Writes a meta setting, replacing its value. */
export async function writeMeta(db: Conn, key: string, value: string): Promise<void> {
  await db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** The columns of customer_values, in the order `replaceCustomerValues` takes each row's values. */
export const CUSTOMER_VALUE_COLUMNS = [
  'customer_id',
  'run_id',
  'first_day',
  'last_day',
  'purchase_days',
  'spend',
  'repeat_spend',
  'p_alive',
  'expected_purchases',
  'expected_spend',
  'clv',
  'value_at_risk',
  'rfm_r',
  'rfm_f',
  'rfm_m',
  'rfm_group',
  'segment',
] as const satisfies readonly (keyof CustomerValuesTable)[];

/** One customer_values row's values, in CUSTOMER_VALUE_COLUMNS order. */
export type CustomerValueTuple = [
  customer_id: number,
  run_id: number,
  first_day: number,
  last_day: number,
  purchase_days: number,
  spend: number,
  repeat_spend: number,
  p_alive: number,
  expected_purchases: number,
  expected_spend: number | null,
  clv: number | null,
  value_at_risk: number | null,
  rfm_r: number,
  rfm_f: number,
  rfm_m: number,
  rfm_group: string,
  segment: number | null,
];

/**
 * Replaces every customer's stored value with `count` new rows (`row(i)` may return the same
 * tuple each time, filled anew) in one transaction, with `alongside` committing in it; rows of
 * customers erased or merged away since they were computed are left out.
 */
export async function replaceCustomerValues(store: Store, count: number, row: (i: number) => CustomerValueTuple, alongside: (db: Conn) => Promise<void>): Promise<void> {
  await refillTable(store, {
    table: 'customer_values',
    columns: CUSTOMER_VALUE_COLUMNS,
    count,
    row,
    parent: { column: 'customer_id', table: 'customers', key: 'id' },
    alongside,
  });
}

/** One customer's stored value, or undefined when the latest run did not score them. */
export async function customerValueRow(db: Conn, customerId: number): Promise<CustomerValuesTable | undefined> {
  return db.selectFrom('customer_values').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

/** When the customer was last seen doing anything (ms since the epoch), or null. */
export async function customerLastSeen(db: Conn, customerId: number): Promise<number | null> {
  const r = await db.selectFrom('customers').select('last_seen').where('id', '=', customerId).executeTakeFirst();
  return r?.last_seen ?? null;
}

/** A stored value with the customer's identity. */
export type RankedValueRow = CustomerValuesTable & { user_id: string | null; name: string | null; email: string | null };

/** The rows a ranking lists: customers with a user id and a value in `column`, in the RFM group and micro-segment asked for. */
function rankingRows(db: Conn, p: { column: 'clv' | 'value_at_risk'; group?: string | undefined; segment?: number | undefined }) {
  let q = db
    .selectFrom('customer_values as v')
    .innerJoin('customers as c', 'c.id', 'v.customer_id')
    .where(`v.${p.column}`, 'is not', null)
    // Anonymous buyers (no user id yet) cannot be opened or contacted: not listed.
    .where('c.user_id', 'is not', null);
  if (p.group) q = q.where('v.rfm_group', '=', p.group);
  if (p.segment !== undefined) q = q.where('v.segment', '=', p.segment);
  return q;
}

/** How many customers a ranking lists (its total, on every page). */
export async function countRankedValues(db: Conn, p: { column: 'clv' | 'value_at_risk'; group?: string | undefined; segment?: number | undefined }): Promise<number> {
  const r = await rankingRows(db, p)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * One page of customers with a user id and a value in `column`, highest first (ties by
 * customer id, descending), after the keyset `after` = [value, customer id]; `limit` rows.
 */
export async function rankedValues(
  db: Conn,
  p: { column: 'clv' | 'value_at_risk'; group?: string | undefined; segment?: number | undefined; after?: readonly [number, number] | undefined; limit: number },
): Promise<RankedValueRow[]> {
  const col = p.column;
  let q = rankingRows(db, p).selectAll('v').select(['c.user_id', 'c.name', 'c.email']);
  if (p.after) {
    const [value, id] = p.after;
    q = q.where(sql<SqlBool>`(${sql.ref(`v.${col}`)} < ${value} or (${sql.ref(`v.${col}`)} = ${value} and v.customer_id < ${id}))` as Expression<SqlBool>);
  }
  return q.orderBy(`v.${col}`, 'desc').orderBy('v.customer_id', 'desc').limit(p.limit).execute();
}
