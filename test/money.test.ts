import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import type { z } from 'zod';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { importFile } from '../src/ingest/files/import.js';
import { runClv } from '../src/value/value.job.js';
import { valueCurrencyOf } from '../src/value/currency.js';
import { csvField, csvFileName, csvLine } from '../src/core/csv.js';
import { sendCsv } from '../src/http/csv.js';
import { isRapportError } from '../src/core/errors.js';
import type { ClvSummary, RankedPage } from '../src/value/value.service.js';
import type { Customer360, CustomerPage, Overview } from '../src/customers/customer.service.js';
import { DIALECTS, type TestStore } from './support/stores.js';
import { drawOrders, ordersCsv } from './support/orders.js';

type Ranked = z.infer<typeof RankedPage>;
type Customers = z.infer<typeof CustomerPage>;
type OverviewReply = z.infer<typeof Overview>;

const CUSTOMERS = 1150;

describe('the value currency from the orders', () => {
  it('is the currency of most order value, and says what other currencies were summed unconverted', () => {
    assert.equal(valueCurrencyOf([]), null);
    const one = valueCurrencyOf([{ currency: 'EUR', amount: 500, orders: 10 }])!;
    assert.deepEqual([one.code, one.share, one.note], ['EUR', 1, null]);
    const mixed = valueCurrencyOf([
      { currency: 'EUR', amount: 300, orders: 312 },
      { currency: 'USD', amount: 9700, orders: 900 },
    ])!;
    assert.equal(mixed.code, 'USD');
    assert.equal(mixed.note, '97% of order value is in USD; 312 orders in EUR are summed with it unconverted (no exchange rates are applied)');
    const three = valueCurrencyOf([
      { currency: 'USD', amount: 99_950, orders: 5000 },
      { currency: 'GBP', amount: 40, orders: 1 },
      { currency: 'JPY', amount: 10, orders: 3 },
    ])!;
    // Never "100%" while other currencies are in it.
    assert.equal(three.note, 'over 99% of order value is in USD; 1 order in GBP and 3 in JPY are summed with it unconverted (no exchange rates are applied)');
    assert.deepEqual(three.byCurrency.map((c) => c.currency), ['USD', 'GBP', 'JPY']);
    // Only refunds: the currency of most orders.
    assert.equal(valueCurrencyOf([{ currency: 'EUR', amount: -5, orders: 1 }, { currency: 'USD', amount: -9, orders: 4 }])!.code, 'USD');
  });
});

describe('CSV fields', () => {
  it('quotes as RFC 4180 and neutralises what a spreadsheet would run as a formula', () => {
    assert.equal(csvField('Lee, "Ann"'), '"Lee, ""Ann"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    for (const f of ['=1+2', '+1', '-1', '@SUM(A1)', '\tx']) assert.equal(csvField(f), `'${f}`, JSON.stringify(f));
    assert.equal(csvField('\rx'), `"'\rx"`);
    assert.equal(csvField('=HYPERLINK("http://x", "y")'), `"'=HYPERLINK(""http://x"", ""y"")"`);
    assert.equal(csvField(-12.5), '-12.5', 'a number stays a number');
    assert.equal(csvField(Number.NaN), '');
    assert.equal(csvField(null), '');
    assert.equal(csvLine(['a', 1, null]), 'a,1,\r\n');
    assert.equal(csvFileName('customers', 'ann@x.com / "q"'), 'customers-ann-x.com-q.csv');
    assert.equal(csvFileName('', undefined), 'export.csv');
  });

  it('refuses an export over its bound with an error naming the count, and cuts one off past its deadline', async () => {
    const app = Fastify();
    let now = 0;
    async function* pages(n: number) {
      for (let i = 0; i < n; i++) {
        now += 1000;
        yield [[`row${i}`]];
      }
    }
    app.get('/big', (_req, reply) => sendCsv(reply, { what: 'things', fileName: 'x.csv', header: ['a'], total: 11, pages: pages(11), maxRows: 10 }));
    app.get('/slow', (_req, reply) => sendCsv(reply, { what: 'things', fileName: 'x.csv', header: ['a'], total: 5, pages: pages(5), deadlineMs: 2500, clock: () => now }));
    app.setErrorHandler((e, _req, reply) => reply.status(isRapportError(e) ? e.httpStatus : 500).send({ message: (e as Error).message }));
    try {
      const big = await app.inject({ method: 'GET', url: '/big' });
      assert.equal(big.statusCode, 400);
      assert.match(big.body, /things: 11 rows match; one CSV export holds at most 10: narrow the filters/);
      // Past the deadline the stream fails: the download does not end as if complete.
      let body: string;
      try {
        body = (await app.inject({ method: 'GET', url: '/slow' })).body;
      } catch {
        body = '';
      }
      // Two pages within 2.5 s of the clock, the third past it: never all five rows.
      assert.ok(!body.includes('row4'), `cut off, got ${JSON.stringify(body)}`);
      assert.ok(body === '' || body.startsWith('a\r\nrow0\r\n'), JSON.stringify(body));
    } finally {
      await app.close();
    }
  });
});

for (const d of DIALECTS) {
  describe(`money with its currency, totals and CSV exports on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let ingest = '';
    let dir = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-money-'));
      const orders = path.join(dir, 'orders.csv');
      ordersCsv(drawOrders(CUSTOMERS, 11), orders, 'EUR');
      await importFile(t.store, { file: orders, kind: 'orders' });
      const people = path.join(dir, 'customers.csv');
      fs.writeFileSync(people, 'user_id,name,email\nc1,"Lee, ""Ann""",ann@example.com\nc2,"=HYPERLINK(""http://evil.example"",""x"")",eve@example.com\nc3,+1 555 0100,plus@example.com\n');
      await importFile(t.store, { file: people, kind: 'customers' });
      await runClv(t.store, { trigger: 'cli' });
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      ingest = (await createKey(t.store.db, 'site', 'ingest', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const get = (url: string, key = read) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
    const csv = async (url: string): Promise<{ head: string[]; rows: Record<string, string>[]; raw: string; disposition: string }> => {
      const res = await get(url);
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      assert.match(String(res.headers['content-type']), /^text\/csv; charset=utf-8/);
      const records: string[][] = parse(res.body);
      const head = records[0]!;
      return { head, rows: records.slice(1).map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]!]))), raw: res.body, disposition: String(res.headers['content-disposition']) };
    };

    it('states every value figure in the currency of the orders, EUR here, without a currency warning', { skip }, async () => {
      const sum = (await get('/api/clv/summary')).json<ClvSummary>();
      assert.equal(sum.currency, 'EUR');
      assert.deepEqual(sum.currencyBreakdown!.byCurrency.map((c) => [c.currency, c.share]), [['EUR', 1]]);
      assert.equal(sum.currencyBreakdown!.note, null);
      assert.ok(!(sum.warnings ?? []).some((w) => /unconverted/.test(w)));
      const top = (await get('/api/clv/customers?sort=clv&limit=5')).json<Ranked>();
      assert.equal(top.currency, 'EUR');
      const list = (await get('/api/customers?limit=5')).json<Customers>();
      assert.equal(list.currency, 'EUR');
      assert.ok(list.items.every((c) => c.orders === 0 || (c.revenueCurrency === 'EUR' && c.otherCurrencies.length === 0)));
      const profile = (await get(`/api/customers/${top.items[0]!.userId}`)).json<Customer360>();
      assert.equal(profile.value!.currency, 'EUR');
      assert.equal(profile.revenueCurrency, 'EUR');
      assert.deepEqual(profile.value!.steps.filter((s) => s.money).map((s) => s.name), ['Expected order value', 'CLV', 'Value at risk']);
      assert.equal((await get('/api/overview')).json<OverviewReply>().currency, 'EUR');
      // The OpenAPI document says which figures are money in that currency.
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> }; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> }>();
      assert.match(doc.components.schemas['RankedCustomer']!.properties['clv']!.description!, /in `currency`/);
      assert.match(doc.components.schemas['RankedCustomerPage']!.properties['currency']!.description!, /ISO 4217/);
      assert.ok(doc.paths['/api/customers.csv']!['get']!.responses['200']!.content!['text/csv']);
    });

    it('gives each ranking its total: every customer it lists, whatever the page size', { skip }, async () => {
      const all = await t.store.db.selectFrom('customer_values').select((eb) => eb.fn.countAll<number | string>().as('n')).where('clv', 'is not', null).executeTakeFirstOrThrow();
      const top = (await get('/api/clv/customers?sort=clv&limit=3')).json<Ranked>();
      assert.equal(top.total, Number(all.n));
      assert.ok(top.total > 1000);
      const champions = (await get('/api/clv/customers?sort=risk&group=champions&limit=2')).json<Ranked>();
      const n = await t.store.db.selectFrom('customer_values').select((eb) => eb.fn.countAll<number | string>().as('n')).where('rfm_group', '=', 'champions').where('value_at_risk', 'is not', null).executeTakeFirstOrThrow();
      assert.equal(champions.total, Number(n.n));
      assert.ok(champions.total < top.total);
    });

    it('exports the whole customer list as CSV, more rows than a page, quoted, neutralised and filtered', { skip }, async () => {
      const { head, rows, raw, disposition } = await csv('/api/customers.csv?sort=clv&order=desc');
      assert.equal(disposition, 'attachment; filename="customers.csv"');
      assert.deepEqual(head, ['user_id', 'name', 'email', 'first_seen', 'last_seen', 'orders', 'revenue', 'revenue_currency', 'revenue_other_currencies', 'clv', 'p_alive', 'value_currency', 'rfm_group', 'segment', 'interactions', 'feedback']);
      const total = (await get('/api/customers?limit=1')).json<Customers>().total;
      assert.equal(rows.length, total);
      assert.ok(rows.length > 1000, `${rows.length} rows: more than one page of 1,000`);
      assert.equal(new Set(rows.map((r) => r['user_id'])).size, rows.length, 'no row twice');
      // In the list's order: the API's first page is the CSV's first rows.
      const page = (await get('/api/customers?sort=clv&order=desc&limit=50')).json<Customers>();
      assert.deepEqual(rows.slice(0, 50).map((r) => r['user_id']), page.items.map((c) => c.userId));
      const ann = rows.find((r) => r['user_id'] === 'c1')!;
      assert.equal(ann['name'], 'Lee, "Ann"');
      assert.ok(raw.includes('"Lee, ""Ann"""'));
      assert.equal(rows.find((r) => r['user_id'] === 'c2')!['name'], `'=HYPERLINK("http://evil.example","x")`);
      assert.equal(rows.find((r) => r['user_id'] === 'c3')!['name'], "'+1 555 0100");
      assert.equal(ann['revenue_currency'], 'EUR');
      assert.equal(ann['value_currency'], 'EUR');
      assert.equal(Number(ann['revenue']), page.items.find((c) => c.userId === 'c1')?.revenue ?? Number(ann['revenue']));
      // The list's filter.
      const only = await csv('/api/customers.csv?q=ann%40example');
      assert.deepEqual(only.rows.map((r) => r['user_id']), ['c1']);
      assert.equal(only.disposition, 'attachment; filename="customers-ann-example.csv"');
    });

    it('exports a whole ranking as CSV with its filters, in ranking order, with the currency column', { skip }, async () => {
      const { head, rows, disposition } = await csv('/api/clv/customers.csv?sort=clv');
      assert.equal(disposition, 'attachment; filename="most-valuable.csv"');
      assert.deepEqual(head.slice(0, 6), ['user_id', 'name', 'email', 'clv', 'value_at_risk', 'currency']);
      const top = (await get('/api/clv/customers?sort=clv&limit=20')).json<Ranked>();
      assert.equal(rows.length, top.total);
      assert.ok(rows.length > 1000);
      assert.deepEqual(rows.slice(0, 20).map((r) => r['user_id']), top.items.map((c) => c.userId));
      const clvs = rows.map((r) => Number(r['clv']));
      assert.ok(clvs.every((v, i) => i === 0 || v <= clvs[i - 1]!), 'highest CLV first, across pages');
      assert.ok(rows.every((r) => r['currency'] === 'EUR'));
      const risk = await csv('/api/clv/customers.csv?sort=risk&group=champions');
      assert.equal(risk.disposition, 'attachment; filename="value-at-risk-champions.csv"');
      const champions = (await get('/api/clv/customers?sort=risk&group=champions&limit=1')).json<Ranked>();
      assert.equal(risk.rows.length, champions.total);
      assert.ok(risk.rows.every((r) => r['rfm_group'] === 'champions'));
      const seg = (await get('/api/clv/customers?sort=clv&segment=0&limit=1')).json<Ranked>();
      const segRows = await csv('/api/clv/customers.csv?sort=clv&segment=0');
      assert.equal(segRows.rows.length, seg.total);
      assert.ok(segRows.rows.every((r) => r['segment'] === '0'));
    });

    it('takes a read key for the exports, refuses other keys and none, and checks the filters', { skip }, async () => {
      assert.equal((await app.inject({ method: 'GET', url: '/api/customers.csv' })).statusCode, 401);
      assert.equal((await get('/api/customers.csv', ingest)).statusCode, 403);
      assert.equal((await get('/api/clv/customers.csv', ingest)).statusCode, 403);
      const bad = await get('/api/clv/customers.csv?sort=nope');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /sort/);
    });

    it('says so plainly when orders come in several currencies, and sums them unconverted', { skip }, async () => {
      // c1 buys 25 times more in USD, a small share of all order value.
      const file = path.join(dir, 'usd.csv');
      const lines = ['order_id,customer_id,date,total,currency'];
      for (let i = 0; i < 25; i++) lines.push(`usd${i},c1,2025-0${1 + (i % 9)}-1${i % 10}T10:00:00Z,1.00,USD`);
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      await importFile(t.store, { file, kind: 'orders' });
      await runClv(t.store, { trigger: 'cli' });
      const sum = (await get('/api/clv/summary')).json<ClvSummary>();
      assert.equal(sum.currency, 'EUR');
      const note = sum.currencyBreakdown!.note!;
      assert.match(note, /^(over 99%|\d+%) of order value is in EUR; 25 orders in USD are summed with it unconverted \(no exchange rates are applied\)$/);
      assert.deepEqual(sum.currencyBreakdown!.byCurrency.map((c) => [c.currency, c.orders]).slice(1), [['USD', 25]]);
      assert.ok(sum.warnings!.includes(note), 'the run report warns of it');
      assert.equal((await get('/api/overview')).json<OverviewReply>().currencyNote, note);
      const ann = (await get('/api/customers/c1')).json<Customer360>();
      assert.deepEqual(ann.otherCurrencies, ['USD']);
      assert.deepEqual(ann.revenueByCurrency.map((r) => r.currency).sort(), ['EUR', 'USD']);
      const row = (await csv('/api/customers.csv?q=c1')).rows.find((r) => r['user_id'] === 'c1')!;
      assert.equal(row['revenue_currency'], 'EUR');
      assert.equal(row['revenue_other_currencies'], 'USD');
    });
  });
}
