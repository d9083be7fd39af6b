/**
 * Themes for the API and the web app: the board (volume trend, value at stake, sentiment,
 * intents, typical quotes), one theme's members, and the team's edits (rename, merge) that
 * later runs keep. Splitting needs the text model and lives in the listening job.
 */
import { z } from 'zod';
import { invalid, notFound, RapportError } from '../core/errors.js';
import { round } from '../core/numbers.js';
import type { Conn, Store } from '../store/db.js';
import { intent as intentOf } from '../models/text/intent.js';
import type { LearnedSentiment } from '../models/text/sentiment-learn.js';
import { sentimentReader, type SentimentReader } from './sentiment.steps.js';
import * as repo from './themes.repository.js';

/** A feedback item as every listening list shows it: the text, its kind and time, and who said it. */
export const FeedbackItem = z.object({ feedbackId: z.number(), text: z.string(), kind: z.string(), at: z.string(), userId: z.string().nullable() });

/** Maps a feedback row (joined to its customer's user id) to {@link FeedbackItem}. */
export function feedbackItem(r: { id: number; text: string; kind: string; created_at: number; user_id: string | null }, maxText = Infinity): z.infer<typeof FeedbackItem> {
  return { feedbackId: Number(r.id), text: r.text.length > maxText ? `${r.text.slice(0, maxText - 1)}…` : r.text, kind: r.kind, at: new Date(Number(r.created_at)).toISOString(), userId: r.user_id };
}

export const Quote = FeedbackItem.meta({ id: 'ThemeQuote' });
export type Quote = z.infer<typeof Quote>;

export const ThemeCard = z
  .object({
    id: z.number(),
    name: z.string().describe("the team's name, else the generated label"),
    label: z.string().describe('a phrase of the most typical members, in their words'),
    renamed: z.boolean(),
    general: z.boolean().describe('the general bucket: praise, thanks and remarks without a topic'),
    keyPhrases: z.array(z.string()),
    size: z.number().describe('feedback items in the theme'),
    duplicates: z.number().describe('of them, near-duplicates of another item'),
    customers: z.number().describe('distinct customers who raised it'),
    valueAtStake: z.number().describe('sum of the CLV of those customers'),
    sentiment: z.number().nullable().describe('mean compound sentiment, −1…1'),
    intents: z.record(z.string(), z.number()),
    trend: z.array(z.object({ month: z.string(), items: z.number() })).describe('items per month, the last 12 months with feedback'),
    quotes: z.array(Quote),
    parentId: z.number().nullable(),
  })
  .meta({ id: 'ThemeCard' });
export type ThemeCard = z.infer<typeof ThemeCard>;

export const ThemeBoard = z
  .object({
    available: z.boolean(),
    run: z.object({ id: z.number(), finishedAt: z.string(), items: z.number() }).nullable(),
    analysed: z.number(),
    unassigned: z.number(),
    themes: z.array(ThemeCard),
    explanation: z.array(z.string()),
  })
  .meta({ id: 'ThemeBoard' });
export type ThemeBoard = z.infer<typeof ThemeBoard>;

export const THEME_EXPLANATION = [
  'Themes group feedback about the same need or defect, found without labels from the words, word pairs and spellings items share (TF-IDF, a graph of each item’s nearest neighbours, clustered spectrally).',
  'A theme is named by a phrase its most typical members wrote, chosen so that its words appear in as many members as possible and are specific to the theme; key phrases are the words and pairs most specific to it (class-based TF-IDF), as customers spell them; quotes are the members closest to its centre.',
  'Feedback without a topic (“Five stars”, “Great!”: nothing left once courtesy, praise and sentiment words are removed) goes to the general bucket, so it never pulls a need or defect theme together.',
  'Items moved by hand stay where they were put, and later feedback nearly the same as a moved item (cosine similarity ≥ 0.7) goes where it went.',
  'New feedback joins the nearest existing theme when it is as similar as the theme’s own members are, so themes stay put between runs. Renames, merges and splits are kept; discovering themes afresh (a rebuild) keeps the names, carried to the new theme that holds most of a named theme’s items.',
  'Value at stake: the sum of the CLV of the distinct customers who raised the theme (latest customer-value run).',
];

export const ThemeListParams = z.object({
  sort: z.enum(['value', 'size', 'recent']).default('value'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type ThemeListParams = z.infer<typeof ThemeListParams>;

async function quotesOf(db: Conn, ids: number[]): Promise<Map<number, Quote>> {
  const out = new Map<number, Quote>();
  for (const r of await repo.feedbackWithUser(db, ids)) out.set(Number(r.id), feedbackItem(r, 400));
  return out;
}

/** The elements of a stored JSON array that pass `keep` (none when the text is not such an array). */
function parseArray<T>(json: string, keep: (x: unknown) => x is T): T[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter(keep) : [];
  } catch {
    return [];
  }
}
const parseIds = (json: string): number[] => parseArray(json, (x): x is number => typeof x === 'number');
const parseStrings = (json: string): string[] => parseArray(json, (x): x is string => typeof x === 'string');

/** The themes board: active themes with their numbers, sorted by value at stake, size or recency. */
export async function themeBoard(store: Store, p: ThemeListParams, only?: number): Promise<ThemeBoard> {
  const db = store.db;
  // One theme (its page) aggregates over its own items only.
  const themes = await repo.activeThemes(db, only);
  const run = await repo.latestListenRun(db);
  const counts = await repo.analysedCounts(db);
  if (themes.length === 0) {
    return { available: false, run: null, analysed: counts.analysed, unassigned: counts.unassigned, themes: [], explanation: THEME_EXPLANATION };
  }
  const stats = await repo.themeStats(db, only);
  const intents = await repo.themeIntents(db, only);
  const value = await repo.themeValue(db, only);
  const monthly = await repo.themeMonthly(store, only);
  const months = [...new Set(monthly.map((m) => m.month))].sort().slice(-12);

  const statBy = new Map(stats.map((s) => [Number(s.theme_id), s]));
  const valueBy = new Map(value.map((v) => [Number(v.theme_id), v]));
  const intentBy = new Map<number, Record<string, number>>();
  for (const r of intents) {
    const m = intentBy.get(Number(r.theme_id)) ?? {};
    m[r.intent] = Number(r.n);
    intentBy.set(Number(r.theme_id), m);
  }
  const trendBy = new Map<number, Map<string, number>>();
  for (const r of monthly) {
    const m = trendBy.get(Number(r.theme_id)) ?? new Map<string, number>();
    m.set(r.month, Number(r.n));
    trendBy.set(Number(r.theme_id), m);
  }
  const quoteIds = themes.flatMap((t) => parseIds(t.quotes).slice(0, 3));
  const quotes = await quotesOf(db, quoteIds);

  const cards: (ThemeCard & { latest: number })[] = themes.map((t) => {
    const id = Number(t.id);
    const s = statBy.get(id);
    const v = valueBy.get(id);
    const trend = trendBy.get(id);
    return {
      id,
      name: t.name ?? t.label,
      label: t.label,
      renamed: t.name !== null,
      general: t.kind === 'general',
      keyPhrases: parseStrings(t.key_phrases),
      size: Number(s?.n ?? 0),
      duplicates: Number(s?.dups ?? 0),
      customers: Number(v?.customers ?? 0),
      valueAtStake: round(Number(v?.clv ?? 0)),
      sentiment: s?.sentiment == null ? null : round(Number(s.sentiment), 3),
      intents: intentBy.get(id) ?? {},
      trend: months.map((m) => ({ month: m, items: trend?.get(m) ?? 0 })),
      quotes: parseIds(t.quotes)
        .slice(0, 3)
        .map((q) => quotes.get(q))
        .filter((q): q is Quote => q !== undefined),
      parentId: t.parent_id === null ? null : Number(t.parent_id),
      latest: Number(s?.latest ?? 0),
    };
  });
  cards.sort((a, b) => (p.sort === 'size' ? b.size - a.size : p.sort === 'recent' ? b.latest - a.latest : b.valueAtStake - a.valueAtStake) || b.size - a.size || a.id - b.id);
  return {
    available: true,
    run: run ? { id: Number(run.id), finishedAt: new Date(Number(run.finishedAt)).toISOString(), items: run.items } : null,
    analysed: counts.analysed,
    unassigned: counts.unassigned,
    themes: cards.slice(0, p.limit).map(({ latest: _latest, ...c }) => c),
    explanation: THEME_EXPLANATION,
  };
}

export const ThemeMembersParams = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.coerce.number().int().optional().describe('the last feedback id of the previous page'),
});
export type ThemeMembersParams = z.infer<typeof ThemeMembersParams>;

export const ThemeMember = FeedbackItem.extend({
    similarity: z.number().nullable(),
    sentiment: z.number(),
    intent: z.string(),
    duplicateOf: z.number().nullable().describe('the earliest item this one repeats (near-duplicate)'),
    repeats: z.number().describe('later items that repeat this one: every author is kept as evidence'),
    how: z
      .object({
        sentiment: z.array(z.object({ word: z.string(), weight: z.number() })).describe('what moved the sentiment: the rules\' words and complaint patterns ("still not", "waited … hours") with their weights (score = S / √(S² + 15), S their sum), then, when a model learned from the team\'s ratings reads it, its most telling learned features ("learned: …", their weight on P(positive) − P(negative), the score)'),
        sentimentBy: z
          .object({
            method: z.enum(['rules', 'learned']),
            formula: z.string(),
            probabilities: z.object({ negative: z.number().optional(), neutral: z.number().optional(), positive: z.number().optional() }).optional().describe("the learned model's probability of each class"),
            learnedFrom: z.object({ source: z.string(), examples: z.record(z.string(), z.number()) }).optional().describe('where its labels came from, and how many of each class'),
          })
          .describe('which reading made the score: the rules alone, or the model learned from the team\'s ratings on top of them'),
        intent: z.array(z.string()).describe('the phrases that decided the intent, with their weights'),
      })
      .describe('how the sentiment and intent were computed'),
    repeatedBy: z.number().describe('distinct customers among those repeats'),
    moved: z.boolean().describe('moved here by hand: runs keep it here'),
  }).meta({ id: 'ThemeMember' });

export const ThemeDetail = z.object({ theme: ThemeCard, members: z.array(ThemeMember), nextCursor: z.number().nullable() }).meta({ id: 'ThemeDetail' });
export type ThemeDetail = z.infer<typeof ThemeDetail>;

async function themeRow(db: Conn, id: number) {
  const t = await repo.themeById(db, id);
  if (!t) throw notFound(`theme ${id}`);
  return t;
}

/** The derivation of an item's sentiment and intent, recomputed from its text (pure and cheap). */
function explainSignals(text: string, reader: SentimentReader): z.infer<typeof ThemeMember>['how'] {
  const s = reader.read(text);
  const cues = s.cues.map((c) => ({ word: c.word, weight: round(c.weight, 3) }));
  const p = (s as Partial<LearnedSentiment>).probabilities;
  const sentimentBy =
    reader.model && p
      ? {
          method: 'learned' as const,
          formula: 'score = P(positive) − P(negative), the probabilities a logistic regression gives from the words and the rules\' reading; the cues list the rules\' cues, then the learned features that moved the score most',
          probabilities: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v, 4)])),
          learnedFrom: { source: reader.model.source, examples: reader.model.examples as Record<string, number> },
        }
      : { method: 'rules' as const, formula: 'score = S / √(S² + 15), S the sum of the cue weights' };
  return { sentiment: cues, sentimentBy, intent: intentOf(text).cues };
}

/** One theme: its card and its members, newest first, keyset-paged by feedback id. */
export async function themeDetail(store: Store, id: number, p: ThemeMembersParams): Promise<ThemeDetail> {
  const t = await themeRow(store.db, id);
  const target = t.status === 'merged' && t.merged_into !== null ? Number(t.merged_into) : id;
  const board = await themeBoard(store, { sort: 'value', limit: 1 }, target);
  const card = board.themes.find((c) => c.id === target);
  if (!card) throw new RapportError('not_found', `theme ${id} is ${t.status}${t.status === 'split' ? ' into other themes' : ''}`);
  const rows = await repo.themeMembers(store.db, target, p.limit, p.cursor);
  const page = rows.slice(0, p.limit);
  const reader = await sentimentReader(store.db);
  const repeats = new Map<number, { n: number; customers: number }>();
  if (page.length > 0) {
    const counts = await repo.repeatCounts(store.db, page.map((r) => Number(r.id)));
    for (const c of counts) repeats.set(Number(c.duplicate_of), { n: Number(c.n), customers: Number(c.customers) });
  }
  return {
    theme: card,
    members: page.map((r) => ({
      ...feedbackItem(r),
      similarity: r.theme_similarity === null ? null : round(r.theme_similarity, 3),
      sentiment: round(r.sentiment, 3),
      intent: r.intent,
      duplicateOf: r.duplicate_of === null ? null : Number(r.duplicate_of),
      repeats: repeats.get(Number(r.id))?.n ?? 0,
      how: explainSignals(r.text, reader),
      repeatedBy: repeats.get(Number(r.id))?.customers ?? 0,
      moved: r.pinned_at !== null,
    })),
    nextCursor: rows.length > p.limit ? Number(page[page.length - 1]!.id) : null,
  };
}

export const RenameBody = z.object({ name: z.string().trim().min(1).max(120).nullable().describe('null returns to the generated label') });
export const MergeBody = z.object({ into: z.number().int(), themes: z.array(z.number().int()).min(1).max(50), name: z.string().trim().min(1).max(120).optional() });

/** Renames a theme; the name survives re-runs and rebuilds (carried to the theme holding most of its items). */
export async function renameTheme(store: Store, id: number, name: string | null, now: number): Promise<void> {
  const t = await themeRow(store.db, id);
  if (t.status !== 'active') throw invalid('id', `theme ${id} is ${t.status}; rename the theme it became`);
  await repo.setThemeName(store.db, id, name, now);
}

/**
 * Merges themes into one: their items move to `into`, they are kept as `merged` (pointing at
 * it), and new items near any of them join `into` from then on.
 */
export async function mergeThemes(store: Store, into: number, ids: number[], name: string | undefined, now: number): Promise<void> {
  const others = [...new Set(ids)].filter((i) => i !== into);
  if (others.length === 0) throw invalid('themes', 'name at least one theme other than the one merged into');
  await store.db.transaction().execute(async (tx) => {
    const rows = await repo.themeStatuses(tx, [into, ...others]);
    for (const id of [into, ...others]) {
      const r = rows.find((x) => Number(x.id) === id);
      if (!r) throw notFound(`theme ${id}`);
      if (r.status !== 'active') throw invalid('themes', `theme ${id} is ${r.status}`);
    }
    await repo.moveItemsToTheme(tx, others, into);
    await repo.syncPins(tx, others);
    await repo.markMerged(tx, others, into, now);
    // Themes merged into one of these earlier now point at the survivor directly.
    await repo.repointMerged(tx, others, into, now);
    await repo.setThemeSize(tx, into, await repo.countThemeItems(tx, into), now, name);
  });
}

export const MoveBody = z.object({
  feedbackIds: z.array(z.number().int().min(1)).min(1).max(200).describe("the theme's members to move"),
  to: z.number().int().min(1).nullable().describe('the theme to move them to; null takes them out of every theme'),
});
export const MoveResult = z.object({ moved: z.number(), from: z.number(), to: z.number().nullable() }).meta({ id: 'ThemeMove' });

/**
 * Moves members of a theme to another theme, or out of every theme (`to` null), by hand. The
 * move is kept as a pin: later runs leave the items there (a rebuild puts them in the theme
 * that took over theirs) and send new items nearly the same to the same place.
 */
export async function moveMembers(store: Store, from: number, feedbackIds: number[], to: number | null, by: string | null, now: number): Promise<z.infer<typeof MoveResult>> {
  const ids = [...new Set(feedbackIds)];
  if (to === from) throw invalid('to', `the items are in theme ${from} already`);
  return store.db.transaction().execute(async (tx) => {
    const rows = await repo.themeStatuses(tx, to === null ? [from] : [from, to]);
    for (const [field, id] of [['id', from], ['to', to]] as const) {
      if (id === null) continue;
      const r = rows.find((x) => Number(x.id) === id);
      if (!r) throw notFound(`theme ${id}`);
      if (r.status !== 'active') throw invalid(field, `theme ${id} is ${r.status}`);
    }
    const where = new Map((await repo.themesOfItems(tx, ids)).map((r) => [Number(r.feedback_id), r.theme_id === null ? null : Number(r.theme_id)]));
    const outside = ids.filter((id) => where.get(id) !== from);
    if (outside.length > 0) throw invalid('feedbackIds', `${outside.length === 1 ? 'item' : 'items'} ${outside.slice(0, 10).join(', ')} ${outside.length === 1 ? 'is' : 'are'} not in theme ${from}`);
    await repo.moveItems(tx, ids, to);
    await repo.upsertPins(
      tx,
      ids.map((feedbackId) => ({ feedbackId, themeId: to, fromThemeId: from, by, at: now })),
    );
    for (const t of to === null ? [from] : [from, to]) await repo.setThemeSize(tx, t, await repo.countThemeItems(tx, t), now);
    return { moved: ids.length, from, to };
  });
}

export const CustomerListening = z
  .object({
    analysed: z.number().describe("this customer's feedback items the listening run has read"),
    sentiment: z.number().nullable().describe('their mean compound sentiment, −1…1'),
    intents: z.record(z.string(), z.number()),
    themes: z.array(z.object({ id: z.number(), name: z.string(), items: z.number() })).describe('the themes they raised, most items first'),
  })
  .meta({ id: 'CustomerListening' });
export type CustomerListening = z.infer<typeof CustomerListening>;

/** What one customer says, as the listening run heard it (null before any of their feedback is analysed). */
export async function customerListening(db: Conn, customerId: number): Promise<CustomerListening | null> {
  const rows = await repo.customerInsights(db, customerId);
  if (rows.length === 0) return null;
  const intents: Record<string, number> = {};
  const themes = new Map<number, { id: number; name: string; items: number }>();
  for (const r of rows) {
    intents[r.intent] = (intents[r.intent] ?? 0) + 1;
    if (r.theme_id === null) continue;
    const id = Number(r.theme_id);
    const t = themes.get(id) ?? { id, name: r.name ?? r.label ?? `Theme ${id}`, items: 0 };
    t.items++;
    themes.set(id, t);
  }
  return {
    analysed: rows.length,
    sentiment: round(rows.reduce((sum, r) => sum + r.sentiment, 0) / rows.length, 3),
    intents,
    themes: [...themes.values()].sort((a, b) => b.items - a.items || a.id - b.id),
  };
}
