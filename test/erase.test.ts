import assert from 'node:assert/strict';
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { eraseCustomer, type ErasureReport } from '../src/customers/customer.service.js';
import { writeTruths } from '../src/demo/demo.repository.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { runListen } from '../src/listening/listen.job.js';
import { logVisit } from '../src/relationships/visits.service.js';
import { labelItem, tagSets } from '../src/listening/tags.service.js';
import { themeBoard, ThemeListParams } from '../src/listening/themes.service.js';
import { syncSearch } from '../src/search/search.indexer.js';
import { search, SearchParams } from '../src/search/search.service.js';
import type { Store } from '../src/store/db.js';
import { runClv } from '../src/value/value.job.js';
import { assignThemes, discoverThemes } from '../src/models/text/themes.js';
import { dropShared, featuresOf, forgetFeatures } from '../src/models/text/forget.js';
import { rapport } from './support/cli.js';
import { DAY, drawOrders } from './support/orders.js';
import { DIALECTS, type TestStore } from './support/stores.js';

/** The person who asks to be forgotten: every identifier of theirs, and words only they use. */
const PERSON = { userId: 'uzqvexa41', anonymousId: 'anonqrvyx93', email: 'Quillon.Vantablack@zmail.test', name: 'Quillon Vantablack', phone: '5550199223', marker: 'zorblaxian' };
/** What must be found nowhere after the erasure (compared lower-cased). */
const NEEDLES = [PERSON.userId, PERSON.anonymousId, PERSON.email, 'quillon', 'vantablack', 'zmail', PERSON.phone, PERSON.marker].map((n) => n.toLowerCase());

const T0 = Date.parse('2025-06-01T00:00:00Z');

/** Everyone else's feedback: three topics, tickets and reviews, enough for themes and a tag set. */
const TOPICS = {
  billing: ['I was charged twice for my order', 'The refund for my cancelled order never arrived', 'Why was my card charged again this month', 'Please refund the double charge on my card', 'My invoice shows the wrong amount charged'],
  delivery: ['The parcel arrived late and the box was damaged', 'Delivery took three weeks, far too slow', 'My package was left at the wrong address', 'The courier never delivered my parcel', 'Tracking says delivered but no parcel arrived'],
  app: ['The app crashes when I open my basket', 'Login fails with an error on the app', 'The app is slow to load the product pages', 'Search in the app shows no results', 'The app logs me out every time'],
};

function feedback(userId: string, id: string, kind: 'ticket' | 'review', text: string, at: number, rating: number | null = null): IngestRecord {
  return { kind: 'feedback', who: { userId }, feedbackKind: kind, text, rating, status: 'new', at, properties: {}, source: 'erase-test', sourceId: id };
}

/** Their records: profile (with an anonymous id and a phone), an order, a search with text, feedback naming them. */
function personRecords(): IngestRecord[] {
  const who = { userId: PERSON.userId, anonymousId: PERSON.anonymousId };
  return [
    { kind: 'identify', who, traits: { email: PERSON.email, name: PERSON.name, phone: PERSON.phone }, at: T0 },
    { kind: 'interaction', who, type: 'track', name: 'Products Searched', channel: 'web', direction: 'inbound', at: T0 + DAY, properties: { query: `${PERSON.marker} spare parts` }, source: 'erase-test', sourceId: 'search-1' },
    { kind: 'order', who, orderId: `order-${PERSON.userId}`, at: T0 + 2 * DAY, total: 42, currency: 'USD', lines: [{ productId: 'p-1', name: 'Lamp', category: 'home', price: 42, quantity: 1 }], properties: {}, source: 'erase-test', sourceId: 'order-1' },
    feedback(PERSON.userId, 'p1', 'ticket', `${PERSON.name} here: the refund for my ${PERSON.marker} order never arrived, call me on ${PERSON.phone}`, T0 + 3 * DAY),
    feedback(PERSON.userId, 'p2', 'ticket', `My card was charged twice for the ${PERSON.marker} lamp. ${PERSON.name}`, T0 + 4 * DAY),
    feedback(PERSON.userId, 'p3', 'review', `The ${PERSON.marker} parcel arrived damaged; ${PERSON.name}, ${PERSON.phone}`, T0 + 5 * DAY, 1),
  ];
}

/** Everyone else: four customers per topic, each with a few items and a couple of orders. */
function othersRecords(): IngestRecord[] {
  const out: IngestRecord[] = [];
  let n = 0;
  for (const [topic, texts] of Object.entries(TOPICS)) {
    for (let c = 0; c < 4; c++) {
      const userId = `${topic}-${c}`;
      out.push({ kind: 'identify', who: { userId }, traits: { name: `Person ${topic} ${c}` }, at: T0 });
      texts.forEach((text, i) => {
        if ((i + c) % 2 === 0) out.push(feedback(userId, `o${n++}`, i % 3 === 0 ? 'review' : 'ticket', c === 0 ? text : `${text} again`, T0 + (10 + i) * DAY, i % 3 === 0 ? 4 : null));
      });
    }
  }
  return out;
}

/** Orders of 40 more customers drawn from the CLV test's truth, so that a customer-value run fits. */
function orderRecords(): IngestRecord[] {
  return drawOrders(40, 5).map((o, i) => ({ kind: 'order', who: { userId: o.customer === 0 ? PERSON.userId : `buyer-${o.customer}` }, orderId: `d${i}`, at: o.at, total: o.amount, currency: 'USD', lines: [], properties: {}, source: 'erase-test', sourceId: `d${i}` }));
}

/** Loads everyone, has people tag a few tickets, and runs customer value, listening and indexing. */
async function load(store: Store): Promise<void> {
  const writer = new IngestWriter(store, () => T0 + 400 * DAY);
  await writer.write([...personRecords(), ...othersRecords(), ...orderRecords()]);
  const tickets = await store.db.selectFrom('feedback').select(['id', 'text']).where('kind', '=', 'ticket').orderBy('id').execute();
  for (const t of tickets) {
    const tag = /charg|refund|invoice/i.test(t.text) ? 'billing' : /parcel|deliver|courier|package/i.test(t.text) ? 'delivery' : 'app';
    await labelItem(store, Number(t.id), 'area', tag, 'pm', T0 + 400 * DAY);
  }
  // A visit planned with them, its notes naming them (a planned one writes no interaction or feedback yet).
  await logVisit(store, writer, { customer: PERSON.userId, kind: 'visit', status: 'planned', at: new Date(T0 + 420 * DAY).toISOString(), notes: `Visit ${PERSON.name} about the ${PERSON.marker} order`, attendees: ['Maria'] }, 'pm', T0 + 400 * DAY);
  await writeTruths(store.db, [{ user_id: PERSON.userId, params: JSON.stringify({ anonymousId: PERSON.anonymousId, lambda: 0.4 }) }, { user_id: 'billing-0', params: '{"lambda":0.2}' }]);
  await runClv(store, { trigger: 'cli' });
  await runListen(store, { trigger: 'cli' });
  await syncSearch(store);
}

/** Every table of the database, from its catalog. */
async function tables(store: Store): Promise<string[]> {
  const q =
    store.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`
      : sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`;
  return (await q.execute(store.db)).rows.map((r) => r.name);
}

/** A stored value as text: blobs as their bytes, and gzip blobs (the models) as what they hold. */
function asText(v: unknown): string {
  if (v instanceof Uint8Array) {
    const bytes = Buffer.from(v);
    const raw = bytes.toString('latin1');
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? `${raw} ${gunzipSync(bytes).toString('utf8')}` : raw;
  }
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `table.column: needle` for every needle found in any column of any row of any table. */
async function traces(store: Store): Promise<string[]> {
  const found = new Set<string>();
  for (const table of await tables(store)) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(store.db)).rows;
    for (const row of rows)
      for (const [column, value] of Object.entries(row)) {
        const text = asText(value).toLowerCase();
        for (const n of NEEDLES) if (text.includes(n)) found.add(`${table}.${column}: ${n}`);
      }
  }
  return [...found].sort();
}

/** Needles in the raw bytes of the SQLite file and its write-ahead log. */
function fileTraces(file: string): string[] {
  const found: string[] = [];
  for (const f of [file, `${file}-wal`]) {
    if (!fs.existsSync(f)) continue;
    const bytes = fs.readFileSync(f).toString('latin1').toLowerCase();
    for (const n of NEEDLES) if (bytes.includes(n)) found.push(`${f.endsWith('-wal') ? 'wal' : 'db'}: ${n}`);
  }
  return found;
}

describe('forgetting a person in a theme model', () => {
  it('removes the features only their texts had, and places every other text exactly as before', () => {
    const others = Object.values(TOPICS).flatMap((texts) => texts.flatMap((x) => [x, `${x} again`, `${x} please`]));
    const theirs = personRecords().flatMap((r) => (r.kind === 'feedback' ? [r.text] : []));
    const { model } = discoverThemes([...others, ...theirs], { k: 3, seed: 1 });
    assert.ok(model.vocabulary.includes(PERSON.marker), 'the marker was in the vocabulary');
    const only = featuresOf(theirs);
    for (const t of others) dropShared(only, t);
    const { model: scrubbed, removed } = forgetFeatures(model, only);
    assert.ok(removed > 0);
    const stored = JSON.stringify(scrubbed).toLowerCase();
    for (const n of ['quillon', 'vantablack', PERSON.phone, PERSON.marker]) assert.ok(!stored.includes(n), `${n} is gone from the model`);
    assert.ok(scrubbed.vocabulary.includes('refund'), 'words others use stay');
    const before = assignThemes(model, others);
    const after = assignThemes(scrubbed, others);
    assert.deepEqual(after.map((a) => a.theme), before.map((a) => a.theme));
    after.forEach((a, i) => assert.ok(Math.abs(a.similarity - before[i]!.similarity) < 1e-9));
  });
});

const rowsOf = (r: ErasureReport, table: string): number => r.removed.find((x) => x.table === table)?.rows ?? -1;

for (const d of DIALECTS) {
  describe(`erasure on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    before(async () => {
      if (skip) return;
      t = await d.open();
      await load(t.store);
    });
    after(async () => {
      if (!skip) await t.cleanup();
    });

    it('leaves no identifier or word of theirs in any table, model, index or database file, and reports what went from where', { skip }, async () => {
      const before = await traces(t.store);
      // The data really was everywhere: rows, the models, the search index.
      for (const where of ['customers.email: quillon.vantablack@zmail.test', 'identities.value: anonqrvyx93', `text_models.model: ${PERSON.marker}`, `search_docs.body: ${PERSON.phone}`, `demo_truth.user_id: ${PERSON.userId}`, `visits.notes: ${PERSON.marker}`]) assert.ok(before.includes(where), `before the erasure: ${where} (found ${before.join('; ')})`);
      const themesBefore = (await themeBoard(t.store, ThemeListParams.parse({}))).themes.length;

      const r = await eraseCustomer(t.store, PERSON.userId);
      assert.equal(r.userId, PERSON.userId);
      assert.deepEqual(r.erased, { customers: 1, interactions: 1, orders: rowsOf(r, 'orders'), orderLines: 1, feedback: 3, identities: 1 });
      assert.ok(r.erased.orders >= 1);
      assert.equal(rowsOf(r, 'demo_truth'), 1);
      assert.equal(rowsOf(r, 'feedback_insights'), 3);
      assert.equal(rowsOf(r, 'feedback_tags'), 2, 'their two tickets were tagged');
      assert.equal(rowsOf(r, 'customer_values'), 1);
      assert.equal(rowsOf(r, 'visits'), 1);
      assert.ok(rowsOf(r, 'search_docs') >= 5, 'three feedback items, the search and the customer were indexed');
      assert.equal(r.searchIndex.documents, rowsOf(r, 'search_docs'));
      assert.equal(r.searchIndex.merged, d.name === 'sqlite');
      const themes = r.models.find((m) => m.purpose === 'themes');
      assert.equal(themes?.action, 'scrubbed');
      assert.ok(themes.terms > 0, 'the words only they used left the vocabulary');
      assert.deepEqual(r.models.find((m) => m.purpose === 'tags:area')?.action, 'dropped');
      assert.ok(r.storage.actions.length > 0 && r.storage.limits.length > 0);
      if (d.name === 'postgres') assert.match(r.storage.limits.join(' '), /write-ahead log.*archives/);

      assert.deepEqual(await traces(t.store), [], 'no table holds anything of theirs');
      if (t.store.target.kind === 'sqlite') assert.deepEqual(fileTraces(t.store.target.file), [], 'nor does the database file or its log');

      // Everyone else is untouched: the themes, their search, their tags' figures.
      assert.equal((await themeBoard(t.store, ThemeListParams.parse({}))).themes.length, themesBefore);
      assert.ok((await search(t.store, SearchParams.parse({ q: 'refund' }))).total >= 2);
      const area = (await tagSets(t.store, 'area'))[0]!;
      assert.equal(area.model?.stale, true, 'the tag model retrains without them');
      const again = (await runListen(t.store, { trigger: 'cli' })).report;
      assert.equal(again.tagSets[0]!.retrained, true);
      assert.deepEqual(await traces(t.store), [], 'the retrained models learned nothing of theirs');
    });

    it('answers an unknown user id with not found and changes nothing', { skip }, async () => {
      const before = await t.store.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      await assert.rejects(eraseCustomer(t.store, PERSON.userId), (e: Error & { code?: string }) => e.code === 'not_found' && /customer "uzqvexa41" not found/.test(e.message));
      const after = await t.store.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
    });

    it('rapport erase prints the report, as JSON with --json, and exits 4 for an unknown user id', { skip }, async () => {
      const json = rapport(['erase', 'billing-1', '--json'], t.url);
      assert.equal(json.code, 0, json.err);
      const r = JSON.parse(json.out) as ErasureReport;
      assert.equal(r.userId, 'billing-1');
      assert.ok(rowsOf(r, 'feedback') >= 2);
      assert.ok(r.storage.actions.length > 0);
      const text = rapport(['erase', 'delivery-1'], t.url);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^Erased customer "delivery-1"\.\nRows removed:\n {2}customers: 1\n/);
      assert.match(text.out, /feedback: \d+\n/);
      assert.match(text.out, /Search index: \d+ documents removed/);
      assert.match(text.out, /Database files:\n {2}\S/);
      const unknown = rapport(['erase', 'nobody-here'], t.url);
      assert.equal(unknown.code, 4);
      assert.match(unknown.err, /error: customer "nobody-here" not found/);
      assert.equal(unknown.out, '');
      assert.equal((await t.store.db.selectFrom('customers').select('id').where('user_id', 'in', ['billing-1', 'delivery-1']).execute()).length, 0);
    });
  });
}
