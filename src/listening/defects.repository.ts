import { lastOkRun } from '../jobs/runs.repository.js';
import { LISTEN_JOB } from './runs.js';
import { CLV_JOB } from '../value/runs.repository.js';
import { sql } from 'kysely';
import type { Conn } from '../store/db.js';
import { chunks } from '../store/sql.js';

/** Queries behind the defect ledger. Only queries: the ledger's arithmetic lives in defects.ts. */

/** Support tickets created in [from, to), in id order. */
export async function ticketsBetween(db: Conn, bounds: { from: number; to: number }) {
  return db
    .selectFrom('feedback')
    .select(['id', 'customer_id', 'created_at', 'status', 'properties'])
    .where('kind', '=', 'ticket')
    .where('created_at', '>=', bounds.from)
    .where('created_at', '<', bounds.to)
    .orderBy('id')
    .execute();
}

/** Analysed feedback created in [from, to): its customer, kind, status, intent and theme (with the theme's label and name). */
export async function analysedBetween(db: Conn, bounds: { from: number; to: number }) {
  return db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .leftJoin('themes as t', 't.id', 'i.theme_id')
    .select(['f.id', 'f.customer_id', 'f.created_at', 'f.kind', 'f.status', 'i.theme_id', 'i.intent', 't.label', 't.name'])
    .where('f.created_at', '>=', bounds.from)
    .where('f.created_at', '<', bounds.to)
    .execute();
}

/** Over all customer values: how many, how many repeat buyers, how many of those have P(alive) below `churnBelow`, and the run they came from. */
export async function valueBaseline(db: Conn, churnBelow: number) {
  return db
    .selectFrom('customer_values')
    .select((eb) => [
      eb.fn.countAll<number>().as('customers'),
      eb.fn.sum<number>(sql`case when purchase_days >= 2 then 1 else 0 end`).as('repeaters'),
      eb.fn.sum<number>(sql`case when purchase_days >= 2 and p_alive < ${churnBelow} then 1 else 0 end`).as('churned'),
      eb.fn.max('run_id').as('run_id'),
    ])
    .executeTakeFirst();
}

/** The customer values of these customers (those that have one). */
export async function customerValuesOf(db: Conn, customerIds: readonly number[]) {
  const out = [];
  for (const part of chunks(customerIds, 5000)) {
    out.push(
      ...(await db
        .selectFrom('customer_values')
        .select(['customer_id', 'p_alive', 'clv', 'value_at_risk', 'last_day', 'purchase_days'])
        .where('customer_id', 'in', part)
        .execute()),
    );
  }
  return out;
}

/** The newest feedback id and the feedback count, and the latest theme edit: what the ledger depends on besides the runs. */
export async function feedbackAndThemesStamp(db: Conn) {
  const [f, th] = await Promise.all([
    db.selectFrom('feedback').select((eb) => [eb.fn.max('id').as('id'), eb.fn.countAll<number>().as('n')]).executeTakeFirst(),
    db.selectFrom('themes').select((eb) => eb.fn.max('updated_at').as('at')).executeTakeFirst(),
  ]);
  return { feedbackId: f?.id, feedbackCount: f?.n, themesAt: th?.at };
}

/** The ids of the latest successful listening run and customer-value run (undefined without one). */
export async function latestRunIds(db: Conn): Promise<{ listen: number | undefined; value: number | undefined }> {
  const [t, v] = await Promise.all([lastOkRun(db, LISTEN_JOB), lastOkRun(db, CLV_JOB)]);
  return { listen: t?.id, value: v?.id };
}
