/** The CLV runs' records (clv_runs): one row per run, with its status and report (JSON). */
import type { Conn } from '../store/db.js';
import type { ClvTrigger } from '../store/schema.js';

/** What a successful run records when its results are in. */
export interface RunDone {
  status: 'ok';
  finished_at: number;
  as_of_day: number;
  customers: number;
  orders: number;
  report: string;
}

/** Records a run that has started; returns its id. */
export async function insertRun(db: Conn, trigger: ClvTrigger, startedAt: number): Promise<number> {
  const inserted = await db.insertInto('clv_runs').values({ trigger, status: 'running', started_at: startedAt, customers: 0, orders: 0 }).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

/** Marks a run done with its figures and report. */
export async function finishRun(db: Conn, runId: number, done: RunDone): Promise<void> {
  await db.updateTable('clv_runs').set(done).where('id', '=', runId).execute();
}

/** Marks a run failed with its error; `report` keeps what the schedule needs to retry it. */
export async function failRun(db: Conn, runId: number, failed: { finishedAt: number; error: string; report: string }): Promise<void> {
  await db.updateTable('clv_runs').set({ status: 'failed', finished_at: failed.finishedAt, error: failed.error, report: failed.report }).where('id', '=', runId).execute();
}

/** The latest successful run's id, end and trigger (without its report), or undefined before the first. */
export async function latestOkRun(db: Conn): Promise<{ id: number; finishedAt: number; trigger: ClvTrigger } | undefined> {
  const r = await db.selectFrom('clv_runs').select(['id', 'finished_at', 'trigger']).where('status', '=', 'ok').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return r ? { id: Number(r.id), finishedAt: Number(r.finished_at), trigger: r.trigger } : undefined;
}

/** A run's report (JSON text), null or undefined when it has none. */
export async function runReport(db: Conn, runId: number): Promise<string | null | undefined> {
  const row = await db.selectFrom('clv_runs').select('report').where('id', '=', runId).executeTakeFirst();
  return row?.report;
}
