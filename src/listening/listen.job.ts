/**
 * The listening run: reads stored feedback and writes what Rapport hears in it.
 *
 * 1. Signals per new item: sentiment (VADER), intent, language, MinHash signature.
 * 2. Near-duplicates: each new item is checked against every stored signature (LSH); a
 *    repeat points at the earliest item of its group, so every author stays as evidence.
 * 3. Themes: new items join the nearest stored theme when similar enough (stable themes);
 *    the first run, or `rebuild`, discovers themes afresh and carries the team's names over
 *    to the new theme holding most of a renamed theme's items.
 * 4. Tags: each tag set whose examples changed since its model was trained is retrained and
 *    every item without a person's tag is re-tagged; otherwise new items are tagged.
 *
 * Everything is written in one transaction, so readers see the previous run or this one.
 */
import { detectLanguage } from '../models/text/language.js';
import { intent as intentOf } from '../models/text/intent.js';
import { nearDuplicateRoots, signature, type RootedItem } from '../models/text/minhash.js';
import { sentiment as sentimentOf } from '../models/text/sentiment.js';
import { evaluate, predict, train, type Prediction, type TextModel } from '../models/text/classifier.js';
import { FEW_EXAMPLES, medianExamples, trainAndTag } from '../models/text/transduce.js';
import { seededRandom } from '../models/random.js';
import type { Conn, Store } from '../store/db.js';
import type { FeedbackInsightsTable } from '../store/schema.js';
import { chunks, updateFromValues } from '../store/sql.js';
import { loadModel, modelVersion, saveModel } from './model-store.js';
import { assignThemes, buildThemes, splitThemes, storable, type ThemeEngineModel } from './theme-engine.js';
import { mergeThemes as mergeModelThemes } from '../models/text/themes.js';
import { invalid, notFound } from '../core/errors.js';
import { serialQueue } from '../core/serial.js';
import { examplesStamp, modelStale, readTagModelMeta, REVIEW_THRESHOLD, tagPurpose, type TagModelMeta } from './tags.service.js';

export interface ListenOptions {
  trigger: string;
  /** Discover themes afresh (keeping the team's names where the items stay together). */
  rebuild?: boolean;
  /** Themes to discover on a rebuild: a number, or 'auto' (default). */
  k?: number | 'auto';
  seed?: number;
  now?: () => number;
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
  log?: (line: string) => void;
}

export interface ListenReport {
  /** The newest feedback row this run saw (the schedule runs again when it changes). */
  lastFeedbackRef: number;
  items: number;
  analysed: number;
  duplicates: number;
  themes: { built: boolean; count: number; assigned: number; unassigned: number; carriedNames: number; seconds: number };
  tagSets: { tagSet: string; kinds: string[]; retrained: boolean; examples: number; tagged: number; toReview: number; accuracy: number | null }[];
  languages: Record<string, number>;
  warnings: string[];
  timings: Record<string, number>;
}

const THEMES_PURPOSE = 'themes';
/** Fewer items than this make no themes (too few to group). */
const MIN_THEME_ITEMS = 20;

interface Item {
  id: number;
  text: string;
  kind: string;
}

interface StoredTheme {
  model: ThemeEngineModel;
  /** Theme row id of each of the model's themes, by the model's theme id. */
  rowOf: Record<string, number>;
}

/**
 * Runs and splits change the stored themes model (load, change, save): one at a time in this
 * process, in the order asked, so none overwrites another's model.
 */
const exclusive = serialQueue();

/** Runs the listening job; a run asked for while one is going (or a split) waits for it, then runs. */
export function runListen(store: Store, options: ListenOptions): Promise<{ runId: number; report: ListenReport }> {
  return exclusive(() => doRun(store, options));
}

async function doRun(store: Store, options: ListenOptions): Promise<{ runId: number; report: ListenReport }> {
  const now = options.now ?? Date.now;
  const serialize = options.serialize ?? (<T>(fn: () => Promise<T>) => fn());
  const inserted = await serialize(() =>
    store.db.insertInto('text_runs').values({ kind: 'listen', trigger: options.trigger, status: 'running', started_at: now(), items: 0 }).returning('id').executeTakeFirstOrThrow(),
  );
  const runId = Number(inserted.id);
  const ref = await lastFeedbackRef(store);
  try {
    const report = await compute(store, options, runId, now, serialize, ref);
    return { runId, report };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await serialize(() =>
      store.db
        .updateTable('text_runs')
        .set({ status: 'failed', finished_at: now(), error: message, report: JSON.stringify({ lastFeedbackRef: ref }) })
        .where('id', '=', runId)
        .execute(),
    );
    throw e;
  }
}

const ms = (t0: number): number => Math.round(performance.now() - t0);

/** Every feedback item, or (`unanalysed`) only those without insights yet, in id order. */
async function readItems(db: Conn, unanalysed = false): Promise<Item[]> {
  const out: Item[] = [];
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

/** A stored MinHash signature (little-endian 32-bit words) back as an aligned Uint32Array. */
function signatureOf(bytes: Uint8Array): Uint32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Uint32Array(copy.buffer);
}

/** The newest feedback row id (0 without feedback). */
export async function lastFeedbackRef(store: Store): Promise<number> {
  const r = await store.db.selectFrom('feedback').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/**
 * A run after new data (an import, the demo): reported, not thrown, since the data itself was
 * stored fine; a failed run is recorded and retried by the schedule.
 */
export async function runListenAfterLoad(store: Store, trigger: string): Promise<{ items: number; themes: number; seconds: number } | { error: string }> {
  const t0 = performance.now();
  try {
    const { report } = await runListen(store, { trigger });
    return { items: report.analysed, themes: report.themes.count, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** The one line the CLI prints about such a run. */
export function listenLine(r: { items: number; themes: number; seconds: number } | { error: string }): string {
  return 'error' in r ? `Feedback not analysed: ${r.error}` : `Feedback analysed: ${r.items.toLocaleString('en-US')} items, ${r.themes} themes in ${r.seconds.toFixed(1)} s`;
}

async function compute(
  store: Store,
  options: ListenOptions,
  runId: number,
  now: () => number,
  serialize: <T>(fn: () => Promise<T>) => Promise<T>,
  lastRef: number,
): Promise<ListenReport> {
  const db = store.db;
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  let t0 = performance.now();
  // An incremental run reads the new items' texts only; every text is read when themes are
  // discovered or a tag model retrains (`allItems`, on demand).
  const stored = await db.selectFrom('feedback_insights').select(['feedback_id', 'minhash', 'duplicate_of', 'theme_id']).orderBy('feedback_id').execute();
  const have = new Map(stored.map((r) => [Number(r.feedback_id), r]));
  let everything: Item[] | undefined;
  const allItems = async (): Promise<Item[]> => (everything ??= await readItems(db));
  const fresh = options.rebuild ? await allItems() : await readItems(db, true);
  const itemCount = Number((await db.selectFrom('feedback').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  timings['read'] = ms(t0);

  // 1. Signals.
  t0 = performance.now();
  const rows = new Map<number, FeedbackInsightsTable>();
  const languages: Record<string, number> = {};
  const sigs = new Map<number, Uint32Array>();
  for (const it of fresh) {
    const s = sentimentOf(it.text);
    const i = intentOf(it.text, s);
    const lang = detectLanguage(it.text);
    languages[lang.lang] = (languages[lang.lang] ?? 0) + 1;
    const sig = signature(it.text);
    sigs.set(it.id, sig);
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
  timings['signals'] = ms(t0);

  // 2. Near-duplicates, in id order: an item repeats the earliest similar item before it.
  t0 = performance.now();
  // Repeats of an item that was erased since: the earliest remaining repeat becomes the root.
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
  for (const [id, root] of reRoot) {
    const r = have.get(id);
    if (r) r.duplicate_of = root;
  }
  // Roots of the new items: the earliest similar root before them (minhash.ts), against the
  // stored roots unless the run starts afresh.
  const rooted: RootedItem[] = options.rebuild
    ? []
    : stored.map((r) => {
        const id = Number(r.feedback_id);
        const root = r.duplicate_of === null ? id : Number(r.duplicate_of);
        return { id, root, signature: root === id && r.minhash ? signatureOf(r.minhash) : null };
      });
  const roots = nearDuplicateRoots(
    rooted,
    fresh.map((it) => ({ id: it.id, signature: sigs.get(it.id)! })),
  );
  let duplicates = 0;
  fresh.forEach((it, j) => {
    const root = roots[j]!;
    if (root === it.id) return;
    rows.get(it.id)!.duplicate_of = root;
    duplicates++;
  });
  timings['duplicates'] = ms(t0);

  // 3. Themes.
  t0 = performance.now();
  const themeReport = { built: false, count: 0, assigned: 0, unassigned: 0, carriedNames: 0, seconds: 0 };
  // The version is read first: a model saved meanwhile by another process makes this run's save
  // fail (and roll back) instead of being overwritten.
  const themesVersion = await modelVersion(db, THEMES_PURPOSE);
  const storedThemes = options.rebuild ? null : await loadModel<StoredTheme>(db, THEMES_PURPOSE);
  let themeWrite: ((tx: Conn) => Promise<void>) | null = null;
  const live = storedThemes ? await liveThemeOf(db, Object.values(storedThemes.rowOf)) : new Map<number, number>();
  themeReport.count = new Set(live.values()).size;
  if (storedThemes && fresh.length > 0) {
    const a = assignThemes(storedThemes.model, fresh.map((f) => f.text));
    fresh.forEach((f, j) => {
      const modelId = a.theme[j]!;
      if (modelId < 0) return;
      const row = rows.get(f.id)!;
      const rowId = storedThemes.rowOf[String(modelId)];
      row.theme_id = rowId === undefined ? null : (live.get(rowId) ?? null);
      row.theme_similarity = a.similarity[j]!;
      if (row.theme_id !== null) themeReport.assigned++;
    });
  } else if (!storedThemes && itemCount >= MIN_THEME_ITEMS) {
    const items = await allItems();
    const built = buildThemes(
      items.map((i) => i.text),
      { k: options.k ?? 'auto', seed: options.seed ?? 1 },
    );
    themeReport.built = true;
    themeReport.count = built.themes.length;
    const oldAssign = new Map(stored.map((r) => [Number(r.feedback_id), r.theme_id === null ? null : Number(r.theme_id)]));
    themeWrite = async (tx) => {
      const ts = now();
      // The team's names move to the new theme that holds most of the renamed theme's items.
      const named = await tx.selectFrom('themes').select(['id', 'name']).where('status', '=', 'active').where('name', 'is not', null).execute();
      await tx.updateTable('themes').set({ status: 'split', updated_at: ts }).where('status', '=', 'active').execute();
      const ids: number[] = [];
      for (const t of built.themes) {
        const r = await tx
          .insertInto('themes')
          .values({ label: t.label, name: null, key_phrases: JSON.stringify(t.keyPhrases), quotes: JSON.stringify(t.quotes.map((q) => items[q]!.id)), size: t.size, status: 'active', merged_into: null, parent_id: null, created_at: ts, updated_at: ts })
          .returning('id')
          .executeTakeFirstOrThrow();
        ids.push(Number(r.id));
      }
      for (const n of named) {
        const votes = new Map<number, number>();
        items.forEach((it, j) => {
          if (oldAssign.get(it.id) !== Number(n.id)) return;
          const k = built.theme[j]!;
          if (k >= 0) votes.set(k, (votes.get(k) ?? 0) + 1);
        });
        const best = [...votes].sort((a, b) => b[1] - a[1])[0];
        if (best) {
          const r = await tx.updateTable('themes').set({ name: n.name }).where('id', '=', ids[best[0]]!).where('name', 'is', null).executeTakeFirst();
          // Two names landing on one theme: the first stays, the other is reported as not carried.
          if (Number(r.numUpdatedRows) > 0) themeReport.carriedNames++;
        }
      }
      // New items take their theme with their signals; items analysed before change theme only.
      const moved: (readonly unknown[])[] = [];
      items.forEach((it, j) => {
        const k = built.theme[j]!;
        const themeId = k >= 0 ? ids[k]! : null;
        const similarity = k >= 0 ? built.similarity[j]! : null;
        const row = rows.get(it.id);
        if (row) {
          row.theme_id = themeId;
          row.theme_similarity = similarity;
        } else moved.push([it.id, themeId, similarity]);
      });
      await updateFromValues(tx, 'feedback_insights', 'feedback_id', ['bigint', 'bigint', 'double precision'], moved, { theme_id: 'v.column2', theme_similarity: 'v.column3' });
      await saveModel(tx, THEMES_PURPOSE, { model: storable(built.model), rowOf: Object.fromEntries(built.themes.map((t, k) => [String(t.modelId), ids[k]!])) } satisfies StoredTheme, runId, ts, themesVersion);
      themeReport.assigned = built.theme.filter((k) => k >= 0).length;
    };
  } else if (!storedThemes) {
    warnings.push(`themes need at least ${MIN_THEME_ITEMS} feedback items; there are ${itemCount}`);
  }
  themeReport.seconds = ms(t0) / 1000;
  timings['themes'] = ms(t0);

  // 4. Tags.
  t0 = performance.now();
  const tagPlans = await planTags(db, fresh, allItems, options.rebuild === true, options.seed ?? 1, warnings);
  timings['tags'] = ms(t0);

  // Write.
  t0 = performance.now();
  const analysed = await serialize(() =>
    db.transaction().execute(async (tx) => {
      // Items erased while the run computed are skipped (their feedback rows are gone).
      const present = new Set<number>();
      const touched = new Set<number>([...rows.keys(), ...tagPlans.flatMap((p) => p.ids)]);
      for (const part of chunks([...touched], 5000)) {
        const found = await tx.selectFrom('feedback').select('id').where('id', 'in', part).execute();
        for (const f of found) present.add(Number(f.id));
      }
      if (options.rebuild) await tx.deleteFrom('feedback_insights').execute();
      if (themeWrite) await themeWrite(tx);
      else {
        // Themes merged while the run computed: items follow them; a theme split meanwhile has
        // no place for them (null: they count as unassigned and join a part at a rebuild).
        const assigned = [...new Set([...rows.values()].map((r) => r.theme_id).filter((t): t is number => t !== null))];
        const live = await liveThemeOf(tx, assigned);
        for (const r of rows.values()) if (r.theme_id !== null) r.theme_id = live.get(r.theme_id) ?? null;
      }
      const write = [...rows.values()].filter((r) => present.has(r.feedback_id));
      for (const part of chunks(write, 500)) {
        await tx
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
      for (const plan of tagPlans) await plan.write(tx, present, runId, now());
      if (!options.rebuild && reRoot.length > 0) {
        await updateFromValues(tx, 'feedback_insights', 'feedback_id', ['bigint', 'bigint'], reRoot, { duplicate_of: 'v.column2' });
      }
      // Theme sizes follow their members.
      const sizes = await tx.selectFrom('feedback_insights').select((eb) => ['theme_id', eb.fn.countAll<number>().as('n')]).where('theme_id', 'is not', null).groupBy('theme_id').execute();
      for (const s of sizes) await tx.updateTable('themes').set({ size: Number(s.n) }).where('id', '=', Number(s.theme_id)).execute();
      return write.length;
    }),
  );
  timings['write'] = ms(t0);
  const unassigned = await db.selectFrom('feedback_insights').select((eb) => eb.fn.countAll<number>().as('n')).where('theme_id', 'is', null).executeTakeFirst();
  themeReport.unassigned = Number(unassigned?.n ?? 0);
  if (themeReport.count > 0 && themeReport.unassigned > Math.max(50, 0.15 * itemCount)) {
    warnings.push(`${themeReport.unassigned} items fit no theme: \`rapport themes run --rebuild\` discovers themes afresh (names are kept)`);
  }
  const report: ListenReport = {
    lastFeedbackRef: lastRef,
    items: itemCount,
    analysed,
    duplicates,
    themes: themeReport,
    tagSets: tagPlans.map((p) => p.report),
    languages,
    warnings,
    timings,
  };
  await serialize(() =>
    db.updateTable('text_runs').set({ status: 'ok', finished_at: now(), items: analysed, report: JSON.stringify(report) }).where('id', '=', runId).execute(),
  );
  return report;
}

/** Where each stored model theme's items go now: itself, or the theme it was merged into. */
async function liveThemeOf(db: Conn, themeIds: number[]): Promise<Map<number, number>> {
  const rows = await db.selectFrom('themes').select(['id', 'status', 'merged_into']).execute();
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

interface TagPlan {
  report: ListenReport['tagSets'][number];
  /** Items the plan tags. */
  ids: number[];
  write: (tx: Conn, present: Set<number>, runId: number, now: number) => Promise<void>;
}

/** Cross-validated accuracy of a tag set's model on its examples: 5 folds up to 2,000 examples, one 80/20 split above. */
function crossValidate(texts: string[], labels: string[], seed: number): number | null {
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
  const truth: string[] = [];
  const guess: string[] = [];
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
      truth.push(labels[i]!);
      guess.push(tagged[k]!.label);
    });
  }
  return truth.length > 0 ? evaluate(truth, guess).accuracy : null;
}

async function planTags(db: Conn, fresh: Item[], allItems: () => Promise<Item[]>, rebuild: boolean, seed: number, warnings: string[]): Promise<TagPlan[]> {
  const sets = await db.selectFrom('tags').select('tag_set').distinct().execute();
  const plans: TagPlan[] = [];
  for (const { tag_set: tagSet } of sets) {
    const examples = await db
      .selectFrom('feedback_tags as ft')
      .innerJoin('tags as t', 't.id', 'ft.tag_id')
      .innerJoin('feedback as f', 'f.id', 'ft.feedback_id')
      .select(['f.id', 'f.text', 'f.kind', 't.name'])
      .where('ft.tag_set', '=', tagSet)
      .where('ft.source', '=', 'human')
      .execute();
    const labels = new Set(examples.map((e) => e.name));
    const report = { tagSet, kinds: [...new Set(examples.map((e) => e.kind))].sort(), retrained: false, examples: examples.length, tagged: 0, toReview: 0, accuracy: null as number | null };
    if (labels.size < 2) {
      warnings.push(`tag set "${tagSet}": at least two tags need examples before items can be tagged (has ${labels.size})`);
      // Suggestions of an older model no longer stand on examples: they leave the queue.
      plans.push({
        report,
        ids: [],
        write: async (tx) => {
          await tx.deleteFrom('feedback_tags').where('tag_set', '=', tagSet).where('source', '=', 'model').execute();
        },
      });
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
      const tagged = trainAndTag(texts, names, targets.map((t) => t.text), { seed });
      model = tagged.model;
      batch = tagged.predictions;
      report.retrained = true;
      report.accuracy = crossValidate(texts, names, seed);
      newMeta = { trainedAt: 0, examples: examples.length, kinds: report.kinds, accuracy: report.accuracy, method: tagged.method.reason, examplesStamp: stamp };
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
        const tagIds = new Map((await tx.selectFrom('tags').select(['id', 'name']).where('tag_set', '=', tagSet).execute()).map((t) => [t.name, Number(t.id)]));
        // A person may have tagged an item while the run computed: their tag wins.
        const humanNow = new Set(
          (await tx.selectFrom('feedback_tags').select('feedback_id').where('tag_set', '=', tagSet).where('source', '=', 'human').execute()).map((r) => Number(r.feedback_id)),
        );
        const write = suggestions.filter((s) => !humanNow.has(s.id) && present.has(s.id));
        for (const part of chunks(write, 1000)) {
          await tx
            .insertInto('feedback_tags')
            .values(part.map((s) => ({ feedback_id: s.id, tag_set: tagSet, tag_id: tagIds.get(s.label)!, source: 'model' as const, confidence: s.confidence, reviewed_by: null, updated_at: now })))
            .onConflict((oc) =>
              oc
                .columns(['feedback_id', 'tag_set'])
                .doUpdateSet((eb) => ({ tag_id: eb.ref('excluded.tag_id'), source: eb.ref('excluded.source'), confidence: eb.ref('excluded.confidence'), updated_at: eb.ref('excluded.updated_at') }))
                .where('feedback_tags.source', '=', 'model'),
            )
            .execute();
        }
        if (newMeta) {
          await saveModel(tx, tagPurpose(tagSet), trained, runId, now, version);
          const value = JSON.stringify({ ...newMeta, trainedAt: now });
          const key = `tags.model:${tagSet}`;
          await tx.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
        }
      },
    });
  }
  return plans;
}

/**
 * Splits a stored theme in `k` by clustering its members again (over the model's vocabulary).
 * The parts become new themes (their `parent_id` is the split one, kept as `split`); the
 * members move to the part they fall in, and new items are assigned to the parts from then on.
 */
export function splitStoredTheme(store: Store, themeId: number, options: { k?: number; seed?: number; now?: () => number; serialize?: <T>(fn: () => Promise<T>) => Promise<T> } = {}): Promise<{ parts: number[] }> {
  return exclusive(() => splitNow(store, themeId, options));
}

async function splitNow(store: Store, themeId: number, options: { k?: number; seed?: number; now?: () => number; serialize?: <T>(fn: () => Promise<T>) => Promise<T> }): Promise<{ parts: number[] }> {
  const k = options.k ?? 2;
  const now = options.now ?? Date.now;
  const serialize = options.serialize ?? (<T>(fn: () => Promise<T>) => fn());
  const db = store.db;
  const version = await modelVersion(db, THEMES_PURPOSE);
  const stored = await loadModel<StoredTheme>(db, THEMES_PURPOSE);
  if (!stored) throw invalid('id', 'themes have not been discovered yet: run `rapport themes run` first');
  const row = await db.selectFrom('themes').select(['id', 'status']).where('id', '=', themeId).executeTakeFirst();
  if (!row) throw notFound(`theme ${themeId}`);
  if (row.status !== 'active') throw invalid('id', `theme ${themeId} is ${row.status}; split the theme it became`);
  const members = await db
    .selectFrom('feedback_insights as i')
    .innerJoin('feedback as f', 'f.id', 'i.feedback_id')
    .select(['f.id', 'f.text'])
    .where('i.theme_id', '=', themeId)
    .orderBy('f.id')
    .execute();
  if (members.length < 2 * k) throw invalid('k', `theme ${themeId} has ${members.length} items: too few to split in ${k}`);
  // The model's themes that feed this row (several after a merge) become one, then split.
  const live = await liveThemeOf(db, Object.values(stored.rowOf));
  const modelIds = Object.entries(stored.rowOf)
    .filter(([, rowId]) => live.get(rowId) === themeId)
    .map(([modelId]) => Number(modelId));
  let model = stored.model;
  if (modelIds.length === 0) throw invalid('id', `theme ${themeId} has no centre in the stored model; rebuild the themes (rapport themes run --rebuild)`);
  if (modelIds.length > 1) model = mergeModelThemes(model, modelIds.map((id) => model.themes.findIndex((t) => t.id === id)));
  const split = splitThemes(
    model,
    modelIds[0]!,
    members.map((m) => m.text),
    k,
    options.seed ?? 1,
  );
  const parts = await serialize(() =>
    db.transaction().execute(async (tx) => {
      const ts = now();
      const still = await tx.selectFrom('themes').select('status').where('id', '=', themeId).executeTakeFirst();
      if (still?.status !== 'active') throw invalid('id', `theme ${themeId} changed while it was being split (${still?.status ?? 'erased'}); try again`);
      const rowOf: Record<string, number> = { ...stored.rowOf };
      for (const id of modelIds) delete rowOf[String(id)];
      const partRows: number[] = [];
      for (const p of split.parts) {
        const r = await tx
          .insertInto('themes')
          .values({ label: p.label, name: null, key_phrases: JSON.stringify(p.keyPhrases), quotes: JSON.stringify(p.quotes.map((q) => Number(members[q]!.id))), size: p.size, status: 'active', merged_into: null, parent_id: themeId, created_at: ts, updated_at: ts })
          .returning('id')
          .executeTakeFirstOrThrow();
        partRows.push(Number(r.id));
        rowOf[String(p.modelId)] = Number(r.id);
      }
      const rowOfPart = new Map(split.parts.map((p, j) => [p.modelId, partRows[j]!]));
      await updateFromValues(
        tx,
        'feedback_insights',
        'feedback_id',
        ['bigint', 'bigint'],
        members.map((m, i) => [Number(m.id), rowOfPart.get(split.partOf[i]!) ?? partRows[0]!]),
        { theme_id: 'v.column2' },
      );
      await tx.updateTable('themes').set({ status: 'split', size: 0, updated_at: ts }).where('id', '=', themeId).execute();
      await saveModel(tx, THEMES_PURPOSE, { model: storable(split.model), rowOf } satisfies StoredTheme, null, ts, version);
      return partRows;
    }),
  );
  return { parts };
}
