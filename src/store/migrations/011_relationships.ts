import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Relationships (the LOVE stages):
 * - `stage_rules`: every version of the team's rules file (the newest is in force; none means
 *   the default rules/love-stages.yaml), with who saved it;
 * - `customer_stages`: the latest stages run's placement of each customer (stage 0–4 on the
 *   ladder, the rules met as a bit mask, momentum and what it was read from);
 * - `account_stages`: each account's stage from its people.
 */
export function relationships(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stage_rules')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema
        .createTable('customer_stages')
        .addColumn('customer_id', 'bigint', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
        .addColumn('run_id', 'bigint', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('met', 'integer', (c) => c.notNull())
        .addColumn('momentum', 'text', (c) => c.notNull())
        .addColumn('activity_recent', 'integer', (c) => c.notNull())
        .addColumn('activity_previous', 'integer', (c) => c.notNull())
        .addColumn('p_alive_then', 'double precision')
        .execute();
      await db.schema.createIndex('customer_stages_stage').on('customer_stages').columns(['stage', 'momentum']).execute();
      await db.schema
        .createTable('account_stages')
        .addColumn('account_id', 'bigint', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('run_id', 'bigint', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('people', 'integer', (c) => c.notNull())
        .addColumn('holders', 'integer', (c) => c.notNull())
        .addColumn('basis', 'text', (c) => c.notNull())
        .addColumn('lead_customer_id', 'bigint')
        .execute();
    },
  };
}
