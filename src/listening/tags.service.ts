/**
 * Tags the team defines (in tag sets such as "area" or "defect type"), the examples they
 * label, the model's suggestions and the review queue of suggestions below the confidence
 * threshold. A person's tag is an example to learn from: the next listening run retrains the
 * tag set's model when its examples changed, and re-tags every item without a person's tag.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { invalid, notFound } from '../core/errors.js';
import type { Conn, Store } from '../store/db.js';
import { FeedbackItem, feedbackItem } from './themes.service.js';

/** Suggestions at or above this confidence are applied without review. */
export const REVIEW_THRESHOLD = 0.6;

const TagName = z.string().trim().min(1).max(80);
const SetName = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9 _-]*$/i, 'letters, digits, space, _ and - only');

export const TagSetSummary = z
  .object({
    tagSet: z.string(),
    tags: z.array(z.object({ id: z.number(), name: z.string(), description: z.string().nullable(), examples: z.number(), suggested: z.number() })),
    examples: z.number().describe("items tagged by a person (the model's training examples)"),
    suggested: z.number().describe('items tagged by the model'),
    toReview: z.number().describe(`suggestions below the confidence threshold (${REVIEW_THRESHOLD})`),
    model: z
      .object({ trainedAt: z.string(), examples: z.number(), kinds: z.array(z.string()).describe('feedback kinds the set tags: those of its examples'), accuracy: z.number().nullable().describe('cross-validated on the examples'), method: z.string().describe('how the suggestions were made: by the model alone, or (few examples per tag) through the tagged items\' neighbourhoods'), stale: z.boolean().describe('examples changed since training') })
      .nullable(),
  })
  .meta({ id: 'TagSet' });
export type TagSetSummary = z.infer<typeof TagSetSummary>;

export const CreateTagsBody = z.object({ tagSet: SetName, tags: z.array(z.object({ name: TagName, description: z.string().max(500).optional() })).min(1).max(500) });
export const LabelBody = z.object({ tagSet: SetName, tag: TagName.nullable().describe('null removes the tag') });
export const ReviewParams = z.object({
  tagSet: SetName.optional(),
  tag: TagName.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ReviewParams = z.infer<typeof ReviewParams>;

export const ReviewItem = FeedbackItem.extend({
  clv: z.number().nullable(),
  tagSet: z.string(),
  suggested: z.string(),
  confidence: z.number(),
}).meta({ id: 'ReviewItem' });
export const ReviewQueue = z.object({ items: z.array(ReviewItem), total: z.number(), threshold: z.number() }).meta({ id: 'ReviewQueue' });
export type ReviewQueue = z.infer<typeof ReviewQueue>;

/** Stored model metadata of a tag set, as the listening job writes it. */
export interface TagModelMeta {
  trainedAt: number;
  examples: number;
  /** Feedback kinds of the examples: the kinds the set tags. */
  kinds: string[];
  accuracy: number | null;
  /** How the retraining run tagged (transduce.ts's reason); absent in metadata stored before it was kept. */
  method?: string;
  /** Newest `updated_at` of the examples the model saw. */
  examplesStamp: number;
}

export const tagPurpose = (tagSet: string): string => `tags:${tagSet}`;

/** Creates tags (existing names are kept, descriptions updated). */
export async function createTags(store: Store, body: z.infer<typeof CreateTagsBody>, now: number): Promise<TagSetSummary> {
  await store.db.transaction().execute(async (tx) => {
    for (const t of body.tags) {
      await tx
        .insertInto('tags')
        .values({ tag_set: body.tagSet, name: t.name, description: t.description ?? null, created_at: now })
        .onConflict((oc) => oc.columns(['tag_set', 'name']).doUpdateSet({ description: t.description ?? null }))
        .execute();
    }
  });
  const sets = await tagSets(store, body.tagSet);
  return sets[0]!;
}

async function ensureTag(db: Conn, tagSet: string, name: string, now: number): Promise<number> {
  const found = await db.selectFrom('tags').select('id').where('tag_set', '=', tagSet).where('name', '=', name).executeTakeFirst();
  if (found) return Number(found.id);
  await db.insertInto('tags').values({ tag_set: tagSet, name, description: null, created_at: now }).execute();
  const made = await db.selectFrom('tags').select('id').where('tag_set', '=', tagSet).where('name', '=', name).executeTakeFirstOrThrow();
  return Number(made.id);
}

/**
 * A person tags an item (or confirms or corrects the model's suggestion): the tag becomes a
 * training example and leaves the review queue. A new tag name creates the tag.
 */
export async function labelItem(store: Store, feedbackId: number, tagSet: string, tag: string | null, by: string, now: number): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    const f = await tx.selectFrom('feedback').select('id').where('id', '=', feedbackId).executeTakeFirst();
    if (!f) throw notFound(`feedback ${feedbackId}`);
    await tx.deleteFrom('feedback_tags').where('feedback_id', '=', feedbackId).where('tag_set', '=', tagSet).execute();
    if (tag === null) {
      // Removing a person's tag is an edit too: stamp the set so its model retrains.
      await touchSet(tx, tagSet, now);
      return;
    }
    const tagId = await ensureTag(tx, tagSet, tag, now);
    await tx.insertInto('feedback_tags').values({ feedback_id: feedbackId, tag_set: tagSet, tag_id: tagId, source: 'human', confidence: null, reviewed_by: by, updated_at: now }).execute();
  });
}

/** Records that a set's examples changed without a row to carry the stamp (a removed example). */
async function touchSet(db: Conn, tagSet: string, now: number): Promise<void> {
  const key = `tags.touched:${tagSet}`;
  await db
    .insertInto('meta')
    .values({ key, value: String(now) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(now) }))
    .execute();
}

/** The newest change to a tag set's examples (a person's tag added, changed or removed). */
export async function examplesStamp(db: Conn, tagSet: string): Promise<number> {
  const row = await db.selectFrom('feedback_tags').select((eb) => eb.fn.max('updated_at').as('at')).where('tag_set', '=', tagSet).where('source', '=', 'human').executeTakeFirst();
  const touched = await db.selectFrom('meta').select('value').where('key', '=', `tags.touched:${tagSet}`).executeTakeFirst();
  return Math.max(Number(row?.at ?? 0), Number(touched?.value ?? 0));
}

/**
 * Whether a tag set's examples changed since its model was trained: one added or changed
 * (a newer stamp), or removed, also by erasing its author (another count).
 */
export async function modelStale(db: Conn, tagSet: string, meta: TagModelMeta): Promise<boolean> {
  if ((await examplesStamp(db, tagSet)) > meta.examplesStamp) return true;
  const n = await db.selectFrom('feedback_tags').select((eb) => eb.fn.countAll<number>().as('n')).where('tag_set', '=', tagSet).where('source', '=', 'human').executeTakeFirst();
  return Number(n?.n ?? 0) !== meta.examples;
}

export async function readTagModelMeta(db: Conn, tagSet: string): Promise<TagModelMeta | null> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', `tags.model:${tagSet}`).executeTakeFirst();
  return row ? (JSON.parse(row.value) as TagModelMeta) : null;
}

/** Tag sets with their tags, example and suggestion counts, and the model's state. */
export async function tagSets(store: Store, only?: string): Promise<TagSetSummary[]> {
  const db = store.db;
  let tq = db.selectFrom('tags').selectAll().orderBy('tag_set').orderBy('name');
  if (only) tq = tq.where('tag_set', '=', only);
  const tags = await tq.execute();
  let cq = db
    .selectFrom('feedback_tags')
    .select((eb) => [
      'tag_id',
      'source',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(sql`case when confidence < ${REVIEW_THRESHOLD} then 1 else 0 end`).as('low'),
    ])
    .groupBy(['tag_id', 'source']);
  if (only) cq = cq.where('tag_set', '=', only);
  const counts = await cq.execute();
  const by = new Map<string, { examples: number; suggested: number; low: number }>();
  for (const c of counts) {
    const k = String(c.tag_id);
    const e = by.get(k) ?? { examples: 0, suggested: 0, low: 0 };
    if (c.source === 'human') e.examples += Number(c.n);
    else {
      e.suggested += Number(c.n);
      e.low += Number(c.low ?? 0);
    }
    by.set(k, e);
  }
  const sets = new Map<string, TagSetSummary>();
  for (const t of tags) {
    const s = sets.get(t.tag_set) ?? { tagSet: t.tag_set, tags: [], examples: 0, suggested: 0, toReview: 0, model: null };
    const c = by.get(String(t.id)) ?? { examples: 0, suggested: 0, low: 0 };
    s.tags.push({ id: Number(t.id), name: t.name, description: t.description, examples: c.examples, suggested: c.suggested });
    s.examples += c.examples;
    s.suggested += c.suggested;
    s.toReview += c.low;
    sets.set(t.tag_set, s);
  }
  if (only && sets.size === 0) throw notFound(`tag set "${only}"`);
  for (const s of sets.values()) {
    const meta = await readTagModelMeta(db, s.tagSet);
    if (meta) {
      s.model = { trainedAt: new Date(meta.trainedAt).toISOString(), examples: meta.examples, kinds: meta.kinds ?? [], accuracy: meta.accuracy, method: meta.method ?? 'the model alone', stale: await modelStale(db, s.tagSet, meta) };
    }
  }
  return [...sets.values()];
}

/**
 * The review queue: the model's suggestions below the threshold, least confident first; ties
 * go to the more valuable customer (their word weighs more), then to the newest item.
 */
export async function reviewQueue(store: Store, p: ReviewParams): Promise<ReviewQueue> {
  let q = store.db
    .selectFrom('feedback_tags as ft')
    .innerJoin('tags as t', 't.id', 'ft.tag_id')
    .innerJoin('feedback as f', 'f.id', 'ft.feedback_id')
    .where('ft.source', '=', 'model')
    .where('ft.confidence', '<', REVIEW_THRESHOLD);
  if (p.tagSet) q = q.where('ft.tag_set', '=', p.tagSet);
  if (p.tag) q = q.where('t.name', '=', p.tag);
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await q
    .leftJoin('customers as c', 'c.id', 'f.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 'f.customer_id')
    .select(['f.id', 'f.text', 'f.kind', 'f.created_at', 'c.user_id', 'v.clv', 'ft.tag_set', 't.name', 'ft.confidence'])
    .orderBy('ft.confidence')
    .orderBy(sql`coalesce(v.clv, 0)`, 'desc')
    .orderBy('f.id', 'desc')
    .limit(p.limit)
    .execute();
  return {
    items: rows.map((r) => ({
      ...feedbackItem(r),
      clv: r.clv === null ? null : Math.round(r.clv * 100) / 100,
      tagSet: r.tag_set,
      suggested: r.name,
      confidence: Math.round((r.confidence ?? 0) * 1000) / 1000,
    })),
    total: Number(total?.n ?? 0),
    threshold: REVIEW_THRESHOLD,
  };
}

/** Validates a tag set name from a path or flag. */
export function tagSetName(value: string, field = 'tagSet'): string {
  const r = SetName.safeParse(value);
  if (!r.success) throw invalid(field, r.error.issues[0]?.message ?? 'invalid tag set name');
  return r.data;
}
