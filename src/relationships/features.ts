/**
 * Reading the stored history into the stage features (models/stages/features.ts): every
 * customer for a run, or one customer for an explanation, through the same code so that the
 * two agree.
 */
import { CONVERSATION_BIT, Features, REACTION_BIT, type FeaturePlan } from '../models/stages/features.js';
import type { RowColumns, Timeline } from '../models/stages/timeline.js';
import type { Store } from '../store/db.js';
import { Worker } from 'node:worker_threads';
import { fromThreadError, workerScript, type ThreadError } from '../core/threads.js';
import type { StageRules } from '../models/stages/rules.js';
import { idRange, NONE, scanFeedback, scanInteractions, scanOrders, type CustomerList } from './stages.repository.js';

/** Interactions above which a run over every customer on a SQLite file counts them on two threads. */
const PARALLEL_ROWS = 1_000_000;
/** The share of the interactions the second thread counts (the run's own thread also reads orders and feedback). */
const WORKER_SHARE = 0.6;

type Counted = Parameters<Features['merge']>[0];

/** Reads interactions [from, to) on a thread of its own: their counts for a run, or the rows themselves for a history of `months`. */
function onThread<T>(store: Store, rules: StageRules, asOf: number, ids: Float64Array, range: [number, number], months?: number[]): Promise<T> {
  const { script, eval: evaluated } = workerScript(import.meta.url, 'scan.worker');
  const worker = new Worker(script, { eval: evaluated, workerData: { target: store.target, rules, asOf, ids, range, ...(months ? { mode: 'rows', months } : {}) } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { ok: true; features?: T; rows?: T } | { ok: false; error: ThreadError }) => {
      void worker.terminate();
      if (m.ok) resolve((m.features ?? m.rows)!);
      else reject(fromThreadError(m.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the stages scan thread exited (${code})`)));
  });
}

/** The event name → group bit mask the interactions are coded with. */
export function groupMasks(plan: FeaturePlan, events: Record<string, string[]>, reactions: readonly string[] = []): Map<string, number> {
  const masks = new Map<string, number>(reactions.map((n) => [n, REACTION_BIT]));
  plan.groups.forEach((g, bit) => {
    for (const name of events[g] ?? []) masks.set(name, (masks.get(name) ?? 0) | (1 << bit));
  });
  return masks;
}


/** What reading the rows hands on, coded as the repository reads them (rating and sentiment NONE when absent). */
export interface RowSink {
  interaction(i: number, at: number, direction: number, groups: number): void;
  order(i: number, at: number, cents: number): void;
  feedback(i: number, at: number, kinds: number, rating: number, label: number, sentiment: number): void;
}

/**
 * Reads the interactions, orders and feedback of the customers of `list` into `sink` (by their
 * position in the list). `range` limits the interactions to an id range (the rest are another
 * thread's).
 */
export async function readRows(
  store: Store,
  plan: FeaturePlan,
  rules: StageRules,
  list: CustomerList,
  sink: RowSink,
  o: { customerId?: number; between?: () => void; range?: [number, number] } = {},
): Promise<void> {
  const scanOptions = { ...(o.customerId !== undefined ? { customerId: o.customerId } : {}), ...(o.between ? { between: o.between } : {}) };
  await scanInteractions(
    store,
    groupMasks(plan, rules.events, rules.reactions),
    { channels: rules.conversationChannels, bit: CONVERSATION_BIT },
    (p, n) => {
      for (let k = 0; k < n * 4; k += 4) {
        const i = list.positionOf(p[k]!);
        if (i >= 0) sink.interaction(i, p[k + 1]!, p[k + 2]!, p[k + 3]!);
      }
    },
    { ...scanOptions, ...(o.range ? { range: o.range } : {}) },
  );
  await scanOrders(
    store,
    (p, n) => {
      for (let k = 0; k < n * 3; k += 3) {
        const i = list.positionOf(p[k]!);
        if (i >= 0) sink.order(i, p[k + 1]!, p[k + 2]!);
      }
    },
    scanOptions,
  );
  const kindBits = new Map(plan.feedbackKinds.map((k, b) => [k, 1 << b]));
  await scanFeedback(
    store,
    kindBits,
    (p, n) => {
      for (let k = 0; k < n * 6; k += 6) {
        const i = list.positionOf(p[k]!);
        if (i >= 0) sink.feedback(i, p[k + 1]!, p[k + 2]!, p[k + 3]!, p[k + 4]!, p[k + 5]!);
      }
    },
    scanOptions,
  );
}

/** The id range of the interactions a second thread reads, and the rest, when a run over every customer of a large SQLite file is worth splitting. */
async function splitInteractions(store: Store, o: { customerId?: number; parallelAbove?: number }): Promise<{ theirs: [number, number]; ours: [number, number] } | null> {
  if (o.customerId !== undefined || store.dialect !== 'sqlite' || store.target.kind !== 'sqlite' || store.target.file === ':memory:') return null;
  const [lo, hi] = await idRange(store, 'interactions');
  if (hi - lo + 1 < (o.parallelAbove ?? PARALLEL_ROWS)) return null;
  const split = Math.round(lo + (hi - lo + 1) * WORKER_SHARE);
  return { theirs: [lo, split], ours: [split, hi + 1] };
}

/** Hands rows to a timeline, decoded as the repository codes them (orders in cents, sentiment in ten-thousandths). */
export function timelineSink(t: Timeline): RowSink {
  return {
    interaction: (i, at, direction, groups) => t.addInteraction(i, at, direction, groups),
    order: (i, at, cents) => t.addOrder(i, at, cents),
    feedback: (i, at, kinds, rating, label, sentiment) => t.addFeedback(i, at, kinds, rating === NONE ? Number.NaN : rating / 100, label, sentiment === NONE ? Number.NaN : sentiment),
  };
}

/** Collects every customer's rows into a timeline of `months` (models/stages/timeline.ts), on two threads for a large SQLite file. */
export async function gatherTimeline(store: Store, plan: FeaturePlan, rules: StageRules, list: CustomerList, timeline: Timeline, o: { parallelAbove?: number } = {}): Promise<number> {
  list.firstSeen.forEach((t, i) => {
    if (Number.isFinite(t)) timeline.seen(i, t);
  });
  const split = await splitInteractions(store, o);
  const elsewhere = split ? onThread<RowColumns>(store, rules, plan.asOf, list.ids, split.theirs, [...timeline.months]) : undefined;
  elsewhere?.catch(() => undefined);
  await readRows(
    store,
    plan,
    rules,
    list,
    timelineSink(timeline),
    split ? { range: split.ours } : {},
  );
  if (elsewhere) timeline.appendInteractions(await elsewhere);
  return elsewhere ? 2 : 1;
}

/**
 * Fills features for the customers of `list` from their interactions, orders and feedback.
 * `between` runs between slices (a deadline check); `customerId` reads one customer's rows.
 */
export async function gatherFeatures(
  store: Store,
  plan: FeaturePlan,
  rules: StageRules,
  list: CustomerList,
  o: { customerId?: number; between?: () => void; parallelAbove?: number } = {},
): Promise<Features> {
  const f = new Features(plan, list.ids.length);
  list.firstSeen.forEach((t, i) => {
    if (Number.isFinite(t)) f.seen(i, t);
  });
  const scanOptions = { ...(o.customerId !== undefined ? { customerId: o.customerId } : {}), ...(o.between ? { between: o.between } : {}) };
  // Over every customer of a large SQLite file, a second thread counts most of the interactions.
  const split = await splitInteractions(store, o);
  const elsewhere = split ? onThread<Counted>(store, rules, plan.asOf, list.ids, split.theirs) : undefined;
  // Awaited below; a failure here first must not go unhandled meanwhile.
  elsewhere?.catch(() => undefined);
  const range = split?.ours;
  await readRows(
    store,
    plan,
    rules,
    list,
    {
      interaction: (i, at, direction, groups) => f.addInteraction(i, at, direction, groups),
      order: (i, at, cents) => f.addOrder(i, at, cents / 100),
      feedback: (i, at, kinds, rating, label, sentiment) => f.addFeedback(i, at, kinds, rating === NONE ? Number.NaN : rating / 100, label, sentiment === NONE ? Number.NaN : sentiment / 10_000),
    },
    { ...scanOptions, ...(range ? { range } : {}) },
  );
  if (elsewhere) f.merge(await elsewhere);
  f.threads = elsewhere ? 2 : 1;
  return f;
}
