import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * One runs table for every job (`job_runs`), in place of one look-alike table per job
 * (`clv_runs`, `text_runs`): the runner records each run's start, end, report and error the
 * same way whatever the job, and the schedule asks one table when a job last ran.
 *
 * `items` counts what the run worked on (customers valued, feedback analysed). The columns only
 * customer value had (`as_of_day`, `orders`) were copies of its report's `asOf` and `orders`.
 * Runs of customer value keep their ids (customer_values.run_id names them); listening runs are
 * numbered after them, and stored text models follow their run's new id.
 */
export function jobRuns(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('job_runs')
        .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('items', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('report', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('job_runs_job_status').on('job_runs').columns(['job', 'status', 'id']).execute();
      await sql`insert into job_runs (id, job, trigger, status, started_at, finished_at, items, report, error)
                select id, 'clv', trigger, status, started_at, finished_at, customers, report, error from clv_runs`.execute(db);
      await sql`insert into job_runs (id, job, trigger, status, started_at, finished_at, items, report, error)
                select id + (select coalesce(max(id), 0) from clv_runs), kind, trigger, status, started_at, finished_at, items, report, error from text_runs`.execute(db);
      await sql`update text_models set run_id = run_id + (select coalesce(max(id), 0) from clv_runs) where run_id is not null`.execute(db);
      if (pg) await sql`select setval(pg_get_serial_sequence('job_runs', 'id'), greatest((select max(id) from job_runs), 1), (select count(*) > 0 from job_runs))`.execute(db);
      await db.schema.dropTable('clv_runs').execute();
      await db.schema.dropTable('text_runs').execute();
    },
  };
}
