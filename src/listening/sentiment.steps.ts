/**
 * The listening run's sentiment: the rules (models/text/sentiment.ts), and once the team's own
 * signals carry enough labels, a model learned from them (sentiment-learn.ts) on top.
 *
 * The labels are the ratings of reviews and surveys the hub already stores: stars (1–2
 * negative, 3 neutral, 4–5 positive) or NPS (0–6, 7–8, 9–10), and a person's tags in a tag set
 * whose tags are "negative", "neutral" and "positive". A rating says how the customer
 * felt, which is what the text's sentiment estimates; where a rating and its text disagree the
 * model learns less from that text. The model is retrained when the labels grew by a tenth
 * since the stored one (bounded cost: the newest 20,000 rated items, 10 passes), and every
 * stored reading is read again when the model or the rules changed, so that a page never mixes
 * two scales.
 */
import { SENTIMENT_METHOD, sentiment as ruleSentiment, type Sentiment, type SentimentLabel } from '../models/text/sentiment.js';
import { labelOfRating, learnSentiment, loadSentimentModel, predictSentiment, storeSentimentModel, type LabelledText, type SentimentModel, type StoredSentimentModel } from '../models/text/sentiment-learn.js';
import type { Conn } from '../store/db.js';
import { loadModel, modelVersion, saveModel } from './model-store.js';
import * as insights from './insights.repository.js';
import * as tags from './tags.repository.js';

/** The models table's purpose for the learned sentiment model. */
export const SENTIMENT_PURPOSE = 'sentiment';
/** The `meta` key naming the rules (and model) that made the stored readings. */
const METHOD_KEY = 'listening.sentiment_method';
/** Labels needed before a model is learned: in all, and in each of at least two classes. */
export const MIN_LABELS = 60;
export const MIN_PER_CLASS = 15;
/** At most this many of the newest rated items train it. */
const MAX_LABELS = 20_000;
/** Tag names read as sentiment classes. */
const SENTIMENT_TAG = new Map<string, SentimentLabel>([
  ['negative', 'negative'],
  ['neutral', 'neutral'],
  ['positive', 'positive'],
]);
/** Retrain when the labels grew by this share since the stored model. */
const GROWTH = 0.1;

export interface SentimentReader {
  read: (text: string) => Sentiment;
  /** The learned model, when there is one. */
  model: SentimentModel | null;
  /** Names the rules and the model version: readings made under another stamp are read again. */
  stamp: string;
}

const rulesReader: SentimentReader = { read: ruleSentiment, model: null, stamp: SENTIMENT_METHOD };
let cached: { version: string; reader: SentimentReader } | undefined;

/** How the hub reads sentiment now: the rules, with the stored learned model when there is one. */
export async function sentimentReader(db: Conn): Promise<SentimentReader> {
  const version = await modelVersion(db, SENTIMENT_PURPOSE);
  if (version === null) return rulesReader;
  if (cached?.version === version) return cached.reader;
  const stored = await loadModel<StoredSentimentModel>(db, SENTIMENT_PURPOSE);
  if (!stored) return rulesReader;
  const model = loadSentimentModel(stored);
  const reader: SentimentReader = { read: (text) => predictSentiment(model, text), model, stamp: `${SENTIMENT_METHOD}+${version}` };
  cached = { version, reader };
  return reader;
}

export interface SentimentLearning {
  /** Labels found (rated reviews and surveys), per class. */
  labels: Partial<Record<SentimentLabel, number>>;
  /** Whether this run trained (and stored) a model. */
  trained: boolean;
  /** Why not, when it did not. */
  why?: string;
}

/** Step 0: learn from the stored ratings when there are enough new ones (see the module comment). */
export async function learnFromRatings(db: Conn, runId: number, now: () => number, serialize: <T>(fn: () => Promise<T>) => Promise<T>): Promise<SentimentLearning> {
  const rated = await insights.ratedFeedback(db, MAX_LABELS);
  const max = new Map<string, number>();
  for (const r of rated) max.set(r.kind, Math.max(max.get(r.kind) ?? -Infinity, r.rating));
  const examples: LabelledText[] = [];
  const labels: Partial<Record<SentimentLabel, number>> = {};
  const seen = new Set<number>();
  const add = (id: number, text: string, label: SentimentLabel): number => {
    if (seen.has(id) || text.trim().length === 0) return 0;
    seen.add(id);
    examples.push({ text, label });
    labels[label] = (labels[label] ?? 0) + 1;
    return 1;
  };
  let fromTags = 0;
  // A person's tags in a tag set whose tags are sentiment classes ("negative", "neutral",
  // "positive") are labels too, and come first: a person read the text itself.
  for (const set of await tags.tagSetNames(db)) {
    const tagged = await tags.examplesOf(db, set);
    if (tagged.length === 0 || !tagged.every((t) => SENTIMENT_TAG.has(t.name.trim().toLowerCase()))) continue;
    for (const t of tagged.slice(0, MAX_LABELS)) fromTags += add(Number(t.id), t.text, SENTIMENT_TAG.get(t.name.trim().toLowerCase())!);
  }
  for (const r of rated) {
    const label = labelOfRating(r.rating, max.get(r.kind)!);
    if (label) add(r.id, r.text, label);
  }
  const enough = Object.values(labels).filter((n) => n >= MIN_PER_CLASS).length;
  if (examples.length < MIN_LABELS || enough < 2) return { labels, trained: false, why: `a model is learned from ${MIN_LABELS} rated reviews or surveys (or items tagged negative, neutral or positive), at least ${MIN_PER_CLASS} in each of two classes` };
  const current = (await sentimentReader(db)).model;
  const had = current ? Object.values(current.examples).reduce((a, b) => a + b, 0) : 0;
  if (current && examples.length < had * (1 + GROWTH)) return { labels, trained: false, why: `the stored model learned from ${had} labels; it is learned again when there are ${Math.ceil(had * (1 + GROWTH))}` };
  // Only the classes with enough examples: a class of three ratings teaches noise.
  const kept = examples.filter((e) => (labels[e.label] ?? 0) >= MIN_PER_CLASS);
  const source = fromTags === 0 ? 'ratings' : fromTags === examples.length ? 'tags' : 'ratings and tags';
  const model = learnSentiment(kept, { source, epochs: 10 });
  await serialize(() => saveModel(db, SENTIMENT_PURPOSE, storeSentimentModel(model), runId, now()).then(() => undefined));
  return { labels, trained: true };
}

/**
 * Step 1b: when the stored readings were made under another stamp (other rules, another
 * model), every analysed item not read by this run is read again.
 */
export async function rereadSentiment(
  db: Conn,
  reader: SentimentReader,
  items: () => Promise<readonly { id: number; text: string }[]>,
  readNow: ReadonlySet<number>,
  serialize: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<number> {
  if ((await tags.readMeta(db, METHOD_KEY)) === reader.stamp) return 0;
  const rows: [number, number, string][] = [];
  for (const it of await items()) {
    if (readNow.has(it.id)) continue;
    const s = reader.read(it.text);
    rows.push([it.id, s.score, s.label]);
  }
  await serialize(() =>
    db.transaction().execute(async (tx) => {
      await insights.setSentiments(tx, rows);
      await tags.upsertMeta(tx, METHOD_KEY, reader.stamp);
    }),
  );
  return rows.length;
}
