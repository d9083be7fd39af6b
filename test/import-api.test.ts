import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { createKey, sha256 } from '../src/auth/keys.js';
import { insertSession, insertStaff } from '../src/auth/staff.repository.js';
import type { ImportResult } from '../src/ingest/files/import.service.js';
import type { ImportPreview } from '../src/ingest/files/preview.js';
import type { ErrorBody } from '../src/http/route.js';
import { buildServer } from '../src/server/app.js';
import type { Store } from '../src/store/db.js';
import { DIALECTS, sqliteStore, type TestStore } from './support/stores.js';
import { RETAIL, UNDECIDABLE } from './support/invoices.js';

type ErrorReply = z.infer<typeof ErrorBody>;

/** The customer column under a name no alias knows. */
const BUYER = RETAIL.replace('CustomerID', 'Buyer');

const uploadDirs = (): string[] => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('rapport-upload-'));

async function counts(store: Store): Promise<{ orders: number; customers: number; interactions: number }> {
  const n = async (table: 'orders' | 'customers' | 'interactions'): Promise<number> =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { orders: await n('orders'), customers: await n('customers'), interactions: await n('interactions') };
}

/** A signed-in team member who is not an admin: the session cookie's value. */
async function memberSession(store: Store): Promise<string> {
  const now = Date.now();
  const staffId = await insertStaff(store.db, { email: `pm-${randomBytes(3).toString('hex')}@example.com`, name: 'Product Manager', role: 'member', at: now });
  const session = randomBytes(32).toString('base64url');
  await insertSession(store.db, { hash: sha256(session), staffId, at: now, expiresAt: now + 3_600_000 });
  return session;
}

const query = (params: Record<string, string | string[] | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of v === undefined ? [] : Array.isArray(v) ? v : [v]) q.append(k, x);
  return q.toString();
};

for (const d of DIALECTS) {
  describe(`import API on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let admin = '';
    let read = '';
    let ingest = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      app = await buildServer({ store: t.store });
      admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      ingest = (await createKey(t.store.db, 'site', 'ingest', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });

    const upload = (url: string, body: string, params: Record<string, string | string[] | undefined>, auth: { key?: string; session?: string } = { key: admin }) =>
      app.inject({
        method: 'POST',
        url: `${url}?${query(params)}`,
        headers: { 'content-type': 'text/csv', ...(auth.key ? { authorization: `Bearer ${auth.key}` } : {}) },
        ...(auth.session ? { cookies: { rapport_session: auth.session } } : {}),
        payload: body,
      });

    it('previews an invoice export: the mapping guessed, the date order found, the first rows as read, nothing written', { skip }, async () => {
      const dirs = uploadDirs().length;
      const res = await upload('/api/import/preview', RETAIL, { kind: 'orders', filename: 'Online Retail.csv' });
      assert.equal(res.statusCode, 200, res.body);
      const p = res.json<ImportPreview>();
      assert.equal(p.format, 'csv');
      assert.deepEqual(p.header, ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country']);
      const column = Object.fromEntries(p.fields.map((f) => [f.field, f.column]));
      assert.deepEqual(column, { orderId: 'InvoiceNo', userId: 'CustomerID', email: null, at: 'InvoiceDate', total: null, currency: null, productId: 'StockCode', productName: 'Description', category: null, price: 'UnitPrice', quantity: 'Quantity' });
      assert.ok(p.fields.filter((f) => f.column !== null).every((f) => f.from === 'guess'));
      assert.deepEqual(p.fields.find((f) => f.field === 'email')!.oneOf, ['user_id', 'email']);
      assert.equal(p.fields.find((f) => f.field === 'orderId')!.required, true);
      assert.deepEqual(p.missing, []);
      assert.deepEqual(p.unused, ['Country']);
      assert.equal(p.dates.length, 1);
      assert.equal(p.dates[0]!.state, 'decided');
      assert.equal(p.dates[0]!.order, 'mdy');
      assert.match(p.dates[0]!.message, /12\/13\/2010 9:45 \(row 8\)/);
      assert.equal(p.rows.length, 12);
      assert.deepEqual(p.rows[0]!.values, { orderId: '536365', userId: '17850', at: '2010-12-01T08:26:00.000Z', productId: '85123A', productName: 'WHITE HANGING HEART T-LIGHT HOLDER', price: 2.55, quantity: 6 });
      assert.equal(p.rows[7]!.values['at'], '2010-12-13T09:45:00.000Z');
      assert.match(p.rows[5]!.note ?? '', /refund/);
      assert.deepEqual(p.rows[9]!.errors, [{ field: 'price', column: 'UnitPrice', message: 'expected a number, got "abc"' }]);
      assert.equal(p.rows[10]!.errors[0]!.field, 'userId');
      assert.match(p.rows[10]!.errors[0]!.message, /needs a customer/);
      assert.ok(p.rows.filter((_, i) => i !== 9 && i !== 10).every((r) => r.errors.length === 0));
      assert.deepEqual(await counts(t.store), { orders: 0, customers: 0, interactions: 0 });
      assert.equal(uploadDirs().length, dirs, 'the upload is removed');
    });

    it('honours a remapped column, and refuses an import whose required field has no column, naming it', { skip }, async () => {
      const guessed = (await upload('/api/import/preview', BUYER, { kind: 'orders', format: 'csv' })).json<ImportPreview>();
      assert.equal(guessed.fields.find((f) => f.field === 'userId')!.column, null);
      assert.equal(guessed.missing.length, 1);
      assert.deepEqual(guessed.missing[0]!.fields, ['userId', 'email']);
      const refused = await upload('/api/import', BUYER, { kind: 'orders', format: 'csv' });
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json<ErrorReply>().error.issues![0]!.field, 'map.userId');
      assert.match(refused.json<ErrorReply>().error.message, /orders need a column for user_id or email/);
      assert.deepEqual(await counts(t.store), { orders: 0, customers: 0, interactions: 0 });

      // Buyer as the customer, and the description (not the stock code) as the product.
      const map = ['userId=Buyer', 'productId=', 'productName=Description'];
      const p = (await upload('/api/import/preview', BUYER, { kind: 'orders', format: 'csv', map })).json<ImportPreview>();
      const userId = p.fields.find((f) => f.field === 'userId')!;
      assert.deepEqual([userId.column, userId.from], ['Buyer', 'map']);
      assert.deepEqual([p.fields.find((f) => f.field === 'productId')!.column, p.fields.find((f) => f.field === 'productId')!.from], [null, 'none']);
      assert.deepEqual(p.missing, []);
      assert.ok(p.unused.includes('StockCode'), 'an unmapped column is kept as a property');
      assert.equal(p.rows[0]!.values['userId'], '17850');
      const res = await upload('/api/import', BUYER, { kind: 'orders', format: 'csv', map });
      assert.equal(res.statusCode, 200, res.body);
      const lines = await t.store.db.selectFrom('order_lines').select(['product_id']).execute();
      assert.ok(lines.some((l) => l.product_id === 'WHITE HANGING HEART T-LIGHT HOLDER'), 'products named by their description');
      assert.ok(!lines.some((l) => l.product_id === '85123A'));
      const buyers = await t.store.db.selectFrom('customers').select('user_id').where('user_id', 'is not', null).orderBy('user_id').execute();
      assert.deepEqual(buyers.map((b) => b.user_id), ['12583', '13047', '17850']);
      // Clean slate for the next test: the same orders under stock-code products come from another import.
      await t.store.db.deleteFrom('customers').execute();
      await t.store.db.deleteFrom('products').execute();
    });

    it('refuses a bad mapping with a 400 naming the field', { skip }, async () => {
      const unknown = await upload('/api/import', RETAIL, { kind: 'orders', format: 'csv', map: 'colour=Country' });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json<ErrorReply>().error.issues![0]!.field, 'map.colour');
      assert.match(unknown.json<ErrorReply>().error.message, /orders have no field "colour"/);
      const absent = await upload('/api/import/preview', RETAIL, { kind: 'orders', format: 'csv', map: 'orderId=Invoice Number' });
      assert.equal(absent.statusCode, 400);
      assert.equal(absent.json<ErrorReply>().error.issues![0]!.field, 'map.orderId');
      assert.match(absent.json<ErrorReply>().error.message, /the file has no column "Invoice Number"/);
      const kind = await upload('/api/import/preview', RETAIL, { kind: 'invoices', format: 'csv' });
      assert.equal(kind.statusCode, 400);
      assert.equal(kind.json<ErrorReply>().error.issues![0]!.field, 'query.kind');
      const order = await upload('/api/import/preview', RETAIL, { kind: 'orders', format: 'csv', dateOrder: 'ymd' });
      assert.equal(order.json<ErrorReply>().error.issues![0]!.field, 'query.dateOrder');
      const format = await app.inject({ method: 'POST', url: '/api/import/preview?kind=orders', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' }, payload: RETAIL });
      assert.equal(format.statusCode, 400);
      assert.equal(format.json<ErrorReply>().error.issues![0]!.field, 'format');
      assert.deepEqual(await counts(t.store), { orders: 0, customers: 0, interactions: 0 });
    });

    it('asks for the date order when the column cannot decide, and reads it as chosen', { skip }, async () => {
      const p = (await upload('/api/import/preview', UNDECIDABLE, { kind: 'orders', format: 'csv' })).json<ImportPreview>();
      assert.equal(p.dates[0]!.state, 'undecidable');
      assert.equal(p.dates[0]!.order, null);
      assert.match(p.dates[0]!.message, /^undecidable: .*choose dmy or mdy$/);
      assert.match(p.rows[0]!.errors[0]!.message, /could be day-first or month-first/);
      const refused = await upload('/api/import', UNDECIDABLE, { kind: 'orders', format: 'csv' });
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json<ErrorReply>().error.issues![0]!.field, 'dateOrder');
      const chosen = (await upload('/api/import/preview', UNDECIDABLE, { kind: 'orders', format: 'csv', dateOrder: 'dmy' })).json<ImportPreview>();
      assert.deepEqual([chosen.dates[0]!.state, chosen.dates[0]!.order], ['given', 'dmy']);
      assert.equal(chosen.rows[7]!.values['at'], '2010-03-12T09:45:00.000Z');
      assert.deepEqual(await counts(t.store), { orders: 0, customers: 0, interactions: 0 });
    });

    it('imports the file: rows stored, rejected rows with row, field and reason, the report as CSV', { skip }, async () => {
      const dirs = uploadDirs().length;
      const session = await memberSession(t.store);
      const res = await upload('/api/import', RETAIL, { kind: 'orders', filename: 'invoices.csv' }, { session });
      assert.equal(res.statusCode, 200, res.body);
      const r = res.json<ImportResult>();
      assert.equal(r.rows, 12);
      assert.equal(r.rejected, 2);
      assert.equal(r.stored, 10);
      assert.equal(r.dateOrder, 'mdy');
      assert.deepEqual(r.rejects, [
        { row: 10, field: 'UnitPrice', reason: 'expected a number, got "abc"' },
        { row: 11, field: 'CustomerID', reason: 'order 536383 needs a customer (user_id, customer_id or email)' },
      ]);
      assert.equal(r.rejectReport, 'row,field,reason\r\n10,UnitPrice,"expected a number, got ""abc"""\r\n11,CustomerID,"order 536383 needs a customer (user_id, customer_id or email)"\r\n');
      assert.equal(r.rejectReportComplete, true);
      const orders = await t.store.db.selectFrom('orders').select(['order_id', 'occurred_at']).orderBy('order_id').execute();
      assert.deepEqual(orders.map((o) => o.order_id), ['536365', '536366', '536367', '536380', '536381', '536384']);
      assert.equal(Number(orders.find((o) => o.order_id === '536384')!.occurred_at), Date.UTC(2010, 11, 14, 10, 30));
      const refunds = await t.store.db.selectFrom('interactions').select('name').where('name', '=', 'Order Refunded').execute();
      assert.equal(refunds.length, 2, 'the cancellation and the returned line are refunds');
      assert.equal(uploadDirs().length, dirs, 'the upload and its report are removed');
      // The same file again stores nothing new.
      const again = (await upload('/api/import', RETAIL, { kind: 'orders', filename: 'invoices.csv' })).json<ImportResult>();
      assert.equal(again.inserted, 0);
      assert.equal(again.duplicates, r.inserted);
    });

    it('previews NDJSON: the keys of the first objects as the header, Segment messages without a mapping', { skip }, async () => {
      const before = await counts(t.store);
      const people = ['{"User ID":"u1","E-mail":"ANA@example.com","plan":"pro"}', 'not json', '{"User ID":"u2","E-mail":"nope","signup_date":"2024-05-01"}'].join('\n');
      const res = await app.inject({ method: 'POST', url: '/api/import/preview?kind=customers&filename=people.ndjson', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-ndjson' }, payload: people });
      assert.equal(res.statusCode, 200, res.body);
      const p = res.json<ImportPreview>();
      assert.equal(p.format, 'ndjson');
      assert.deepEqual(p.header, ['User ID', 'E-mail', 'plan', 'signup_date']);
      assert.deepEqual(Object.fromEntries(p.fields.filter((f) => f.column).map((f) => [f.field, f.column])), { userId: 'User ID', email: 'E-mail', createdAt: 'signup_date' });
      assert.deepEqual(p.unused, ['plan']);
      assert.deepEqual(p.rows.map((r) => r.row), [1, 2, 3]);
      assert.deepEqual(p.rows[0]!.values, { userId: 'u1', email: 'ana@example.com', createdAt: null });
      assert.match(p.rows[1]!.errors[0]!.message, /^not valid JSON/);
      assert.deepEqual(p.rows[2]!.errors.map((e) => [e.field, e.column]), [['email', 'E-mail']]);
      const events = await app.inject({ method: 'POST', url: '/api/import/preview?kind=events&format=ndjson', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' }, payload: '{"type":"track","event":"Signed Up","userId":"u1","timestamp":"2024-05-01T10:00:00Z"}\n' });
      assert.equal(events.json<ImportPreview>().segmentMessages, true);
      assert.deepEqual(events.json<ImportPreview>().fields, []);
      assert.deepEqual(await counts(t.store), before, 'a preview writes nothing');
    });

    it('is for people who may change data: a read or ingest key gets 403, no credentials 401', { skip }, async () => {
      for (const url of ['/api/import/preview', '/api/import']) {
        const byRead = await upload(url, RETAIL, { kind: 'orders', format: 'csv' }, { key: read });
        assert.equal(byRead.statusCode, 403, url);
        assert.equal(byRead.json<ErrorReply>().error.code, 'forbidden');
        assert.equal((await upload(url, RETAIL, { kind: 'orders', format: 'csv' }, { key: ingest })).statusCode, 403, url);
        assert.equal((await upload(url, RETAIL, { kind: 'orders', format: 'csv' }, {})).statusCode, 401, url);
      }
      const session = await memberSession(t.store);
      assert.equal((await upload('/api/import/preview', RETAIL, { kind: 'orders', format: 'csv' }, { session })).statusCode, 200);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, { post: { 'x-rapport-auth': string; responses: Record<string, unknown>; requestBody: { content: Record<string, unknown> } } }> }>();
      for (const p of ['/api/import', '/api/import/preview']) {
        assert.equal(doc.paths[p]!.post['x-rapport-auth'], 'editor');
        assert.ok(doc.paths[p]!.post.responses['413']);
        assert.ok(doc.paths[p]!.post.requestBody.content['text/csv']);
      }
    });
  });
}

describe('import API limits and threads', () => {
  let t: TestStore;
  before(async () => {
    t = await sqliteStore();
  });
  after(async () => t.cleanup());

  it('refuses a file over the configured limit with 413 and writes nothing', async () => {
    const app = await buildServer({ store: t.store, importMaxBytes: 1024 });
    try {
      const admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
      const big = RETAIL + RETAIL.split('\n').slice(1).join('\n').repeat(3);
      assert.ok(big.length > 1024);
      for (const url of ['/api/import/preview', '/api/import']) {
        const res = await app.inject({ method: 'POST', url: `${url}?kind=orders&format=csv`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' }, payload: big });
        assert.equal(res.statusCode, 413, url);
        assert.equal(res.json<ErrorReply>().error.code, 'file_too_large');
        assert.match(res.json<ErrorReply>().error.message, /larger than the 1 KB limit/);
      }
      const small = await app.inject({ method: 'POST', url: '/api/import/preview?kind=orders&format=csv', headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' }, payload: RETAIL.slice(0, 600) });
      assert.equal(small.statusCode, 200, small.body);
      assert.deepEqual(await counts(t.store), { orders: 0, customers: 0, interactions: 0 });
    } finally {
      await app.close();
    }
  });

  it('imports on a worker thread while the server keeps answering', async () => {
    const app = await buildServer({ store: t.store, jobThreads: true });
    try {
      const admin = (await createKey(t.store.db, 'ops2', 'admin', Date.now())).secret;
      const importing = app.inject({ method: 'POST', url: '/api/import?kind=orders&format=csv', headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' }, payload: RETAIL });
      const meanwhile = await app.inject({ method: 'GET', url: '/api/customers', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(meanwhile.statusCode, 200);
      const res = await importing;
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual([res.json<ImportResult>().stored, res.json<ImportResult>().rejected], [10, 2]);
      assert.equal((await counts(t.store)).orders, 6);
    } finally {
      await app.close();
    }
  });
});
