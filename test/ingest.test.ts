import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { GroupCommit } from '../src/ingest/group.js';
import { normalizeBatch, normalizeMessage } from '../src/ingest/segment/segment.js';
import { RapportError } from '../src/core/errors.js';
import { DIALECTS } from './support/stores.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const opts = { source: 'segment', receivedAt: NOW };

for (const d of DIALECTS) {
  describe(`ingestion writer on ${d.name}`, async () => {
    const skip = await d.skip();
    it('stores a track event once however often the same messageId arrives', { skip }, async () => {
      const t = await d.open();
      try {
        const w = new IngestWriter(t.store, () => NOW);
        const msg = { userId: 'u1', event: 'Signed Up', messageId: 'm-1', timestamp: '2025-05-01T10:00:00Z' };
        const first = await w.write(normalizeMessage('track', msg, opts));
        const second = await w.write(normalizeMessage('track', msg, opts));
        const fresh = new IngestWriter(t.store, () => NOW);
        const third = await fresh.write(normalizeMessage('track', msg, opts));
        assert.deepEqual(first, { inserted: 1, updated: 0, duplicates: 0 });
        assert.deepEqual(second, { inserted: 0, updated: 0, duplicates: 1 });
        assert.deepEqual(third, { inserted: 0, updated: 0, duplicates: 1 });
        const rows = await t.store.db.selectFrom('interactions').selectAll().execute();
        assert.equal(rows.length, 1);
        const c = await t.store.db.selectFrom('customers').selectAll().executeTakeFirstOrThrow();
        assert.equal(c.user_id, 'u1');
        assert.equal(c.interaction_count, 1);
        assert.equal(c.last_seen, Date.parse('2025-05-01T10:00:00Z'));
      } finally {
        await t.cleanup();
      }
    });

    it('turns Order Completed into an order with lines and products', { skip }, async () => {
      const t = await d.open();
      try {
        const w = new IngestWriter(t.store, () => NOW);
        const msg = {
          userId: 'u2',
          event: 'Order Completed',
          messageId: 'm-2',
          timestamp: '2025-06-01T10:00:00Z',
          properties: {
            order_id: 'o-1',
            total: 30,
            currency: 'eur',
            products: [
              { product_id: 'p1', name: 'Kind of Blue', category: 'Jazz', price: 10, quantity: 2 },
              { sku: 'p2', category: 'Rock', price: 10 },
            ],
          },
        };
        await w.write(normalizeMessage('track', msg, opts));
        await w.write(normalizeMessage('track', { ...msg, messageId: 'm-2-retry' }, opts));
        const orders = await t.store.db.selectFrom('orders').selectAll().execute();
        assert.equal(orders.length, 1);
        assert.equal(orders[0]!.currency, 'EUR');
        assert.equal(orders[0]!.total, 30);
        const lines = await t.store.db.selectFrom('order_lines').selectAll().orderBy('line_no').execute();
        assert.deepEqual(lines.map((l) => [l.product_id, l.quantity, l.category]), [['p1', 2, 'Jazz'], ['p2', 1, 'Rock']]);
        const products = await t.store.db.selectFrom('products').selectAll().orderBy('product_id').execute();
        assert.deepEqual(products.map((p) => p.product_id), ['p1', 'p2']);
        const c = await t.store.db.selectFrom('customers').selectAll().executeTakeFirstOrThrow();
        assert.equal(c.order_count, 1);
        assert.equal(c.revenue, 30);
      } finally {
        await t.cleanup();
      }
    });

    it('merges an anonymous history into the customer on identify and alias', { skip }, async () => {
      const t = await d.open();
      try {
        const w = new IngestWriter(t.store, () => NOW);
        await w.write([
          ...normalizeMessage('page', { anonymousId: 'a1', name: 'Pricing', messageId: 'p1', timestamp: 1000 }, opts),
          ...normalizeMessage('page', { anonymousId: 'a2', name: 'Home', messageId: 'p2', timestamp: 2000 }, opts),
        ]);
        assert.equal((await t.store.db.selectFrom('customers').selectAll().execute()).length, 2);
        await w.write(normalizeMessage('identify', { userId: 'u9', anonymousId: 'a1', traits: { email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee' }, timestamp: 3000 }, opts));
        await w.write(normalizeMessage('alias', { previousId: 'a2', userId: 'u9', timestamp: 4000 }, opts));
        const customers = await t.store.db.selectFrom('customers').selectAll().execute();
        assert.equal(customers.length, 1);
        const c = customers[0]!;
        assert.equal(c.user_id, 'u9');
        assert.equal(c.name, 'Ann Lee');
        assert.equal(c.email, 'ann@example.com');
        assert.equal(c.interaction_count, 2);
        assert.equal(c.first_seen, 1000);
        const mix = await t.store.db.selectFrom('customer_channels').selectAll().execute();
        assert.deepEqual(mix.map((m) => [m.customer_id, m.channel, m.direction, Number(m.count)]), [[c.id, 'web', 'inbound', 2]]);
        const owners = await t.store.db.selectFrom('interactions').select('customer_id').distinct().execute();
        assert.deepEqual(owners.map((o) => o.customer_id), [c.id]);
        // Later anonymous traffic from a linked device lands on the same customer.
        await new IngestWriter(t.store, () => NOW).write(normalizeMessage('track', { anonymousId: 'a2', event: 'Clicked', messageId: 't9' }, opts));
        assert.equal((await t.store.db.selectFrom('customers').selectAll().execute()).length, 1);
      } finally {
        await t.cleanup();
      }
    });

    it('links customers to accounts with group', { skip }, async () => {
      const t = await d.open();
      try {
        const w = new IngestWriter(t.store, () => NOW);
        await w.write(normalizeMessage('group', { userId: 'u1', groupId: 'g1', traits: { name: 'Acme', plan: 'pro' } }, opts));
        await w.write(normalizeMessage('group', { userId: 'u1', groupId: 'g1', traits: { employees: 40 } }, opts));
        const acc = await t.store.db.selectFrom('accounts').selectAll().executeTakeFirstOrThrow();
        assert.equal(acc.name, 'Acme');
        assert.deepEqual(JSON.parse(acc.traits), { name: 'Acme', plan: 'pro', employees: 40 });
        assert.equal((await t.store.db.selectFrom('customer_accounts').selectAll().execute()).length, 1);
      } finally {
        await t.cleanup();
      }
    });

    it('writes a batch whole or not at all', { skip }, async () => {
      const t = await d.open();
      try {
        const w = new IngestWriter(t.store, () => NOW);
        await w.write(normalizeMessage('track', { userId: 'u1', event: 'Kept', messageId: 'k1' }, opts));
        const records = normalizeBatch(
          { batch: [{ type: 'track', userId: 'u2', event: 'New', messageId: 'n1' }] },
          opts,
        );
        // A record that violates a constraint mid-batch must roll the whole batch back.
        const poisoned = [...records, { ...records[0], kind: 'interaction' as const, who: { userId: 'u3' }, type: 'track', name: 'x', channel: 'web', direction: 'inbound' as const, at: 1, properties: {}, source: 'segment', sourceId: null as unknown as string }];
        await assert.rejects(w.write(poisoned));
        const names = (await t.store.db.selectFrom('interactions').select('name').execute()).map((r) => r.name);
        assert.deepEqual(names, ['Kept']);
        assert.equal((await t.store.db.selectFrom('customers').selectAll().execute()).length, 1);
      } finally {
        await t.cleanup();
      }
    });

    it('group-commits concurrent writes and undoes only the one that fails', { skip }, async () => {
      const t = await d.open();
      try {
        const w = new IngestWriter(t.store, () => NOW);
        let serial: Promise<unknown> = Promise.resolve();
        let groups = 0;
        const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
          groups++;
          const run = serial.then(fn, fn);
          serial = run.catch(() => undefined);
          return run;
        };
        const group = new GroupCommit(w, exclusive);
        const track = (user: string, id: string) => normalizeMessage('track', { userId: user, event: 'Viewed', messageId: id, timestamp: '2025-01-01T00:00:00Z' }, opts);
        const good = track('u9', 'g-0');
        const poisoned = [...track('u8', 'p-0'), { ...good[0]!, sourceId: null as unknown as string }];
        const results = await Promise.allSettled([
          group.write(track('u1', 'g-1')),
          group.write(poisoned),
          group.write([...track('u2', 'g-2'), ...track('u1', 'g-1')]),
        ]);
        assert.equal(groups, 1, 'the three writes shared one transaction');
        assert.equal(results[0].status, 'fulfilled');
        assert.equal(results[1].status, 'rejected');
        assert.deepEqual(results[2].status === 'fulfilled' ? results[2].value : null, { inserted: 1, updated: 0, duplicates: 1 });
        const ids = (await t.store.db.selectFrom('interactions').select('source_id').orderBy('source_id').execute()).map((r) => r.source_id);
        assert.deepEqual(ids, ['g-1', 'g-2']);
        const users = (await t.store.db.selectFrom('customers').select('user_id').orderBy('user_id').execute()).map((r) => r.user_id);
        assert.deepEqual(users, ['u1', 'u2'], 'nothing of the failed write is left, not even its customer');
        // Alone, a write goes straight through.
        assert.deepEqual(await group.write(track('u3', 'g-3')), { inserted: 1, updated: 0, duplicates: 0 });
      } finally {
        await t.cleanup();
      }
    });
  });
}

describe('Segment message validation', () => {
  it('names the field and batch index of an invalid message', () => {
    assert.throws(
      () => normalizeBatch({ batch: [{ type: 'track', userId: 'u', event: 'ok' }, { type: 'track', userId: 'u' }] }, opts),
      (e: unknown) => e instanceof RapportError && e.code === 'invalid_input' && /batch\[1\]\.event/.test(e.message),
    );
  });
  it('requires userId or anonymousId', () => {
    assert.throws(() => normalizeMessage('track', { event: 'x' }, opts), /userId or anonymousId is required/);
  });
  it('rejects a timestamp that does not parse', () => {
    assert.throws(() => normalizeMessage('track', { userId: 'u', event: 'x', timestamp: 'yesterday' }, opts), /timestamp: expected an ISO-8601 date/);
  });
  it('rejects negative quantities with the product index', () => {
    assert.throws(
      () => normalizeMessage('track', { userId: 'u', event: 'Order Completed', properties: { order_id: 'o', products: [{ product_id: 'p', quantity: -1 }] } }, opts),
      /properties\.products\[0\]\.quantity: must be at least 0/,
    );
  });
  it('classifies direction from the event name', () => {
    const [r] = normalizeMessage('track', { userId: 'u', event: 'Email Sent' }, opts);
    assert.equal(r?.kind === 'interaction' && r.direction, 'outbound');
    const [m] = normalizeMessage('track', { userId: 'u', event: 'Call Completed' }, opts);
    assert.equal(m?.kind === 'interaction' && m.direction, 'mutual');
  });
});

describe('direction of touches', () => {
  const dir = (event: string, properties: Record<string, unknown> = {}) => {
    const [r] = normalizeMessage('track', { userId: 'u', event, properties }, opts);
    return r?.kind === 'interaction' ? r.direction : undefined;
  };
  it('reads messages the company sends as outbound wherever the channel word stands', () => {
    assert.equal(dir('Order Confirmation Email Sent'), 'outbound');
    assert.equal(dir('Push Notification Delivered'), 'outbound');
    assert.equal(dir('Email Opened'), 'inbound');
  });
  it('lets an explicit direction property win', () => {
    assert.equal(dir('Email Sent', { direction: 'inbound' }), 'inbound');
    assert.equal(dir('Page Scrolled', { direction: 'sideways' }), 'inbound');
  });
});
