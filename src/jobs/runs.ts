import type { JobContext } from './job.js';
import * as runs from './runs.repository.js';

/**
 * The bookkeeping every recorded job shares: a row in the runs table when the run starts, the
 * outcome when it ends. A job marks its own success (`markRunOk`, inside the transaction that
 * writes its results, so that readers see the run and its results together); a failure is
 * recorded here, with what the job says the failed run had seen (`failedReport`), so that the
 * schedule retries once new data arrives rather than at once.
 */
export async function recordRun<T, S = undefined>(
  ctx: JobContext,
  run: {
    job: string;
    trigger: string;
    /** What the failed run had seen, kept as its report. */
    failedReport?: () => unknown;
    /** Writes that belong with the run's start (its settings), in the same turn of the write queue. */
    atStart?: () => Promise<S>;
  },
  body: (runId: number, started: S) => Promise<T>,
): Promise<{ runId: number; result: T }> {
  const { job, trigger, failedReport, atStart } = run;
  const { runId, started } = await ctx.serialize(async () => {
    const started = (atStart ? await atStart() : undefined) as S;
    return { runId: await runs.insertRun(ctx.store.db, job, trigger, ctx.now()), started };
  });
  try {
    return { runId, result: await body(runId, started) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const report = failedReport ? JSON.stringify(failedReport()) : null;
    await ctx.serialize(() => runs.markRunFailed(ctx.store.db, runId, message, ctx.now(), report));
    throw e;
  }
}

/** What a report says it saw (`lastOrderRef`, `lastFeedbackRef`), or undefined. */
export function reportField<T>(report: string | null, field: string): T | undefined {
  if (!report) return undefined;
  try {
    return (JSON.parse(report) as Record<string, T | undefined>)[field];
  } catch {
    return undefined;
  }
}
