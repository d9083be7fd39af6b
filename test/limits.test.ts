import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { importFile } from '../src/ingest/files/import.js';
import { timeProblem, timeWindow, valueProblem } from '../src/core/limits.js';
import { DIALECTS, type TestStore } from './support/stores.js';

/**
 * Every time and amount that enters is checked against its plausible range (core/limits.ts):
 * values that were once accepted and then broke jobs and pages are refused where they enter,
 * naming the field, and nothing of them is stored.
 */

const NOW = Date.parse('2026-06-01T12:00:00Z');
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-limits-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const order = (timestamp: unknown, total: unknown = 10) => ({
  userId: 'poison',
  event: 'Order Completed',
  messageId: `m-${String(timestamp)}-${String(total)}`,
  timestamp,
  properties: { order_id: `o-${String(timestamp)}-${String(total)}`, total, products: [{ product_id: 'p', price: 10 }] },
});

for (const d of DIALECTS) {
  describe(`what enters is in range, on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let ingest = '';
    let read = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      app = await buildServer({ store: t.store, clock: () => NOW });
      ingest = (await createKey(t.store.db, 'site', 'ingest', NOW)).secret;
      read = (await createKey(t.store.db, 'dash', 'read', NOW)).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });
    const post = (url: string, body: unknown) =>
      app.inject({ method: 'POST', url, headers: { authorization: basic(ingest), 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    const stored = async () => ({
      orders: (await t.store.db.selectFrom('orders').select('id').execute()).length,
      interactions: (await t.store.db.selectFrom('interactions').select('id').execute()).length,
      customers: (await t.store.db.selectFrom('customers').select('id').execute()).length,
    });
    const fieldOf = (r: { json(): unknown }) => (r.json() as { error: { issues: { field: string; message: string }[] } }).error.issues[0];

    it('refuses times outside 1900 to two days past now, and amounts beyond 1e12, naming the field; nothing is stored', { skip }, async () => {
      const cases: [unknown, unknown, string, RegExp][] = [
        ['+275760-09-13T00:00:00.000Z', 10, 'timestamp', /must lie between 1900-01-01 and 2026-06-03/],
        ['3000-01-01T00:00:00Z', 10, 'timestamp', /got 3000-01-01T00:00:00.000Z/],
        [1e16, 10, 'timestamp', /must lie between/],
        [-1e15, 10, 'timestamp', /must lie between/],
        ['-271821-04-20T00:00:00.000Z', 10, 'timestamp', /must lie between/],
        ['1899-12-31T23:59:59Z', 10, 'timestamp', /must lie between/],
        ['2026-05-01T00:00:00Z', 1e308, 'properties.total', /must lie within ±1e12/],
      ];
      for (const [timestamp, total, field, message] of cases) {
        const r = await post('/v1/track', order(timestamp, total));
        assert.equal(r.statusCode, 400, `${String(timestamp)} / ${String(total)}`);
        assert.equal(fieldOf(r)?.field, field);
        assert.match(fieldOf(r)!.message, message);
      }
      // In a batch, the message is named by its index, and the batch is refused whole.
      const batch = await post('/v1/batch', { batch: [{ type: 'track', ...order('2026-05-01T00:00:00Z') }, { type: 'track', ...order(1e16) }] });
      assert.equal(batch.statusCode, 400);
      assert.equal(fieldOf(batch)?.field, 'batch[1].timestamp');
      assert.deepEqual(await stored(), { orders: 0, interactions: 0, customers: 0 });
    });

    it('refuses a property JSON cannot keep (1e309), nesting deeper than 32 levels and lone surrogates, naming where', { skip }, async () => {
      const infinite = await post('/v1/track', '{"userId":"u","event":"Viewed","timestamp":"2026-05-01T00:00:00Z","properties":{"score":1e309}}');
      assert.equal(infinite.statusCode, 400);
      assert.equal(fieldOf(infinite)?.field, 'properties.score');
      const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      const nested = await post('/v1/track', `{"userId":"u","event":"Viewed","timestamp":"2026-05-01T00:00:00Z","properties":${deep}}`);
      assert.equal(nested.statusCode, 400);
      assert.match(fieldOf(nested)!.message, /nested more than 32 levels deep/);
      const deeper = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
      const inBatch = await post('/v1/batch', `{"batch":[{"type":"track","userId":"u","event":"Viewed","properties":{"p":${deeper}}}]}`);
      assert.equal(inBatch.statusCode, 400);
      assert.match(fieldOf(inBatch)!.field, /^batch\[0\]\.properties\.p\[0\]/);
      const surrogate = await post('/v1/identify', '{"userId":"\\ud800","traits":{}}');
      assert.equal(surrogate.statusCode, 400);
      assert.equal(fieldOf(surrogate)?.field, 'userId');
      const signedUp = await post('/v1/identify', { userId: 'u', traits: { createdAt: 1e16 } });
      assert.equal(signedUp.statusCode, 400);
      assert.equal(fieldOf(signedUp)?.field, 'traits.createdAt');
      assert.deepEqual(await stored(), { orders: 0, interactions: 0, customers: 0 });
    });

    it('corrects originalTimestamp by sentAt for a sender whose clock runs ahead, as Segment does', { skip }, async () => {
      // The sender's clock is a year ahead: it sent at its 2027-06-01T12:00, the event happened a minute before.
      const r = await post('/v1/track', { userId: 'skew', event: 'Clicked', messageId: 'skew-1', originalTimestamp: '2027-06-01T11:59:00Z', sentAt: '2027-06-01T12:00:00Z' });
      assert.equal(r.statusCode, 200);
      const row = await t.store.db.selectFrom('interactions').select('occurred_at').executeTakeFirstOrThrow();
      assert.equal(Number(row.occurred_at), NOW - 60_000);
      await t.store.db.deleteFrom('interactions').execute();
      await t.store.db.deleteFrom('customers').execute();
    });

    it('keeps the customer list, the profile and the overview answering after the refused values', { skip }, async () => {
      await post('/v1/track', order('2026-05-01T00:00:00Z'));
      for (const url of ['/api/customers', '/api/customers/poison', '/api/customers/poison/timeline', '/api/overview']) {
        const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${read}` } });
        assert.equal(r.statusCode, 200, url);
      }
    });

    it('rejects import rows dated out of range or with implausible amounts, naming row and field, and stores the rest', { skip }, async () => {
      const file = path.join(dir, `orders-${d.name}.csv`);
      fs.writeFileSync(
        file,
        ['order_id,customer_id,date,total', 'i1,ann,2026-05-01,10', 'i2,ann,2999-01-01,10', 'i3,bob,2026-05-02,5e13', 'i4,bob,1850-01-01,3', 'i5,cy,2026-06-02,4'].join('\n') + '\n',
      );
      const report = path.join(dir, `orders-${d.name}.rejected.csv`);
      const s = await importFile(t.store, { file, kind: 'orders', report, clock: () => NOW });
      assert.equal(s.rejected, 3);
      const lines = fs.readFileSync(report, 'utf8').trim().split('\n').slice(1);
      assert.deepEqual(
        lines.map((l) => l.split(',').slice(0, 2)),
        [
          ['2', 'date'],
          ['3', 'total'],
          ['4', 'date'],
        ],
      );
      const ids = (await t.store.db.selectFrom('orders').select('order_id').execute()).map((o) => o.order_id).sort();
      assert.ok(ids.includes('i1') && ids.includes('i5') && !ids.includes('i2') && !ids.includes('i3') && !ids.includes('i4'));
    });
  });
}

describe('the plausible ranges themselves', () => {
  it('takes a configured future margin, and reads a value too deep to recurse into without overflowing', () => {
    const w = timeWindow(NOW, 10);
    assert.equal(timeProblem(NOW + 9 * 86_400_000, w), undefined);
    assert.match(timeProblem(NOW + 11 * 86_400_000, w)!, /10 days past the time received/);
    assert.throws(() => timeWindow(NOW, -1), RangeError);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.match(valueProblem(deep, 'properties')!.message, /nested more than 32/);
    assert.equal(valueProblem({ a: [1, 'x', { b: null }] }, 'properties'), undefined);
  });
});
