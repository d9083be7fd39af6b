import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Visits, calls, meetings and interviews the team logs, planned or past (`visits`). A visit
 * that took place is also recorded as what the rest of Rapport reads, through the ingestion
 * writer: an interaction (mutual) and, with notes, a feedback item; `interaction_id` and
 * `feedback_id` name them. They carry no foreign key: an interaction or feedback row is only
 * ever deleted with its customer, whose visits go by the cascade on `customer_id`, and a key
 * would make every deletion of interactions look into this table.
 */
export function visits(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('visits')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('account_id', 'bigint', (c) => c.references('accounts.id').onDelete('set null'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('duration_minutes', 'integer')
        .addColumn('channel', 'text')
        .addColumn('notes', 'text')
        .addColumn('attendees', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('interaction_id', 'bigint')
        .addColumn('feedback_id', 'bigint')
        .execute();
      await db.schema.createIndex('visits_customer_time').on('visits').columns(['customer_id', 'at']).execute();
      await db.schema.createIndex('visits_time').on('visits').columns(['at', 'id']).execute();
      await db.schema.createIndex('visits_status_time').on('visits').columns(['status', 'at', 'id']).execute();
    },
  };
}
