import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Next best relationship actions: per customer, the action the actions run found most worth
 * doing (answer an open ticket, invite to review, to an interview or a panel, thank for an idea,
 * call before renewal, reach out to a cooling relationship, …), why, and what is at stake.
 * Open actions are replaced by each run; done and dismissed ones stay, with who did them and the
 * interaction that recorded it.
 */
export function actions(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('relationship_actions')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('run_id', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('value_basis', 'text', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint')
        .addColumn('done_by', 'text')
        .addColumn('note', 'text')
        .execute();
      await db.schema.createIndex('relationship_actions_open').on('relationship_actions').columns(['status', 'priority', 'value']).execute();
      await db.schema.createIndex('relationship_actions_customer').on('relationship_actions').columns(['customer_id', 'kind']).execute();
    },
  };
}
