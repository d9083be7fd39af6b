/**
 * The steps of the listening run (listen.job.ts), in the order it takes them: read the
 * feedback, compute each new item's signals, find its repeats, place it in a theme, tag it,
 * and write it all in one transaction. Every step before the write only reads the database;
 * the themes and tags steps return what they will write, as functions of the transaction.
 */
import { detectLanguage } from '../models/text/language.js';
import { intent as intentOf } from '../models/text/intent.js';
import { nearDuplicateRoots, signature, type RootedItem } from '../models/text/minhash.js';
import { sentiment as ruleSentiment, type Sentiment } from '../models/text/sentiment.js';
import { predict, train, type Prediction, type TextModel } from '../models/text/classifier.js';
import { FEW_EXAMPLES, medianExamples, trainAndTag } from '../models/text/transduce.js';
import { seededRandom } from '../models/random.js';
import type { Conn } from '../store/db.js';
import type { FeedbackInsightsTable } from '../store/schema.js';
import { loadModel, modelVersion, saveModel } from './model-store.js';
import { assignThemes, buildThemes, followPins, storable, type ThemeEngineModel } from './theme-engine.js';
import { CONFIDENCE_BANDS, confidenceBand, examplesStamp, modelStale, readTagModelMeta, REVIEW_THRESHOLD, tagPurpose, writeTagModelMeta, type TagModelMeta, type TagValidation } from './tags.service.js';
import * as insights from './insights.repository.js';
import * as tags from './tags.repository.js';
import * as themes from './themes.repository.js';

export const THEMES_PURPOSE = 'themes';
/** Fewer items than this make no themes (too few to group). */
export const MIN_THEME_ITEMS = 20;

export interface Item {
  id: number;
  text: string;
  kind: string;
}

export interface StoredTheme {
  model: ThemeEngineModel;
  /** Theme row id of each of the model's themes, by the model's theme id. */
  rowOf: Record<string, number>;
}

export interface ThemesReport {
  built: boolean;
  count: number;
  assigned: number;
  unassigned: number;
  carriedNames: number;
  /** Items moved by hand that stay where they were put (a rebuild carries them to the theme that took over theirs). */
  pinned: number;
  /** New items that went where a nearly identical item moved by hand went. */
  followedPins: number;
  seconds: number;
}

export interface TagSetReport {
  tagSet: string;
  kinds: string[];
  retrained: boolean;
  examples: number;
  tagged: number;
  toReview: number;
  accuracy: number | null;
}

type StoredInsight = Awaited<ReturnType<typeof insights.storedInsights>>[number];

export interface RunInput {
  /** What earlier runs stored, in id order. */
  stored: StoredInsight[];
  /** The items this run analyses: the unanalysed ones, or every item on a rebuild. */
  fresh: Item[];
  /** Feedback items stored. */
  itemCount: number;
  /** Every item, read once when first asked for. */
  allItems: () => Promise<Item[]>;
}

/** Reads what the run starts from. */
export async function readInput(db: Conn, rebuild: boolean): Promise<RunInput> {
  // An incremental run reads the new items' texts only; every text is read when themes are
  // discovered or a tag model retrains (`allItems`, on demand).
  const stored = await insights.storedInsights(db);
  let everything: Item[] | undefined;
  const allItems = async (): Promise<Item[]> => (everything ??= await insights.feedbackTexts(db, false));
  const fresh = rebuild ? await allItems() : await insights.feedbackTexts(db, true);
  const itemCount = await insights.countFeedback(db);
  return { stored, fresh, itemCount, allItems };
}

export interface Signals {
  /** The insights row of each new item, by feedback id. */
  rows: Map<number, FeedbackInsightsTable>;
  /** Each new item's MinHash signature, by feedback id. */
  signatures: Map<number, Uint32Array>;
  /** New items per detected language. */
  languages: Record<string, number>;
}

/** Step 1, signals per new item: sentiment (the rules, or the model learned on top: sentiment.steps.ts), intent, language, MinHash signature. */
export function computeSignals(fresh: readonly Item[], now: () => number, sentimentOf: (text: string) => Sentiment = ruleSentiment): Signals {
  const rows = new Map<number, FeedbackInsightsTable>();
  const languages: Record<string, number> = {};
  const signatures = new Map<number, Uint32Array>();
  for (const it of fresh) {
    const s = sentimentOf(it.text);
    // Intent reads VADER's own reading (its cues were weighed against the demo truth with it).
    const i = intentOf(it.text);
    const lang = detectLanguage(it.text);
    languages[lang.lang] = (languages[lang.lang] ?? 0) + 1;
    const sig = signature(it.text);
    signatures.set(it.id, sig);
    rows.set(it.id, {
      feedback_id: it.id,
      theme_id: null,
      theme_similarity: null,
      sentiment: s.score,
      sentiment_label: s.label,
      intent: i.intent,
      intent_confidence: i.confidence,
      lang: lang.lang,
      duplicate_of: null,
      minhash: Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength),
      analysed_at: now(),
    });
  }
  return { rows, signatures, languages };
}

/** A stored MinHash signature (little-endian 32-bit words) back as an aligned Uint32Array. */
function signatureOf(bytes: Uint8Array): Uint32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Uint32Array(copy.buffer);
}

/** Repeats of an item that was erased since: the earliest remaining repeat becomes the root. [feedback id, its new root or null]. */
function orphanRoots(stored: readonly StoredInsight[]): [number, number | null][] {
  const have = new Set(stored.map((r) => Number(r.feedback_id)));
  const orphans = new Map<number, number[]>();
  for (const r of stored) {
    if (r.duplicate_of === null || have.has(Number(r.duplicate_of))) continue;
    const list = orphans.get(Number(r.duplicate_of)) ?? [];
    list.push(Number(r.feedback_id));
    orphans.set(Number(r.duplicate_of), list);
  }
  const reRoot: [number, number | null][] = [];
  for (const ids of orphans.values()) {
    const root = Math.min(...ids);
    for (const id of ids) reRoot.push([id, id === root ? null : root]);
  }
  return reRoot;
}

/**
 * Step 2, near-duplicates in id order: each new item repeats the earliest similar root before
 * it (minhash.ts's nearDuplicateRoots), among the stored roots too unless the run starts afresh;
 * a repeat points at its group's first item, so every author stays as evidence. Sets the new
 * rows' `duplicate_of`; returns how many repeat and the stored roots to correct.
 */
export function findRepeats(input: RunInput, signals: Signals, rebuild: boolean): { duplicates: number; reRoot: [number, number | null][] } {
  const reRoot = orphanRoots(input.stored);
  const rootAfter = new Map(reRoot);
  const rooted: RootedItem[] = rebuild
    ? []
    : input.stored.map((r) => {
        const id = Number(r.feedback_id);
        const corrected = rootAfter.get(id);
        const root = corrected !== undefined ? (corrected ?? id) : r.duplicate_of === null ? id : Number(r.duplicate_of);
        // Only roots are compared: the others' signatures are not decoded.
        return { id, root, signature: root === id && r.minhash ? signatureOf(r.minhash) : null };
      });
  const roots = nearDuplicateRoots(
    rooted,
    input.fresh.map((it) => ({ id: it.id, signature: signals.signatures.get(it.id)! })),
  );
  let duplicates = 0;
  input.fresh.forEach((it, j) => {
    const root = roots[j]!;
    if (root === it.id) return;
    signals.rows.get(it.id)!.duplicate_of = root;
    duplicates++;
  });
  return { duplicates, reRoot };
}

/** Where each stored model theme's items go now: itself, or the theme it was merged into. */
export async function liveThemeOf(db: Conn, themeIds: number[]): Promise<Map<number, number>> {
  const rows = await themes.themeLinks(db);
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const out = new Map<number, number>();
  for (const id of themeIds) {
    let cur = id;
    for (let hops = 0; hops < 50; hops++) {
      const r = byId.get(cur);
      if (!r || r.status !== 'merged' || r.merged_into === null) break;
      cur = Number(r.merged_into);
    }
    const r = byId.get(cur);
    if (r && r.status === 'active') out.set(id, cur);
  }
  return out;
}

export interface ThemesPlan {
  report: ThemesReport;
  /** What a discovery writes (themes, moved items, the model); null when new items only join stored themes. */
  write: ((tx: Conn) => Promise<void>) | null;
}

/**
 * Step 3, themes: new items join the nearest stored theme when similar enough (stable themes);
 * the first run, or `rebuild`, discovers themes afresh and carries the team's names over to
 * the new theme holding most of a renamed theme's items. Sets the new rows' themes when they
 * join stored ones.
 */
export async function planThemes(
  db: Conn,
  input: RunInput,
  rows: Map<number, FeedbackInsightsTable>,
  options: { rebuild: boolean; k: number | 'auto'; seed: number; runId: number; now: () => number },
  warnings: string[],
): Promise<ThemesPlan> {
  const { fresh, itemCount } = input;
  const report: ThemesReport = { built: false, count: 0, assigned: 0, unassigned: 0, carriedNames: 0, pinned: 0, followedPins: 0, seconds: 0 };
  const pins = await themes.pinsWithTexts(db);
  // The version is read first: a model saved meanwhile by another process makes this run's save
  // fail (and roll back) instead of being overwritten.
  const themesVersion = await modelVersion(db, THEMES_PURPOSE);
  const storedThemes = options.rebuild ? null : await loadModel<StoredTheme>(db, THEMES_PURPOSE);
  let write: ((tx: Conn) => Promise<void>) | null = null;
  const live = storedThemes ? await liveThemeOf(db, Object.values(storedThemes.rowOf)) : new Map<number, number>();
  report.count = new Set(live.values()).size;
  if (storedThemes && fresh.length > 0) {
    const a = assignThemes(
      storedThemes.model,
      fresh.map((f) => f.text),
    );
    // A new item nearly the same as one a person moved goes where that one went.
    const follow = followPins(
      storedThemes.model,
      fresh.map((f) => f.text),
      pins.map((p) => p.text),
    );
    const liveRows = new Set(live.values());
    fresh.forEach((f, j) => {
      const row = rows.get(f.id)!;
      const pin = follow[j]! >= 0 ? pins[follow[j]!]! : undefined;
      if (pin && (pin.theme_id === null || liveRows.has(Number(pin.theme_id)))) {
        row.theme_id = pin.theme_id === null ? null : Number(pin.theme_id);
        row.theme_similarity = null;
        report.followedPins++;
        if (row.theme_id !== null) report.assigned++;
        return;
      }
      const modelId = a.theme[j]!;
      if (modelId < 0) return;
      const rowId = storedThemes.rowOf[String(modelId)];
      row.theme_id = rowId === undefined ? null : (live.get(rowId) ?? null);
      row.theme_similarity = a.similarity[j]!;
      if (row.theme_id !== null) report.assigned++;
    });
  } else if (!storedThemes && itemCount >= MIN_THEME_ITEMS) {
    const items = await input.allItems();
    const built = buildThemes(
      items.map((i) => i.text),
      { k: options.k, seed: options.seed },
    );
    report.built = true;
    report.count = built.themes.length;
    const oldAssign = new Map(input.stored.map((r) => [Number(r.feedback_id), r.theme_id === null ? null : Number(r.theme_id)]));
    const oldKind = new Map((await themes.themeKinds(db)).map((t) => [Number(t.id), t.kind]));
    write = async (tx) => {
      const ts = options.now();
      // The team's names move to the new theme that holds most of the renamed theme's items.
      const named = await themes.namedActiveThemes(tx);
      await themes.retireActiveThemes(tx, ts);
      const ids: number[] = [];
      for (const t of built.themes) {
        ids.push(await themes.insertTheme(tx, { label: t.label, kind: t.general ? 'general' : 'topic', keyPhrases: t.keyPhrases, quotes: t.quotes.map((q) => items[q]!.id), size: t.size, parentId: null }, ts));
      }
      // Items moved by hand go to the new theme that holds most of the other items of the
      // theme they were put in (the general bucket to the new bucket); out of every theme stays out.
      const pinnedIds = new Set(pins.map((p) => Number(p.feedback_id)));
      const successor = new Map<number, number | null>();
      const successorOf = (old: number): number | null => {
        if (!successor.has(old)) {
          const votes = new Map<number, number>();
          items.forEach((it, j) => {
            if (pinnedIds.has(it.id) || oldAssign.get(it.id) !== old) return;
            const k = built.theme[j]!;
            if (k >= 0) votes.set(k, (votes.get(k) ?? 0) + 1);
          });
          const best = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
          successor.set(old, best ? ids[best[0]]! : null);
        }
        return successor.get(old)!;
      };
      const generalRow = built.themes.findIndex((t) => t.general);
      const pinnedTo = new Map<number, number | null>();
      const dropped: number[] = [];
      for (const p of pins) {
        const id = Number(p.feedback_id);
        if (p.theme_id === null) pinnedTo.set(id, null);
        else {
          const old = Number(p.theme_id);
          const to = oldKind.get(old) === 'general' && generalRow >= 0 ? ids[generalRow]! : successorOf(old);
          if (to === null) dropped.push(id);
          else pinnedTo.set(id, to);
        }
      }
      await themes.setPinThemes(tx, [...pinnedTo]);
      await themes.deletePins(tx, dropped);
      // Near-copies of a moved item follow it, as new items do between rebuilds.
      const follow = followPins(
        built.model,
        items.map((it) => it.text),
        pins.map((p) => p.text),
      );
      report.pinned = pinnedTo.size;
      for (const n of named) {
        const votes = new Map<number, number>();
        items.forEach((it, j) => {
          if (oldAssign.get(it.id) !== Number(n.id)) return;
          const k = built.theme[j]!;
          if (k >= 0) votes.set(k, (votes.get(k) ?? 0) + 1);
        });
        const best = [...votes].sort((a, b) => b[1] - a[1])[0];
        // Two names landing on one theme: the first stays, the other is reported as not carried.
        if (best && (await themes.nameIfUnnamed(tx, ids[best[0]]!, n.name!))) report.carriedNames++;
      }
      // New items take their theme with their signals; items analysed before change theme only.
      const moved: [number, number | null, number | null][] = [];
      items.forEach((it, j) => {
        const k = built.theme[j]!;
        let themeId = k >= 0 ? ids[k]! : null;
        let similarity = k >= 0 ? built.similarity[j]! : null;
        const pinTarget = pinnedTo.has(it.id) ? pinnedTo.get(it.id)! : follow[j]! >= 0 ? pinnedTo.get(Number(pins[follow[j]!]!.feedback_id)) : undefined;
        if (pinTarget !== undefined) {
          if (!pinnedTo.has(it.id) && themeId !== pinTarget) report.followedPins++;
          themeId = pinTarget;
          similarity = null;
        }
        const row = rows.get(it.id);
        if (row) {
          row.theme_id = themeId;
          row.theme_similarity = similarity;
        } else moved.push([it.id, themeId, similarity]);
      });
      await insights.setThemesAndSimilarity(tx, moved);
      const movedTo = new Map(moved.map(([id, t]) => [id, t]));
      await saveModel(tx, THEMES_PURPOSE, { model: storable(built.model), rowOf: Object.fromEntries(built.themes.map((t, k) => [String(t.modelId), ids[k]!])) } satisfies StoredTheme, options.runId, ts, themesVersion);
      report.assigned = items.length - items.filter((it) => (rows.get(it.id)?.theme_id ?? movedTo.get(it.id) ?? null) === null).length;
    };
  } else if (!storedThemes) {
    warnings.push(`themes need at least ${MIN_THEME_ITEMS} feedback items; there are ${itemCount}`);
  }
  return { report, write };
}

export interface TagPlan {
  report: TagSetReport;
  /** Items the plan tags. */
  ids: number[];
  write: (tx: Conn, present: Set<number>, runId: number, now: number) => Promise<void>;
}

/**
 * Cross-validation of a tag set's model on its examples: 5 folds up to 2,000 examples, one
 * 80/20 split above. Returns the counts, not only the accuracy: per tag its examples, the
 * held-out predictions whose truth it is (recall's denominator), those of them right, and the
 * held-out predictions of that tag (precision's denominator); and per confidence band the
 * held-out predictions and how many were right, so the figures shown beside a suggestion or a
 * bulk accept are the held-out ones of that confidence.
 */
function crossValidate(texts: string[], labels: string[], seed: number): TagValidation | null {
  const n = texts.length;
  if (n < 10 || new Set(labels).size < 2) return null;
  const few = medianExamples(labels) <= FEW_EXAMPLES;
  const rand = seededRandom(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const folds = n <= 2000 ? 5 : 1;
  const v: TagValidation = { n: 0, correct: 0, tags: {}, bands: Array.from({ length: CONFIDENCE_BANDS }, () => ({ n: 0, correct: 0 })) };
  const of = (tag: string) => (v.tags[tag] ??= { examples: 0, held: 0, correct: 0, predicted: 0 });
  for (const l of labels) of(l).examples++;
  for (let f = 0; f < folds; f++) {
    const test = new Set(order.filter((_, i) => i % 5 === f));
    const trainIdx = order.filter((i) => !test.has(i));
    if (new Set(trainIdx.map((i) => labels[i])).size < 2) continue;
    const held = [...test];
    const trTexts = trainIdx.map((i) => texts[i]!);
    const trLabels = trainIdx.map((i) => labels[i]!);
    const heldTexts = held.map((i) => texts[i]!);
    // The folds are tagged the way the whole set's items are: as a batch through its
    // neighbourhoods when its tags have few examples, by the model alone otherwise.
    let tagged: Prediction[];
    if (few) tagged = trainAndTag(trTexts, trLabels, heldTexts, { seed }).predictions;
    else {
      const m = train(trTexts, trLabels, { seed, unlabelled: heldTexts });
      tagged = heldTexts.map((t) => predict(m, t));
    }
    held.forEach((i, k) => {
      const truth = labels[i]!;
      const p = tagged[k]!;
      const right = p.label === truth;
      v.n++;
      of(truth).held++;
      of(p.label).predicted++;
      const band = v.bands[confidenceBand(p.confidence)]!;
      band.n++;
      if (right) {
        v.correct++;
        of(truth).correct++;
        band.correct++;
      }
    });
  }
  return v.n > 0 ? v : null;
}

/**
 * Step 4, tags: each tag set whose examples changed since its model was trained is retrained
 * and every item without a person's tag is re-tagged; otherwise new items are tagged.
 */
export async function planTags(db: Conn, fresh: Item[], allItems: () => Promise<Item[]>, rebuild: boolean, seed: number, warnings: string[]): Promise<TagPlan[]> {
  const sets = await tags.tagSetNames(db);
  const plans: TagPlan[] = [];
  for (const tagSet of sets) {
    const examples = await tags.examplesOf(db, tagSet);
    const labels = new Set(examples.map((e) => e.name));
    const report: TagSetReport = { tagSet, kinds: [...new Set(examples.map((e) => e.kind))].sort(), retrained: false, examples: examples.length, tagged: 0, toReview: 0, accuracy: null };
    if (labels.size < 2) {
      warnings.push(`tag set "${tagSet}": at least two tags need examples before items can be tagged (has ${labels.size})`);
      // Suggestions of an older model no longer stand on examples: they leave the queue.
      plans.push({ report, ids: [], write: (tx) => tags.deleteSuggestions(tx, tagSet) });
      continue;
    }
    for (const l of labels) if (examples.filter((e) => e.name === l).length === 1) warnings.push(`tag set "${tagSet}": tag "${l}" has one example; suggestions for it will be unreliable`);
    const stamp = await examplesStamp(db, tagSet);
    const meta = await readTagModelMeta(db, tagSet);
    const version = await modelVersion(db, tagPurpose(tagSet));
    let model = rebuild || !meta || (await modelStale(db, tagSet, meta)) ? null : await loadModel<TextModel>(db, tagPurpose(tagSet));
    let newMeta: TagModelMeta | null = null;
    const human = new Set(examples.map((e) => Number(e.id)));
    // A tag set covers the kinds of feedback its examples are: ticket types tag tickets, not reviews.
    const kinds = new Set<string>(examples.map((e) => e.kind));
    const scope = (list: Item[]) => list.filter((i) => !human.has(i.id) && kinds.has(i.kind));
    let targets: Item[];
    let batch: Prediction[] | undefined;
    if (!model) {
      const texts = examples.map((e) => e.text);
      const names = examples.map((e) => e.name);
      targets = scope(await allItems());
      // The items to tag lend their word co-occurrences (never labels) to the word vectors and,
      // when examples are few, their neighbourhoods (transduce.ts).
      const tagged = trainAndTag(
        texts,
        names,
        targets.map((t) => t.text),
        { seed },
      );
      model = tagged.model;
      batch = tagged.predictions;
      report.retrained = true;
      const validation = crossValidate(texts, names, seed);
      report.accuracy = validation ? validation.correct / validation.n : null;
      newMeta = { trainedAt: 0, examples: examples.length, kinds: report.kinds, accuracy: report.accuracy, validation, method: tagged.method.reason, examplesStamp: stamp };
    } else {
      report.accuracy = meta?.accuracy ?? null;
      targets = scope(fresh);
    }
    const suggestions = targets.map((t, i) => {
      const p = batch?.[i] ?? predict(model, t.text);
      return { id: t.id, label: p.label, confidence: p.confidence };
    });
    report.tagged = suggestions.length;
    report.toReview = suggestions.filter((s) => s.confidence < REVIEW_THRESHOLD).length;
    const trained = model;
    plans.push({
      report,
      ids: suggestions.map((x) => x.id),
      write: async (tx, present, runId, now) => {
        const tagIds = await tags.tagIdsByName(tx, tagSet);
        // A person may have tagged an item while the run computed: their tag wins.
        // A tag set renamed or deleted while the run computed has nothing to write to any more.
        if (tagIds.size === 0) return;
        const humanNow = await tags.humanTaggedIds(tx, tagSet);
        // A tag renamed or deleted meanwhile: its suggestions wait for the next run (the set is stamped, so it retrains).
        const write = suggestions.filter((s) => !humanNow.has(s.id) && present.has(s.id) && tagIds.has(s.label));
        await tags.upsertSuggestions(
          tx,
          tagSet,
          write.map((s) => ({ feedbackId: s.id, tagId: tagIds.get(s.label)!, confidence: s.confidence })),
          now,
        );
        if (newMeta) {
          await saveModel(tx, tagPurpose(tagSet), trained, runId, now, version);
          await writeTagModelMeta(tx, tagSet, { ...newMeta, trainedAt: now });
        }
      },
    });
  }
  return plans;
}

/**
 * The write, in the run's one transaction (readers see the previous run or this one): the new
 * items' insights, the themes a discovery made, the tag sets' suggestions and models, the
 * corrected roots and the themes' sizes. Returns how many items' insights were written.
 */
export async function writeRun(
  tx: Conn,
  run: { rows: Map<number, FeedbackInsightsTable>; themeWrite: ((tx: Conn) => Promise<void>) | null; tagPlans: TagPlan[]; reRoot: [number, number | null][]; rebuild: boolean; runId: number; now: () => number },
): Promise<number> {
  const { rows, tagPlans } = run;
  // Items erased while the run computed are skipped (their feedback rows are gone).
  const touched = new Set<number>([...rows.keys(), ...tagPlans.flatMap((p) => p.ids)]);
  const present = await insights.existingFeedbackIds(tx, [...touched]);
  if (run.rebuild) await insights.deleteAllInsights(tx);
  if (run.themeWrite) await run.themeWrite(tx);
  else {
    // Themes merged while the run computed: items follow them; a theme split meanwhile has
    // no place for them (null: they count as unassigned and join a part at a rebuild).
    const assigned = [...new Set([...rows.values()].map((r) => r.theme_id).filter((t): t is number => t !== null))];
    const live = await liveThemeOf(tx, assigned);
    for (const r of rows.values()) if (r.theme_id !== null) r.theme_id = live.get(r.theme_id) ?? null;
  }
  const write = [...rows.values()].filter((r) => present.has(r.feedback_id));
  await insights.upsertInsights(tx, write);
  for (const plan of tagPlans) await plan.write(tx, present, run.runId, run.now());
  if (!run.rebuild && run.reRoot.length > 0) await insights.setRoots(tx, run.reRoot);
  // Theme sizes follow their members.
  await themes.refreshThemeSizes(tx);
  return write.length;
}

