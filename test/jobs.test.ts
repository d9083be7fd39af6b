import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrate } from '../src/store/db.js';
import { inlineJobs, threadJobs } from '../src/jobs/runner.js';
import { serialQueue } from '../src/core/serial.js';
import { startSchedule } from '../src/jobs/scheduler.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { countJob, failingJob, spinJob } from './support/count.job.js';
import { DIALECTS, type TestStore } from './support/stores.js';

async function seed(t: TestStore, n: number): Promise<void> {
  const w = new IngestWriter(t.store, () => Date.parse('2026-01-01T00:00:00Z'));
  await w.write(Array.from({ length: n }, (_, i) => ({ kind: 'identify' as const, who: { userId: `u${i}` }, traits: {}, at: Date.parse('2026-01-01T00:00:00Z') })));
}

for (const d of DIALECTS) {
  describe(`the job registry on ${d.name}`, () => {
    it('runs a job defined in its own file, inline and on a worker thread, and records each run', async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        await seed(t, 3);
        const here = await inlineJobs(t.store).run(countJob, { trigger: 'test' });
        assert.deepEqual([here.customers, here.thread], [3, false]);
        const there = await threadJobs(t.store).run(countJob, { trigger: 'test' });
        assert.deepEqual([there.customers, there.thread], [3, true]);
        const runs = await t.store.db.selectFrom('job_runs').select(['id', 'job', 'status', 'items']).orderBy('id').execute();
        assert.deepEqual(runs.map((r) => [Number(r.id), r.job, r.status, Number(r.items)]), [[here.runId, 'count-customers', 'ok', 3], [there.runId, 'count-customers', 'ok', 3]]);
      } finally {
        await t.cleanup();
      }
    });

    it('records the run of a thread that died, before or after the job recorded it, as failed with what it had seen', async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        await seed(t, 1);
        const jobs = threadJobs(t.store);
        await assert.rejects(jobs.run(countJob, { trigger: 'test', die: 'before' }), /thread stopped before it finished: exit code 3/);
        await assert.rejects(jobs.run(countJob, { trigger: 'schedule', die: 'during' }), /thread stopped before it finished: exit code 4/);
        const runs = await t.store.db.selectFrom('job_runs').select(['job', 'trigger', 'status', 'error', 'report']).orderBy('id').execute();
        assert.deepEqual(
          runs.map((r) => [r.job, r.trigger, r.status, r.error, r.report]),
          [
            ['count-customers', 'test', 'failed', "the job's thread stopped before it finished: exit code 3", '{"seen":"the start"}'],
            ['count-customers', 'schedule', 'failed', "the job's thread stopped before it finished: exit code 4", '{"seen":"the start"}'],
          ],
        );
        // The next run goes through.
        assert.equal((await jobs.run(countJob, { trigger: 'test' })).customers, 1);
      } finally {
        await t.cleanup();
      }
    });

    it("writes in turns of the caller's write queue: the caller's writes wait there for the job's, and its thread stays free", { timeout: 60_000 }, async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        await seed(t, 2);
        const serialWrite = serialQueue();
        const jobs = threadJobs(t.store, { serialize: serialWrite });
        // The caller's thread: a timer every 10 ms, and a write through its queue every 50 ms.
        let last = performance.now();
        let lag = 0;
        const ticks = setInterval(() => {
          const now = performance.now();
          lag = Math.max(lag, now - last);
          last = now;
        }, 10);
        const waits: Promise<number>[] = [];
        let writing = true;
        const writer = (async () => {
          while (writing) {
            const asked = performance.now();
            waits.push(serialWrite(() => sql`update customers set updated_at = 2`.execute(t.store.db)).then(() => performance.now() - asked));
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        try {
          // The job holds a write transaction open for 1.5 s.
          assert.equal((await jobs.run(countJob, { trigger: 'test', holdMs: 1500 })).customers, 2);
        } finally {
          writing = false;
          await writer;
          clearInterval(ticks);
        }
        const waited = await Promise.all(waits);
        assert.ok(Math.max(...waited) > 1000, `a write waited for the job's (${Math.max(...waited).toFixed(0)} ms)`);
        assert.ok(lag < 500, `the caller's thread was never held long (${lag.toFixed(0)} ms)`);
      } finally {
        await t.cleanup();
      }
    });

    it('stops a job that runs past its deadline, records its run as failed with the reason, and runs the next job', { timeout: 60_000 }, async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        await seed(t, 2);
        const jobs = threadJobs(t.store);
        const started = Date.now();
        // A computation that never ends, in a job that declares a deadline of 3 s, and a job queued behind it.
        const stuck = jobs.run(spinJob, { trigger: 'test', spin: true });
        const next = jobs.run(countJob, { trigger: 'test' });
        await assert.rejects(stuck, (e: Error) => /ran past its deadline of 3 s and was stopped/.test(e.message));
        assert.ok(Date.now() - started < 15_000, 'stopped near its deadline');
        assert.equal((await next).customers, 2);
        const runs = await t.store.db.selectFrom('job_runs').select(['status', 'error']).orderBy('id').execute();
        assert.deepEqual(
          runs.map((r) => [r.status, r.error]),
          [
            ['failed', 'the job ran past its deadline of 3 s and was stopped'],
            ['ok', null],
          ],
        );
      } finally {
        await t.cleanup();
      }
    });

    it('stops the running job when the runner stops (a server shutting down), without waiting for it', { timeout: 60_000 }, async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        await seed(t, 1);
        const jobs = threadJobs(t.store);
        const stuck = jobs.run(countJob, { trigger: 'test', spin: true });
        // Let it start and record its run.
        for (let i = 0; i < 100 && (await t.store.db.selectFrom('job_runs').select('id').execute()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        const asked = Date.now();
        await jobs.stop();
        await assert.rejects(stuck, /stopped: the server shut down/);
        assert.ok(Date.now() - asked < 5_000, 'stopped at once');
        const run = await t.store.db.selectFrom('job_runs').select(['status', 'error']).executeTakeFirstOrThrow();
        assert.deepEqual([run.status, run.error], ['failed', 'the job stopped: the server shut down']);
      } finally {
        await t.cleanup();
      }
    });

    it("logs a failed scheduled run under the job's own name and still runs the jobs after it", async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        await seed(t, 2);
        const logs: string[] = [];
        const schedule = startSchedule(t.store, [failingJob, countJob], { checkMs: 3_600_000, log: (m) => logs.push(m) });
        await schedule.check();
        await schedule.stop();
        assert.deepEqual(logs, ['failing job run failed: asked to fail', 'counted 2 customers (always)']);
        const runs = await t.store.db.selectFrom('job_runs').select(['status', 'error', 'report']).orderBy('id').execute();
        assert.deepEqual(runs.map((r) => r.status), ['failed', 'ok']);
        assert.equal(runs[0]!.error, 'asked to fail');
        assert.deepEqual(JSON.parse(runs[0]!.report ?? 'null'), { seen: 'nothing' });
      } finally {
        await t.cleanup();
      }
    });

    it('moves the runs of customer value and listening into one runs table (migration 009)', async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        // A database as it was before: one runs table per job.
        const old = t.store;
        // (and before the migrations after 009)
        await sql`delete from kysely_migration where name = '016_account_list'`.execute(old.db);
        await sql`drop table relationship_actions`.execute(old.db);
        await sql`delete from kysely_migration where name = '015_actions'`.execute(old.db);
        for (const table of ['panel_members', 'panels']) await sql`drop table ${sql.table(table)}`.execute(old.db);
        await sql`delete from kysely_migration where name = '014_panels'`.execute(old.db);
        await sql`drop table visits`.execute(old.db);
        await sql`delete from kysely_migration where name = '013_visits'`.execute(old.db);
        for (const table of ['customer_stage_history', 'stage_history_runs']) await sql`drop table ${sql.table(table)}`.execute(old.db);
        await sql`delete from kysely_migration where name = '012_stage_history'`.execute(old.db);
        for (const table of ['account_stages', 'customer_stages', 'stage_rules']) await sql`drop table ${sql.table(table)}`.execute(old.db);
        await sql`delete from kysely_migration where name = '011_relationships'`.execute(old.db);
        await sql`drop table theme_pins`.execute(old.db);
        await sql`alter table themes drop column kind`.execute(old.db);
        await sql`delete from kysely_migration where name = '010_theme_edits'`.execute(old.db);
        await sql`drop table job_runs`.execute(old.db);
        await sql`delete from kysely_migration where name = '009_job_runs'`.execute(old.db);
        const idType = old.dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
        await sql`create table clv_runs (id ${idType}, trigger text not null, status text not null, started_at bigint not null, finished_at bigint, as_of_day integer, customers integer not null default 0, orders bigint not null default 0, report text, error text)`.execute(old.db);
        await sql`create table text_runs (id ${idType}, kind text not null, trigger text not null, status text not null, started_at bigint not null, finished_at bigint, items integer not null default 0, report text, error text)`.execute(old.db);
        await sql`insert into clv_runs (trigger, status, started_at, finished_at, customers, report) values ('cli', 'ok', 1, 2, 40, '{"a":1}'), ('schedule', 'failed', 3, 4, 0, null)`.execute(old.db);
        await sql`insert into text_runs (kind, trigger, status, started_at, finished_at, items, report) values ('listen', 'cli', 'ok', 5, 6, 12, '{"b":2}')`.execute(old.db);
        await sql`insert into text_models (purpose, run_id, model, created_at) values ('themes', 1, ${Buffer.from('x')}, 6)`.execute(old.db);
        await migrate(old);
        const runs = await old.db.selectFrom('job_runs').select(['id', 'job', 'trigger', 'status', 'items', 'report']).orderBy('id').execute();
        assert.deepEqual(
          runs.map((r) => [Number(r.id), r.job, r.trigger, r.status, Number(r.items), r.report]),
          [[1, 'clv', 'cli', 'ok', 40, '{"a":1}'], [2, 'clv', 'schedule', 'failed', 0, null], [3, 'listen', 'cli', 'ok', 12, '{"b":2}']],
        );
        const model = await old.db.selectFrom('text_models').select('run_id').where('purpose', '=', 'themes').executeTakeFirstOrThrow();
        assert.equal(Number(model.run_id), 3, "the stored model follows its run's new id");
        // New runs are numbered after the moved ones.
        const next = await inlineJobs(old).run(countJob, { trigger: 'test' });
        assert.equal(next.runId, 4);
      } finally {
        await t.cleanup();
      }
    });
  });
}
