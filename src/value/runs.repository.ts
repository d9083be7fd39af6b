/** Customer value's runs, in the shared runs table (jobs/runs.repository.ts) under the job's name. */
import type { Conn } from '../store/db.js';
import type { ClvTrigger } from '../store/schema.js';
import { lastOkRun, markRunOk, runReport as jobRunReport, type RunOutcome } from '../jobs/runs.repository.js';

/** The customer-value job's name in the registry and the runs table. */
export const CLV_JOB = 'clv';

/** What a successful run records when its results are in. */
export type RunDone = RunOutcome;

/** Marks a run done with its figures and report. */
export const finishRun = (db: Conn, runId: number, done: RunDone): Promise<void> => markRunOk(db, runId, done);

/** The latest successful run's id, end and trigger (without its report), or undefined before the first. */
export async function latestOkRun(db: Conn): Promise<{ id: number; finishedAt: number; trigger: ClvTrigger } | undefined> {
  const r = await lastOkRun(db, CLV_JOB);
  return r ? { id: r.id, finishedAt: Number(r.finishedAt), trigger: r.trigger as ClvTrigger } : undefined;
}

/** A run's report (JSON text), null when it has none. */
export const runReport = (db: Conn, runId: number): Promise<string | null> => jobRunReport(db, runId);
