import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { SQLite } from '../src/store/sqlite-driver.js';
import { Analytics } from '@segment/analytics-node';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { createSignInToken, type StaffUser } from '../src/auth/staff.js';
import type { Customer360, CustomerPage, eraseCustomer, Overview, TimelinePage } from '../src/customers/customer.service.js';
import type { ErrorBody } from '../src/http/route.js';
import { DIALECTS, type TestStore } from './support/stores.js';

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** The reply bodies these tests read, as the server declares them. */
type ErrorReply = z.infer<typeof ErrorBody>;
type OverviewReply = z.infer<typeof Overview>;
type CustomerPageReply = z.infer<typeof CustomerPage>;
type TimelinePageReply = z.infer<typeof TimelinePage>;
type ErasedReply = Awaited<ReturnType<typeof eraseCustomer>>;
type SessionReply = { user: Pick<StaffUser, 'name' | 'email' | 'role'> };
/** Only the parts of the OpenAPI document the tests look into. */
type OpenApiReply = {
  openapi: string;
  paths: Record<string, unknown> & {
    '/api/customers': { get: { parameters: { name: string }[] } };
    '/v1/track': { post: { requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } } } };
  };
};

for (const d of DIALECTS) {
  describe(`HTTP API on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let ingest = '';
    let read = '';
    let admin = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      app = await buildServer({ store: t.store });
      ingest = (await createKey(t.store.db, 'site', 'ingest', Date.now())).secret;
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });

    const post = (url: string, body: unknown, auth = basic(ingest)) =>
      app.inject({ method: 'POST', url, headers: { authorization: auth, 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    const get = (url: string, key = read) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

    it('refuses missing keys with 401 and keys of the wrong scope with 403', { skip }, async () => {
      assert.equal((await app.inject({ method: 'GET', url: '/api/customers' })).statusCode, 401);
      assert.equal((await get('/api/customers', 'rk_read_nope')).statusCode, 401);
      assert.equal((await get('/api/customers', ingest)).statusCode, 403);
      assert.equal((await post('/v1/track', { userId: 'u', event: 'x' }, `Bearer ${read}`)).statusCode, 403);
      assert.equal((await app.inject({ method: 'DELETE', url: '/api/customers/x', headers: { authorization: `Bearer ${read}` } })).statusCode, 403);
    });

    it('takes Segment calls and stores a repeated messageId once', { skip }, async () => {
      const ok = await post('/v1/identify', { userId: 'ann', traits: { name: 'Ann Lee', email: 'ann@example.com', plan: 'pro' }, timestamp: '2025-01-02T00:00:00Z' });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { success: true });
      const batch = {
        batch: [
          { type: 'track', userId: 'ann', event: 'Product Viewed', messageId: 'b1', timestamp: '2025-01-03T00:00:00Z', properties: { sku: 'x' } },
          { type: 'page', userId: 'ann', name: 'Pricing', messageId: 'b2', timestamp: '2025-01-04T00:00:00Z' },
          { type: 'track', userId: 'ann', event: 'Order Completed', messageId: 'b3', timestamp: '2025-01-05T00:00:00Z', properties: { order_id: 'o1', total: 42.5, products: [{ product_id: 'p1', price: 42.5, quantity: 1, category: 'Jazz' }] } },
          { type: 'track', userId: 'ann', event: 'Email Sent', messageId: 'b4', timestamp: '2025-01-06T00:00:00Z' },
          { type: 'group', userId: 'ann', groupId: 'acme', traits: { name: 'Acme Corp' } },
        ],
      };
      assert.equal((await post('/v1/batch', batch)).statusCode, 200);
      assert.equal((await post('/v1/batch', batch)).statusCode, 200);
      const n = await t.store.db.selectFrom('interactions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 3);
      const profile = (await get('/api/customers/ann')).json<Customer360>();
      assert.equal(profile.name, 'Ann Lee');
      assert.equal(profile.orders, 1);
      assert.equal(profile.revenue, 42.5);
      assert.equal(profile.interactions, 3);
      assert.deepEqual(profile.accounts.map((a) => a.name), ['Acme Corp']);
      const outbound = profile.interactionMix.find((m) => m.direction === 'outbound');
      assert.equal(outbound!.count, 1);
    });

    it('answers bad input with 400 naming the field and stores nothing of it', { skip }, async () => {
      const before = (await get('/api/overview')).json<OverviewReply>();
      const bad = await post('/v1/batch', { batch: [{ type: 'track', userId: 'zed', event: 'Fine', messageId: 'z1' }, { type: 'track', event: 'No one' }] });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<ErrorReply>().error.message, /batch\[1\]\.userId/);
      const malformed = await post('/v1/track', '{"userId": "u", "event": ');
      assert.equal(malformed.statusCode, 400);
      const wrongType = await post('/v1/track', { userId: 'u', event: 42 });
      assert.equal(wrongType.statusCode, 400);
      assert.match(wrongType.json<ErrorReply>().error.message, /event/);
      const big = { batch: Array.from({ length: 40 }, (_, i) => ({ type: 'track', userId: 'big', event: 'Bulk', messageId: `big-${i}`, properties: { pad: 'x'.repeat(14_000) } })) };
      const tooLarge = await post('/v1/batch', big);
      assert.equal(tooLarge.statusCode, 400);
      assert.match(tooLarge.json<ErrorReply>().error.message, /KB/);
      const oneTooLarge = await post('/v1/track', { userId: 'big', event: 'Huge', properties: { pad: 'x'.repeat(40_000) } });
      assert.equal(oneTooLarge.statusCode, 400);
      const after = (await get('/api/overview')).json<OverviewReply>();
      assert.equal(after.interactions, before.interactions);
      assert.equal((await get('/api/customers/zed')).statusCode, 404);
    });

    it('lists, searches and pages customers by cursor', { skip }, async () => {
      const batch = Array.from({ length: 25 }, (_, i) => ({ type: 'identify', userId: `p${String(i).padStart(2, '0')}`, traits: { name: `Person ${i}`, email: `p${i}@example.org` }, timestamp: new Date(Date.UTC(2024, 0, 1 + i)).toISOString() }));
      assert.equal((await post('/v1/batch', { batch })).statusCode, 200);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/customers?sort=name&order=asc&limit=7&q=person${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await get(url)).json<CustomerPageReply>();
        seen.push(...page.items.map((c) => c.userId));
        cursor = page.nextCursor;
      } while (cursor);
      assert.equal(seen.length, 25);
      assert.equal(new Set(seen).size, 25);
      const byName = seen.map((id) => Number(id.slice(1)));
      const names = byName.map((i) => `Person ${i}`);
      assert.deepEqual(names, [...names].sort());
      const found = (await get('/api/customers?q=p7@example')).json<CustomerPageReply>();
      assert.deepEqual(found.items.map((c) => c.userId), ['p07']);
      assert.equal((await get('/api/customers?limit=5000')).statusCode, 400);
      assert.equal((await get('/api/customers?cursor=garbage')).statusCode, 400);
    });

    it('pages a timeline newest first without gaps or repeats', { skip }, async () => {
      const batch = Array.from({ length: 30 }, (_, i) => ({ type: 'track', userId: 'tl', event: `E${i}`, messageId: `tl-${i}`, timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, Math.floor(i / 3))).toISOString() }));
      batch.push({ type: 'track', userId: 'tl', event: 'Order Completed', messageId: 'tl-o', timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, 5)).toISOString(), properties: { order_id: 'tl-order', total: 10 } } as never);
      assert.equal((await post('/v1/batch', { batch })).statusCode, 200);
      const items: { kind: string; id: number; at: string }[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { kind: string; id: number; at: string }[]; nextCursor: string | null } = (await get(`/api/customers/tl/timeline?limit=4${cursor ? `&cursor=${cursor}` : ''}`)).json();
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      assert.equal(items.length, 31);
      assert.equal(new Set(items.map((i) => `${i.kind}:${i.id}`)).size, 31);
      for (let i = 1; i < items.length; i++) assert.ok(items[i - 1]!.at >= items[i]!.at);
      const orders = (await get('/api/customers/tl/timeline?kinds=order')).json<TimelinePageReply>();
      assert.deepEqual(orders.items.map((i) => i.title), ['Order tl-order: 10.00 USD']);
    });

    it('erases a customer and every record about them', { skip }, async () => {
      await post('/v1/batch', { batch: [
        { type: 'identify', userId: 'gone', anonymousId: 'anon-gone', traits: { email: 'gone@example.com' } },
        { type: 'track', userId: 'gone', event: 'Order Completed', messageId: 'g1', properties: { order_id: 'g-o', total: 5, products: [{ product_id: 'p', price: 5 }] } },
        { type: 'track', userId: 'gone', event: 'Clicked', messageId: 'g2' },
      ] });
      const res = await app.inject({ method: 'DELETE', url: '/api/customers/gone', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json<ErasedReply>().erased, { customers: 1, interactions: 1, orders: 1, orderLines: 1, feedback: 0, identities: 1 });
      assert.equal((await get('/api/customers/gone')).statusCode, 404);
      const left = await t.store.db.selectFrom('orders').selectAll().where('order_id', '=', 'g-o').execute();
      assert.equal(left.length, 0);
      const ids = await t.store.db.selectFrom('identities').selectAll().where('value', '=', 'anon-gone').execute();
      assert.equal(ids.length, 0);
      // The same person coming back later is a new customer, not a ghost of the old one.
      assert.equal((await post('/v1/track', { userId: 'gone', event: 'Back', messageId: 'g3' })).statusCode, 200);
      assert.equal((await get('/api/customers/gone')).json<Customer360>().interactions, 1);
    });

    it('serves an OpenAPI document generated from the route schemas', { skip }, async () => {
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<OpenApiReply>();
      assert.equal(doc.openapi, '3.0.3');
      for (const p of ['/v1/batch', '/v1/track', '/v1/identify', '/api/customers', '/api/customers/{userId}', '/api/customers/{userId}/timeline']) {
        assert.ok(doc.paths[p], `missing ${p}`);
      }
      const params = doc.paths['/api/customers'].get.parameters.map((p) => p.name);
      assert.deepEqual(params.sort(), ['cursor', 'limit', 'order', 'q', 'sort']);
      assert.ok(doc.paths['/v1/track'].post.requestBody.content['application/json'].schema.properties.event);
    });

    it('signs the first admin in with a one-time link', { skip }, async () => {
      const token = await createSignInToken(t.store.db, Date.now());
      const res = await app.inject({ method: 'GET', url: `/auth/signin?token=${token}` });
      assert.equal(res.statusCode, 302);
      const cookie = res.cookies.find((c) => c.name === 'rapport_session');
      assert.ok(cookie);
      const me = await app.inject({ method: 'GET', url: '/api/session', cookies: { rapport_session: cookie.value } });
      assert.equal(me.json<SessionReply>().user.role, 'admin');
      const list = await app.inject({ method: 'GET', url: '/api/customers', cookies: { rapport_session: cookie.value } });
      assert.equal(list.statusCode, 200);
      // Spent: elsewhere, the web app's page about used links; in the browser it signed in, the app.
      const again = await app.inject({ method: 'GET', url: `/auth/signin?token=${token}` });
      assert.equal(again.statusCode, 303);
      assert.equal(again.headers.location, '/?signin=link-used');
      const home = await app.inject({ method: 'GET', url: `/auth/signin?token=${token}`, cookies: { rapport_session: cookie.value } });
      assert.equal(home.statusCode, 303);
      assert.equal(home.headers.location, '/');
    });

    it('receives events from the official Segment client unchanged', { skip }, async () => {
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const analytics = new Analytics({ writeKey: ingest, host: address, flushAt: 3, flushInterval: 200, maxRetries: 0 });
      const errors: unknown[] = [];
      analytics.on('error', (e) => errors.push(e));
      analytics.identify({ userId: 'seg-1', traits: { name: 'Sam Segment', email: 'sam@example.com' } });
      analytics.track({ userId: 'seg-1', event: 'Signed Up', properties: { plan: 'pro' } });
      analytics.track({ anonymousId: 'anon-seg', event: 'Product Viewed', properties: { product_id: 'p9' } });
      analytics.track({ userId: 'seg-1', event: 'Order Completed', properties: { order_id: 'seg-o1', revenue: 19.99, currency: 'EUR', products: [{ product_id: 'p9', price: 19.99, quantity: 1 }] } });
      analytics.page({ userId: 'seg-1', name: 'Home' });
      analytics.alias({ userId: 'seg-1', previousId: 'anon-seg' });
      await analytics.closeAndFlush({ timeout: 10_000 });
      assert.deepEqual(errors, []);
      const p = (await get('/api/customers/seg-1')).json<Customer360>();
      assert.equal(p.name, 'Sam Segment');
      assert.equal(p.orders, 1);
      assert.equal(p.revenue, 19.99);
      assert.deepEqual(p.revenueByCurrency, [{ currency: 'EUR', total: 19.99, orders: 1 }]);
      // Signed Up + Home page + the anonymous Product Viewed merged in by alias.
      assert.equal(p.interactions, 3);
      assert.ok(p.anonymousIds.includes('anon-seg'));
      const tl = (await get('/api/customers/seg-1/timeline')).json<TimelinePageReply>();
      const signedUp = tl.items.find((i) => i.title === 'Signed Up');
      assert.deepEqual(signedUp!.details.properties, { plan: 'pro' });
    });

    it('answers 503 with Retry-After while another process holds the database for writing', { skip: skip || (d.name !== 'sqlite' && 'SQLite only') }, async () => {
      const other = new SQLite(t.url.slice('sqlite:'.length));
      const raw = t.store.sqlite!;
      raw.pragma('busy_timeout = 50');
      try {
        other.exec('begin immediate');
        const busy = await post('/v1/track', { userId: 'busy', event: 'Waited', messageId: 'busy-1', timestamp: '2025-01-01T00:00:00Z' });
        assert.equal(busy.statusCode, 503);
        assert.equal(busy.headers['retry-after'], '5');
        assert.equal(busy.json<{ error: { code: string } }>().error.code, 'busy');
        other.exec('rollback');
        // Once it is free again the retry is stored.
        assert.equal((await post('/v1/track', { userId: 'busy', event: 'Waited', messageId: 'busy-1', timestamp: '2025-01-01T00:00:00Z' })).statusCode, 200);
      } finally {
        if (other.inTransaction) other.exec('rollback');
        other.close();
        raw.pragma('busy_timeout = 5000');
      }
    });
  });
}

describe('cookie sessions and cross-site requests', () => {
  it('refuses state-changing cookie requests from another origin, non-JSON bodies to the API, and rotates and idles sessions', async () => {
    const { sqliteStore } = await import('./support/stores.js');
    const t = await sqliteStore();
    let now = Date.parse('2026-06-01T00:00:00Z');
    const app = await buildServer({ store: t.store, clock: () => now });
    try {
      const signIn = async (cookie?: string) => {
        const token = await createSignInToken(t.store.db, now);
        const r = await app.inject({ method: 'GET', url: `/auth/signin?token=${token}`, headers: cookie ? { cookie } : {} });
        const set = String(r.headers['set-cookie']);
        assert.match(set, /HttpOnly/);
        assert.match(set, /SameSite=Lax/);
        return set.split(';')[0]!;
      };
      const cookie = await signIn();
      const post = (headers: Record<string, string>, payload?: string) =>
        app.inject({ method: 'POST', url: '/api/themes/merge', headers: { cookie, ...headers }, ...(payload === undefined ? {} : { payload }) });
      // Another port of the same host, by Sec-Fetch-Site or by Origin: refused before anything runs.
      const sameSite = await post({ 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }, '{"into":1,"themes":[2]}');
      assert.equal(sameSite.statusCode, 403);
      assert.match(sameSite.body, /cross-site request refused/);
      const otherOrigin = await post({ origin: 'http://localhost:9999', host: 'localhost:4000', 'content-type': 'application/json' }, '{"into":1,"themes":[2]}');
      assert.equal(otherOrigin.statusCode, 403);
      // A plain form's body is not JSON: 415 naming the content type.
      const form = await post({ 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' }, '{"into":1,"themes":[2]}');
      assert.equal(form.statusCode, 415);
      assert.equal(form.json<{ error: { issues: { field: string }[] } }>().error.issues[0]!.field, 'content-type');
      // The app itself (same origin, JSON) gets through to the route (a 404 for themes that do not exist).
      const own = await post({ 'sec-fetch-site': 'same-origin', origin: 'http://localhost:4000', host: 'localhost:4000', 'content-type': 'application/json' }, '{"into":1,"themes":[2]}');
      assert.notEqual(own.statusCode, 403);
      assert.notEqual(own.statusCode, 415);
      // A key in Authorization carries no ambient credential: not checked for origin.
      const session = () => app.inject({ method: 'GET', url: '/api/session', headers: { cookie } });
      assert.equal((await session()).statusCode, 200);
      // Signing in again in the same browser ends its previous session.
      const fresh = await signIn(cookie);
      assert.notEqual(fresh, cookie);
      assert.equal((await session()).statusCode, 401, 'the previous session ended at the new sign-in');
      const use = () => app.inject({ method: 'GET', url: '/api/session', headers: { cookie: fresh } });
      // Idle expiry: used every 6 days the session lives on; unused for 8 days it has ended.
      for (let i = 0; i < 3; i++) {
        now += 6 * 86_400_000;
        assert.equal((await use()).statusCode, 200, `still open after ${6 * (i + 1)} days of use`);
      }
      now += 8 * 86_400_000;
      assert.equal((await use()).statusCode, 401, 'ended after 8 idle days');
    } finally {
      await app.close();
      await t.cleanup();
    }
  });
});

describe('request-rate limits', () => {
  it('answers 429 with Retry-After to sign-in guessing, key guessing, search floods and tracking bursts, and not to others', async () => {
    const { sqliteStore } = await import('./support/stores.js');
    const t = await sqliteStore();
    let now = Date.parse('2026-06-01T00:00:00Z');
    const app = await buildServer({ store: t.store, clock: () => now, rateLimits: { signinPerMinute: 5, searchPerMinute: 8, ingestPerSecond: 6, authFailuresPerMinute: 4 } });
    try {
      const read = (await createKey(t.store.db, 'dash', 'read', now)).secret;
      const ingest = (await createKey(t.store.db, 'site', 'ingest', now)).secret;
      const statuses = async (n: number, send: () => Promise<{ statusCode: number }>) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push((await send()).statusCode);
        return out;
      };
      // Sign-in links guessed from one address: the sixth attempt waits.
      const guesses = await statuses(7, () => app.inject({ method: 'GET', url: '/auth/signin?token=guess' }));
      assert.deepEqual(guesses, [303, 303, 303, 303, 303, 429, 429]);
      const limited = await app.inject({ method: 'GET', url: '/auth/signin?token=guess' });
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      assert.equal(limited.json<{ error: { code: string } }>().error.code, 'rate_limited');
      // Unknown keys: after four failures the address waits, even with a good key.
      const bad = await statuses(5, () => app.inject({ method: 'GET', url: '/api/customers', headers: { authorization: 'Bearer rk_read_guess' } }));
      assert.deepEqual(bad, [401, 401, 401, 401, 429]);
      const good = await app.inject({ method: 'GET', url: '/api/customers', headers: { authorization: `Bearer ${read}` } });
      assert.equal(good.statusCode, 429);
      assert.ok(Number(good.headers['retry-after']) >= 1);
      now += 61_000;
      assert.equal((await app.inject({ method: 'GET', url: '/api/customers', headers: { authorization: `Bearer ${read}` } })).statusCode, 200, 'the window ended');
      // Searches per caller.
      const searches = await statuses(9, () => app.inject({ method: 'GET', url: '/api/search?q=refund', headers: { authorization: `Bearer ${read}` } }));
      assert.deepEqual(searches, [200, 200, 200, 200, 200, 200, 200, 200, 429]);
      // Tracking bursts per key and address.
      const track = () => app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: `Basic ${Buffer.from(`${ingest}:`).toString('base64')}`, 'content-type': 'application/json' }, payload: { userId: 'u', event: 'Viewed' } });
      const burst = await statuses(8, track);
      assert.deepEqual(burst.slice(0, 6), [200, 200, 200, 200, 200, 200]);
      assert.equal(burst[7], 429);
    } finally {
      await app.close();
      await t.cleanup();
    }
  });
});
