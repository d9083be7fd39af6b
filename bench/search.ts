import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { migrate, openStore, type Store } from '../src/store/db.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { CATEGORIES, PRODUCTS } from '../src/demo/catalog.js';
import { Rng } from '../src/demo/random.js';
import { GENERAL_ISSUES, IDEA_KEYS, ideaText, issueText, ORDER_DEFECTS, reviewText, surveyText } from '../src/demo/text.js';
import { syncSearch } from '../src/search/search.indexer.js';
import { RANK_WINDOW, search, SearchParams, type SearchPage } from '../src/search/search.service.js';

/**
 * `npm run bench -- search [--docs 1000000] [--queries 40] [--pg] [--fresh]`
 *
 * Builds a store with about `docs` searchable records once (cached under the temp directory):
 * feedback of every kind worded by the demo's generators (60%), product searches and chat
 * notes (35%), customers (5%), over two years; then indexes it with the incremental indexer
 * (the index build time), and runs a query mix: common words matching hundreds of thousands
 * of documents, rare words, phrases, prefixes, OR and exclusions, with and without filters,
 * by relevance and by date. Prints p50/p95/p99 per group and overall.
 *
 * Ingest overhead: the writer's speed on 200,000 interactions (10% with text) with the search
 * migration's triggers and without them, and what indexing those rows costs afterwards.
 */

const DAY = 86_400_000;
const END = Date.UTC(2026, 9, 31);
const START = END - 730 * DAY;

interface Fixture {
  customers: number;
  feedback: number;
  interactions: number;
}

function sizes(docs: number): Fixture {
  return { customers: Math.round(docs * 0.05), feedback: Math.round(docs * 0.6), interactions: Math.round(docs * 0.35) };
}

const FIRST = ['Ann', 'Bob', 'Cid', 'Dana', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'Jen', 'Kai', 'Lea', 'Max', 'Nia', 'Oto', 'Pia', 'Quin', 'Rosa', 'Sam', 'Tess'];
const LAST = ['Lee', 'Stone', 'Park', 'Novak', 'Berg', 'Costa', 'Diaz', 'Evans', 'Fox', 'Gray', 'Hart', 'Ito', 'Jung', 'Klein', 'Lopez', 'Moss'];
const COMPANIES = ['Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Acme', 'Soylent', 'Tyrell'];
const ISSUES = [...Object.values(ORDER_DEFECTS), ...Object.values(GENERAL_ISSUES)];

/** Rows of the fixture, generated in time order (as they would arrive), deterministic. */
function* rows(n: Fixture): Generator<
  | { t: 'customer'; id: number; name: string; email: string; company: string; at: number }
  | { t: 'feedback'; customer: number; kind: string; text: string; props: string; at: number }
  | { t: 'interaction'; customer: number; name: string; props: string; at: number }
> {
  const rng = Rng.from(7, 'bench-search');
  for (let i = 1; i <= n.customers; i++) {
    const name = `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
    yield { t: 'customer', id: i, name, email: `${name.toLowerCase().replace(' ', '.')}${i}@example.com`, company: rng.pick(COMPANIES), at: START + ((i - 1) / n.customers) * 365 * DAY };
  }
  const total = n.feedback + n.interactions;
  let f = 0;
  for (let k = 0; k < total; k++) {
    const at = Math.floor(START + (k / total) * 730 * DAY + rng.uniform(0, 3600_000));
    const customer = 1 + Math.floor(rng.float() * n.customers);
    const isFeedback = f < n.feedback && (rng.float() < n.feedback / total || k - f >= n.interactions);
    if (isFeedback) {
      f++;
      const r = rng.float();
      const product = rng.pick(PRODUCTS);
      const order = `ORD-${(k * 7919).toString(36).toUpperCase()}`;
      if (r < 0.4) {
        const rating = 1 + Math.floor(rng.float() * 5);
        yield { t: 'feedback', customer, kind: 'review', text: reviewText(rating, product, CATEGORIES[product.categoryIndex]!.key, rng, rng.chance(0.1) ? 'delivery_late' : null), props: JSON.stringify({ product_name: product.name }), at };
      } else if (r < 0.65) {
        yield { t: 'feedback', customer, kind: 'survey', text: surveyText(Math.floor(rng.float() * 11), rng, rng.chance(0.3) ? 'delivery_late' : null, rng.chance(0.3) ? rng.pick(IDEA_KEYS) : null), props: '{"survey":"NPS"}', at };
      } else if (r < 0.9) {
        const text = issueText(rng.pick(ISSUES), rng, { order, product: product.name, days: String(rng.between(2, 12)), amount: '$42.00', query: 'headphones', first: rng.pick(FIRST) });
        yield { t: 'feedback', customer, kind: 'ticket', text, props: JSON.stringify({ subject: text.split(/[.!?]/)[0]!.slice(0, 60), ticket_id: order }), at };
      } else {
        yield { t: 'feedback', customer, kind: 'other', text: ideaText(rng.pick(IDEA_KEYS), rng), props: '{"type":"idea"}', at };
      }
    } else if (rng.chance(0.85)) {
      const c = rng.pick(CATEGORIES);
      const query = rng.chance(0.3) ? rng.pick(PRODUCTS).name : rng.pick(c.searches);
      yield { t: 'interaction', customer, name: 'Products Searched', props: JSON.stringify({ query }), at };
    } else {
      const text = issueText(rng.pick(ISSUES), rng, { order: `ORD-${k.toString(36).toUpperCase()}`, product: rng.pick(PRODUCTS).name, days: '3', amount: '$19.99', query: 'kindle', first: rng.pick(FIRST) });
      yield { t: 'interaction', customer, name: 'Support Chat Completed', props: JSON.stringify({ transcript: text, duration_minutes: 7 }), at };
    }
  }
}

/** Loads the raw rows straight into the tables (the writer is measured separately). */
async function loadSqlite(store: Store, n: Fixture): Promise<void> {
  const db = store.sqlite!;
  const now = Date.now();
  const ins = {
    customer: db.prepare(`insert into customers (id, user_id, email, name, traits, first_seen, last_seen, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    feedback: db.prepare(`insert into feedback (customer_id, kind, text, rating, status, created_at, properties, source, source_id, received_at) values (?, ?, ?, null, 'open', ?, ?, 'bench', ?, ?)`),
    interaction: db.prepare(`insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, source_key) values (?, 'track', ?, 'web', 'inbound', ?, ?, 'bench', ?, ?, ?)`),
  };
  let k = 0;
  db.exec('begin');
  for (const r of rows(n)) {
    k++;
    if (r.t === 'customer') ins.customer.run(r.id, `u${r.id}`, r.email, r.name, JSON.stringify({ company: r.company }), r.at, r.at, r.at, now);
    else if (r.t === 'feedback') ins.feedback.run(r.customer, r.kind, r.text, r.at, r.props, `f${k}`, now);
    else ins.interaction.run(r.customer, r.name, r.at, r.props, `i${k}`, now, k);
  }
  db.exec('commit');
  await fillFilters(store, n);
}

async function loadPostgres(store: Store, n: Fixture): Promise<void> {
  const now = Date.now();
  const batch = { c: [] as unknown[][], f: [] as unknown[][], i: [] as unknown[][] };
  const flush = async () => {
    if (batch.c.length > 0) {
      const cols = transpose(batch.c, 8);
      await sql`insert into customers (id, user_id, email, name, traits, first_seen, last_seen, created_at, updated_at)
        select id, user_id, email, name, traits, at, at, at, ${now} from unnest(${cols[0]}::bigint[], ${cols[1]}::text[], ${cols[2]}::text[], ${cols[3]}::text[], ${cols[4]}::text[], ${cols[5]}::bigint[]) as u(id, user_id, email, name, traits, at)`.execute(store.db);
      batch.c = [];
    }
    if (batch.f.length > 0) {
      const cols = transpose(batch.f, 6);
      await sql`insert into feedback (customer_id, kind, text, rating, status, created_at, properties, source, source_id, received_at)
        select c, k, x, null, 'open', a, p, 'bench', s, ${now} from unnest(${cols[0]}::bigint[], ${cols[1]}::text[], ${cols[2]}::text[], ${cols[3]}::bigint[], ${cols[4]}::text[], ${cols[5]}::text[]) as u(c, k, x, a, p, s)`.execute(store.db);
      batch.f = [];
    }
    if (batch.i.length > 0) {
      const cols = transpose(batch.i, 5);
      await sql`insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at)
        select c, 'track', nm, 'web', 'inbound', a, p, 'bench', s, ${now} from unnest(${cols[0]}::bigint[], ${cols[1]}::text[], ${cols[2]}::bigint[], ${cols[3]}::text[], ${cols[4]}::text[]) as u(c, nm, a, p, s)`.execute(store.db);
      batch.i = [];
    }
  };
  let k = 0;
  for (const r of rows(n)) {
    k++;
    if (r.t === 'customer') batch.c.push([r.id, `u${r.id}`, r.email, r.name, JSON.stringify({ company: r.company }), Math.floor(r.at)]);
    else if (r.t === 'feedback') batch.f.push([r.customer, r.kind, r.text, r.at, r.props, `f${k}`]);
    else batch.i.push([r.customer, r.name, r.at, r.props, `i${k}`]);
    if (batch.c.length + batch.f.length + batch.i.length >= 20_000) await flush();
  }
  await flush();
  await sql`select setval(pg_get_serial_sequence('customers', 'id'), (select max(id) from customers))`.execute(store.db);
  await fillFilters(store, n);
  await sql`analyze`.execute(store.db);
}

function transpose(rowsIn: unknown[][], width: number): unknown[][] {
  const cols: unknown[][] = Array.from({ length: width }, () => []);
  for (const r of rowsIn) for (let j = 0; j < width; j++) cols[j]!.push(r[j]);
  return cols;
}

/** Micro-segments for every customer (8) and a theme for every feedback item (40), as the jobs would leave them. */
async function fillFilters(store: Store, n: Fixture): Promise<void> {
  await sql`insert into customer_values (customer_id, run_id, first_day, last_day, purchase_days, spend, repeat_spend, p_alive, expected_purchases, expected_spend, clv, value_at_risk, rfm_r, rfm_f, rfm_m, rfm_group, segment)
    select id, 1, 0, 1, 2, 100, 50, 0.5 + (id % 50) / 100.0, 1, 50, (id % 997) * 1.5, 1, 3, 3, 3, 'loyal', id % 8 from customers`.execute(store.db);
  const now = Date.now();
  for (let i = 0; i < 40; i++) {
    await store.db.insertInto('themes').values({ label: `theme ${i}`, name: null, key_phrases: '[]', quotes: '[]', size: Math.round(n.feedback / 40), status: 'active', merged_into: null, parent_id: null, created_at: now, updated_at: now }).execute();
  }
  await sql`insert into feedback_insights (feedback_id, theme_id, theme_similarity, sentiment, sentiment_label, intent, intent_confidence, lang, duplicate_of, minhash, analysed_at)
    select id, 1 + (id % 40), 0.8, 0, 'neutral', 'other', 0.5, 'en', null, null, ${now} from feedback`.execute(store.db);
}

interface Q {
  group: string;
  params: Record<string, unknown>;
}

function queryMix(n: Fixture, rounds: number): Q[] {
  const rng = Rng.from(3, 'bench-search-queries');
  const product = () => rng.pick(PRODUCTS).name.split(' ').find((w) => w.length > 4) ?? 'kindle';
  const recent = new Date(END - 30 * DAY).toISOString().slice(0, 10);
  const groups: [string, () => Record<string, unknown>][] = [
    ['common word', () => ({ q: rng.pick(['delivery', 'order', 'great', 'late', 'item', 'good', 'app', 'please']) })],
    ['rare word', () => ({ q: rng.pick([product(), `ORD-${(rng.between(1, n.feedback) * 7919).toString(36).toUpperCase()}`, 'globex', 'birthday', 'warped']) })],
    ['phrase', () => ({ q: rng.pick(['"arrived late"', '"battery life"', '"customer service"', '"charged twice"', '"gift wrapping"', '"the wrong item"']) })],
    ['prefix', () => ({ q: rng.pick(['deliv*', 'ref*', 'head*', 'ch*', 'batt*', 'wr*', 'kin*']) })],
    ['OR / exclusion', () => ({ q: rng.pick(['refund OR return', 'delivery -late', 'late -delivery', 'broken OR damaged OR cracked', '"wrong item" -refund']) })],
    ['common + kind', () => ({ q: rng.pick(['delivery', 'order', 'late', 'refund']), kind: rng.pick(['ticket', 'review', 'survey,other', 'interaction']) })],
    ['common + customer', () => ({ q: rng.pick(['delivery', 'order', 'late', 'great']), customer: `u${rng.between(1, n.customers)}` })],
    ['common + last 30 days', () => ({ q: rng.pick(['delivery', 'order', 'refund', 'app']), from: recent })],
    ['common + segment', () => ({ q: rng.pick(['delivery', 'order', 'refund', 'app']), segment: rng.between(0, 7) })],
    ['common + theme', () => ({ q: rng.pick(['delivery', 'order', 'refund', 'app']), theme: rng.between(1, 40) })],
    ['rare + theme', () => ({ q: product(), theme: rng.between(1, 40) })],
    ['by date', () => ({ q: rng.pick(['delivery', 'refund OR return', 'head*', product()]), sort: 'date' })],
  ];
  const out: Q[] = [];
  for (let r = 0; r < rounds; r++) for (const [group, make] of groups) out.push({ group, params: make() });
  return out;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(1)}  p95 ${pct(xs, 95).toFixed(1)}  p99 ${pct(xs, 99).toFixed(1)} ms`;

async function runQueries(store: Store, n: Fixture, rounds: number, label: string): Promise<void> {
  const mix = queryMix(n, rounds);
  for (const q of mix.slice(0, 24)) await search(store, SearchParams.parse(q.params), { catchUp: false });
  const times = new Map<string, number[]>();
  const totals = new Map<string, number[]>();
  const all: number[] = [];
  let newest = 0;
  for (const q of mix) {
    const t0 = performance.now();
    const page: SearchPage = await search(store, SearchParams.parse(q.params), { catchUp: false });
    const ms = performance.now() - t0;
    all.push(ms);
    if (page.ranking === 'newest') newest++;
    (times.get(q.group) ?? times.set(q.group, []).get(q.group)!).push(ms);
    (totals.get(q.group) ?? totals.set(q.group, []).get(q.group)!).push(page.total);
  }
  const lines = [`${label}: ${mix.length} queries (${rounds} of each group), ${newest} ranked among the newest ${RANK_WINDOW} matches`];
  for (const [group, xs] of times) {
    const tot = totals.get(group)!;
    lines.push(`  ${group.padEnd(24)} ${fmt(xs)}   matches median ${Math.round(pct(tot, 50)).toLocaleString('en-US')}, max ${Math.round(Math.max(...tot)).toLocaleString('en-US')}`);
  }
  lines.push(`  ${'all'.padEnd(24)} ${fmt(all)}   (target p95 < 50 ms)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The writer's speed on interactions with and without the search triggers, and the indexing cost after. */
async function ingestOverhead(events: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-search-ingest-'));
  try {
    const out: string[] = [];
    for (const withSearch of [false, true, false, true]) {
      const file = path.join(dir, `${withSearch}-${out.length}.db`);
      const store = await openStore({ kind: 'sqlite', file }, { migrate: false });
      await migrate(store, withSearch ? {} : { to: '005_listening' });
      const writer = new IngestWriter(store);
      const rng = Rng.from(5, 'ingest');
      const t0 = performance.now();
      await writer.bulk(async () => {
        for (let b = 0; b < events; b += 1000) {
          const recs: IngestRecord[] = [];
          for (let i = b; i < b + 1000; i++) {
            const text = rng.chance(0.1);
            recs.push({
              kind: 'interaction',
              who: { userId: `u${rng.between(1, 20_000)}` },
              type: text ? 'track' : 'page',
              name: text ? 'Products Searched' : 'Home',
              channel: 'web',
              direction: 'inbound',
              at: START + i * 60_000,
              properties: text ? { query: rng.pick(CATEGORIES).searches[0]! } : { path: '/' },
              source: 'bench',
              sourceId: `e${i}`,
            });
          }
          await writer.write(recs);
        }
      });
      const writeS = (performance.now() - t0) / 1000;
      let line = `  writer, ${events.toLocaleString('en-US')} interactions (10% with text), ${withSearch ? 'with search (006)' : 'without search (005)'}: ${(events / writeS).toFixed(0)} events/s`;
      if (withSearch) {
        const r = await syncSearch(store);
        line += `; indexing them afterwards: ${(r.ms / 1000).toFixed(2)} s (${r.indexed.toLocaleString('en-US')} documents from ${r.scanned.toLocaleString('en-US')} rows, ${((r.ms * 1000) / r.scanned).toFixed(1)} µs a row)`;
      }
      out.push(line);
      await store.close();
    }
    process.stdout.write(`ingest overhead:\n${out.join('\n')}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      docs: { type: 'string', default: '1000000' },
      rounds: { type: 'string', default: '25' },
      pg: { type: 'boolean', default: false },
      'skip-sqlite': { type: 'boolean', default: false },
      'skip-ingest': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
    },
  });
  const docs = Number(values.docs);
  const n = sizes(docs);
  const rounds = Number(values.rounds);

  if (!values['skip-sqlite']) {
    const file = path.join(os.tmpdir(), `rapport-bench-search-${docs}.sqlite`);
    if (values.fresh || !fs.existsSync(file)) {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
      const store = await openStore({ kind: 'sqlite', file });
      let t0 = performance.now();
      await loadSqlite(store, n);
      const loadS = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const r = await syncSearch(store);
      process.stdout.write(
        `SQLite fixture: ${n.customers.toLocaleString('en-US')} customers, ${n.feedback.toLocaleString('en-US')} feedback, ${n.interactions.toLocaleString('en-US')} interactions loaded in ${loadS.toFixed(1)} s\n` +
          `  index build (incremental indexer from empty): ${((performance.now() - t0) / 1000).toFixed(1)} s for ${r.indexed.toLocaleString('en-US')} documents\n`,
      );
      await store.close();
    }
    const store = await openStore({ kind: 'sqlite', file });
    const size = fs.statSync(file).size;
    process.stdout.write(`SQLite store ${(size / 2 ** 20).toFixed(0)} MiB, ${(await store.db.selectFrom('search_docs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n} documents\n`);
    await runQueries(store, n, rounds, 'SQLite (FTS5)');
    await store.close();
  }

  if (values.pg) {
    const url = process.env['RAPPORT_BENCH_PG_URL'] ?? 'postgres://root:rapport@127.0.0.1:5432/rapport_test';
    const schema = `bench_search_${docs}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const exists = (await admin.query('select 1 from information_schema.schemata where schema_name = $1', [schema])).rowCount === 1;
    const ready = exists && !values.fresh && (await admin.query(`select 1 from information_schema.tables where table_schema = $1 and table_name = 'search_ready'`, [schema])).rowCount === 1;
    if (!ready) {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.query(`create schema ${schema}`);
    }
    await admin.end();
    const store = await openStore({ kind: 'postgres', url: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}` });
    if (!ready) {
      let t0 = performance.now();
      await loadPostgres(store, n);
      const loadS = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const r = await syncSearch(store);
      await sql`analyze`.execute(store.db);
      await sql`create table search_ready (done integer)`.execute(store.db);
      process.stdout.write(`PostgreSQL fixture loaded in ${loadS.toFixed(1)} s; index build (incremental indexer, tsvector + GIN): ${((performance.now() - t0) / 1000).toFixed(1)} s for ${r.indexed.toLocaleString('en-US')} documents\n`);
    }
    await runQueries(store, n, rounds, 'PostgreSQL 15 (tsvector, GIN)');
    await store.close();
  }

  if (!values['skip-ingest']) await ingestOverhead(200_000);
}
