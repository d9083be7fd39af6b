import type { Conn } from '../store/db.js';
import type { RunStatus } from '../store/schema.js';

/** The runs table (`job_runs`): one row per run of any job. */

export async function insertRun(db: Conn, job: string, trigger: string, at: number): Promise<number> {
  const r = await db.insertInto('job_runs').values({ job, trigger, status: 'running', started_at: at, items: 0 }).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export interface RunOutcome {
  finishedAt: number;
  items: number;
  report: string;
}

export async function markRunOk(db: Conn, runId: number, o: RunOutcome): Promise<void> {
  await db.updateTable('job_runs').set({ status: 'ok', finished_at: o.finishedAt, items: o.items, report: o.report }).where('id', '=', runId).execute();
}

export async function markRunFailed(db: Conn, runId: number, error: string, at: number, report: string | null): Promise<void> {
  await db.updateTable('job_runs').set({ status: 'failed', finished_at: at, error, report }).where('id', '=', runId).execute();
}

/** The newest run id of any job (0 before the first). */
export async function newestRunId(db: Conn): Promise<number> {
  const r = await db.selectFrom('job_runs').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/**
 * Marks runs after `afterId` that are still `running` as failed (their thread died before it
 * could), with `report` (what they had seen) where they have none.
 */
export async function failRunningAfter(db: Conn, afterId: number, error: string, at: number, report: string | null): Promise<void> {
  await db
    .updateTable('job_runs')
    .set((eb) => ({ status: 'failed', finished_at: at, error, report: eb.fn.coalesce('report', eb.val(report)) }))
    .where('id', '>', afterId)
    .where('status', '=', 'running')
    .execute();
}

/** How many runs of `job` were recorded after `afterId`. */
export async function runsAfter(db: Conn, afterId: number, job: string): Promise<number> {
  const r = await db.selectFrom('job_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('id', '>', afterId).where('job', '=', job).executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface RunRow {
  id: number;
  job: string;
  trigger: string;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  items: number;
  report: string | null;
  error: string | null;
}

const COLUMNS = ['id', 'job', 'trigger', 'status', 'started_at', 'finished_at', 'items', 'report', 'error'] as const;

function toRow(r: { id: number; job: string; trigger: string; status: RunStatus; started_at: number; finished_at: number | null; items: number; report: string | null; error: string | null }): RunRow {
  return {
    id: Number(r.id),
    job: r.job,
    trigger: r.trigger,
    status: r.status,
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    items: Number(r.items),
    report: r.report,
    error: r.error,
  };
}

/** A job's last run that ended (ok or failed), or undefined. */
export async function lastEndedRun(db: Conn, job: string): Promise<RunRow | undefined> {
  const r = await db.selectFrom('job_runs').select(COLUMNS).where('job', '=', job).where('status', '!=', 'running').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return r ? toRow(r) : undefined;
}

/** A job's last successful run, without its report (cheap to ask often). */
export async function lastOkRun(db: Conn, job: string): Promise<Omit<RunRow, 'report'> | undefined> {
  const r = await db
    .selectFrom('job_runs')
    .select(['id', 'job', 'trigger', 'status', 'started_at', 'finished_at', 'items', 'error'])
    .where('job', '=', job)
    .where('status', '=', 'ok')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!r) return undefined;
  const row: Partial<RunRow> = toRow({ ...r, report: null });
  delete row.report;
  return row as Omit<RunRow, 'report'>;
}

/** One run's report (JSON text), or null. */
export async function runReport(db: Conn, runId: number): Promise<string | null> {
  const r = await db.selectFrom('job_runs').select('report').where('id', '=', runId).executeTakeFirst();
  return r?.report ?? null;
}
