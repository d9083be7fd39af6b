import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The team's edits of theme membership, and the general bucket.
 *
 * - `themes.kind`: `topic`, or `general` for the bucket of contentless feedback ("Five stars",
 *   "Great!") that no need or defect theme should hold.
 * - `theme_pins`: one row per feedback item a person moved by hand: into `theme_id`, or out of
 *   every theme (null). Runs honour it (the item stays where it was put, a rebuild puts it in
 *   the new theme that took over its theme) and learn from it (new items nearly the same go
 *   where it went). Erasing the feedback erases its pin.
 */
export function themeEdits(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('themes')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('topic'))
        .execute();
      await db.schema
        .createTable('theme_pins')
        .addColumn('feedback_id', 'bigint', (c) => c.primaryKey().references('feedback.id').onDelete('cascade'))
        .addColumn('theme_id', 'bigint')
        .addColumn('from_theme_id', 'bigint')
        .addColumn('pinned_by', 'text')
        .addColumn('pinned_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('theme_pins_theme').on('theme_pins').columns(['theme_id']).execute();
    },
  };
}
