import { sql } from 'kysely';
import type { Conn } from '../store/db.js';
import type { FeedbackTagsTable } from '../store/schema.js';
import { chunks } from '../store/sql.js';

/** Queries on tags, the items people and models tagged, and the tag sets' entries in `meta`. Only queries: the service and the listening run decide. */

/** Adds a tag to a set, or updates the description of the tag of that name. */
export async function upsertTag(db: Conn, tagSet: string, name: string, description: string | null, now: number): Promise<void> {
  await db
    .insertInto('tags')
    .values({ tag_set: tagSet, name, description, created_at: now })
    .onConflict((oc) => oc.columns(['tag_set', 'name']).doUpdateSet({ description }))
    .execute();
}

/** The id of a set's tag of that name (undefined when there is none). */
export async function tagId(db: Conn, tagSet: string, name: string): Promise<number | undefined> {
  const found = await db.selectFrom('tags').select('id').where('tag_set', '=', tagSet).where('name', '=', name).executeTakeFirst();
  return found ? Number(found.id) : undefined;
}

/** Adds a tag without a description. */
export async function insertTag(db: Conn, tagSet: string, name: string, now: number): Promise<void> {
  await db.insertInto('tags').values({ tag_set: tagSet, name, description: null, created_at: now }).execute();
}

/** Whether a feedback item exists. */
export async function feedbackExists(db: Conn, feedbackId: number): Promise<boolean> {
  return (await db.selectFrom('feedback').select('id').where('id', '=', feedbackId).executeTakeFirst()) !== undefined;
}

/** Removes an item's tag in a set, whoever set it. */
export async function deleteItemTag(db: Conn, feedbackId: number, tagSet: string): Promise<void> {
  await db.deleteFrom('feedback_tags').where('feedback_id', '=', feedbackId).where('tag_set', '=', tagSet).execute();
}

/** Records a person's tag on an item. */
export async function insertHumanTag(db: Conn, feedbackId: number, tagSet: string, tagId: number, by: string, now: number): Promise<void> {
  await db.insertInto('feedback_tags').values({ feedback_id: feedbackId, tag_set: tagSet, tag_id: tagId, source: 'human', confidence: null, reviewed_by: by, updated_at: now }).execute();
}

/** Writes a `meta` entry. */
export async function upsertMeta(db: Conn, key: string, value: string): Promise<void> {
  await db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** A `meta` entry's value (undefined when absent). */
export async function readMeta(db: Conn, key: string): Promise<string | undefined> {
  return (await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

/** The newest `updated_at` of a set's person-made tags (0 without any). */
export async function latestExampleAt(db: Conn, tagSet: string): Promise<number> {
  const row = await db.selectFrom('feedback_tags').select((eb) => eb.fn.max('updated_at').as('at')).where('tag_set', '=', tagSet).where('source', '=', 'human').executeTakeFirst();
  return Number(row?.at ?? 0);
}

/** How many items of a set a person tagged. */
export async function countExamples(db: Conn, tagSet: string): Promise<number> {
  const n = await db.selectFrom('feedback_tags').select((eb) => eb.fn.countAll<number>().as('n')).where('tag_set', '=', tagSet).where('source', '=', 'human').executeTakeFirst();
  return Number(n?.n ?? 0);
}

/** Tags by set and name, of one set or all. */
export async function listTags(db: Conn, only?: string) {
  let q = db.selectFrom('tags').selectAll().orderBy('tag_set').orderBy('name');
  if (only) q = q.where('tag_set', '=', only);
  return q.execute();
}

/** Per tag and source (person or model): the items tagged, and how many of them below `threshold` confidence. */
export async function tagCounts(db: Conn, threshold: number, only?: string) {
  let q = db
    .selectFrom('feedback_tags')
    .select((eb) => ['tag_id', 'source', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(sql`case when confidence < ${threshold} then 1 else 0 end`).as('low')])
    .groupBy(['tag_id', 'source']);
  if (only) q = q.where('tag_set', '=', only);
  return q.execute();
}

function suggestionsBelow(db: Conn, threshold: number, filter: { tagSet?: string | undefined; tag?: string | undefined }) {
  let q = db
    .selectFrom('feedback_tags as ft')
    .innerJoin('tags as t', 't.id', 'ft.tag_id')
    .innerJoin('feedback as f', 'f.id', 'ft.feedback_id')
    .where('ft.source', '=', 'model')
    .where('ft.confidence', '<', threshold);
  if (filter.tagSet) q = q.where('ft.tag_set', '=', filter.tagSet);
  if (filter.tag) q = q.where('t.name', '=', filter.tag);
  return q;
}

/** How many model suggestions are below `threshold` confidence (in one set, of one tag). */
export async function countSuggestionsBelow(db: Conn, threshold: number, filter: { tagSet?: string | undefined; tag?: string | undefined }): Promise<number> {
  const total = await suggestionsBelow(db, threshold, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(total?.n ?? 0);
}

/**
 * Model suggestions below `threshold` confidence with their items and their customers' user id
 * and CLV: least confident first, then the more valuable customer, then the newest item.
 */
export async function suggestionsToReview(db: Conn, threshold: number, filter: { tagSet?: string | undefined; tag?: string | undefined }, limit: number) {
  return suggestionsBelow(db, threshold, filter)
    .leftJoin('customers as c', 'c.id', 'f.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 'f.customer_id')
    .select(['f.id', 'f.text', 'f.kind', 'f.created_at', 'c.user_id', 'v.clv', 'ft.tag_set', 't.name', 'ft.confidence'])
    .orderBy('ft.confidence')
    .orderBy(sql`coalesce(v.clv, 0)`, 'desc')
    .orderBy('f.id', 'desc')
    .limit(limit)
    .execute();
}

/** The names of the tag sets that have tags. */
export async function tagSetNames(db: Conn): Promise<string[]> {
  return (await db.selectFrom('tags').select('tag_set').distinct().execute()).map((r) => r.tag_set);
}

/** A set's examples: the items a person tagged, with their text, kind and tag name. */
export async function examplesOf(db: Conn, tagSet: string) {
  return db
    .selectFrom('feedback_tags as ft')
    .innerJoin('tags as t', 't.id', 'ft.tag_id')
    .innerJoin('feedback as f', 'f.id', 'ft.feedback_id')
    .select(['f.id', 'f.text', 'f.kind', 't.name'])
    .where('ft.tag_set', '=', tagSet)
    .where('ft.source', '=', 'human')
    .execute();
}

/** Removes a set's model suggestions. */
export async function deleteSuggestions(db: Conn, tagSet: string): Promise<void> {
  await db.deleteFrom('feedback_tags').where('tag_set', '=', tagSet).where('source', '=', 'model').execute();
}

/** A set's tag ids by name. */
export async function tagIdsByName(db: Conn, tagSet: string): Promise<Map<string, number>> {
  return new Map((await db.selectFrom('tags').select(['id', 'name']).where('tag_set', '=', tagSet).execute()).map((t) => [t.name, Number(t.id)]));
}

/** The items of a set a person tagged. */
export async function humanTaggedIds(db: Conn, tagSet: string): Promise<Set<number>> {
  return new Set((await db.selectFrom('feedback_tags').select('feedback_id').where('tag_set', '=', tagSet).where('source', '=', 'human').execute()).map((r) => Number(r.feedback_id)));
}

/** Writes model suggestions of a set; an item's person-made tag is never replaced. */
export async function upsertSuggestions(db: Conn, tagSet: string, suggestions: readonly { feedbackId: number; tagId: number; confidence: number }[], now: number): Promise<void> {
  for (const part of chunks(suggestions, 1000)) {
    await db
      .insertInto('feedback_tags')
      .values(part.map((s) => ({ feedback_id: s.feedbackId, tag_set: tagSet, tag_id: s.tagId, source: 'model' as const, confidence: s.confidence, reviewed_by: null, updated_at: now })))
      .onConflict((oc) =>
        oc
          .columns(['feedback_id', 'tag_set'])
          .doUpdateSet((eb) => ({ tag_id: eb.ref('excluded.tag_id'), source: eb.ref('excluded.source'), confidence: eb.ref('excluded.confidence'), updated_at: eb.ref('excluded.updated_at') }))
          .where('feedback_tags.source', '=', 'model'),
      )
      .execute();
  }
}

/** An item's tag in a set with the tag's name (undefined when it has none). */
export async function itemTag(db: Conn, feedbackId: number, tagSet: string) {
  return db
    .selectFrom('feedback_tags as ft')
    .innerJoin('tags as t', 't.id', 'ft.tag_id')
    .select(['ft.feedback_id', 't.name', 'ft.source', 'ft.confidence', 'ft.reviewed_by', 'ft.updated_at'])
    .where('ft.feedback_id', '=', feedbackId)
    .where('ft.tag_set', '=', tagSet)
    .executeTakeFirst();
}

/** Writes an item tag exactly as given (an undo restoring the row a change replaced). */
export async function insertItemTag(db: Conn, row: FeedbackTagsTable): Promise<void> {
  await db.insertInto('feedback_tags').values(row).execute();
}

export interface SuggestionRange {
  tagSet: string;
  tag?: string | undefined;
  /** Confidence at least this… */
  min: number;
  /** …and below this. */
  below: number;
}

function suggestionsIn(db: Conn, r: SuggestionRange) {
  let q = db
    .selectFrom('feedback_tags as ft')
    .innerJoin('tags as t', 't.id', 'ft.tag_id')
    .where('ft.tag_set', '=', r.tagSet)
    .where('ft.source', '=', 'model')
    .where('ft.confidence', '>=', r.min)
    .where('ft.confidence', '<', r.below);
  if (r.tag) q = q.where('t.name', '=', r.tag);
  return q;
}

/** A set's model suggestions in a confidence range, most confident first, with the rows as they are. */
export async function suggestionsInRange(db: Conn, r: SuggestionRange, limit: number) {
  return suggestionsIn(db, r)
    .select(['ft.feedback_id', 't.name', 'ft.source', 'ft.confidence', 'ft.reviewed_by', 'ft.updated_at'])
    .orderBy('ft.confidence', 'desc')
    .orderBy('ft.feedback_id')
    .limit(limit)
    .execute();
}

/** How many of a set's model suggestions are in a confidence range. */
export async function countSuggestionsInRange(db: Conn, r: SuggestionRange): Promise<number> {
  const row = await suggestionsIn(db, r)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Turns model suggestions of a set into a person's tags (still model rows only). */
export async function acceptSuggestionRows(db: Conn, tagSet: string, feedbackIds: readonly number[], by: string, now: number): Promise<void> {
  for (const part of chunks(feedbackIds, 500)) {
    await db
      .updateTable('feedback_tags')
      .set({ source: 'human', confidence: null, reviewed_by: by, updated_at: now })
      .where('tag_set', '=', tagSet)
      .where('source', '=', 'model')
      .where('feedback_id', 'in', part)
      .execute();
  }
}

/** A tag by id (undefined when absent). */
export async function tagById(db: Conn, id: number) {
  return db.selectFrom('tags').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function renameTag(db: Conn, id: number, name: string): Promise<void> {
  await db.updateTable('tags').set({ name }).where('id', '=', id).execute();
}

export async function setTagDescription(db: Conn, id: number, description: string | null): Promise<void> {
  await db.updateTable('tags').set({ description }).where('id', '=', id).execute();
}

function removedOf(rows: { source: string; n: number | string | bigint }[]): { examples: number; suggestions: number } {
  const out = { examples: 0, suggestions: 0 };
  for (const r of rows) {
    if (r.source === 'human') out.examples += Number(r.n);
    else out.suggestions += Number(r.n);
  }
  return out;
}

/** A tag's item tags: a person's (examples) and the model's (suggestions). */
export async function countItemTagsOfTag(db: Conn, id: number): Promise<{ examples: number; suggestions: number }> {
  return removedOf(
    await db
      .selectFrom('feedback_tags')
      .select((eb) => ['source', eb.fn.countAll<number>().as('n')])
      .where('tag_id', '=', id)
      .groupBy('source')
      .execute(),
  );
}

/** A set's item tags: a person's (examples) and the model's (suggestions). */
export async function countItemTagsOfSet(db: Conn, tagSet: string): Promise<{ examples: number; suggestions: number }> {
  return removedOf(
    await db
      .selectFrom('feedback_tags')
      .select((eb) => ['source', eb.fn.countAll<number>().as('n')])
      .where('tag_set', '=', tagSet)
      .groupBy('source')
      .execute(),
  );
}

export async function deleteItemTagsOfTag(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('feedback_tags').where('tag_id', '=', id).execute();
}

export async function deleteTag(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('tags').where('id', '=', id).execute();
}

/** Moves a set's tags and item tags to another set name. */
export async function renameSetRows(db: Conn, from: string, to: string): Promise<void> {
  await db.updateTable('tags').set({ tag_set: to }).where('tag_set', '=', from).execute();
  await db.updateTable('feedback_tags').set({ tag_set: to }).where('tag_set', '=', from).execute();
}

/** Removes a set's item tags and tags. */
export async function deleteSetRows(db: Conn, tagSet: string): Promise<void> {
  await db.deleteFrom('feedback_tags').where('tag_set', '=', tagSet).execute();
  await db.deleteFrom('tags').where('tag_set', '=', tagSet).execute();
}

/** Removes a `meta` entry. */
export async function deleteMeta(db: Conn, key: string): Promise<void> {
  await db.deleteFrom('meta').where('key', '=', key).execute();
}

/** Whether a person tagged any of these items (they are then training examples). */
export async function anyHumanTag(db: Conn, feedbackIds: readonly number[]): Promise<boolean> {
  if (feedbackIds.length === 0) return false;
  const r = await db.selectFrom('feedback_tags').select('feedback_id').where('source', '=', 'human').where('feedback_id', 'in', feedbackIds).limit(1).execute();
  return r.length > 0;
}
