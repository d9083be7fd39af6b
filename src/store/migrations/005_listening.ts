import { type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Listening: what Rapport reads out of each feedback item (sentiment, intent, language,
 * near-duplicate, theme), the themes themselves with the team's edits, the team's tags with
 * their examples and the model's suggestions, and the runs that computed them.
 *
 * - `themes`: one row per theme ever made. Merged and split themes stay (status `merged` /
 *   `split`, `merged_into` / `parent_id`), so an edit can be explained and undone, and a
 *   rebuilt model can carry a rename over to the theme that holds the same items.
 * - `feedback_insights`: one row per analysed feedback item; `duplicate_of` points at the
 *   earliest item of its near-duplicate group (every author stays as evidence: the rows are
 *   kept, only grouped). `minhash` is the item's signature, so new items are compared with
 *   stored ones without re-reading their text.
 * - `tags` / `feedback_tags`: tags belong to a tag set (e.g. "area", "defect type"); a
 *   person's tag (`source` human) is an example to learn from, a model's tag carries its
 *   confidence and waits in the review queue while below the threshold.
 * - `text_models`: the latest trained model per purpose (themes, one per tag set), as JSON
 *   or a compressed blob.
 * - `text_runs`: each analysis run with its report.
 */
export function listening(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('text_runs')
        .addColumn('id', idType, id)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('items', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('report', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('text_runs_kind').on('text_runs').columns(['kind', 'id']).execute();

      await db.schema
        .createTable('themes')
        .addColumn('id', idType, id)
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('key_phrases', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('quotes', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('size', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('merged_into', 'bigint')
        .addColumn('parent_id', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('themes_status').on('themes').columns(['status', 'size']).execute();

      await db.schema
        .createTable('feedback_insights')
        .addColumn('feedback_id', 'bigint', (c) => c.primaryKey().references('feedback.id').onDelete('cascade'))
        .addColumn('theme_id', 'bigint')
        .addColumn('theme_similarity', 'double precision')
        .addColumn('sentiment', 'double precision', (c) => c.notNull())
        .addColumn('sentiment_label', 'text', (c) => c.notNull())
        .addColumn('intent', 'text', (c) => c.notNull())
        .addColumn('intent_confidence', 'double precision', (c) => c.notNull())
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('duplicate_of', 'bigint')
        .addColumn('minhash', blob)
        .addColumn('analysed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('feedback_insights_theme').on('feedback_insights').columns(['theme_id', 'feedback_id']).execute();
      await db.schema.createIndex('feedback_insights_duplicate').on('feedback_insights').column('duplicate_of').execute();

      await db.schema
        .createTable('tags')
        .addColumn('id', idType, id)
        .addColumn('tag_set', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('tags_set_name_uq', ['tag_set', 'name'])
        .execute();

      await db.schema
        .createTable('feedback_tags')
        .addColumn('feedback_id', 'bigint', (c) => c.notNull().references('feedback.id').onDelete('cascade'))
        .addColumn('tag_set', 'text', (c) => c.notNull())
        .addColumn('tag_id', 'bigint', (c) => c.notNull().references('tags.id').onDelete('cascade'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('confidence', 'double precision')
        .addColumn('reviewed_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('feedback_tags_pk', ['feedback_id', 'tag_set'])
        .execute();
      await db.schema.createIndex('feedback_tags_tag').on('feedback_tags').columns(['tag_id', 'feedback_id']).execute();
      await db.schema.createIndex('feedback_tags_review').on('feedback_tags').columns(['source', 'confidence']).execute();

      await db.schema
        .createTable('text_models')
        .addColumn('purpose', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'bigint')
        .addColumn('model', blob, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
