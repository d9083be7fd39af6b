/**
 * The accounts' only SQL: the list (most valuable first, by the stages run's Lifetime
 * Opportunity Value), one account with its stored stage, its people per stage and its people
 * most valuable first.
 *
 * The list reads in two parts so that each page walks an index instead of sorting every
 * account: first the accounts the latest stages run valued (`account_stages_lov`, LOV then id,
 * both descending), then those it did not (no people when it ran, or new since), by id
 * descending. A cursor names the part and the last row's key.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Conn } from '../store/db.js';

/** An account of the list, with its stored stage (null: not placed by a run) and its people now. */
export interface AccountListRow {
  id: number;
  group_id: string;
  name: string | null;
  stage: number | null;
  lov: number | null;
  opportunity: number | null;
  people: number;
}

/** The keyset position after a row of the list: its LOV (null: in the part without one) and id. */
export interface AccountListKey {
  lov: number | null;
  id: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `q` on the account's name or group id (aliased `a`), ignoring case (`%` and `_` match themselves). */
function matching(q: string | undefined): Expression<SqlBool> {
  const text = q?.trim() ?? '';
  if (text.length === 0) return sql<SqlBool>`1 = 1`;
  const like = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`(a.group_id = ${text} or lower(a.group_id) like ${like} escape '\\' or lower(a.name) like ${like} escape '\\')`;
}

function toRow(r: { id: unknown; group_id: string; name: string | null; stage: unknown; lov: unknown; opportunity: unknown; people: unknown }): AccountListRow {
  return { id: Number(r.id), group_id: r.group_id, name: r.name, stage: num(r.stage), lov: num(r.lov), opportunity: num(r.opportunity), people: Number(r.people ?? 0) };
}

/** Up to `limit` accounts the latest stages run valued, after `after` (LOV, then id, descending). */
export async function valuedAccounts(db: Conn, p: { q?: string | undefined; limit: number; after?: { lov: number; id: number } | undefined }): Promise<AccountListRow[]> {
  let qb = db
    .selectFrom('account_stages as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select((eb) => [
      'a.id as id',
      'a.group_id as group_id',
      'a.name as name',
      's.stage as stage',
      's.lov as lov',
      's.opportunity as opportunity',
      eb.selectFrom('customer_accounts as m').select((e) => e.fn.countAll<number>().as('n')).whereRef('m.account_id', '=', 'a.id').as('people'),
    ])
    .where('s.lov', 'is not', null)
    .where(matching(p.q));
  if (p.after) {
    const { lov, id } = p.after;
    qb = qb.where((eb) => eb.or([eb('s.lov', '<', lov), eb.and([eb('s.lov', '=', lov), eb('s.account_id', '<', id)])]));
  }
  const rows = await qb.orderBy('s.lov', 'desc').orderBy('s.account_id', 'desc').limit(p.limit).execute();
  return rows.map(toRow);
}

/** Up to `limit` accounts without a LOV from the latest stages run, after id `after` (id descending). */
export async function otherAccounts(db: Conn, p: { q?: string | undefined; limit: number; after?: number | undefined }): Promise<AccountListRow[]> {
  let qb = db
    .selectFrom('accounts as a')
    .leftJoin('account_stages as s', 's.account_id', 'a.id')
    .select((eb) => [
      'a.id as id',
      'a.group_id as group_id',
      'a.name as name',
      's.stage as stage',
      's.lov as lov',
      's.opportunity as opportunity',
      eb.selectFrom('customer_accounts as m').select((e) => e.fn.countAll<number>().as('n')).whereRef('m.account_id', '=', 'a.id').as('people'),
    ])
    // An anti-join walked down the primary key: a left join filtered on `s.lov is null` made
    // PostgreSQL hash both tables whole (230 ms at 200,000 accounts against 1 ms).
    .where((eb) => eb.not(eb.exists(eb.selectFrom('account_stages as x').select('x.account_id').whereRef('x.account_id', '=', 'a.id').where('x.lov', 'is not', null))))
    .where(matching(p.q));
  if (p.after !== undefined) qb = qb.where('a.id', '<', p.after);
  const rows = await qb.orderBy('a.id', 'desc').limit(p.limit).execute();
  return rows.map(toRow);
}

/** How many accounts match `q` (the list's total). */
export async function countAccounts(db: Conn, q: string | undefined): Promise<number> {
  const r = await db.selectFrom('accounts as a').select((eb) => eb.fn.countAll<number | string>().as('n')).where(matching(q)).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** An account by its group id, with its traits (JSON text) and when it was first seen. */
export async function accountByGroupId(db: Conn, groupId: string): Promise<{ id: number; group_id: string; name: string | null; traits: string; created_at: number } | undefined> {
  const r = await db.selectFrom('accounts').select(['id', 'group_id', 'name', 'traits', 'created_at']).where('group_id', '=', groupId).executeTakeFirst();
  return r ? { ...r, id: Number(r.id), created_at: Number(r.created_at) } : undefined;
}

/** The latest stages run's placement of an account, with its most valuable person (null: not placed). */
export async function storedAccountStage(
  db: Conn,
  accountId: number,
): Promise<{ stage: number; people: number; holders: number; basis: 'people' | 'most_valuable'; lov: number | null; opportunity: number | null; lead: { user_id: string | null; name: string | null; email: string | null; stage: number | null; clv: number | null } | null } | null> {
  const r = await db
    .selectFrom('account_stages as s')
    .leftJoin('customers as c', 'c.id', 's.lead_customer_id')
    .leftJoin('customer_stages as cs', 'cs.customer_id', 's.lead_customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 's.lead_customer_id')
    .select(['s.stage as stage', 's.people as people', 's.holders as holders', 's.basis as basis', 's.lov as lov', 's.opportunity as opportunity', 's.lead_customer_id as lead_id', 'c.user_id as lead_user_id', 'c.name as lead_name', 'c.email as lead_email', 'cs.stage as lead_stage', 'v.clv as lead_clv'])
    .where('s.account_id', '=', accountId)
    .executeTakeFirst();
  if (!r) return null;
  // The lead is gone when that customer was erased since the run.
  const lead = r.lead_id !== null && (r.lead_user_id !== null || r.lead_email !== null || r.lead_name !== null) ? { user_id: r.lead_user_id, name: r.lead_name, email: r.lead_email, stage: num(r.lead_stage), clv: num(r.lead_clv) } : null;
  return { stage: Number(r.stage), people: Number(r.people), holders: Number(r.holders), basis: r.basis, lov: num(r.lov), opportunity: num(r.opportunity), lead };
}

/** An account's people now, per stage of the latest stages run (stage null: not placed by it yet). */
export async function peoplePerStage(db: Conn, accountId: number): Promise<{ stage: number | null; people: number }[]> {
  const r = await db
    .selectFrom('customer_accounts as m')
    .leftJoin('customer_stages as s', 's.customer_id', 'm.customer_id')
    .select((eb) => ['s.stage as stage', eb.fn.countAll<number | string>().as('people')])
    .where('m.account_id', '=', accountId)
    .groupBy('s.stage')
    .execute();
  return r.map((x) => ({ stage: num(x.stage), people: Number(x.people) }));
}

/** Where a person's LOV sorts when there is none (not placed yet): after everyone valued. */
export const NO_LOV = -1e300;

/** An account's people, most valuable first (LOV, then id, descending), after `after`. */
export async function accountPeople(
  db: Conn,
  accountId: number,
  p: { limit: number; after?: { lov: number; id: number } | undefined },
): Promise<{ id: number; user_id: string | null; name: string | null; email: string | null; stage: number | null; momentum: string | null; clv: number | null; lov: number | null }[]> {
  const key = sql<number>`coalesce(s.lov, ${sql.lit(NO_LOV)})`;
  let qb = db
    .selectFrom('customer_accounts as m')
    .innerJoin('customers as c', 'c.id', 'm.customer_id')
    .leftJoin('customer_stages as s', 's.customer_id', 'm.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 'm.customer_id')
    .select(['m.customer_id as id', 'c.user_id as user_id', 'c.name as name', 'c.email as email', 's.stage as stage', 's.momentum as momentum', 'v.clv as clv', 's.lov as lov'])
    .where('m.account_id', '=', accountId);
  if (p.after) {
    const { lov, id } = p.after;
    qb = qb.where(sql<SqlBool>`(${key} < ${lov} or (${key} = ${lov} and m.customer_id < ${id}))` as Expression<SqlBool>);
  }
  const rows = await qb.orderBy(key, 'desc').orderBy('m.customer_id', 'desc').limit(p.limit).execute();
  return rows.map((r) => ({ id: Number(r.id), user_id: r.user_id, name: r.name, email: r.email, stage: num(r.stage), momentum: r.momentum, clv: num(r.clv), lov: num(r.lov) }));
}
