/**
 * Tags the team defines (in tag sets such as "area" or "defect type"), the examples they
 * label, the model's suggestions and the review queue of suggestions below the confidence
 * threshold. A person's tag is an example to learn from: the next listening run retrains the
 * tag set's model when its examples changed, and re-tags every item without a person's tag.
 */
import { z } from 'zod';
import { notFound, RapportError } from '../core/errors.js';
import { wilson, type Interval } from '../models/stats/proportions.js';
import { round } from '../core/numbers.js';
import { parseOrThrow } from '../core/validation.js';
import type { Conn, Store } from '../store/db.js';
import { FeedbackItem, feedbackItem } from './themes.service.js';
import * as models from './models.repository.js';
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

/** Held-out tags of a set's own examples below this many: too few to state a tag's figures. */
export const MIN_HELD_OUT = 10;
/** Default lower bound of a bulk accept: the queue's suggestions at least this confident. */
export const BULK_MIN_CONFIDENCE = 0.45;
/** Held-out predictions are counted in confidence bands this many to the unit (0.05 wide). */
export const CONFIDENCE_BANDS = 20;
export const confidenceBand = (confidence: number): number => Math.min(CONFIDENCE_BANDS - 1, Math.max(0, Math.floor(confidence * CONFIDENCE_BANDS + 1e-9)));

const Estimate = z
  .object({ estimate: z.number(), low: z.number(), high: z.number() })
  .describe('a proportion with its 95% Wilson interval')
  .meta({ id: 'Estimate' });
const TagValidationOut = z.object({
  examples: z.number().describe("the tag's examples when the model was trained"),
  heldOut: z.number().describe('held-out examples of the tag in the cross-validation'),
  recall: Estimate.nullable().describe(`share of its held-out examples the model tagged with it; null below ${MIN_HELD_OUT} held out`),
  precision: Estimate.nullable().describe(`share of the held-out items the model tagged with it that truly were; null below ${MIN_HELD_OUT}`),
  note: z.string().describe("the tag's figures in words, or why there are none"),
});

export const TagSetSummary = z
  .object({
    tagSet: z.string(),
    tags: z.array(
      z.object({
        id: z.number(),
        name: z.string(),
        description: z.string().nullable(),
        examples: z.number(),
        suggested: z.number(),
        toReview: z.number().describe(`its suggestions below ${REVIEW_THRESHOLD} confidence`),
        validation: TagValidationOut,
      }),
    ),
    examples: z.number().describe("items tagged by a person (the model's training examples)"),
    suggested: z.number().describe('items tagged by the model'),
    toReview: z.number().describe(`suggestions below the confidence threshold (${REVIEW_THRESHOLD})`),
    model: z
      .object({
        trainedAt: z.string(),
        examples: z.number(),
        kinds: z.array(z.string()).describe('feedback kinds the set tags: those of its examples'),
        accuracy: z.number().nullable().describe('cross-validated on the examples (kept for older clients: validation.accuracy.estimate)'),
        validation: z
          .object({
            n: z.number().describe('held-out predictions: every example once (5 folds), or a fifth of them above 2,000'),
            correct: z.number(),
            accuracy: Estimate,
            byConfidence: z.array(z.object({ from: z.number(), to: z.number(), n: z.number(), correct: z.number() })).describe('held-out predictions per confidence band of 0.05 (bands without any left out)'),
          })
          .nullable()
          .describe('null: fewer than 10 examples, or trained before the counts were kept'),
        method: z.string().describe("how the suggestions were made: by the model alone, or (few examples per tag) through the tagged items' neighbourhoods"),
        stale: z.boolean().describe('examples changed since training'),
      })
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
  minConfidence: z.coerce.number().min(0).max(1).default(BULK_MIN_CONFIDENCE).describe('with tagSet: how many suggestions a bulk accept at this confidence would take'),
});
export type ReviewParams = Omit<z.infer<typeof ReviewParams>, 'minConfidence'> & { minConfidence?: number | undefined };

export const ReviewItem = FeedbackItem.extend({
  clv: z.number().nullable(),
  tagSet: z.string(),
  suggested: z.string(),
  confidence: z.number(),
  question: z.string().describe('the suggestion as a question to the reviewer'),
  tagNote: z.string().describe("the suggested tag's own cross-validated figures, or why there are none"),
  heldOut: z.object({ n: z.number(), correct: z.number() }).nullable().describe("held-out predictions of the set's model in this suggestion's confidence band, and how many were right"),
}).meta({ id: 'ReviewItem' });
export const ReviewQueue = z
  .object({
    items: z.array(ReviewItem),
    total: z.number(),
    threshold: z.number(),
    bulk: z
      .object({
        tagSet: z.string(),
        tag: z.string().nullable(),
        minConfidence: z.number(),
        count: z.number().describe('queue suggestions at or above minConfidence'),
        heldOut: z.object({ n: z.number(), correct: z.number(), accuracy: Estimate.nullable() }).describe('held-out predictions in the same confidence range, and how many were right'),
      })
      .nullable()
      .describe('with tagSet: what a bulk accept would take'),
  })
  .meta({ id: 'ReviewQueue' });
export type ReviewQueue = z.infer<typeof ReviewQueue>;

/** Stored model metadata of a tag set, as the listening job writes it. */
export interface TagModelMeta {
  trainedAt: number;
  examples: number;
  /** Feedback kinds of the examples: the kinds the set tags. */
  kinds: string[];
  accuracy: number | null;
  /** The cross-validation's counts (absent in metadata stored before they were kept; null with too few examples). */
  validation?: TagValidation | null;
  /** How the retraining run tagged (transduce.ts's reason); absent in metadata stored before it was kept. */
  method?: string;
  /** Newest `updated_at` of the examples the model saw. */
  examplesStamp: number;
}

/** What cross-validating a tag set's model counted (listen.steps.ts's crossValidate). */
export interface TagValidation {
  /** Held-out predictions, and how many were right. */
  n: number;
  correct: number;
  /** Per tag: its examples, its held-out examples, those tagged right, and the held-out items the model gave it. */
  tags: Record<string, { examples: number; held: number; correct: number; predicted: number }>;
  /** Held-out predictions per confidence band (`confidenceBand`), and how many were right. */
  bands: { n: number; correct: number }[];
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

export const ReplacedTag = z
  .object({
    tag: z.string(),
    source: z.enum(['human', 'model']),
    confidence: z.number().nullable(),
    reviewedBy: z.string().nullable(),
    updatedAt: z.number().int(),
  })
  .describe("the item's tag in the set before the change: a person's, or the model's suggestion with its confidence")
  .meta({ id: 'ReplacedTag' });
export type ReplacedTag = z.infer<typeof ReplacedTag>;
export const TagChange = z
  .object({
    feedbackId: z.number().int().min(1),
    tagSet: SetName,
    tag: TagName.nullable().describe('the tag the change set (null: it removed the tag)'),
    replaced: ReplacedTag.nullable().describe('what it replaced (null: the item had no tag in the set)'),
  })
  .meta({ id: 'TagChange' });
export type TagChange = z.infer<typeof TagChange>;
export const UndoBody = TagChange.omit({ feedbackId: true });
export const UndoManyBody = z.object({ changes: z.array(TagChange).min(1).max(2000) });
export const UndoResult = z.object({ restored: z.number(), conflicts: z.array(z.number()).describe('items whose tag changed again since: left as they are') }).meta({ id: 'UndoResult' });
export const AcceptBody = z.object({
  tagSet: SetName,
  minConfidence: z.number().min(0).max(1).default(BULK_MIN_CONFIDENCE).describe('queue suggestions at least this confident are accepted'),
  tag: TagName.optional().describe('only suggestions of this tag'),
  limit: z.number().int().min(1).max(2000).default(2000),
});
export const AcceptResult = z.object({ accepted: z.number(), remaining: z.number().describe('such suggestions left (above limit)'), changes: z.array(TagChange).describe('what POST /api/review-queue/accept/undo takes to undo it') }).meta({ id: 'BulkAccept' });
export const RenameTagBody = z.object({ name: TagName.optional(), description: z.string().max(500).nullable().optional() });
export const RenameSetBody = z.object({ name: SetName });
export const Removed = z.object({ examples: z.number(), suggestions: z.number() }).describe("the item tags removed with it").meta({ id: 'RemovedTags' });

function replacedOf(row: Awaited<ReturnType<typeof repo.itemTag>>): ReplacedTag | null {
  if (!row) return null;
  return { tag: row.name, source: row.source === 'human' ? 'human' : 'model', confidence: row.confidence === null ? null : Number(row.confidence), reviewedBy: row.reviewed_by, updatedAt: Number(row.updated_at) };
}

/**
 * A person tags an item (or confirms or corrects the model's suggestion): the tag becomes a
 * training example and leaves the review queue. A new tag name creates the tag. Returns the
 * change with what it replaced, which `undoTagChanges` restores.
 */
export async function labelItem(store: Store, feedbackId: number, tagSet: string, tag: string | null, by: string, now: number): Promise<TagChange> {
  return store.db.transaction().execute(async (tx) => {
    if (!(await repo.feedbackExists(tx, feedbackId))) throw notFound(`feedback ${feedbackId}`);
    const replaced = replacedOf(await repo.itemTag(tx, feedbackId, tagSet));
    await repo.deleteItemTag(tx, feedbackId, tagSet);
    if (tag === null) {
      // Removing a person's tag is an edit too: stamp the set so its model retrains.
      await touchSet(tx, tagSet, now);
    } else {
      const tagId = await ensureTag(tx, tagSet, tag, now);
      await repo.insertHumanTag(tx, feedbackId, tagSet, tagId, by, now);
    }
    return { feedbackId, tagSet, tag, replaced };
  });
}

/**
 * Undoes tag changes: each item gets back exactly the row it had (a person's tag with its
 * author and time, the model's suggestion with its confidence, or none), provided its tag is
 * still the one the change set; an item changed again since is left alone and listed. The set
 * is stamped, so its model retrains at the next run.
 */
export async function undoTagChanges(store: Store, changes: readonly TagChange[], now: number): Promise<z.infer<typeof UndoResult>> {
  return store.db.transaction().execute(async (tx) => {
    const conflicts: number[] = [];
    const touched = new Set<string>();
    for (const c of changes) {
      const current = await repo.itemTag(tx, c.feedbackId, c.tagSet);
      const still = c.tag === null ? current === undefined : current !== undefined && current.source === 'human' && current.name === c.tag;
      const tagId = c.replaced ? await repo.tagId(tx, c.tagSet, c.replaced.tag) : undefined;
      if (!still || (c.replaced && tagId === undefined)) {
        conflicts.push(c.feedbackId);
        continue;
      }
      await repo.deleteItemTag(tx, c.feedbackId, c.tagSet);
      if (c.replaced) {
        await repo.insertItemTag(tx, { feedback_id: c.feedbackId, tag_set: c.tagSet, tag_id: tagId!, source: c.replaced.source, confidence: c.replaced.confidence, reviewed_by: c.replaced.reviewedBy, updated_at: c.replaced.updatedAt });
      }
      touched.add(c.tagSet);
    }
    for (const set of touched) await touchSet(tx, set, now);
    return { restored: changes.length - conflicts.length, conflicts };
  });
}

/**
 * Bulk accept: the set's queue suggestions (below the review threshold) at or above
 * `minConfidence` become a person's tags, examples for the next training. Returns the changes
 * to undo it.
 */
export async function acceptSuggestions(store: Store, body: z.infer<typeof AcceptBody>, by: string, now: number): Promise<z.infer<typeof AcceptResult>> {
  return store.db.transaction().execute(async (tx) => {
    const range = { tagSet: body.tagSet, tag: body.tag, min: body.minConfidence, below: REVIEW_THRESHOLD };
    const rows = await repo.suggestionsInRange(tx, range, body.limit);
    await repo.acceptSuggestionRows(
      tx,
      body.tagSet,
      rows.map((r) => Number(r.feedback_id)),
      by,
      now,
    );
    const remaining = await repo.countSuggestionsInRange(tx, range);
    return {
      accepted: rows.length,
      remaining,
      changes: rows.map((r) => ({ feedbackId: Number(r.feedback_id), tagSet: body.tagSet, tag: r.name, replaced: replacedOf(r)! })),
    };
  });
}

async function tagRow(db: Conn, id: number) {
  const t = await repo.tagById(db, id);
  if (!t) throw notFound(`tag ${id}`);
  return t;
}

/**
 * Renames a tag or changes its description. The model knows its tags by name, so a rename
 * stamps the set: it retrains at the next run (its figures move to the new name meanwhile).
 */
export async function updateTag(store: Store, id: number, body: z.infer<typeof RenameTagBody>, now: number): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    const t = await tagRow(tx, id);
    if (body.description !== undefined) await repo.setTagDescription(tx, id, body.description);
    if (body.name === undefined || body.name === t.name) return;
    if ((await repo.tagId(tx, t.tag_set, body.name)) !== undefined) throw new RapportError('conflict', `tag set "${t.tag_set}" already has a tag "${body.name}": merge by correcting its items, or choose another name`);
    await repo.renameTag(tx, id, body.name);
    const meta = await readTagModelMeta(tx, t.tag_set);
    const figures = meta?.validation?.tags[t.name];
    if (meta?.validation && figures) {
      delete meta.validation.tags[t.name];
      meta.validation.tags[body.name] = figures;
      await writeTagModelMeta(tx, t.tag_set, meta);
    }
    await touchSet(tx, t.tag_set, now);
  });
}

/** Deletes a tag with its item tags (examples and suggestions); the set is stamped, and a set left without tags goes with its model. */
export async function deleteTag(store: Store, id: number, now: number): Promise<z.infer<typeof Removed>> {
  return store.db.transaction().execute(async (tx) => {
    const t = await tagRow(tx, id);
    const removed = await repo.countItemTagsOfTag(tx, id);
    await repo.deleteItemTagsOfTag(tx, id);
    await repo.deleteTag(tx, id);
    if ((await repo.tagIdsByName(tx, t.tag_set)).size === 0) await dropSetState(tx, t.tag_set);
    else await touchSet(tx, t.tag_set, now);
    return removed;
  });
}

async function dropSetState(db: Conn, tagSet: string): Promise<void> {
  await repo.deleteMeta(db, modelMetaKey(tagSet));
  await repo.deleteMeta(db, `tags.touched:${tagSet}`);
  await models.deleteModel(db, tagPurpose(tagSet));
}

async function requireSet(db: Conn, tagSet: string): Promise<void> {
  if ((await repo.tagIdsByName(db, tagSet)).size === 0) throw notFound(`tag set "${tagSet}"`);
}

/** Renames a tag set: its tags, item tags, model and its metadata move to the new name (no retraining). */
export async function renameTagSet(store: Store, from: string, to: string): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    await requireSet(tx, from);
    if (from === to) return;
    if ((await repo.tagIdsByName(tx, to)).size > 0) throw new RapportError('conflict', `a tag set "${to}" exists already`);
    await repo.renameSetRows(tx, from, to);
    for (const key of [modelMetaKey, (s: string) => `tags.touched:${s}`]) {
      const value = await repo.readMeta(tx, key(from));
      if (value === undefined) continue;
      await repo.upsertMeta(tx, key(to), value);
      await repo.deleteMeta(tx, key(from));
    }
    await models.renamePurpose(tx, tagPurpose(from), tagPurpose(to));
  });
}

/** Deletes a tag set: its tags, every item tag of it, its model and metadata. */
export async function deleteTagSet(store: Store, tagSet: string): Promise<z.infer<typeof Removed>> {
  return store.db.transaction().execute(async (tx) => {
    await requireSet(tx, tagSet);
    const removed = await repo.countItemTagsOfSet(tx, tagSet);
    await repo.deleteSetRows(tx, tagSet);
    await dropSetState(tx, tagSet);
    return removed;
  });
}

/** Records that a set's examples changed without a row to carry the stamp (a removed example). */
async function touchSet(db: Conn, tagSet: string, now: number): Promise<void> {
  await repo.upsertMeta(db, `tags.touched:${tagSet}`, String(now));
}

/**
 * Erasure: drops a tag set's model (its word list and weights were learned from the erased
 * texts too) and stamps the set, so that the schedule retrains it at the next listening run.
 * The metadata stays: the set's figures are counts, and show the model as stale meanwhile.
 */
export async function dropTagModel(db: Conn, tagSet: string, now: number): Promise<void> {
  await models.deleteModel(db, tagPurpose(tagSet));
  await touchSet(db, tagSet, now);
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

const pctText = (x: number): string => `${Math.round(x * 100)}%`;
const est = (k: number, n: number): Interval => {
  const w = wilson(k, n);
  return { estimate: round(w.estimate, 4), low: round(w.low, 4), high: round(w.high, 4) };
};
const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A tag's cross-validated figures, or why there are none: a tag with few examples says so instead of borrowing the set's accuracy. */
export function tagValidation(name: string, meta: TagModelMeta | null): z.infer<typeof TagValidationOut> {
  const none = (note: string) => ({ examples: 0, heldOut: 0, recall: null, precision: null, note });
  if (!meta) return none('not validated yet: the model has not been trained');
  if (!meta.validation) return none(meta.examples < 10 ? `not validated: the set has ${plural(meta.examples, 'example')} (cross-validation needs 10)` : 'not validated per tag yet: the model retrains with per-tag figures at the next run');
  const t = meta.validation.tags[name];
  if (!t || t.examples === 0) return none('no examples when the model was trained: its suggestions are guesses from its name');
  const base = { examples: t.examples, heldOut: t.held };
  const count = t.held === t.examples ? plural(t.examples, 'example') : `${plural(t.examples, 'example')} (${t.held} held out)`;
  if (t.held < MIN_HELD_OUT) return { ...base, recall: null, precision: null, note: `${count}: too few to tell how often its suggestions are right` };
  const recall = est(t.correct, t.held);
  const found = `found ${t.correct} of ${t.held} held-out examples (${pctText(recall.estimate)}, 95% CI ${pctText(recall.low)}–${pctText(recall.high)})`;
  if (t.predicted < MIN_HELD_OUT) return { ...base, recall, precision: null, note: `${found}; given to ${t.predicted} held-out items only: too few to tell how often its suggestions are right` };
  const precision = est(t.correct, t.predicted);
  return { ...base, recall, precision, note: `right on ${t.correct} of the ${t.predicted} held-out items it was given (${pctText(precision.estimate)}, 95% CI ${pctText(precision.low)}–${pctText(precision.high)}); ${found}` };
}

/** Held-out predictions with confidence in [from, to), and how many were right. */
function heldOutIn(v: TagValidation | null | undefined, from: number, to: number): { n: number; correct: number } | null {
  if (!v) return null;
  let n = 0;
  let correct = 0;
  v.bands.forEach((b, i) => {
    const lo = i / CONFIDENCE_BANDS;
    if (lo + 1e-9 >= Math.floor(from * CONFIDENCE_BANDS + 1e-9) / CONFIDENCE_BANDS && lo < to - 1e-9) {
      n += b.n;
      correct += b.correct;
    }
  });
  return { n, correct };
}

/** Tag sets with their tags, example and suggestion counts, and the model's state and cross-validated figures. */
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
  const metas = new Map<string, TagModelMeta | null>();
  for (const set of new Set(tags.map((t) => t.tag_set))) metas.set(set, await readTagModelMeta(db, set));
  const sets = new Map<string, TagSetSummary>();
  for (const t of tags) {
    const s = sets.get(t.tag_set) ?? { tagSet: t.tag_set, tags: [], examples: 0, suggested: 0, toReview: 0, model: null };
    const c = by.get(String(t.id)) ?? { examples: 0, suggested: 0, low: 0 };
    s.tags.push({ id: Number(t.id), name: t.name, description: t.description, examples: c.examples, suggested: c.suggested, toReview: c.low, validation: tagValidation(t.name, metas.get(t.tag_set) ?? null) });
    s.examples += c.examples;
    s.suggested += c.suggested;
    s.toReview += c.low;
    sets.set(t.tag_set, s);
  }
  if (only && sets.size === 0) throw notFound(`tag set "${only}"`);
  for (const s of sets.values()) {
    const meta = metas.get(s.tagSet) ?? null;
    if (meta) {
      const v = meta.validation;
      s.model = {
        trainedAt: new Date(meta.trainedAt).toISOString(),
        examples: meta.examples,
        kinds: meta.kinds ?? [],
        accuracy: meta.accuracy,
        validation: v
          ? {
              n: v.n,
              correct: v.correct,
              accuracy: est(v.correct, v.n),
              byConfidence: v.bands.flatMap((b, i) => (b.n > 0 ? [{ from: i / CONFIDENCE_BANDS, to: (i + 1) / CONFIDENCE_BANDS, n: b.n, correct: b.correct }] : [])),
            }
          : null,
        method: meta.method ?? 'the model alone',
        stale: await modelStale(db, s.tagSet, meta),
      };
    }
  }
  return [...sets.values()];
}

/** A suggestion put to the reviewer as a question. */
export const questionFor = (tag: string): string => `Is this about “${tag}”?`;

/**
 * The review queue: the model's suggestions below the threshold, least confident first (the
 * answers that teach the model most); ties go to the more valuable customer (their word weighs
 * more), then to the newest item. Each is worded as a question, with the suggested tag's own
 * cross-validated figures; with a tag set, what a bulk accept at `minConfidence` would take.
 */
export async function reviewQueue(store: Store, p: ReviewParams): Promise<ReviewQueue> {
  const filter = { tagSet: p.tagSet, tag: p.tag };
  const total = await repo.countSuggestionsBelow(store.db, REVIEW_THRESHOLD, filter);
  const rows = await repo.suggestionsToReview(store.db, REVIEW_THRESHOLD, filter, p.limit);
  const metas = new Map<string, TagModelMeta | null>();
  for (const set of new Set(rows.map((r) => r.tag_set).concat(p.tagSet ? [p.tagSet] : []))) metas.set(set, await readTagModelMeta(store.db, set));
  let bulk: ReviewQueue['bulk'] = null;
  if (p.tagSet) {
    const min = p.minConfidence ?? BULK_MIN_CONFIDENCE;
    const count = await repo.countSuggestionsInRange(store.db, { tagSet: p.tagSet, tag: p.tag, min, below: REVIEW_THRESHOLD });
    const held = heldOutIn(metas.get(p.tagSet)?.validation, min, REVIEW_THRESHOLD) ?? { n: 0, correct: 0 };
    bulk = { tagSet: p.tagSet, tag: p.tag ?? null, minConfidence: min, count, heldOut: { ...held, accuracy: held.n > 0 ? est(held.correct, held.n) : null } };
  }
  return {
    items: rows.map((r) => {
      const meta = metas.get(r.tag_set) ?? null;
      const confidence = round(r.confidence ?? 0, 3);
      const band = confidenceBand(confidence);
      return {
        ...feedbackItem(r),
        clv: r.clv === null ? null : round(r.clv),
        tagSet: r.tag_set,
        suggested: r.name,
        confidence,
        question: questionFor(r.name),
        tagNote: tagValidation(r.name, meta).note,
        heldOut: heldOutIn(meta?.validation, band / CONFIDENCE_BANDS, (band + 1) / CONFIDENCE_BANDS),
      };
    }),
    total,
    threshold: REVIEW_THRESHOLD,
    bulk,
  };
}

/** Validates a tag set name from a path or flag. */
export function tagSetName(value: string, field = 'tagSet'): string {
  return parseOrThrow(SetName, value, { prefix: field });
}
