import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { FeedbackRecord, IngestRecord, InteractionRecord } from '../src/ingest/records.js';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { eraseCustomer } from '../src/customers/customer.service.js';
import { parseQuery, toFts5, toTsquery } from '../src/search/query.js';
import { FEEDBACK_TOKEN, ID_SPREAD, kindToken } from '../src/search/documents.js';
import { rebuildSearch, syncSearch } from '../src/search/search.indexer.js';
import { JOINED_SCAN, matchesNewestFirst, TERMS, timeWindow, tsMatch, type SearchFilters } from '../src/search/search.repository.js';
import { search, SearchParams, type SearchPage } from '../src/search/search.service.js';
import type { Store } from '../src/store/db.js';
import type { FeedbackKind } from '../src/store/schema.js';
import { DIALECTS, type TestStore } from './support/stores.js';
import { rapport } from './support/cli.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

let seq = 0;
function feedback(userId: string | null, kind: FeedbackKind, text: string, day: number, properties: Record<string, unknown> = {}): FeedbackRecord {
  return { kind: 'feedback', who: userId ? { userId } : null, feedbackKind: kind, text, rating: null, status: 'open', at: T0 + day * DAY, properties, source: 'test', sourceId: `f${seq++}` };
}
function interaction(who: { userId?: string; anonymousId?: string }, name: string, day: number, properties: Record<string, unknown>): InteractionRecord {
  return { kind: 'interaction', who, type: 'track', name, channel: 'web', direction: 'inbound', at: T0 + day * DAY, properties, source: 'test', sourceId: `i${seq++}` };
}

/** A small company: three customers, feedback of every kind, interactions with and without text. */
function fixture(): IngestRecord[] {
  const filler = [
    'The app works fine most of the time',
    'Checkout was smooth and the prices are fair',
    'I like the new design of the home page',
    'Support answered within an hour, thanks',
  ];
  const records: IngestRecord[] = [
    { kind: 'identify', who: { userId: 'ann' }, traits: { name: 'Ann Lee', email: 'ann@example.com', company: 'Globex Corporation' }, at: T0 },
    { kind: 'identify', who: { userId: 'bob' }, traits: { name: 'Bob Stone', email: 'bob@example.com' }, at: T0 },
    { kind: 'identify', who: { userId: 'cid' }, traits: { name: 'Cid Park', email: 'cid@example.com', company: 'Initech' }, at: T0 },
    feedback('ann', 'ticket', 'My parcel arrived damaged and two days late. I want a refund, refund now: refund!', 10, { subject: 'Damaged parcel, refund please' }),
    feedback('bob', 'review', 'Great wireless headphones, delivery was quick and the sound is superb', 20, { product_name: 'Sony WH-1000' }),
    feedback('bob', 'survey', 'The delivery was late again, but the courier was friendly. A refund of the shipping fee would be nice after such a long wait for a simple order', 30),
    feedback('cid', 'interview', 'We buy for the whole office; invoices per department would help us a lot', 40),
    feedback('cid', 'visit_note', 'Visited Initech: they asked about bulk discounts and damaged goods returns', 50),
    feedback(null, 'other', 'Please add gift wrapping at checkout', 60, { type: 'idea' }),
    feedback('ann', 'ticket', 'Hello <script>alert("x")</script> <b>bold</b> refund & co', 70),
    interaction({ userId: 'bob' }, 'Products Searched', 25, { query: 'noise cancelling headphones' }),
    interaction({ userId: 'ann' }, 'Page Viewed', 26, { path: '/deals', title: 'Deals' }),
    interaction({ userId: 'cid' }, 'Support Chat Completed', 45, { transcript: 'Customer asked whether the invoice can show the department code', duration_minutes: 5 }),
    interaction({ anonymousId: 'anon-1' }, 'Products Searched', 5, { query: 'espresso grinder' }),
  ];
  filler.forEach((t, i) => records.push(feedback('bob', 'review', t, 80 + i)));
  return records;
}

async function setup(store: Store): Promise<IngestWriter> {
  const writer = new IngestWriter(store);
  await writer.write(fixture());
  await syncSearch(store);
  return writer;
}

const run = (store: Store, params: Record<string, unknown>) => search(store, SearchParams.parse(params));
const kinds = (p: SearchPage): string[] => p.items.map((h) => h.kind).sort();

describe('search query language', () => {
  it('reduces terms to word tokens, so no user text reaches FTS5 or PostgreSQL as syntax', () => {
    const q = parseQuery('"late delivery" refund OR return -spam deliv* NEAR(x) col:umn ^start');
    assert.equal(toFts5(q), '(("late delivery" AND ("refund" OR "return") AND "deliv" * AND "near x" AND "col umn" AND "start") NOT "spam")');
    assert.equal(toTsquery(q), "('late' <-> 'delivery') & ('refund' | 'return') & 'deliv':* & ('near' <-> 'x') & ('col' <-> 'umn') & 'start' & !'spam'");
  });
  it('names the parameter on bad syntax', () => {
    assert.throws(() => parseQuery('"unclosed phrase'), /^RapportError: q: the quoted phrase starting at character 1 is not closed/);
    assert.throws(() => parseQuery('OR refund'), /q: OR needs a word/);
    assert.throws(() => parseQuery('refund OR'), /q: OR needs a word/);
    assert.throws(() => parseQuery('-refund'), /q: add at least one word to look for/);
    assert.throws(() => parseQuery('   '), /q: enter at least one word/);
    assert.throws(() => parseQuery('a*'), /q: "a\*": a \* must follow at least 2 letters/);
    assert.throws(() => parseQuery('x'.repeat(300)), /q: at most 256 characters/);
  });
});

for (const d of DIALECTS) {
  describe(`search on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let writer: IngestWriter;
    before(async () => {
      if (skip) return;
      t = await d.open();
      writer = await setup(t.store);
    });
    after(async () => {
      if (skip) return;
      await t.cleanup();
    });

    it('indexes feedback of every kind, customers and interactions with text, not page views', { skip }, async () => {
      const docs = await t.store.db.selectFrom('search_docs').select(['source', 'kind']).execute();
      const count = (k: string) => docs.filter((x) => x.kind === k).length;
      assert.equal(docs.filter((x) => x.source === 'feedback').length, 11);
      assert.equal(count('customer'), 3, 'the anonymous visitor has nothing to find them by');
      assert.equal(count('interaction'), 3, 'two searches and a chat transcript; the page view has no text');
      assert.equal((await run(t.store, { q: 'globex' })).items[0]?.kind, 'customer', 'traits such as the company are indexed');
      assert.equal((await run(t.store, { q: 'espresso' })).items[0]?.kind, 'interaction');
      assert.equal((await run(t.store, { q: 'Sony' })).items[0]?.kind, 'review', "a review's product name is indexed with it");
    });

    it('carries the same kind and source filter terms as the indexer writes (PostgreSQL: in the tsvector of migration 007)', { skip: skip || (d.name === 'postgres' ? false : 'SQLite keeps them in search_fts.meta, written by the indexer itself') }, async () => {
      const rows = await sql<{ kind: string; source: string; tsv: string }>`select kind, source, tsv::text as tsv from search_docs`.execute(t.store.db);
      assert.ok(rows.rows.length > 0);
      for (const r of rows.rows) {
        assert.ok(r.tsv.includes(`'${kindToken(r.kind)}'`), `${r.kind}: ${r.tsv}`);
        assert.equal(r.tsv.includes(`'${FEEDBACK_TOKEN}'`), r.source === 'feedback', `${r.source}: ${r.tsv}`);
      }
    });

    it('ranks by relevance: the title and repeated terms count, stemming finds other forms', { skip }, async () => {
      const r = await run(t.store, { q: 'refunds' });
      assert.equal(r.ranking, 'exact');
      assert.equal(r.total, 3);
      assert.equal(r.totalExact, true);
      assert.match(r.items[0]!.title, /Damaged parcel/, 'the ticket with refund in its subject and three times in its text first');
      assert.ok(r.items[0]!.score! > r.items[2]!.score!);
      assert.deepEqual(kinds(r), ['survey', 'ticket', 'ticket']);
    });

    it('finds phrases, prefixes, either word, and leaves out exclusions', { skip }, async () => {
      assert.equal((await run(t.store, { q: '"arrived damaged"' })).total, 1);
      assert.equal((await run(t.store, { q: '"damaged arrived"' })).total, 0);
      const prefix = await run(t.store, { q: 'headph*' });
      assert.deepEqual(kinds(prefix), ['interaction', 'review']);
      assert.equal((await run(t.store, { q: 'invoice* OR espresso' })).total, 3);
      const without = await run(t.store, { q: 'delivery -late' });
      assert.deepEqual(kinds(without), ['review']);
      const hi = prefix.items.find((h) => h.kind === 'review')!.snippet.filter((s) => s.match).map((s) => s.text.toLowerCase());
      assert.deepEqual(hi, ['headphones']);
    });

    it('filters by kind, customer, date range', { skip }, async () => {
      assert.deepEqual(kinds(await run(t.store, { q: 'refund', kind: 'survey' })), ['survey']);
      assert.deepEqual(kinds(await run(t.store, { q: 'refund OR headphones', kind: 'feedback' })), ['review', 'survey', 'ticket', 'ticket']);
      assert.deepEqual(kinds(await run(t.store, { q: 'headphones', kind: 'interaction,customer' })), ['interaction']);
      assert.deepEqual(kinds(await run(t.store, { q: 'refund', customer: 'bob' })), ['survey']);
      const ranged = await run(t.store, { q: 'refund OR damaged', from: '2026-01-15', to: '2026-02-20' });
      assert.deepEqual(kinds(ranged), ['survey', 'visit_note'], 'days 30 and 50 are inside, day 10 and 70 outside');
      assert.deepEqual(kinds(await run(t.store, { q: 'refund', to: '2026-01-11' })), ['ticket'], 'a date-only "to" includes that day');
      await assert.rejects(run(t.store, { q: 'refund', customer: 'nobody' }), /customer: no customer with user id "nobody"/);
    });

    it('filters by theme, tag and micro-segment', { skip }, async () => {
      const db = t.store.db;
      const now = Date.now();
      const theme = await db.insertInto('themes').values({ label: 'delivery problems', key_phrases: '[]', quotes: '[]', size: 2, status: 'active', merged_into: null, parent_id: null, name: null, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      const fb = await db.selectFrom('feedback').select(['id', 'kind', 'customer_id']).execute();
      const survey = fb.find((f) => f.kind === 'survey')!;
      const insight = (feedback_id: number, theme_id: number | null) => ({ feedback_id, theme_id, theme_similarity: 0.9, sentiment: 0, sentiment_label: 'neutral' as const, intent: 'complaint' as const, intent_confidence: 0.8, lang: 'en', duplicate_of: null, minhash: null, analysed_at: now });
      await db.insertInto('feedback_insights').values(fb.map((f) => insight(f.id, f.id === survey.id ? Number(theme.id) : null))).execute();
      assert.deepEqual(kinds(await run(t.store, { q: 'refund', theme: Number(theme.id) })), ['survey']);

      const tag = await db.insertInto('tags').values({ tag_set: 'area', name: 'packaging', description: null, created_at: now }).returning('id').executeTakeFirstOrThrow();
      const firstTicket = fb.filter((f) => f.kind === 'ticket').sort((a, b) => a.id - b.id)[0]!;
      await db.insertInto('feedback_tags').values({ feedback_id: firstTicket.id, tag_set: 'area', tag_id: Number(tag.id), source: 'human', confidence: null, reviewed_by: 'test', updated_at: now }).execute();
      const tagged = await run(t.store, { q: 'refund', tag: Number(tag.id) });
      assert.equal(tagged.total, 1);
      assert.match(tagged.items[0]!.title, /Damaged parcel/);

      const ann = await db.selectFrom('customers').select('id').where('user_id', '=', 'ann').executeTakeFirstOrThrow();
      await db
        .insertInto('customer_values')
        .values({ customer_id: ann.id, run_id: 1, first_day: 0, last_day: 1, purchase_days: 2, spend: 100, repeat_spend: 50, p_alive: 0.8123, expected_purchases: 1, expected_spend: 50, clv: 321.456, value_at_risk: 10, rfm_r: 3, rfm_f: 3, rfm_m: 3, rfm_group: 'loyal', segment: 4 })
        .execute();
      const seg = await run(t.store, { q: 'refund', segment: 4 });
      assert.deepEqual(kinds(seg), ['ticket', 'ticket']);
      assert.deepEqual(seg.items[0]!.customer, { userId: 'ann', name: 'Ann Lee', email: 'ann@example.com', clv: 321.46, pAlive: 0.8123 }, 'each hit carries its customer and their value');
      assert.equal((await run(t.store, { q: 'refund', segment: 5 })).total, 0);
    });

    it('returns highlights as text segments, markup in the text stays text', { skip }, async () => {
      const r = await run(t.store, { q: 'bold' });
      assert.equal(r.total, 1);
      const joined = r.items[0]!.snippet.map((s) => s.text).join('');
      assert.match(joined, /bold/);
      // SQLite keeps the markup as text; PostgreSQL's parser reads tags (and a script's content) as
      // markup: they are neither indexed nor part of the headline.
      if (d.name === 'sqlite') assert.match(joined, /<script>alert\("x"\)<\/script> <b>bold<\/b>/);
      assert.deepEqual(r.items[0]!.snippet.filter((s) => s.match).map((s) => s.text), ['bold']);
    });

    it('sorts by date and pages with a cursor in both orders', { skip }, async () => {
      const all = await run(t.store, { q: 'refund OR damaged OR headphones', sort: 'date' });
      const days = all.items.map((h) => h.at);
      assert.deepEqual(days, [...days].sort().reverse());
      const first = await run(t.store, { q: 'refund OR damaged OR headphones', sort: 'date', limit: 2 });
      const second = await run(t.store, { q: 'refund OR damaged OR headphones', sort: 'date', limit: 2, cursor: first.nextCursor });
      assert.deepEqual([...first.items, ...second.items].map((h) => h.id), all.items.slice(0, 4).map((h) => h.id));
      const rel = await run(t.store, { q: 'refund OR damaged OR headphones' });
      const p1 = await run(t.store, { q: 'refund OR damaged OR headphones', limit: 3 });
      const p2 = await run(t.store, { q: 'refund OR damaged OR headphones', limit: 3, cursor: p1.nextCursor });
      assert.deepEqual([...p1.items, ...p2.items].map((h) => h.id), rel.items.slice(0, 6).map((h) => h.id));
      await assert.rejects(run(t.store, { q: 'refund', sort: 'date', cursor: p1.nextCursor }), /cursor: not a cursor/);
    });

    it('finds new feedback at once, follows merges and renames, and forgets an erased customer', { skip }, async () => {
      await writer.write([feedback('bob', 'ticket', 'The zipper of my backpack broke after a week', 90)]);
      const fresh = await run(t.store, { q: 'zipper' });
      assert.equal(fresh.total, 1, 'the search indexes what was stored since the last pass');
      assert.equal(fresh.items[0]!.customer?.userId, 'bob');

      // The anonymous visitor signs up: their search moves with them.
      await writer.write([{ kind: 'identify', who: { userId: 'dee', anonymousId: 'anon-1' }, traits: { name: 'Dee Ray' }, at: T0 + 100 * DAY }]);
      const moved = await run(t.store, { q: 'espresso' });
      assert.equal(moved.items[0]!.customer?.userId, 'dee');
      assert.equal((await run(t.store, { q: 'espresso', customer: 'dee' })).total, 1, 'the customer filter follows the merge');
      assert.equal((await run(t.store, { q: 'Dee' })).items[0]?.kind, 'customer');
      // A rename re-indexes the customer.
      await writer.write([{ kind: 'identify', who: { userId: 'cid' }, traits: { name: 'Cidney Park' }, at: T0 + 101 * DAY }]);
      assert.equal((await run(t.store, { q: 'cidney', kind: 'customer' })).total, 1);

      await eraseCustomer(t.store, 'ann');
      writer.forget();
      assert.equal((await run(t.store, { q: 'parcel OR globex OR bold' })).total, 0);
      const left = await t.store.db.selectFrom('search_docs').select('id').where('title', 'like', '%Ann%').execute();
      assert.equal(left.length, 0);
      assert.equal((await run(t.store, { q: 'refund' })).total, 1, "bob's survey is still found");
    });

    it('rebuilds the index from scratch with the same documents', { skip }, async () => {
      const before = (await run(t.store, { q: 'delivery OR invoice* OR headphones' })).items.map((h) => [h.kind, h.sourceId]);
      const r = await rebuildSearch(t.store);
      assert.ok(r.indexed >= 15);
      const after = (await run(t.store, { q: 'delivery OR invoice* OR headphones' })).items.map((h) => [h.kind, h.sourceId]);
      assert.deepEqual(after, before);
    });
  });

  describe(`search API and CLI on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let ingest = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      await new IngestWriter(t.store).write(fixture());
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      ingest = (await createKey(t.store.db, 'tracker', 'ingest', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });
    const get = (url: string, key: string | null = read) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

    it('answers with a read key, indexing what is new first; refuses other scopes', { skip }, async () => {
      const ok = await get('/api/search?q=refund&kind=ticket,survey&sort=relevance&limit=5');
      assert.equal(ok.statusCode, 200, ok.body);
      const body = ok.json<SearchPage>();
      assert.equal(body.total, 3);
      assert.equal(body.items.length, 3);
      assert.ok(body.items.every((h) => h.snippet.some((s) => s.match)));
      // The README names every field of the answer, as the API spells it.
      const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
      const row = readme.split('\n').find((l) => l.startsWith('| Search | `GET /api/search'))!;
      for (const field of Object.keys(body)) assert.ok(row.includes(`\`${field}\``), `README's Search row names \`${field}\``);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ components: { schemas: Record<string, { properties: Record<string, unknown> }> } }>();
      assert.deepEqual(Object.keys(doc.components.schemas.SearchPage!.properties).sort(), Object.keys(body).sort());
      assert.equal((await get('/api/search?q=refund', null)).statusCode, 401);
      assert.equal((await get('/api/search?q=refund', ingest)).statusCode, 403);
      const filters = await get('/api/search/filters');
      assert.equal(filters.statusCode, 200);
      assert.ok(filters.json<{ kinds: string[] }>().kinds.includes('visit_note'));
    });

    it('names the parameter in validation errors', { skip }, async () => {
      const bad = async (url: string, field: string, message: RegExp) => {
        const r = await get(url);
        assert.equal(r.statusCode, 400, url);
        const e = r.json<{ error: { code: string; message: string; issues: { field: string }[] } }>().error;
        assert.equal(e.code, 'invalid_input');
        assert.equal(e.issues[0]!.field, field, url);
        assert.match(e.message, message);
      };
      await bad('/api/search?q=%22refund', 'q', /quoted phrase .* not closed/);
      await bad('/api/search?q=-refund', 'q', /at least one word/);
      await bad('/api/search?q=refund&kind=tickets', 'query.kind', /comma-separated list/);
      await bad('/api/search?q=refund&from=yesterday', 'query.from', /date/);
      await bad('/api/search?q=refund&limit=1000', 'query.limit', /100/);
      await bad('/api/search?q=refund&cursor=xyz', 'cursor', /not a cursor/);
      await bad('/api/search?q=refund&from=2026-03-01&to=2026-01-01', 'to', /before from/);
      await bad('/api/search', 'query.q', /./);
    });

    it('rapport serve indexes new records in the background', { skip }, async () => {
      const served = await buildServer({ store: t.store, indexSearch: true });
      try {
        await new IngestWriter(t.store).write([feedback('bob', 'ticket', 'The hinge of the lid squeaks terribly', 95)]);
        const found = async () => (await t.store.db.selectFrom('search_docs').select('id').where('body', 'like', '%squeaks%').execute()).length;
        for (let i = 0; i < 50 && (await found()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await found(), 1);
      } finally {
        await served.close();
      }
    });

    it('is in the OpenAPI document with its parameters', { skip }, async () => {
      const doc = (await get('/api/openapi.json')).json<{ paths: Record<string, { get: { parameters: { name: string }[] } }> }>();
      const names = doc.paths['/api/search']!.get.parameters.map((p) => p.name);
      for (const n of ['q', 'kind', 'theme', 'tag', 'segment', 'from', 'to', 'customer', 'sort', 'limit', 'cursor']) assert.ok(names.includes(n), n);
    });

    it('rapport search --json prints the same page; --reindex rebuilds', { skip }, () => {
      const cli = (args: string[]) => rapport(args, t.url);
      const r = cli(['search', '"arrived damaged"', 'OR', 'headphones', '--kind', 'feedback', '--json']);
      assert.equal(r.code, 0, r.err);
      const page = JSON.parse(r.out) as SearchPage;
      assert.equal(page.query, '("arrived damaged" OR headphones)');
      assert.deepEqual(page.items.map((h) => h.kind).sort(), ['review', 'ticket']);
      const text = cli(['search', 'refund', '--customer', 'bob']);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /1 match for refund/);
      assert.match(text.out, /\[refund\]/);
      const bad = cli(['search', 'refund', '--sort', 'best']);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--sort/);
      const re = cli(['search', '--reindex', '--json']);
      assert.equal(re.code, 0, re.err);
      assert.ok((JSON.parse(re.out) as { indexed: number }).indexed >= 15);
    });
  });
}

describe('time windows of the PostgreSQL index (migration 008)', () => {
  const WEEK = 7 * DAY * ID_SPREAD;
  it('covers a window with at most six buckets of the smallest size that does it, from at or below its start', () => {
    const upper = 2900 * WEEK + 5;
    const narrow = timeWindow(upper - 3 * WEEK, upper)!;
    assert.equal(narrow.terms, "'#b2w1448' | '#b2w1449' | '#b2w1450'");
    assert.equal(narrow.from, 1448 * 2 * WEEK);
    const wide = timeWindow(upper - 30 * WEEK, upper)!;
    assert.match(wide.terms, /^'#b8w358'( \| '#b8w\d+')*$/);
    assert.ok(wide.from <= upper - 30 * WEEK && wide.terms.split('|').length <= 6, wide.terms);
    assert.equal(timeWindow(upper - 150 * WEEK, upper)!.terms, "'#b32w85' | '#b32w86' | '#b32w87' | '#b32w88' | '#b32w89' | '#b32w90'");
    assert.equal(timeWindow(upper - 300 * WEEK, upper), null, 'wider than six of the largest');
  });
});

for (const d of DIALECTS) {
  describe(`newest matches on ${d.name}: whichever way they are read, the plain query's`, async () => {
    const skip = (await d.skip()) || (d.name === 'postgres' ? false : 'SQLite reads its doclists in id order: there is one way');
    let t: TestStore;
    const N = 20_000;
    before(async () => {
      if (skip) return;
      t = await d.open();
      const db = t.store.db;
      await sql`insert into customers (id, user_id, created_at, updated_at) select g, 'c' || g, 0, 0 from generate_series(1, 200) g`.execute(db);
      await sql`insert into customer_values (customer_id, run_id, first_day, last_day, purchase_days, spend, repeat_spend, p_alive, expected_purchases, rfm_r, rfm_f, rfm_m, rfm_group, segment)
        select id, 1, 0, 0, 1, 0, 0, 0.5, 1, 1, 1, 1, 'x', id % 4 from customers`.execute(db);
      // Two years of documents: "common" in 70% (more than JOINED_SCAN), "sparse" in 1%, "rising"
      // from 0.2% of the oldest to 6% of the newest, a phrase, and "burst" dense in the oldest
      // tenth and the newest hundredth only (windows that come back short). Each way of reading
      // (walk, fetch, one or more windows) is taken by some of the queries below.
      const at = (g: number) => T0 + Math.floor((g * 730 * DAY) / N);
      const body = (g: number) =>
        [
          g % 10 < 7 ? 'common' : 'other',
          g % 97 === 0 ? 'sparse' : '',
          (g * 7919) % 1000 < 2 + (60 * g) / N ? 'rising' : '',
          g % 13 === 0 ? 'it arrived late' : g % 17 === 0 ? 'late, it arrived' : '',
          (g < N / 10 && g % 3 === 0) || g > N - N / 100 ? 'burst' : '',
        ].join(' ');
      const rows = Array.from({ length: N }, (_, g) => ({ id: at(g) * ID_SPREAD + (g % ID_SPREAD), at: at(g), g }));
      await sql`insert into search_docs (id, source, source_id, kind, customer_id, at, title, body)
        select id, 'interaction', g, case when g % 3 = 0 then 'ticket' else 'interaction' end, 1 + g % 200, at, '', b
        from unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => r.at)}::bigint[], ${rows.map((r) => r.g)}::bigint[], ${rows.map((r) => body(r.g))}::text[]) as u(id, at, g, b)`.execute(db);
      await sql`analyze search_docs`.execute(db);
    });
    after(async () => {
      if (skip) return;
      await t.cleanup();
    });

    it('the GIN index answers the time terms (the query spells the index expression)', { skip }, async () => {
      await t.store.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const plan = await sql<{ 'QUERY PLAN': string }>`explain select d.id from search_docs d where ${TERMS} @@ to_tsquery('english', 'common')`.execute(trx);
        assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /search_docs_terms/);
      });
    });

    it('returns exactly the plain query\'s matches, for every density, filter and limit', { skip }, async () => {
      const db = t.store.db;
      const filters: SearchFilters[] = [{}, { kinds: ['ticket'] }, { segment: 1 }, { segment: 2, kinds: ['interaction'] }, { idFrom: (T0 + 400 * DAY) * ID_SPREAD }, { idTo: (T0 + 700 * DAY) * ID_SPREAD, segment: 3 }];
      let compared = 0;
      for (const text of ['common', 'sparse', 'rising', '"arrived late"', 'burst', 'common -sparse', 'sparse OR burst', 'arr*']) {
        const parsed = parseQuery(text);
        const q = { fts5: toFts5(parsed), tsquery: toTsquery(parsed) };
        for (const f of filters) {
          const joined = f.segment !== undefined;
          const range = [f.idFrom === undefined ? sql`true` : sql`d.id >= ${f.idFrom}`, f.idTo === undefined ? sql`true` : sql`d.id < ${f.idTo}`];
          const words = await sql<{ id: number; customer_id: number }>`select d.id, d.customer_id from search_docs d
            where d.tsv @@ to_tsquery('english', ${tsMatch(q, f)}) and ${sql.join(range, sql` and `)} order by d.id desc limit ${joined ? JOINED_SCAN : N}`.execute(db);
          const segmentOf = (c: number) => c % 4;
          const expected = words.rows.filter((r) => !joined || segmentOf(Number(r.customer_id)) === f.segment).map((r) => Number(r.id));
          for (const limit of [1, 7, 50, 1001]) {
            for (const scored of [false, true]) {
              const truncation: { scannedTo?: number } = {};
              const got = await matchesNewestFirst(db, 'postgres', q, f, limit, { scored, truncation });
              assert.deepEqual(got.map((r) => r.id), expected.slice(0, limit), `${text} ${JSON.stringify(f)} limit ${limit}`);
              const cut = joined && expected.length < limit && words.rows.length >= JOINED_SCAN;
              assert.equal(truncation.scannedTo, cut ? Number(words.rows[words.rows.length - 1]!.id) : undefined, `${text} ${JSON.stringify(f)} limit ${limit}: scannedTo`);
              compared++;
            }
          }
        }
      }
      assert.equal(compared, 8 * 6 * 4 * 2);
    });
  });
}
