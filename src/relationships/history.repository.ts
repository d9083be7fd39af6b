/**
 * The stage history's SQL: each customer's month-by-month stages, the runs' summaries, which
 * customers have rows newer than a run, and the stuck and fallen-back lists.
 */
import type { Serialize } from '../core/serial.js';
import type { Conn, Store } from '../store/db.js';
import { refillTable } from '../store/table-swap.js';
import type { StageHistoryRunsTable } from '../store/schema.js';
import { rows } from './stages.repository.js';

export const HISTORY_COLUMNS = ['customer_id', 'run_id', 'first_month', 'history', 'stage', 'months_at_stage', 'peak'] as const;
const SLICE = 250_000;

/** Replaces every customer's history with a run's, committing `alongside` with the swap, in turns of `serialize` (store/table-swap.ts). */
export async function replaceHistories(store: Store, customers: { count: number; row: (i: number) => readonly unknown[] }, alongside: (db: Conn) => Promise<void>, serialize: Serialize): Promise<void> {
  await refillTable(store, { table: 'customer_stage_history', columns: HISTORY_COLUMNS, ...customers, parent: { column: 'customer_id', table: 'customers', key: 'id' }, alongside }, serialize);
}

/** Replaces the histories of some customers (an incremental run), in the caller's transaction. */
export async function updateHistories(db: Conn, list: readonly (readonly unknown[])[]): Promise<void> {
  for (let k = 0; k < list.length; k += 500) {
    const part = list.slice(k, k + 500);
    await db
      .deleteFrom('customer_stage_history')
      .where(
        'customer_id',
        'in',
        part.map((r) => Number(r[0])),
      )
      .execute();
    // Customers erased meanwhile are skipped.
    const alive = new Set((await db.selectFrom('customers').select('id').where('id', 'in', part.map((r) => Number(r[0]))).execute()).map((c) => Number(c.id)));
    const values = part
      .filter((r) => alive.has(Number(r[0])))
      .map((r) => ({ customer_id: Number(r[0]), run_id: Number(r[1]), first_month: r[2] as number | null, history: String(r[3]), stage: r[4] as number | null, months_at_stage: Number(r[5]), peak: r[6] as number | null }));
    if (values.length > 0) await db.insertInto('customer_stage_history').values(values).execute();
  }
}

/** Every stored history as [customer_id, first_month, history], in id order, a slice at a time. */
export async function eachHistory(store: Store, each: (slice: unknown[][]) => void): Promise<void> {
  let after = -1;
  for (;;) {
    const r = await rows(store, 'select customer_id, first_month, history from customer_stage_history where customer_id > ? order by customer_id limit ?', [after, SLICE]);
    if (r.length > 0) each(r);
    if (r.length < SLICE) break;
    after = Number(r[r.length - 1]![0]);
  }
}

/** Customers with an interaction, order or feedback item newer than the ids given, at most `limit` + 1 of them. */
export async function customersWithRowsAfter(store: Store, seen: { interactions: number; orders: number; feedback: number }, limit: number): Promise<number[]> {
  const out = new Set<number>();
  for (const [table, after] of [
    ['interactions', seen.interactions],
    ['orders', seen.orders],
    ['feedback', seen.feedback],
  ] as const) {
    const r = await rows(store, `select distinct customer_id from ${table} where id > ? and customer_id is not null limit ?`, [after, limit + 1]);
    for (const [id] of r) out.add(Number(id));
    if (out.size > limit) break;
  }
  return [...out].sort((a, b) => a - b);
}

export async function saveHistoryRun(db: Conn, r: StageHistoryRunsTable): Promise<void> {
  await db.insertInto('stage_history_runs').values(r).execute();
  // Keep the latest few.
  const keep = await db.selectFrom('stage_history_runs').select('run_id').orderBy('run_id', 'desc').limit(5).execute();
  if (keep.length === 5) await db.deleteFrom('stage_history_runs').where('run_id', '<', keep[4]!.run_id).execute();
}

export async function latestHistoryRun(db: Conn): Promise<StageHistoryRunsTable | undefined> {
  return db.selectFrom('stage_history_runs').selectAll().orderBy('run_id', 'desc').limit(1).executeTakeFirst();
}

/** The latest history run's months (without its summary). */
export async function latestHistoryMonths(db: Conn): Promise<{ first_month: number; months: number } | undefined> {
  return db.selectFrom('stage_history_runs').select(['first_month', 'months']).orderBy('run_id', 'desc').limit(1).executeTakeFirst();
}

/** One customer's stored history. */
export async function historyOf(db: Conn, customerId: number): Promise<{ history: string; first_month: number | null; months_at_stage: number; peak: number | null } | undefined> {
  return db.selectFrom('customer_stage_history').select(['history', 'first_month', 'months_at_stage', 'peak']).where('customer_id', '=', customerId).executeTakeFirst();
}

export interface HistoryListRow {
  user_id: string | null;
  name: string | null;
  email: string | null;
  stage: number | null;
  months_at_stage: number;
  peak: number | null;
  history: string;
  clv: number | null;
}

/** Customers at `stage` for more than `months` months, or below their peak (`fell`), most valuable first. */
export async function historyList(db: Conn, p: { kind: 'stuck'; stage: number; months: number; limit: number; offset: number } | { kind: 'fell'; stage?: number | undefined; limit: number; offset: number }): Promise<HistoryListRow[]> {
  let q = db
    .selectFrom('customer_stage_history as h')
    .innerJoin('customers as c', 'c.id', 'h.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 'h.customer_id')
    .select(['c.user_id', 'c.name', 'c.email', 'h.stage', 'h.months_at_stage', 'h.peak', 'h.history', 'v.clv']);
  if (p.kind === 'stuck') q = q.where('h.stage', '=', p.stage).where('h.months_at_stage', '>', p.months);
  else {
    q = q.whereRef('h.peak', '>', 'h.stage');
    if (p.stage !== undefined) q = q.where('h.peak', '=', p.stage);
  }
  return q.orderBy('v.clv', (ob) => ob.desc().nullsLast()).orderBy('h.customer_id').limit(p.limit).offset(p.offset).execute();
}

/** Every valued customer's micro-segment as [customer_id, segment]. */
export async function customerSegments(store: Store): Promise<unknown[][]> {
  return rows(store, 'select customer_id, segment from customer_values where segment is not null', []);
}

/** Customers' first-seen times by id (absent: never seen). */
export async function firstSeenOf(db: Conn, ids: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let k = 0; k < ids.length; k += 500) {
    const r = await db.selectFrom('customers').select(['id', 'first_seen']).where('id', 'in', ids.slice(k, k + 500)).execute();
    for (const c of r) if (c.first_seen !== null) out.set(Number(c.id), Number(c.first_seen));
  }
  return out;
}
