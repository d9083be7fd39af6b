import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { RapportError } from '../src/core/errors.js';
import { parseDate } from '../src/ingest/files/columns.js';
import { importFile } from '../src/ingest/files/import.js';
import { channelOf, normalizeMessage } from '../src/ingest/segment/segment.js';
import { createKey } from '../src/auth/keys.js';
import { buildServer } from '../src/server/app.js';
import type { Store } from '../src/store/db.js';
import { summarizeOrders } from '../src/value/orders.repository.js';
import { DIALECTS, type TestStore } from './support/stores.js';
import { RETAIL, UNDECIDABLE } from './support/invoices.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const clock = (): number => NOW;
const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-invoices-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let seq = 0;
function fixture(name: string, content: string): string {
  const d = path.join(dir, String(seq++));
  fs.mkdirSync(d);
  const file = path.join(d, name);
  fs.writeFileSync(file, content);
  return file;
}
const report = (file: string): string[] => fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
const cents = (x: number): number => Math.round(x * 100) / 100;

/** Day-first: 13/12/2010 decides. */
const DAY_FIRST = RETAIL.replace(/12\/(\d{1,2})\/2010/g, '$1/12/2010');

async function refunds(store: Store): Promise<{ refund: string; order: string | null; reason: string; total: number; products: { product_id: string; quantity: number }[]; customer: string | null }[]> {
  const rows = await store.db
    .selectFrom('interactions')
    .innerJoin('customers', 'customers.id', 'interactions.customer_id')
    .select(['interactions.properties', 'customers.user_id'])
    .where('interactions.name', '=', 'Order Refunded')
    .orderBy('interactions.occurred_at')
    .execute();
  return rows.map((r) => {
    const p = JSON.parse(r.properties) as { refund_id: string; order_id: string | null; reason: string; total: number; products: { product_id: string; quantity: number }[] };
    return { refund: p.refund_id, order: p.order_id, reason: p.reason, total: cents(p.total), products: p.products.map((x) => ({ product_id: x.product_id, quantity: x.quantity })), customer: r.user_id };
  });
}

for (const d of DIALECTS) {
  describe(`invoice exports on ${d.name}`, async () => {
    const skip = await d.skip();

    it('imports a retailer invoice export: lines into orders, cancellations and returns as refunds, out of the purchase counts', { skip }, async () => {
      const t = await d.open();
      try {
        const file = fixture('Online Retail.csv', RETAIL);
        const s = await importFile(t.store, { file, kind: 'orders', clock });
        assert.equal(s.rows, 12);
        assert.equal(s.rejected, 2);
        const rejected = report(s.report!);
        assert.ok(rejected.some((l) => /^10,UnitPrice,"?expected a number/.test(l)), rejected.join('\n'));
        assert.ok(rejected.some((l) => /^11,CustomerID,"?order 536383 needs a customer/.test(l)), rejected.join('\n'));

        const orders = await t.store.db.selectFrom('orders').selectAll().orderBy('order_id').execute();
        assert.deepEqual(
          orders.map((o) => [o.order_id, cents(o.total), o.occurred_at]),
          [
            ['536365', 35.64, Date.UTC(2010, 11, 1, 8, 26)],
            ['536366', 11.1, Date.UTC(2010, 11, 1, 8, 28)],
            ['536367', 66.68, Date.UTC(2010, 11, 1, 8, 34)],
            ['536380', 34.8, Date.UTC(2010, 11, 2, 9, 41)],
            ['536381', 9.9, Date.UTC(2010, 11, 13, 9, 45)],
            ['536384', 90, Date.UTC(2010, 11, 14, 10, 30)],
          ],
        );
        assert.deepEqual(JSON.parse(orders[0]!.properties), { Country: 'United Kingdom' });
        const lines = await t.store.db.selectFrom('order_lines').select(['order_ref', 'product_id', 'name', 'quantity', 'price']).orderBy('order_ref').orderBy('line_no').execute();
        assert.deepEqual(
          lines.map((l) => [l.product_id, l.quantity, l.price]),
          [['85123A', 6, 2.55], ['71053', 6, 3.39], ['22633', 6, 1.85], ['84879', 32, 1.69], ['22745', 6, 2.1], ['22961', 24, 1.45], ['22139', 2, 4.95], ['22728', 24, 3.75]],
        );
        assert.equal(lines[0]!.name, 'WHITE HANGING HEART T-LIGHT HOLDER');

        // The cancellation is linked to the customer's latest order of the product; the returned line to its own invoice.
        assert.deepEqual(await refunds(t.store), [
          { refund: 'C536379', order: '536366', reason: 'cancellation', total: 3.7, products: [{ product_id: '22633', quantity: 2 }], customer: '17850' },
          { refund: '536381', order: '536381', reason: 'return', total: 5.8, products: [{ product_id: '22961', quantity: 4 }], customer: '13047' },
        ]);

        // What the value models see: purchases only.
        const summary = await summarizeOrders(t.store);
        assert.equal(summary.orders, 6);
        const customers = await t.store.db.selectFrom('customers').select(['id', 'user_id', 'order_count', 'revenue']).where('user_id', 'is not', null).orderBy('user_id').execute();
        const byUser = new Map(customers.map((c) => [c.user_id, c]));
        const at = (user: string): number => [...summary.customerId].indexOf(byUser.get(user)!.id);
        assert.deepEqual([summary.purchaseDays[at('17850')], cents(summary.spend[at('17850')]!)], [1, 46.74]);
        assert.deepEqual([summary.purchaseDays[at('13047')], cents(summary.spend[at('13047')]!)], [3, 111.38]);
        assert.deepEqual(customers.map((c) => [c.user_id, Number(c.order_count)]), [['12583', 1], ['13047', 3], ['17850', 2]]);

        // Imported again: nothing new, refunds included.
        const again = await importFile(t.store, { file, kind: 'orders', clock });
        assert.deepEqual([again.inserted, again.duplicates], [0, 8]);
        assert.equal((await refunds(t.store)).length, 2);
      } finally {
        await t.cleanup();
      }
    });

    it('refuses a date column that never decides, naming it and --date-order; --date-order reads it', { skip }, async () => {
      const t = await d.open();
      try {
        const file = fixture('undecidable.csv', UNDECIDABLE);
        await assert.rejects(
          importFile(t.store, { file, kind: 'orders', clock }),
          (e: unknown) =>
            e instanceof RapportError &&
            e.issues[0]?.field === 'InvoiceDate' &&
            /InvoiceDate: dates such as 12\/1\/2010 8:26 could be day-first or month-first.*--date-order dmy.*--date-order mdy/.test(e.message),
        );
        assert.equal(Number((await t.store.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), 0);
        await importFile(t.store, { file, kind: 'orders', clock, dateOrder: 'dmy' });
        const o = await t.store.db.selectFrom('orders').select(['order_id', 'occurred_at']).where('order_id', '=', '536384').executeTakeFirstOrThrow();
        assert.equal(o.occurred_at, Date.UTC(2010, 3, 12, 10, 30), 'dmy: 12/4/2010 is 12 April');
        await assert.rejects(importFile(t.store, { file, kind: 'orders', dateOrder: 'ymd' }), /--date-order: expected dmy \(day\/month\/year\) or mdy/);
      } finally {
        await t.cleanup();
      }
    });

    it('reads a day-first column from its 13/…, and --map names columns no alias knows', { skip }, async () => {
      const t = await d.open();
      try {
        await importFile(t.store, { file: fixture('day-first.csv', DAY_FIRST), kind: 'orders', clock });
        const o = await t.store.db.selectFrom('orders').select(['occurred_at']).where('order_id', '=', '536384').executeTakeFirstOrThrow();
        assert.equal(o.occurred_at, Date.UTC(2010, 11, 14, 10, 30));

        const odd = 'Bill,Item,Qty,When,Each,Buyer\nB1,X1,2,2024-05-01,3.5,k1\nB1,X2,1,2024-05-01,1,k1\n';
        const file = fixture('odd.csv', odd);
        const unmapped = await importFile(t.store, { file, kind: 'orders', clock });
        assert.equal(unmapped.rejected, 2, 'without --map no column names an order id');
        const s = await importFile(t.store, { file, kind: 'orders', clock, map: ['order_id=Bill', 'product_id=Item', 'quantity=Qty', 'date=When', 'price=Each', 'customer_id=Buyer'] });
        assert.deepEqual([s.inserted, s.rejected], [1, 0]);
        const b1 = await t.store.db.selectFrom('orders').select(['total']).where('order_id', '=', 'B1').executeTakeFirstOrThrow();
        assert.equal(b1.total, 8);
        await assert.rejects(importFile(t.store, { file, kind: 'orders', map: ['colour=Bill'] }), /--map: orders have no field "colour"; the fields are order_id, user_id/);
        await assert.rejects(importFile(t.store, { file, kind: 'orders', map: ['order_id=Invoice'] }), /--map: order_id=Invoice: the file has no column "Invoice"/);
        await assert.rejects(importFile(t.store, { file, kind: 'orders', map: ['order_id'] }), /--map: expected field=column/);
      } finally {
        await t.cleanup();
      }
    });

    it('imports a help-desk ticket export (Zendesk columns) as tickets with their subjects', { skip }, async () => {
      const t = await d.open();
      try {
        const zendesk = 'Ticket ID,Subject,Description,Requester email,Created at,Status,Priority\n101,Parcel late,"My parcel is two weeks late",ann@example.com,2024-05-01 10:00,open,high\n102,Refund?,,bob@example.com,13/05/2024 09:00,solved,low\n';
        const s = await importFile(t.store, { file: fixture('tickets.csv', zendesk), kind: 'feedback', clock });
        assert.deepEqual([s.inserted, s.rejected], [2, 0]);
        const rows = await t.store.db.selectFrom('feedback').selectAll().orderBy('source_id').execute();
        assert.deepEqual(
          rows.map((r) => [r.source_id, r.kind, r.text, r.status, r.created_at, JSON.parse(r.properties) as unknown]),
          [
            ['101', 'ticket', 'My parcel is two weeks late', 'open', Date.UTC(2024, 4, 1, 10), { Priority: 'high', subject: 'Parcel late' }],
            ['102', 'ticket', 'Refund?', 'solved', Date.UTC(2024, 4, 13, 9), { Priority: 'low', subject: 'Refund?' }],
          ],
        );
      } finally {
        await t.cleanup();
      }
    });

    describe('the tracking API', () => {
      let t: TestStore;
      let app: FastifyInstance;
      let auth = '';
      before(async () => {
        if (skip) return;
        t = await d.open();
        app = await buildServer({ store: t.store });
        auth = `Basic ${Buffer.from(`${(await createKey(t.store.db, 'site', 'ingest', Date.now())).secret}:`).toString('base64')}`;
      });
      after(async () => {
        if (skip) return;
        await app.close();
        await t.cleanup();
      });

      it('takes gzip bodies and JSON sent as application/json, text/plain or form-urlencoded', { skip }, async () => {
        const body = (id: string): string => JSON.stringify({ batch: [{ type: 'track', userId: 'u-ct', event: 'Item Viewed', messageId: id, timestamp: '2024-05-01T00:00:00Z' }] });
        const send = (id: string, type: string, gzip = false) =>
          app.inject({
            method: 'POST',
            url: '/v1/batch',
            headers: { authorization: auth, 'content-type': type, ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
            payload: gzip ? gzipSync(body(id)) : body(id),
          });
        for (const [id, type, gzip] of [['m-json', 'application/json', false], ['m-text', 'text/plain', false], ['m-form', 'application/x-www-form-urlencoded', false], ['m-gz', 'application/json', true], ['m-gz-text', 'text/plain;charset=UTF-8', true]] as const) {
          const res = await send(id, type, gzip);
          assert.equal(res.statusCode, 200, `${id}: ${res.body}`);
        }
        const stored = await t.store.db.selectFrom('interactions').select('source_id').where('name', '=', 'Item Viewed').orderBy('source_id').execute();
        assert.deepEqual(stored.map((r) => r.source_id), ['m-form', 'm-gz', 'm-gz-text', 'm-json', 'm-text']);
        // A body that is not gzip though it says so, and text that is not JSON, are 400s naming what is wrong.
        const bad = await app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: body('x') });
        assert.equal(bad.statusCode, 400, bad.body);
        const text = await app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: auth, 'content-type': 'text/plain' }, payload: 'hello' });
        assert.equal(text.statusCode, 400);
        assert.match(text.body, /body: expected JSON/);
        // The body limit counts the unpacked bytes: 600 KB of zeros packs into a few hundred bytes.
        const bomb = gzipSync(JSON.stringify({ batch: [], pad: '0'.repeat(600 * 1024) }));
        const big = await app.inject({ method: 'POST', url: '/v1/batch', headers: { authorization: auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: bomb });
        assert.equal(big.statusCode, 400);
        assert.match(big.body, /larger than the 500 KB limit/);
      });

      it('gives a call its channel from the context', { skip }, async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/track',
          headers: { authorization: auth, 'content-type': 'application/json' },
          payload: { userId: 'u-call', event: 'Call Completed', messageId: 'call-1', context: { channel: 'call_center' } },
        });
        assert.equal(res.statusCode, 200, res.body);
        const r = await t.store.db.selectFrom('interactions').select(['channel', 'direction']).where('source_id', '=', 'call-1').executeTakeFirstOrThrow();
        assert.deepEqual([r.channel, r.direction], ['phone', 'mutual']);
      });
    });
  });
}

describe('the channel of a touch', () => {
  const opts = { source: 'segment', receivedAt: NOW };
  const channel = (event: string, context?: Record<string, unknown>, properties: Record<string, unknown> = {}): string | undefined => {
    const [r] = normalizeMessage('track', { userId: 'u', event, properties, ...(context ? { context } : {}) }, opts);
    return r?.kind === 'interaction' ? r.channel : undefined;
  };
  it('follows the context: its channel, a call centre named elsewhere in it, then the event name', () => {
    assert.equal(channel('Call Completed', { channel: 'phone' }), 'phone');
    assert.equal(channel('Call Completed', { channel: 'Call Center' }), 'phone');
    assert.equal(channel('Call Completed', { channel: 'server' }), 'phone', 'server names the library, not the channel');
    assert.equal(channel('Ticket Updated', { app: { name: 'Acme Call Centre' } }), 'phone');
    assert.equal(channel('Call Completed'), 'phone');
    assert.equal(channel('Chat Ended', { channel: 'server' }), 'chat');
    assert.equal(channel('Email Opened'), 'email');
    assert.equal(channel('Product Viewed', { channel: 'server' }), 'product');
    assert.equal(channel('Product Viewed', { channel: 'browser' }), 'web');
    assert.equal(channel('Product Viewed', { channel: 'kiosk' }), 'kiosk');
    assert.equal(channel('Call Completed', { channel: 'phone' }, { channel: 'Store' }), 'store', 'the channel property wins');
    assert.equal(channelOf('page', {}, undefined), 'web');
    assert.equal(channelOf('screen', {}, { channel: 'server' }), 'mobile');
  });
});

describe('dates by column order', () => {
  it('reads slash dates by the order given, and alone only when they decide themselves', () => {
    assert.equal(parseDate('12/9/2011 11:58', 'mdy'), Date.UTC(2011, 11, 9, 11, 58));
    assert.equal(parseDate('12/9/2011 11:58', 'dmy'), Date.UTC(2011, 8, 12, 11, 58));
    assert.equal(parseDate('13/9/2011'), Date.UTC(2011, 8, 13));
    assert.equal(parseDate('9/13/2011 1:05 PM'), Date.UTC(2011, 8, 13, 13, 5));
    assert.ok(Number.isNaN(parseDate('12/9/2011')!));
    assert.ok(Number.isNaN(parseDate('31/2/2011', 'dmy')!));
    assert.equal(parseDate('2011-12-09T11:58:00Z', 'dmy'), Date.UTC(2011, 11, 9, 11, 58));
  });
  it('the CLI refuses an undecidable column with the message, and takes --date-order and --map', () => {
    const file = fixture('retail.csv', UNDECIDABLE);
    const db = path.join(path.dirname(file), 'rapport.db');
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'import', file, '--kind', 'orders', '--no-clv', '--json', ...args], { env: { ...process.env, DATABASE_URL: `sqlite:${db}` }, encoding: 'utf8' });
    const refused = run([]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /InvoiceDate: dates such as 12\/1\/2010 8:26 could be day-first or month-first.*pass --date-order dmy/);
    const ok = run(['--date-order', 'mdy', '--map', 'order_id=InvoiceNo', '--map', 'customer_id=CustomerID']);
    assert.equal(ok.status, 9, ok.stderr);
    const s = JSON.parse(ok.stdout) as { inserted: number; rejected: number };
    assert.deepEqual([s.inserted, s.rejected], [8, 2]);
  });
});
