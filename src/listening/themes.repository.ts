import { sql } from 'kysely';
import type { Conn, Store } from '../store/db.js';
import type { ThemeKind, ThemeStatus } from '../store/schema.js';
import { monthOfMs } from '../store/sql.js';

/**
 * Queries on themes and on the analysed feedback they group (the board, a theme's members,
 * the team's edits, the listening run's theme writes). Only queries: the service and the run
 * map and decide. `only` narrows the board's aggregates to one theme.
 */

/** Active themes (or the one with id `only`, when active). */
export async function activeThemes(db: Conn, only?: number) {
  return db
    .selectFrom('themes')
    .selectAll()
    .where('status', '=', 'active')
    .$if(only !== undefined, (q) => q.where('id', '=', only!))
    .execute();
}

/** The latest successful listening run (undefined before one). */
export { lastListenRun as latestListenRun } from './runs.js';

/** How many items are analysed, and how many of them fit no theme. */
export async function analysedCounts(db: Conn): Promise<{ analysed: number; unassigned: number }> {
  const counts = await db
    .selectFrom('feedback_insights')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(sql`case when theme_id is null then 1 else 0 end`).as('unassigned')])
    .executeTakeFirst();
  return { analysed: Number(counts?.n ?? 0), unassigned: Number(counts?.unassigned ?? 0) };
}

/** Per theme: items, mean sentiment, near-duplicates among them, newest item's time. */
export async function themeStats(db: Conn, only?: number) {
  return db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .select((eb) => [
      'i.theme_id',
      eb.fn.countAll<number>().as('n'),
      eb.fn.avg<number>('i.sentiment').as('sentiment'),
      eb.fn.sum<number>(sql`case when i.duplicate_of is not null then 1 else 0 end`).as('dups'),
      eb.fn.max('f.created_at').as('latest'),
    ])
    .where('i.theme_id', 'is not', null)
    .$if(only !== undefined, (q) => q.where('i.theme_id', '=', only!))
    .groupBy('i.theme_id')
    .execute();
}

/** Items per theme and intent. */
export async function themeIntents(db: Conn, only?: number) {
  return db
    .selectFrom('feedback_insights')
    .select((eb) => ['theme_id', 'intent', eb.fn.countAll<number>().as('n')])
    .where('theme_id', 'is not', null)
    .$if(only !== undefined, (q) => q.where('theme_id', '=', only!))
    .groupBy(['theme_id', 'intent'])
    .execute();
}

/** Per theme: distinct customers who raised it and the sum of their CLV. */
export async function themeValue(db: Conn, only?: number) {
  return db
    .selectFrom(
      db
        .selectFrom('feedback_insights as i')
        .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
        .select(['i.theme_id', 'f.customer_id'])
        .where('i.theme_id', 'is not', null)
        .$if(only !== undefined, (q) => q.where('i.theme_id', '=', only!))
        .where('f.customer_id', 'is not', null)
        .distinct()
        .as('d'),
    )
    .leftJoin('customer_values as v', 'v.customer_id', 'd.customer_id')
    .select((eb) => ['d.theme_id', eb.fn.countAll<number>().as('customers'), eb.fn.sum<number>(eb.fn.coalesce('v.clv', sql<number>`0`)).as('clv')])
    .groupBy('d.theme_id')
    .execute();
}

/** Items per theme and UTC month (YYYY-MM) of the feedback's creation. */
export async function themeMonthly(store: Store, only?: number) {
  const month = monthOfMs(store.dialect, 'f.created_at');
  return store.db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .select((eb) => ['i.theme_id', month.as('month'), eb.fn.countAll<number>().as('n')])
    .where('i.theme_id', 'is not', null)
    .$if(only !== undefined, (q) => q.where('i.theme_id', '=', only!))
    .groupBy(['i.theme_id', month])
    .execute();
}

/** Feedback items by id, with their customer's user id. */
export async function feedbackWithUser(db: Conn, ids: readonly number[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('feedback as f')
    .leftJoin('customers as c', 'c.id', 'f.customer_id')
    .select(['f.id', 'f.text', 'f.kind', 'f.created_at', 'c.user_id'])
    .where('f.id', 'in', ids)
    .execute();
}

/** A theme row, whatever its status (undefined when there is none). */
export async function themeById(db: Conn, id: number) {
  return db.selectFrom('themes').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A theme's members, newest first, below the feedback id `before` when given: one more than `limit`, to tell whether a next page exists. */
export async function themeMembers(db: Conn, themeId: number, limit: number, before?: number) {
  let q = db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .leftJoin('customers as c', 'c.id', 'f.customer_id')
    .leftJoin('theme_pins as p', 'p.feedback_id', 'f.id')
    .select(['f.id', 'f.text', 'f.kind', 'f.created_at', 'c.user_id', 'i.theme_similarity', 'i.sentiment', 'i.intent', 'i.duplicate_of', 'p.pinned_at'])
    .where('i.theme_id', '=', themeId)
    .orderBy('f.id', 'desc')
    .limit(limit + 1);
  if (before !== undefined) q = q.where('f.id', '<', before);
  return q.execute();
}

/** Per item of `ids`: the items that repeat it and their distinct customers. */
export async function repeatCounts(db: Conn, ids: readonly number[]) {
  return db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .select((eb) => ['i.duplicate_of', eb.fn.countAll<number>().as('n'), eb.fn.count<number>('f.customer_id').distinct().as('customers')])
    .where('i.duplicate_of', 'in', ids)
    .groupBy('i.duplicate_of')
    .execute();
}

/** Sets a theme's name (null: back to its label). */
export async function setThemeName(db: Conn, id: number, name: string | null, now: number): Promise<void> {
  await db.updateTable('themes').set({ name, updated_at: now }).where('id', '=', id).execute();
}

/** The status of each of these themes (those that exist). */
export async function themeStatuses(db: Conn, ids: readonly number[]) {
  return db.selectFrom('themes').select(['id', 'status']).where('id', 'in', ids).execute();
}

/** Moves the items of the themes `from` to the theme `into`. */
export async function moveItemsToTheme(db: Conn, from: readonly number[], into: number): Promise<void> {
  await db.updateTable('feedback_insights').set({ theme_id: into }).where('theme_id', 'in', from).execute();
}

/** Marks themes as merged into `into`. */
export async function markMerged(db: Conn, ids: readonly number[], into: number, now: number): Promise<void> {
  await db.updateTable('themes').set({ status: 'merged', merged_into: into, updated_at: now }).where('id', 'in', ids).execute();
}

/** Points the themes merged into one of `ids` at `into` instead. */
export async function repointMerged(db: Conn, ids: readonly number[], into: number, now: number): Promise<void> {
  await db.updateTable('themes').set({ merged_into: into, updated_at: now }).where('merged_into', 'in', ids).execute();
}

/** How many items a theme holds. */
export async function countThemeItems(db: Conn, themeId: number): Promise<number> {
  const size = await db.selectFrom('feedback_insights').select((eb) => eb.fn.countAll<number>().as('n')).where('theme_id', '=', themeId).executeTakeFirst();
  return Number(size?.n ?? 0);
}

/** Sets a theme's size (and its name, when given). */
export async function setThemeSize(db: Conn, themeId: number, size: number, now: number, name?: string): Promise<void> {
  await db
    .updateTable('themes')
    .set({ size, updated_at: now, ...(name ? { name } : {}) })
    .where('id', '=', themeId)
    .execute();
}

/** A customer's analysed items: theme (with its name and label), sentiment and intent. */
export async function customerInsights(db: Conn, customerId: number) {
  return db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .leftJoin('themes as t', 't.id', 'i.theme_id')
    .select(['i.theme_id', 'i.sentiment', 'i.intent', 't.name', 't.label'])
    .where('f.customer_id', '=', customerId)
    .execute();
}

/** Every theme's status and the theme it was merged into. */
export async function themeLinks(db: Conn) {
  return db.selectFrom('themes').select(['id', 'status', 'merged_into']).execute();
}

/** Active themes with a name given by the team. */
export async function namedActiveThemes(db: Conn) {
  return db.selectFrom('themes').select(['id', 'name']).where('status', '=', 'active').where('name', 'is not', null).execute();
}

/** Retires every active theme as `split` (a rebuild replaces them). */
export async function retireActiveThemes(db: Conn, now: number): Promise<void> {
  await db.updateTable('themes').set({ status: 'split', updated_at: now }).where('status', '=', 'active').execute();
}

export interface NewTheme {
  label: string;
  kind?: ThemeKind;
  keyPhrases: string[];
  /** Feedback ids of the most typical members. */
  quotes: number[];
  size: number;
  parentId: number | null;
}

/** Adds an active, unnamed theme; its id. */
export async function insertTheme(db: Conn, t: NewTheme, now: number): Promise<number> {
  const r = await db
    .insertInto('themes')
    .values({ label: t.label, kind: t.kind ?? 'topic', name: null, key_phrases: JSON.stringify(t.keyPhrases), quotes: JSON.stringify(t.quotes), size: t.size, status: 'active', merged_into: null, parent_id: t.parentId, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

/** Names a theme unless it has a name already; whether it was named. */
export async function nameIfUnnamed(db: Conn, themeId: number, name: string): Promise<boolean> {
  const r = await db.updateTable('themes').set({ name }).where('id', '=', themeId).where('name', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** A theme's status (undefined when there is none). */
export async function themeStatus(db: Conn, themeId: number): Promise<ThemeStatus | undefined> {
  return (await db.selectFrom('themes').select('status').where('id', '=', themeId).executeTakeFirst())?.status;
}

/** Marks a theme as split, with no items of its own left. */
export async function markSplit(db: Conn, themeId: number, now: number): Promise<void> {
  await db.updateTable('themes').set({ status: 'split', size: 0, updated_at: now }).where('id', '=', themeId).execute();
}

/** A theme's members' ids and texts, in id order. */
export async function themeMemberTexts(db: Conn, themeId: number) {
  return db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .select(['f.id', 'f.text'])
    .where('i.theme_id', '=', themeId)
    .orderBy('f.id')
    .execute();
}

/** Sets every theme's size to the items it holds. */
export async function refreshThemeSizes(db: Conn): Promise<void> {
  const sizes = await db.selectFrom('feedback_insights').select((eb) => ['theme_id', eb.fn.countAll<number>().as('n')]).where('theme_id', 'is not', null).groupBy('theme_id').execute();
  for (const s of sizes) await db.updateTable('themes').set({ size: Number(s.n) }).where('id', '=', Number(s.theme_id)).execute();
}

/** The theme each of these feedback items is in (items not analysed are missing). */
export async function themesOfItems(db: Conn, feedbackIds: readonly number[]) {
  if (feedbackIds.length === 0) return [];
  return db.selectFrom('feedback_insights').select(['feedback_id', 'theme_id']).where('feedback_id', 'in', feedbackIds).execute();
}

/** Puts items into a theme (or none) by hand: their similarity is no longer the model's. */
export async function moveItems(db: Conn, feedbackIds: readonly number[], themeId: number | null): Promise<void> {
  if (feedbackIds.length === 0) return;
  await db.updateTable('feedback_insights').set({ theme_id: themeId, theme_similarity: null }).where('feedback_id', 'in', feedbackIds).execute();
}

/** Records (or replaces) the pins of items moved by hand. */
export async function upsertPins(db: Conn, pins: readonly { feedbackId: number; themeId: number | null; fromThemeId: number | null; by: string | null; at: number }[]): Promise<void> {
  for (const p of pins) {
    await db
      .insertInto('theme_pins')
      .values({ feedback_id: p.feedbackId, theme_id: p.themeId, from_theme_id: p.fromThemeId, pinned_by: p.by, pinned_at: p.at })
      .onConflict((oc) => oc.column('feedback_id').doUpdateSet({ theme_id: p.themeId, from_theme_id: p.fromThemeId, pinned_by: p.by, pinned_at: p.at }))
      .execute();
  }
}

/** Every pin with its item's text, in feedback id order. */
export async function pinsWithTexts(db: Conn) {
  return db
    .selectFrom('theme_pins as p')
    .innerJoin('feedback as f', 'f.id', 'p.feedback_id')
    .select(['p.feedback_id', 'p.theme_id', 'f.text'])
    .orderBy('p.feedback_id')
    .execute();
}

/** Points pins at the themes that took over theirs (a rebuild): [feedback id, theme id or null]. */
export async function setPinThemes(db: Conn, moves: readonly [number, number | null][]): Promise<void> {
  for (const [feedbackId, themeId] of moves) await db.updateTable('theme_pins').set({ theme_id: themeId }).where('feedback_id', '=', feedbackId).execute();
}

/** Removes pins (their theme is gone and nothing took it over). */
export async function deletePins(db: Conn, feedbackIds: readonly number[]): Promise<void> {
  if (feedbackIds.length === 0) return;
  await db.deleteFrom('theme_pins').where('feedback_id', 'in', feedbackIds).execute();
}

/** Every theme's kind. */
export async function themeKinds(db: Conn) {
  return db.selectFrom('themes').select(['id', 'kind']).execute();
}

/** Pins into these themes follow their items (after a merge or split moved them). */
export async function syncPins(db: Conn, themeIds: readonly number[]): Promise<void> {
  if (themeIds.length === 0) return;
  await db
    .updateTable('theme_pins')
    .set((eb) => ({ theme_id: eb.selectFrom('feedback_insights as i').select('i.theme_id').whereRef('i.feedback_id', '=', 'theme_pins.feedback_id') }))
    .where('theme_id', 'in', themeIds)
    .execute();
}

/** Every theme row's phrases and quotes, whatever its status (an erasure scrubs them all). */
export async function themePhrases(db: Conn) {
  return db.selectFrom('themes').select(['id', 'label', 'key_phrases', 'quotes']).orderBy('id').execute();
}

/** Rewrites a theme's label, key phrases and quotes (an erasure). */
export async function setThemePhrases(db: Conn, id: number, t: { label: string; keyPhrases: string[]; quotes: number[] }): Promise<void> {
  await db.updateTable('themes').set({ label: t.label, key_phrases: JSON.stringify(t.keyPhrases), quotes: JSON.stringify(t.quotes) }).where('id', '=', id).execute();
}
