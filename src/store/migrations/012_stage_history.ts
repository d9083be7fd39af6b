import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The monthly LOVE stage history and Lifetime Opportunity Value:
 * - `stage_history_runs`: each history run's months and what it says of the population (a JSON
 *   summary: customers per stage per month, flows between months, cohorts, time to each stage,
 *   usual stays, falls, moves up within the horizon);
 * - `customer_stage_history`: each customer's stage at the end of each month (one character a
 *   month), their months at the current stage and the highest stage they held;
 * - LOV on `customer_stages`: CLV, contributions and opportunity with its interval, whose sum is `lov`.
 */
export function stageHistory(dialect: Dialect): Migration {
  void dialect;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stage_history_runs')
        .addColumn('run_id', 'bigint', (c) => c.primaryKey())
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addColumn('first_month', 'integer', (c) => c.notNull())
        .addColumn('months', 'integer', (c) => c.notNull())
        .addColumn('rules_source', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('customer_stage_history')
        .addColumn('customer_id', 'bigint', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
        .addColumn('run_id', 'bigint', (c) => c.notNull())
        .addColumn('first_month', 'integer')
        .addColumn('history', 'text', (c) => c.notNull())
        .addColumn('stage', 'integer')
        .addColumn('months_at_stage', 'integer', (c) => c.notNull())
        .addColumn('peak', 'integer')
        .execute();
      await db.schema.createIndex('customer_stage_history_stay').on('customer_stage_history').columns(['stage', 'months_at_stage']).execute();
      await db.schema.createIndex('customer_stage_history_fell').on('customer_stage_history').columns(['peak', 'stage']).execute();
      for (const column of ['clv', 'contribution', 'opportunity', 'opportunity_low', 'opportunity_high', 'lov']) {
        await db.schema.alterTable('customer_stages').addColumn(column, 'double precision').execute();
      }
      for (const column of ['lov', 'opportunity']) await db.schema.alterTable('account_stages').addColumn(column, 'double precision').execute();
      await db.schema.createIndex('customer_stages_opportunity').on('customer_stages').column('opportunity').execute();
    },
  };
}
