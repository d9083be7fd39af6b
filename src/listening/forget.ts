/**
 * Erasure, the listening side: what Rapport learned from a customer's feedback must go with it.
 * Their rows (insights, item tags, pins) go by cascade with the feedback; this handles what was
 * computed from many people's texts at once:
 *
 * - the themes model and every theme row (active or retired): the features only the erased
 *   texts had are removed from the vocabulary, labels and key phrases (models/text/forget.ts),
 *   and their items leave the quotes. Themes keep their ids, names and members: a rebuild would
 *   reshuffle the team's themes at every erasure, and what stays is shared with other texts.
 * - tag models and the learned sentiment model, which keep word lists and weights that cannot
 *   be pulled apart per text: dropped when the erased feedback was part of their training, and
 *   retrained by the next listening run (a tag set is stamped, so the schedule runs it).
 *
 * Runs in the erasure's transaction, before the feedback is deleted (it reads the texts).
 */
import type { Conn } from '../store/db.js';
import { dropShared, featuresOf, forgetFeatures, modelFeatures, mentions, scrubPhrases } from '../models/text/forget.js';
import { loadModel, modelVersion, saveModel } from './model-store.js';
import { modelPurposes, deleteModel } from './models.repository.js';
import { THEMES_PURPOSE, type StoredTheme } from './listen.steps.js';
import { SENTIMENT_PURPOSE } from './sentiment.steps.js';
import { dropTagModel, readTagModelMeta, tagPurpose } from './tags.service.js';
import * as insights from './insights.repository.js';
import * as tags from './tags.repository.js';
import * as themes from './themes.repository.js';

export interface ForgottenModel {
  purpose: string;
  action: 'scrubbed' | 'dropped';
  /** Vocabulary entries removed (scrubbed models). */
  terms: number;
  note: string;
}

export interface Forgotten {
  models: ForgottenModel[];
  /** Theme rows whose label, key phrases or quotes changed. */
  themes: number;
}

/** Feedback texts are read this many at a time when looking for the features others share. */
const PAGE = 5000;

export async function forgetCustomerFeedback(db: Conn, customerId: number, now: number): Promise<Forgotten> {
  const theirs = await insights.feedbackOfCustomer(db, customerId);
  if (theirs.length === 0) return { models: [], themes: 0 };
  const stored = await loadModel<StoredTheme>(db, THEMES_PURPOSE);
  const rows = await themes.themePhrases(db);
  const features = await featuresOnlyTheirs(db, customerId, theirs.map((f) => f.text), stored, rows);
  const models: ForgottenModel[] = [];
  if (stored) models.push(await scrubThemesModel(db, stored, features, now));
  const changed = await scrubThemeRows(db, rows, features, new Set(theirs.map((f) => f.id)));
  models.push(...(await dropLearnedModels(db, theirs, now)));
  return { models, themes: changed };
}

/**
 * The features of their texts that the stored themes could hold (the model's vocabulary and
 * phrases, the theme rows' phrases) and that no one else's feedback has. Everyone else's texts
 * are read once, page by page, and the reading stops as soon as every candidate is shared.
 */
async function featuresOnlyTheirs(db: Conn, customerId: number, texts: string[], stored: StoredTheme | null, rows: Awaited<ReturnType<typeof themes.themePhrases>>): Promise<Set<string>> {
  const present = stored ? modelFeatures(stored.model) : new Set<string>();
  for (const f of featuresOf(rows.flatMap((r) => [r.label, ...(JSON.parse(r.key_phrases) as string[])]))) present.add(f);
  const candidates = new Set([...featuresOf(texts)].filter((f) => present.has(f)));
  let after = 0;
  while (candidates.size > 0) {
    const page = await insights.otherFeedbackTexts(db, customerId, after, PAGE);
    for (const t of page) dropShared(candidates, t.text);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  return candidates;
}

async function scrubThemesModel(db: Conn, stored: StoredTheme, features: ReadonlySet<string>, now: number): Promise<ForgottenModel> {
  const version = await modelVersion(db, THEMES_PURPOSE);
  const scrubbed = forgetFeatures(stored.model, features);
  // Saved even when nothing was removed: the new version makes a listening run that read the
  // erased texts before the erasure fail its save (model-store.ts) instead of storing them again.
  await saveModel(db, THEMES_PURPOSE, { ...stored, model: scrubbed.model } satisfies StoredTheme, null, now, version);
  return {
    purpose: THEMES_PURPOSE,
    action: 'scrubbed',
    terms: scrubbed.removed,
    note: scrubbed.removed === 0 ? 'no word of theirs was theirs alone' : `${scrubbed.removed} vocabulary entries only their feedback had removed, with the labels and key phrases made of them`,
  };
}

async function scrubThemeRows(db: Conn, rows: Awaited<ReturnType<typeof themes.themePhrases>>, features: ReadonlySet<string>, erased: ReadonlySet<number>): Promise<number> {
  let changed = 0;
  for (const r of rows) {
    const quotes = JSON.parse(r.quotes) as number[];
    const kept = quotes.filter((q) => !erased.has(Number(q)));
    const keyPhrases = JSON.parse(r.key_phrases) as string[];
    if (kept.length === quotes.length && !mentions(r.label, features) && !keyPhrases.some((p) => mentions(p, features))) continue;
    const phrases = scrubPhrases(r.label, keyPhrases, features, `theme ${Number(r.id)}`);
    await themes.setThemePhrases(db, Number(r.id), { label: phrases.label, keyPhrases: phrases.keyPhrases, quotes: kept });
    changed++;
  }
  return changed;
}

/** Tag sets whose kinds the erased feedback is of, and the sentiment model when it was a label. */
async function dropLearnedModels(db: Conn, theirs: Awaited<ReturnType<typeof insights.feedbackOfCustomer>>, now: number): Promise<ForgottenModel[]> {
  const out: ForgottenModel[] = [];
  const purposes = new Set(await modelPurposes(db));
  const kinds = new Set(theirs.map((f) => f.kind));
  for (const set of await tags.tagSetNames(db)) {
    if (!purposes.has(tagPurpose(set))) continue;
    const meta = await readTagModelMeta(db, set);
    // The set's model learned from every item of its kinds (examples, and the items it tagged);
    // metadata stored before the kinds were kept says nothing, and the model goes.
    if (meta && Array.isArray(meta.kinds) && !meta.kinds.some((k) => kinds.has(k))) continue;
    await dropTagModel(db, set, now);
    out.push({ purpose: tagPurpose(set), action: 'dropped', terms: 0, note: 'retrained without their feedback at the next listening run' });
  }
  const labelled = theirs.some((f) => f.rated) || (await tags.anyHumanTag(db, theirs.map((f) => f.id)));
  if (purposes.has(SENTIMENT_PURPOSE) && labelled) {
    await deleteModel(db, SENTIMENT_PURPOSE);
    out.push({ purpose: SENTIMENT_PURPOSE, action: 'dropped', terms: 0, note: 'their ratings or tags were among its labels: the rules read sentiment until the next listening run learns it again' });
  }
  return out;
}
