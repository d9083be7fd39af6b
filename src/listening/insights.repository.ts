import type { Conn } from '../store/db.js';
import type { FeedbackInsightsTable } from '../store/schema.js';
import { chunks, updateFromValues } from '../store/sql.js';

/** Queries of the listening run on feedback and on what it read out of it (`feedback_insights`). Only queries: the run decides. */

/** Every feedback item, or (`unanalysed`) only those without insights yet, in id order. */
export async function feedbackTexts(db: Conn, unanalysed: boolean): Promise<{ id: number; text: string; kind: string }[]> {
  const out: { id: number; text: string; kind: string }[] = [];
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('feedback as f')
      .select(['f.id', 'f.text', 'f.kind'])
      .where('f.id', '>', after)
      .$if(unanalysed, (q) => q.where((eb) => eb.not(eb.exists(eb.selectFrom('feedback_insights as i').select('i.feedback_id').whereRef('i.feedback_id', '=', 'f.id')))))
      .orderBy('f.id')
      .limit(50_000)
      .execute();
    for (const r of rows) out.push({ id: Number(r.id), text: r.text, kind: r.kind });
    if (rows.length < 50_000) return out;
    after = Number(rows[rows.length - 1]!.id);
  }
}

/** The newest rated reviews and surveys (their ratings are sentiment labels), at most `limit`. */
export async function ratedFeedback(db: Conn, limit: number): Promise<{ id: number; kind: string; text: string; rating: number }[]> {
  const rows = await db
    .selectFrom('feedback')
    .select(['id', 'kind', 'text', 'rating'])
    .where('kind', 'in', ['review', 'survey'])
    .where('rating', 'is not', null)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), kind: r.kind, text: r.text, rating: Number(r.rating) }));
}

/** How many feedback items are stored. */
export async function countFeedback(db: Conn): Promise<number> {
  return Number((await db.selectFrom('feedback').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
}

/** Which of these feedback ids still exist. */
export async function existingFeedbackIds(db: Conn, ids: readonly number[]): Promise<Set<number>> {
  const present = new Set<number>();
  for (const part of chunks(ids, 5000)) {
    const found = await db.selectFrom('feedback').select('id').where('id', 'in', part).execute();
    for (const f of found) present.add(Number(f.id));
  }
  return present;
}

/** Every analysed item's signature, root and theme, in id order. */
export async function storedInsights(db: Conn) {
  return db.selectFrom('feedback_insights').select(['feedback_id', 'minhash', 'duplicate_of', 'theme_id']).orderBy('feedback_id').execute();
}

/** Removes every item's insights (a rebuild writes them all again). */
export async function deleteAllInsights(db: Conn): Promise<void> {
  await db.deleteFrom('feedback_insights').execute();
}

/** Writes items' insights, replacing those stored. */
export async function upsertInsights(db: Conn, rows: readonly FeedbackInsightsTable[]): Promise<void> {
  for (const part of chunks(rows, 500)) {
    await db
      .insertInto('feedback_insights')
      .values(part)
      .onConflict((oc) =>
        oc.column('feedback_id').doUpdateSet((eb) => ({
          theme_id: eb.ref('excluded.theme_id'),
          theme_similarity: eb.ref('excluded.theme_similarity'),
          sentiment: eb.ref('excluded.sentiment'),
          sentiment_label: eb.ref('excluded.sentiment_label'),
          intent: eb.ref('excluded.intent'),
          intent_confidence: eb.ref('excluded.intent_confidence'),
          lang: eb.ref('excluded.lang'),
          duplicate_of: eb.ref('excluded.duplicate_of'),
          minhash: eb.ref('excluded.minhash'),
          analysed_at: eb.ref('excluded.analysed_at'),
        })),
      )
      .execute();
  }
}

/** Sets analysed items' roots: [feedback id, the item it repeats or null]. */
export async function setRoots(db: Conn, roots: readonly (readonly [number, number | null])[]): Promise<void> {
  await updateFromValues(db, 'feedback_insights', 'feedback_id', ['bigint', 'bigint'], roots, { duplicate_of: 'v.column2' });
}

/** Sets analysed items' themes and similarities: [feedback id, theme id or null, similarity or null]. */
export async function setThemesAndSimilarity(db: Conn, rows: readonly (readonly [number, number | null, number | null])[]): Promise<void> {
  await updateFromValues(db, 'feedback_insights', 'feedback_id', ['bigint', 'bigint', 'double precision'], rows, { theme_id: 'v.column2', theme_similarity: 'v.column3' });
}

/** Sets analysed items' sentiment: [feedback id, score, label]. */
export async function setSentiments(db: Conn, rows: readonly (readonly [number, number, string])[]): Promise<void> {
  await updateFromValues(db, 'feedback_insights', 'feedback_id', ['bigint', 'double precision', 'text'], rows, { sentiment: 'v.column2', sentiment_label: 'v.column3' });
}

/** Sets analysed items' themes: [feedback id, theme id]. */
export async function setThemes(db: Conn, rows: readonly (readonly [number, number])[]): Promise<void> {
  await updateFromValues(db, 'feedback_insights', 'feedback_id', ['bigint', 'bigint'], rows, { theme_id: 'v.column2' });
}

/** How many analysed items fit no theme. */
export async function countUnassigned(db: Conn): Promise<number> {
  const r = await db.selectFrom('feedback_insights').select((eb) => eb.fn.countAll<number>().as('n')).where('theme_id', 'is', null).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** The newest feedback row id (0 without feedback). */
export async function newestFeedbackId(db: Conn): Promise<number> {
  const r = await db.selectFrom('feedback').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/** A customer's feedback items (an erasure reads them before they go). */
export async function feedbackOfCustomer(db: Conn, customerId: number): Promise<{ id: number; text: string; kind: string; rated: boolean }[]> {
  const rows = await db.selectFrom('feedback').select(['id', 'text', 'kind', 'rating']).where('customer_id', '=', customerId).orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), text: r.text, kind: r.kind, rated: r.rating !== null }));
}

/** Texts of everyone else's feedback (anonymous items included) with ids above `after`, in id order. */
export async function otherFeedbackTexts(db: Conn, customerId: number, after: number, limit: number): Promise<{ id: number; text: string }[]> {
  const rows = await db
    .selectFrom('feedback')
    .select(['id', 'text'])
    .where('id', '>', after)
    .where((eb) => eb.or([eb('customer_id', 'is', null), eb('customer_id', '!=', customerId)]))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), text: r.text }));
}
