import { sql } from 'kysely';
import { RapportError } from '../../src/core/errors.js';
import { defineJob } from '../../src/jobs/job.js';
import { recordRun } from '../../src/jobs/runs.js';
import { markRunOk } from '../../src/jobs/runs.repository.js';

/**
 * A job as a capability would add one: a file of its own with its definition. It counts the
 * stored customers and records its run; `fail` makes it fail after recording its start.
 */
export const countJob = defineJob<{ trigger: string; fail?: boolean; die?: 'before' | 'during'; spin?: boolean; holdMs?: number }, { runId: number; customers: number; thread: boolean }>({
  name: 'count-customers',
  module: import.meta.url,
  run: async (ctx, options) => {
    // `die` ends the job's thread (as running out of memory would) before or after it records its run.
    if (options.die === 'before') process.exit(3);
    const { runId, result } = await recordRun(ctx, { job: 'count-customers', trigger: options.trigger, failedReport: () => ({ seen: 'nothing' }) }, async (id) => {
      if (options.die === 'during') process.exit(4);
      // `spin`: a computation that never ends (as a poisoned input once made one).
      if (options.spin) for (let x = 0; ; x = (x + 1) % 7);
      if (options.fail) throw new RapportError('invalid_input', 'asked to fail');
      const r = await sql<{ n: number }>`select count(*) as n from customers`.execute(ctx.store.db);
      const customers = Number(r.rows[0]?.n ?? 0);
      // `holdMs`: a long write (a million results replacing the last run's), holding the write lock.
      if (options.holdMs) {
        await ctx.serialize(() =>
          ctx.store.db.transaction().execute(async (trx) => {
            await sql`update customers set updated_at = 1`.execute(trx);
            await new Promise((r) => setTimeout(r, options.holdMs));
          }),
        );
      }
      await ctx.serialize(() => markRunOk(ctx.store.db, id, { finishedAt: ctx.now(), items: customers, report: JSON.stringify({ customers }) }));
      return customers;
    });
    const { isMainThread } = await import('node:worker_threads');
    return { runId, customers: result, thread: !isMainThread };
  },
  schedule: {
    title: 'customer count',
    due: async () => ({ due: true, why: 'always' }),
    options: { trigger: 'schedule' },
    done: (r, why) => `counted ${r.customers} customers (${why})`,
  },
  records: { seen: async () => ({ seen: 'the start' }) },
});

/** The same job, failing whenever the schedule runs it. */
export const failingJob = defineJob<{ trigger: string }, unknown>({
  name: 'failing',
  module: import.meta.url,
  run: (ctx, o) => countJob.run(ctx, { trigger: o.trigger, fail: true }),
  schedule: { title: 'failing job', due: async () => ({ due: true, why: 'always' }), options: { trigger: 'schedule' }, done: () => 'never' },
});

/** The same job with a deadline of its own, 3 s (a job may declare one). */
export const spinJob = defineJob<{ trigger: string; spin?: boolean }, { runId: number; customers: number; thread: boolean }>({
  name: 'count-customers',
  module: import.meta.url,
  deadlineMs: 3000,
  run: (ctx, o) => countJob.run(ctx, o),
});
