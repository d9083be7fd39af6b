import { invalid, RapportError } from '../core/errors.js';
import type { FeedbackRecord, IngestRecord } from '../ingest/records.js';
import { normalizeMessage } from '../ingest/segment/segment.js';
import { IngestWriter } from '../ingest/writer/writer.js';
import type { Store } from '../store/db.js';
import { CATEGORIES, PRODUCTS } from './catalog.js';
import { crashWindow, simulateCustomer, simulateVisitor, surveyWaves, type FeedbackTruth, type Settings } from './customer.js';
import type { Message } from './emit.js';
import { DEFAULT_POPULATION, type Population } from './model.js';
import { IDEAS } from './text.js';
import { DEFAULT_END, DEFAULT_MONTHS } from './defaults.js';
import * as repo from './demo.repository.js';

/**
 * The demo company: two years of a believable online shop, loaded through the same ingestion
 * path users use (Segment messages → normalizeMessage → IngestWriter). The true parameters
 * behind every customer go to `demo_truth`, the population's to `meta` key `demo`, so models
 * can be checked against what really generated the data.
 */

/** Bumped when the generator changes what a seed produces. */
export const GENERATOR_VERSION = 2;

export interface DemoOptions {
  customers: number;
  seed: number;
  /** Length of the history in months (default 24). */
  months?: number | undefined;
  /** Last day of the history, YYYY-MM-DD (default 2026-10-31); the data ends at its midnight. */
  end?: string | undefined;
  population?: Population | undefined;
  /** Customers per write (two transactions each: anonymous traffic, then the rest). */
  batchCustomers?: number | undefined;
  onProgress?: ((p: DemoProgress) => void) | undefined;
}

export interface DemoProgress {
  customersDone: number;
  customers: number;
  records: number;
}

export interface DemoSummary {
  seed: number;
  months: number;
  end: string;
  /** Identified (signed-up) customers. */
  customers: number;
  /** Visitors who never identified. */
  visitors: number;
  accounts: number;
  orders: number;
  orderLines: number;
  interactions: number;
  feedback: number;
  /** Records passed to the writer, and what it did with them. */
  records: number;
  inserted: number;
  updated: number;
  duplicates: number;
}

/** What `meta.demo` holds. */
export interface DemoMeta {
  generator: number;
  seed: number;
  months: number;
  end: string;
  start: string;
  customers: number;
  visitors: number;
  population: Population;
  timeUnit: 'week';
  crashWindow: [string, string];
  surveyWaves: string[];
  categories: { key: string; name: string; share: number }[];
  products: number;
  ideas: Record<string, { weight: number; b2b: boolean }>;
  anonymousFeedback: FeedbackTruth[];
  notes: string[];
}

/** The observation window for (end day, months): [start, end) in epoch ms. */
export function demoWindow(end: string, months: number): { start: number; end: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(end);
  if (!m) throw invalid('end', `expected a date as YYYY-MM-DD, got "${end}"`);
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  const d = Number(m[3]);
  const endMs = Date.UTC(y, mo, d + 1);
  const check = new Date(Date.UTC(y, mo, d));
  if (check.getUTCMonth() !== mo || check.getUTCDate() !== d) throw invalid('end', `"${end}" is not a calendar date`);
  if (y < 1950 || y > 2199) throw invalid('end', `expected a year from 1950 to 2199, got ${y}`);
  return { start: Date.UTC(y, mo - months, d + 1), end: endMs };
}

function validate(o: DemoOptions): { customers: number; seed: number; months: number; end: string } {
  const months = o.months ?? DEFAULT_MONTHS;
  const end = o.end ?? DEFAULT_END;
  if (!Number.isInteger(o.customers) || o.customers < 1 || o.customers > 1_000_000) {
    throw invalid('customers', `expected a whole number from 1 to 1000000, got ${o.customers}`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 2 ** 32 - 1) throw invalid('seed', `expected a whole number from 0 to 4294967295, got ${o.seed}`);
  if (!Number.isInteger(months) || months < 3 || months > 120) throw invalid('months', `expected a whole number of months from 3 to 120, got ${months}`);
  return { customers: o.customers, seed: o.seed, months, end };
}

async function readMeta(store: Store): Promise<DemoMeta | null> {
  const value = await repo.readDemoMeta(store.db);
  return value === null ? null : (JSON.parse(value) as DemoMeta);
}

async function writeMeta(store: Store, meta: DemoMeta): Promise<void> {
  await repo.writeDemoMeta(store.db, JSON.stringify(meta));
}

function normalize(messages: readonly Message[], receivedAt: number, out: IngestRecord[]): void {
  for (const m of messages) out.push(...normalizeMessage(m.type, m.body, { source: 'demo', receivedAt }));
}

/**
 * Generates the demo company into `store`. Deterministic: the same options give the same
 * database content (ids included). Re-running on the same database stores nothing twice;
 * a larger `customers` adds the missing ones. A database that already holds a demo made
 * with another seed, window or generator version is refused.
 *
 * @example
 *   const summary = await generateDemo(store, { customers: 2000, seed: 1 });
 *   // { customers: 2000, orders: …, interactions: …, feedback: … }
 */
export async function generateDemo(store: Store, options: DemoOptions): Promise<DemoSummary> {
  const o = validate(options);
  const window = demoWindow(o.end, o.months);
  const population = options.population ?? DEFAULT_POPULATION;
  const settings: Settings = { seed: o.seed, start: window.start, end: window.end, population };
  const previous = await readMeta(store);
  if (previous && (previous.seed !== o.seed || previous.months !== o.months || previous.end !== o.end || previous.generator !== GENERATOR_VERSION)) {
    throw new RapportError(
      'conflict',
      `this database already holds a demo company (seed ${previous.seed}, ${previous.months} months to ${previous.end}, generator ${previous.generator}); ` +
        `use a fresh database for seed ${o.seed}, ${o.months} months to ${o.end}`,
    );
  }
  const visitors = Math.round(o.customers * population.visitorsPerCustomer);
  const meta: DemoMeta = {
    generator: GENERATOR_VERSION,
    seed: o.seed,
    months: o.months,
    end: o.end,
    start: new Date(window.start).toISOString().slice(0, 10),
    customers: Math.max(o.customers, previous?.customers ?? 0),
    visitors: Math.max(visitors, previous?.visitors ?? 0),
    population,
    timeUnit: 'week',
    crashWindow: crashWindow(settings).map((t) => new Date(t).toISOString()) as [string, string],
    surveyWaves: surveyWaves(settings).map((t) => new Date(t).toISOString()),
    categories: CATEGORIES.map((c) => ({ key: c.key, name: c.name, share: c.share })),
    products: PRODUCTS.length,
    ideas: Object.fromEntries(Object.entries(IDEAS).map(([k, v]) => [k, { weight: v.weight, b2b: v.b2b }])),
    anonymousFeedback: [],
    notes: [
      'Purchases: BG/NBD per customer (lambda per week, dropout p after each repeat purchase); truth.pEffective is the dropout actually faced after order defects raise it.',
      'Order values: a Gamma(p, nu) budget per order filled with catalogue lines, so totals are sums of list prices near the budget (truth.realisedMeanSpend vs meanSpend).',
      'Defects: each order independently suffers delivery_late/item_damaged/wrong_item/double_charge; a hit on a repeat purchase raises that purchase dropout by churnHazard.',
      'Feedback truth: demo_truth.params.feedback lists every item with its themes (defect:, issue:, idea:, product:, praise, complaint, neutral).',
      'LOVE stages: demo_truth.params.stage is the latent stage each identified customer reached (depth, not lost by silence), drawn from its own stream; stageHistory says when each stage on the way up was reached. Stage behaviour (answered questions, regular use, reviews, referrals, community answers, idea votes, panels, betas, interviews, adopted ideas) is emitted from it, with overlap between stages.',
    ],
  };
  await writeMeta(store, { ...meta, anonymousFeedback: previous?.anonymousFeedback ?? [] });

  // The writer's clock is the end of the window, so that repeated runs give identical rows.
  const writer = new IngestWriter(store, () => window.end);
  const summary: DemoSummary = {
    seed: o.seed,
    months: o.months,
    end: o.end,
    customers: o.customers,
    visitors,
    accounts: 0,
    orders: 0,
    orderLines: 0,
    interactions: 0,
    feedback: 0,
    records: 0,
    inserted: 0,
    updated: 0,
    duplicates: 0,
  };
  const accounts = new Set<string>();
  const anonymousFeedback: FeedbackTruth[] = [];
  const batch = Math.max(1, options.batchCustomers ?? 100);
  const add = (c: { inserted: number; updated: number; duplicates: number }): void => {
    summary.inserted += c.inserted;
    summary.updated += c.updated;
    summary.duplicates += c.duplicates;
  };

  for (let from = 0; from < o.customers; from += batch) {
    const to = Math.min(o.customers, from + batch);
    const anonymous: IngestRecord[] = [];
    const known: IngestRecord[] = [];
    const feedback: FeedbackRecord[] = [];
    const truths: { user_id: string; params: string }[] = [];
    // Visitors are spread over the batches in proportion.
    const vFrom = Math.floor((visitors * from) / o.customers);
    const vTo = Math.floor((visitors * to) / o.customers);
    for (let v = vFrom; v < vTo; v++) {
      const r = simulateVisitor(settings, v);
      normalize(r.emitter.anonymous, window.end, anonymous);
      feedback.push(...r.emitter.feedback);
      anonymousFeedback.push(...r.feedback);
    }
    for (let i = from; i < to; i++) {
      const r = simulateCustomer(settings, i);
      normalize(r.emitter.anonymous, window.end, anonymous);
      normalize(r.emitter.known, window.end, known);
      feedback.push(...r.emitter.feedback);
      truths.push({ user_id: r.truth.userId, params: JSON.stringify(r.truth) });
      if (r.groupId) accounts.add(r.groupId);
      summary.orders += r.orders;
      summary.orderLines += r.orderLines;
    }
    for (const rec of [...anonymous, ...known]) if (rec.kind === 'interaction') summary.interactions++;
    summary.feedback += feedback.length;
    summary.records += anonymous.length + known.length + feedback.length;
    // Anonymous traffic first, in its own transaction: identify and alias then merge it.
    add(await writer.write(anonymous));
    add(await writer.write([...known, ...feedback]));
    await repo.writeTruths(store.db, truths);
    options.onProgress?.({ customersDone: to, customers: o.customers, records: summary.records });
  }
  summary.accounts = accounts.size;
  const merged = new Map((previous?.anonymousFeedback ?? []).map((f) => [f.id, f]));
  for (const f of anonymousFeedback) merged.set(f.id, f);
  await writeMeta(store, { ...meta, anonymousFeedback: [...merged.values()] });
  return summary;
}
