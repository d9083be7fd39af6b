/**
 * Tags the team defines (in tag sets such as "area" or "defect type"), the examples they
 * label, the model's suggestions and the review queue of suggestions below the confidence
 * threshold. A person's tag is an example to learn from: the next listening run retrains the
 * tag set's model when its examples changed, and re-tags every item without a person's tag.
 */
import { z } from 'zod';
import { notFound } from '../core/errors.js';
import { round } from '../core/numbers.js';
import { parseOrThrow } from '../core/validation.js';
import type { Conn, Store } from '../store/db.js';
import { FeedbackItem, feedbackItem } from './themes.service.js';
import * as repo from './tags.repository.js';

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
    for (const t of body.tags) await repo.upsertTag(tx, body.tagSet, t.name, t.description ?? null, now);
  });
  const sets = await tagSets(store, body.tagSet);
  return sets[0]!;
}

async function ensureTag(db: Conn, tagSet: string, name: string, now: number): Promise<number> {
  const found = await repo.tagId(db, tagSet, name);
  if (found !== undefined) return found;
  await repo.insertTag(db, tagSet, name, now);
  const made = await repo.tagId(db, tagSet, name);
  if (made === undefined) throw new Error(`tag "${name}" of set "${tagSet}" was not stored`);
  return made;
}

/**
 * A person tags an item (or confirms or corrects the model's suggestion): the tag becomes a
 * training example and leaves the review queue. A new tag name creates the tag.
 */
export async function labelItem(store: Store, feedbackId: number, tagSet: string, tag: string | null, by: string, now: number): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    if (!(await repo.feedbackExists(tx, feedbackId))) throw notFound(`feedback ${feedbackId}`);
    await repo.deleteItemTag(tx, feedbackId, tagSet);
    if (tag === null) {
      // Removing a person's tag is an edit too: stamp the set so its model retrains.
      await touchSet(tx, tagSet, now);
      return;
    }
    const tagId = await ensureTag(tx, tagSet, tag, now);
    await repo.insertHumanTag(tx, feedbackId, tagSet, tagId, by, now);
  });
}

/** Records that a set's examples changed without a row to carry the stamp (a removed example). */
async function touchSet(db: Conn, tagSet: string, now: number): Promise<void> {
  await repo.upsertMeta(db, `tags.touched:${tagSet}`, String(now));
}

/** The newest change to a tag set's examples (a person's tag added, changed or removed). */
export async function examplesStamp(db: Conn, tagSet: string): Promise<number> {
  const at = await repo.latestExampleAt(db, tagSet);
  const touched = await repo.readMeta(db, `tags.touched:${tagSet}`);
  return Math.max(at, Number(touched ?? 0));
}

/**
 * Whether a tag set's examples changed since its model was trained: one added or changed
 * (a newer stamp), or removed, also by erasing its author (another count).
 */
export async function modelStale(db: Conn, tagSet: string, meta: TagModelMeta): Promise<boolean> {
  if ((await examplesStamp(db, tagSet)) > meta.examplesStamp) return true;
  return (await repo.countExamples(db, tagSet)) !== meta.examples;
}

const modelMetaKey = (tagSet: string): string => `tags.model:${tagSet}`;

/** The stored metadata of a tag set's model (null before its first training). */
export async function readTagModelMeta(db: Conn, tagSet: string): Promise<TagModelMeta | null> {
  const value = await repo.readMeta(db, modelMetaKey(tagSet));
  return value === undefined ? null : (JSON.parse(value) as TagModelMeta);
}

/** Stores the metadata of a tag set's model, as the listening run trains it. */
export async function writeTagModelMeta(db: Conn, tagSet: string, meta: TagModelMeta): Promise<void> {
  await repo.upsertMeta(db, modelMetaKey(tagSet), JSON.stringify(meta));
}

/** Tag sets with their tags, example and suggestion counts, and the model's state. */
export async function tagSets(store: Store, only?: string): Promise<TagSetSummary[]> {
  const db = store.db;
  const tags = await repo.listTags(db, only);
  const counts = await repo.tagCounts(db, REVIEW_THRESHOLD, only);
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
  const filter = { tagSet: p.tagSet, tag: p.tag };
  const total = await repo.countSuggestionsBelow(store.db, REVIEW_THRESHOLD, filter);
  const rows = await repo.suggestionsToReview(store.db, REVIEW_THRESHOLD, filter, p.limit);
  return {
    items: rows.map((r) => ({
      ...feedbackItem(r),
      clv: r.clv === null ? null : round(r.clv),
      tagSet: r.tag_set,
      suggested: r.name,
      confidence: round(r.confidence ?? 0, 3),
    })),
    total,
    threshold: REVIEW_THRESHOLD,
  };
}

/** Validates a tag set name from a path or flag. */
export function tagSetName(value: string, field = 'tagSet'): string {
  return parseOrThrow(SetName, value, { prefix: field });
}
