import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Co-creation panels (relationships): reference customers who try new lines before they go wide.
 * - `panels`: a panel as the team built it: its name and purpose, the filters and size it was
 *   drawn with, the seed that makes the draw repeatable, what was drawn per segment
 *   (`selection`, JSON), its status (draft, active, closed), the product or category under test
 *   and its launch, when the panel started, and who made it;
 * - `panel_members`: its customers, with their micro-segment and LOVE stage when they were
 *   selected, and how far they have come (selected, invited, accepted, declined, participated).
 *   A customer's rows go with them when they are erased (and with the panel when it is deleted).
 */
export function panels(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('panels')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('filters', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('seed', 'bigint', (c) => c.notNull())
        .addColumn('selection', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('test_kind', 'text')
        .addColumn('test_subject', 'text')
        .addColumn('launched_at', 'bigint')
        .addColumn('started_at', 'bigint')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('panel_members')
        .addColumn('panel_id', 'bigint', (c) => c.notNull().references('panels.id').onDelete('cascade'))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('segment', 'integer')
        .addColumn('segment_label', 'text')
        .addColumn('stage', 'integer')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addColumn('invited_at', 'bigint')
        .addColumn('responded_at', 'bigint')
        .addColumn('participated_at', 'bigint')
        .addPrimaryKeyConstraint('panel_members_pk', ['panel_id', 'customer_id'])
        .execute();
      await db.schema.createIndex('panel_members_customer').on('panel_members').columns(['customer_id']).execute();
    },
  };
}
