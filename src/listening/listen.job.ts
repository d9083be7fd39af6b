/**
 * The listening run: reads stored feedback and writes what Rapport hears in it.
 *
 * 1. Signals per new item: sentiment (VADER), intent, language, MinHash signature.
 * 2. Near-duplicates: each new item is checked against the roots of the groups before it,
 *    stored ones included (MinHash + LSH, minhash.ts); a repeat points at the earliest item
 *    of its group, so every author stays as evidence.
 * 3. Themes: new items join the nearest stored theme when similar enough (stable themes);
 *    the first run, or `rebuild`, discovers themes afresh and carries the team's names over
 *    to the new theme holding most of a renamed theme's items.
 * 4. Tags: each tag set whose examples changed since its model was trained is retrained and
 *    every item without a person's tag is re-tagged; otherwise new items are tagged.
 *
 * Everything is written in one transaction, so readers see the previous run or this one. The
 * steps are in listen.steps.ts; this file keeps the run's record, the order of the steps and
 * the splits of a stored theme.
 */
import type { Store } from '../store/db.js';
import { loadModel, modelVersion, saveModel } from './model-store.js';
import { splitThemes, storable } from './theme-engine.js';
import { mergeThemes as mergeModelThemes } from '../models/text/themes.js';
import { invalid, notFound } from '../core/errors.js';
import { defineJob, directContext, type Due, type DuePolicy, type JobContext } from '../jobs/job.js';
import { recordRun, reportField } from '../jobs/runs.js';
import { lastEndedRun, markRunOk } from '../jobs/runs.repository.js';
import { LISTEN_JOB } from './runs.js';
import { modelStale, readTagModelMeta } from './tags.service.js';
import { computeSignals, findRepeats, liveThemeOf, planTags, planThemes, readInput, THEMES_PURPOSE, writeRun, type StoredTheme, type TagSetReport, type ThemesReport } from './listen.steps.js';
import * as insights from './insights.repository.js';
import { learnFromRatings, rereadSentiment, sentimentReader, type SentimentLearning } from './sentiment.steps.js';
import * as tagsRepo from './tags.repository.js';
import * as themes from './themes.repository.js';

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
  themes: ThemesReport;
  tagSets: TagSetReport[];
  languages: Record<string, number>;
  /** How sentiment was read: the rules, or a model learned from the team's ratings on top. */
  sentiment: SentimentLearning & { method: string; model: { source: string; examples: Partial<Record<string, number>> } | null; reread: number };
  warnings: string[];
  timings: Record<string, number>;
}

/**
 * The listening job: registered in the server's job registry, run by the job runner (on a
 * worker thread in `rapport serve`) and by its schedule after new feedback, after a tag set's
 * examples changed, and at least daily. Runs and splits change the stored themes model (load,
 * change, save): the runner runs one job at a time, so none overwrites another's model, and a
 * model saved meanwhile by another process makes the later save fail (model-store.ts).
 */
export const listenJob = defineJob<ListenOptions, { runId: number; report: ListenReport }>({
  name: LISTEN_JOB,
  module: import.meta.url,
  run: (ctx, options) => doRun(ctx, options),
  schedule: {
    title: 'listening',
    due: listenDue,
    options: { trigger: 'schedule' },
    done: ({ report }, why, seconds) => `feedback analysed (${why}): ${report.analysed} items, ${report.themes.count} themes in ${seconds.toFixed(1)} s`,
  },
  records: { seen: async (store) => ({ lastFeedbackRef: await lastFeedbackRef(store) }) },
});

/** Splits a stored theme (see `splitStoredTheme`), as a job of the runner. */
export const splitJob = defineJob<{ themeId: number; k?: number }, { parts: number[] }>({
  name: 'split',
  module: import.meta.url,
  run: (ctx, { themeId, k }) => splitNow(ctx.store, themeId, { now: ctx.now, serialize: ctx.serialize, ...(k !== undefined ? { k } : {}) }),
});

/** Runs the listening job here, on the caller's thread (the CLI, tests). */
export function runListen(store: Store, options: ListenOptions): Promise<{ runId: number; report: ListenReport }> {
  return listenJob.run(directContext(store, options), options);
}

/**
 * Whether the listening run should run now: when there is feedback and no run yet, when
 * feedback arrived since the last run and has settled, when a tag set's examples changed (a
 * correction retrains its model), and at least every `everyMs`.
 */
export async function listenDue(store: Store, now: number, o: DuePolicy): Promise<Due> {
  const ref = await lastFeedbackRef(store);
  if (ref === 0) return { due: false };
  const last = await lastEndedRun(store.db, LISTEN_JOB);
  if (!last) return { due: true, why: 'no run yet' };
  const at = last.finishedAt ?? last.startedAt;
  if (now - at < o.settleMs) return { due: false };
  // The safety net, as for customer value: a failed run is retried, stale numbers refreshed.
  if (now - at >= o.everyMs) return { due: true, why: last.status === 'failed' ? 'retrying the failed run' : 'scheduled' };
  const seen = reportField<number>(last.report, 'lastFeedbackRef');
  if (seen !== ref) return { due: true, why: last.status === 'failed' ? 'new feedback since the failed run' : 'new feedback' };
  for (const set of await tagsRepo.tagSetNames(store.db)) {
    const meta = await readTagModelMeta(store.db, set);
    if (meta && (await modelStale(store.db, set, meta))) return { due: true, why: `tag examples of "${set}" changed` };
  }
  return { due: false };
}

async function doRun(ctx: JobContext, options: ListenOptions): Promise<{ runId: number; report: ListenReport }> {
  const ref = await lastFeedbackRef(ctx.store);
  const { runId, result } = await recordRun(ctx, { job: LISTEN_JOB, trigger: options.trigger, failedReport: () => ({ lastFeedbackRef: ref }) }, (runId) =>
    compute(ctx.store, options, runId, ctx.now, ctx.serialize, ref),
  );
  return { runId, report: result };
}

const ms = (t0: number): number => Math.round(performance.now() - t0);

/** The newest feedback row id (0 without feedback). */
export async function lastFeedbackRef(store: Store): Promise<number> {
  return insights.newestFeedbackId(store.db);
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
  const rebuild = options.rebuild === true;
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  let t0 = performance.now();
  const input = await readInput(db, rebuild);
  timings['read'] = ms(t0);

  t0 = performance.now();
  const learning = await learnFromRatings(db, runId, now, serialize);
  const reader = await sentimentReader(db);
  timings['sentiment model'] = ms(t0);

  t0 = performance.now();
  const signals = computeSignals(input.fresh, now, reader.read);
  timings['signals'] = ms(t0);

  t0 = performance.now();
  const reread = await rereadSentiment(db, reader, input.allItems, new Set(signals.rows.keys()), serialize);
  if (reread > 0) timings['sentiment re-read'] = ms(t0);

  t0 = performance.now();
  const { duplicates, reRoot } = findRepeats(input, signals, rebuild);
  timings['duplicates'] = ms(t0);

  t0 = performance.now();
  const themePlan = await planThemes(db, input, signals.rows, { rebuild, k: options.k ?? 'auto', seed: options.seed ?? 1, runId, now }, warnings);
  const themeReport = themePlan.report;
  themeReport.seconds = ms(t0) / 1000;
  timings['themes'] = ms(t0);

  t0 = performance.now();
  const tagPlans = await planTags(db, input.fresh, input.allItems, rebuild, options.seed ?? 1, warnings);
  timings['tags'] = ms(t0);

  t0 = performance.now();
  const analysed = await serialize(() => db.transaction().execute((tx) => writeRun(tx, { rows: signals.rows, themeWrite: themePlan.write, tagPlans, reRoot, rebuild, runId, now })));
  timings['write'] = ms(t0);
  themeReport.unassigned = await insights.countUnassigned(db);
  if (themeReport.count > 0 && themeReport.unassigned > Math.max(50, 0.15 * input.itemCount)) {
    warnings.push(`${themeReport.unassigned} items fit no theme: \`rapport themes run --rebuild\` discovers themes afresh (names are kept)`);
  }
  const report: ListenReport = {
    lastFeedbackRef: lastRef,
    items: input.itemCount,
    analysed,
    duplicates,
    themes: themeReport,
    tagSets: tagPlans.map((p) => p.report),
    languages: signals.languages,
    sentiment: {
      ...learning,
      method: reader.model ? `the rules, and a model learned from ${Object.values(reader.model.examples).reduce((a, b) => a + b, 0)} labels (${reader.model.source}) on top` : 'the rules',
      model: reader.model ? { source: reader.model.source, examples: reader.model.examples } : null,
      reread,
    },
    warnings,
    timings,
  };
  await serialize(() =>
    markRunOk(db, runId, { finishedAt: now(), items: analysed, report: JSON.stringify(report) }),
  );
  return report;
}

/**
 * Splits a stored theme in `k` by clustering its members again (over the model's vocabulary).
 * The parts become new themes (their `parent_id` is the split one, kept as `split`); the
 * members move to the part they fall in, and new items are assigned to the parts from then on.
 */
export function splitStoredTheme(store: Store, themeId: number, options: { k?: number; seed?: number; now?: () => number; serialize?: <T>(fn: () => Promise<T>) => Promise<T> } = {}): Promise<{ parts: number[] }> {
  return splitNow(store, themeId, options);
}

async function splitNow(store: Store, themeId: number, options: { k?: number; seed?: number; now?: () => number; serialize?: <T>(fn: () => Promise<T>) => Promise<T> }): Promise<{ parts: number[] }> {
  const k = options.k ?? 2;
  const now = options.now ?? Date.now;
  const serialize = options.serialize ?? (<T>(fn: () => Promise<T>) => fn());
  const db = store.db;
  const version = await modelVersion(db, THEMES_PURPOSE);
  const stored = await loadModel<StoredTheme>(db, THEMES_PURPOSE);
  if (!stored) throw invalid('id', 'themes have not been discovered yet: run `rapport themes run` first');
  const status = await themes.themeStatus(db, themeId);
  if (status === undefined) throw notFound(`theme ${themeId}`);
  if (status !== 'active') throw invalid('id', `theme ${themeId} is ${status}; split the theme it became`);
  const members = await themes.themeMemberTexts(db, themeId);
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
      const still = await themes.themeStatus(tx, themeId);
      if (still !== 'active') throw invalid('id', `theme ${themeId} changed while it was being split (${still ?? 'erased'}); try again`);
      const rowOf: Record<string, number> = { ...stored.rowOf };
      for (const id of modelIds) delete rowOf[String(id)];
      const partRows: number[] = [];
      for (const p of split.parts) {
        const id = await themes.insertTheme(tx, { label: p.label, keyPhrases: p.keyPhrases, quotes: p.quotes.map((q) => Number(members[q]!.id)), size: p.size, parentId: themeId }, ts);
        partRows.push(id);
        rowOf[String(p.modelId)] = id;
      }
      const rowOfPart = new Map(split.parts.map((p, j) => [p.modelId, partRows[j]!]));
      await insights.setThemes(
        tx,
        members.map((m, i) => [Number(m.id), rowOfPart.get(split.partOf[i]!) ?? partRows[0]!]),
      );
      await themes.syncPins(tx, [themeId]);
      await themes.markSplit(tx, themeId, ts);
      await saveModel(tx, THEMES_PURPOSE, { model: storable(split.model), rowOf } satisfies StoredTheme, null, ts, version);
      return partRows;
    }),
  );
  return { parts };
}
