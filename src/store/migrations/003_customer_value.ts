import { type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Customer value: the CLV runs and the per-customer results of the latest one.
 *
 * The orders index by (customer, time) gains the order total, so that the per-customer
 * purchase summary the CLV models need (purchase days, first and last day, spend) is read
 * from the index alone, in customer order: with orders stored in arrival (time) order, a
 * summary that had to visit every order row in customer order would jump all over the table
 * (43 s instead of 7 s for 10 million orders on SQLite, see README's benchmarks).
 */
export function customerValue(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('orders_customer_time').execute();
      await db.schema.createIndex('orders_customer_time').on('orders').columns(['customer_id', 'occurred_at', 'total']).execute();

      await db.schema
        .createTable('clv_runs')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('as_of_day', 'integer')
        .addColumn('customers', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('orders', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('report', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('clv_runs_status').on('clv_runs').columns(['status', 'id']).execute();

      await db.schema
        .createTable('customer_values')
        .addColumn('customer_id', 'bigint', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
        .addColumn('run_id', 'bigint', (c) => c.notNull())
        .addColumn('first_day', 'integer', (c) => c.notNull())
        .addColumn('last_day', 'integer', (c) => c.notNull())
        .addColumn('purchase_days', 'integer', (c) => c.notNull())
        .addColumn('spend', 'double precision', (c) => c.notNull())
        .addColumn('repeat_spend', 'double precision', (c) => c.notNull())
        .addColumn('p_alive', 'double precision', (c) => c.notNull())
        .addColumn('expected_purchases', 'double precision', (c) => c.notNull())
        .addColumn('expected_spend', 'double precision')
        .addColumn('clv', 'double precision')
        .addColumn('value_at_risk', 'double precision')
        .addColumn('rfm_r', 'integer', (c) => c.notNull())
        .addColumn('rfm_f', 'integer', (c) => c.notNull())
        .addColumn('rfm_m', 'integer', (c) => c.notNull())
        .addColumn('rfm_group', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('customer_values_clv').on('customer_values').columns(['clv', 'customer_id']).execute();
      await db.schema.createIndex('customer_values_risk').on('customer_values').columns(['value_at_risk', 'customer_id']).execute();
    },
  };
}
