import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import type { SheddingOptions } from '../src/http/shedding.js';
import { buildServer } from '../src/server/app.js';
import { DIALECTS, type TestStore } from './support/stores.js';

/**
 * Load shedding for real: requests held in flight by bodies that are still arriving (as a
 * slow or stalled client holds them), and an event loop that really stalls.
 */

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** A `/v1/track` whose body is sent when `finish()` is called: in flight until then. */
function held(port: number, auth: string, messageId: string): { finish(): Promise<Answer> } {
  const body = JSON.stringify({ userId: 'held', event: 'Held', messageId });
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/track', agent: false, headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 5));
    heldRequests.push({ req, rest: body.slice(5) });
  });
  const me = heldRequests.at(-1)!;
  return {
    finish: () => {
      me.req.end(me.rest);
      return answer;
    },
  };
}
const heldRequests: { req: http.ClientRequest; rest: string }[] = [];

async function call(port: number, method: string, url: string, auth: string | undefined, body?: unknown): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, retryAfter: r.headers.get('retry-after') ?? undefined, body: await r.text() };
}

/** The Rapport error in an answer's body. */
const errorOf = (a: Answer) => (JSON.parse(a.body) as { error: { code: string; message: string } }).error;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the server has taken `n` requests in (they are counted in onRequest). */
async function inFlight(app: FastifyInstance, n: number): Promise<void> {
  const state = (app as unknown as { sheddingState: () => { inFlight: number } }).sheddingState;
  for (let i = 0; i < 200 && state().inFlight < n; i++) await sleep(5);
  assert.equal(state().inFlight, n);
}

for (const d of DIALECTS) describe(`load shedding on ${d.name}`, async () => {
  const skip = await d.skip();
  let t: TestStore;
  let app: FastifyInstance;
  let port = 0;
  let site = '';
  let backend = '';
  let read = '';
  const start = async (shedding: Partial<SheddingOptions>) => {
    await app?.close();
    app = await buildServer({ store: t.store, shedding: { delayMs: 0, busy: 0, minShare: 1, ...shedding } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  };
  before(async () => {
    if (skip) return;
    t = await d.open();
    site = basic((await createKey(t.store.db, 'website', 'ingest', Date.now())).secret);
    backend = basic((await createKey(t.store.db, 'backend', 'ingest', Date.now())).secret);
    read = `Bearer ${(await createKey(t.store.db, 'dash', 'read', Date.now())).secret}`;
  });
  after(async () => {
    if (skip) return;
    await app?.close();
    await t.cleanup();
  });
  const stored = async (messageIds: string[]) =>
    (await t.store.db.selectFrom('interactions').select('source_id').where('source_id', 'in', messageIds).execute()).map((r) => r.source_id).sort();

  it('holds each caller to its requests in flight: past them 503 with Retry-After, other callers served', { skip }, async () => {
    await start({ perCaller: 2, maxInFlight: 0, queueMs: 0, lagMs: 0 });
    const a = held(port, site, 'cap-a');
    const b = held(port, site, 'cap-b');
    await inFlight(app, 2);
    const refused = await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'Refused', messageId: 'cap-refused' });
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.retryAfter, '1');
    assert.match(errorOf(refused).message, /overloaded \(at most 2 requests in flight per caller\)/);
    assert.equal(errorOf(refused).code, 'busy');
    const other = await call(port, 'POST', '/v1/track', backend, { userId: 'u', event: 'Other', messageId: 'cap-other' });
    assert.equal(other.status, 200, other.body);
    assert.equal((await call(port, 'GET', '/healthz', undefined)).status, 200);
    assert.equal((await a.finish()).status, 200);
    assert.equal((await b.finish()).status, 200);
    const again = await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'Again', messageId: 'cap-again' });
    assert.equal(again.status, 200, again.body);
    // Everything answered 200 is stored; the refused event is not.
    assert.deepEqual(await stored(['cap-a', 'cap-b', 'cap-refused', 'cap-other', 'cap-again']), ['cap-a', 'cap-again', 'cap-b', 'cap-other']);
  });

  it('sheds the writes of the caller holding the queue once its oldest request waits too long, serves the others, and recovers', { skip }, async () => {
    await start({ perCaller: 0, maxInFlight: 0, queueMs: 100, lagMs: 0 });
    const a = held(port, site, 'queue-a');
    await inFlight(app, 1);
    // Under the threshold: taken.
    assert.equal((await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'queue-early' })).status, 200);
    await sleep(130);
    const refused = await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'queue-refused' });
    assert.equal(refused.status, 503, refused.body);
    assert.match(errorOf(refused).message, /writes are waiting/);
    // Another caller holds less than its share: served.
    assert.equal((await call(port, 'POST', '/v1/track', backend, { userId: 'u', event: 'E', messageId: 'queue-other' })).status, 200);
    // A reader holding nothing in flight is served.
    assert.equal((await call(port, 'GET', '/api/customers', read)).status, 200);
    assert.equal((await call(port, 'GET', '/healthz', undefined)).status, 200);
    assert.equal((await a.finish()).status, 200);
    assert.equal((await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'queue-after' })).status, 200);
    assert.deepEqual(await stored(['queue-a', 'queue-early', 'queue-refused', 'queue-other', 'queue-after']), ['queue-a', 'queue-after', 'queue-early', 'queue-other']);
  });

  it('sheds writes while the event loop lags past its threshold, from the caller holding requests, never /healthz, and takes them again after', { skip }, async () => {
    await start({ perCaller: 0, maxInFlight: 0, queueMs: 0, lagMs: 40 });
    const a = held(port, site, 'lag-a');
    await inFlight(app, 1);
    // A real stall of this thread (the server's): 250 ms of work.
    const until = performance.now() + 250;
    while (performance.now() < until);
    const [refused, other, health] = await Promise.all([
      call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'lag-refused' }),
      call(port, 'POST', '/v1/track', backend, { userId: 'u', event: 'E', messageId: 'lag-other' }),
      call(port, 'GET', '/healthz', undefined),
    ]);
    assert.equal(refused.status, 503, refused.body);
    assert.equal(other.status, 200, other.body);
    assert.equal(health.status, 200);
    await sleep(700);
    assert.equal((await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'lag-after' })).status, 200);
    assert.equal((await a.finish()).status, 200);
    assert.deepEqual(await stored(['lag-a', 'lag-refused', 'lag-other', 'lag-after']), ['lag-a', 'lag-after', 'lag-other']);
  });

  it('refuses every new request at maxInFlight', { skip }, async () => {
    await start({ perCaller: 0, maxInFlight: 2, queueMs: 0, lagMs: 0 });
    const a = held(port, site, 'max-a');
    const b = held(port, backend, 'max-b');
    await inFlight(app, 2);
    assert.equal((await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'max-refused' })).status, 503);
    assert.equal((await call(port, 'GET', '/healthz', undefined)).status, 200);
    assert.equal((await a.finish()).status, 200);
    assert.equal((await b.finish()).status, 200);
  });

  it('answers a refusal only after its delay, so a client sending again at once is slowed', { skip }, async () => {
    await start({ perCaller: 1, maxInFlight: 0, queueMs: 0, lagMs: 0, delayMs: 300 });
    const a = held(port, site, 'delay-a');
    await inFlight(app, 1);
    const t0 = performance.now();
    const refused = await call(port, 'POST', '/v1/track', site, { userId: 'u', event: 'E', messageId: 'delay-refused' });
    const waited = performance.now() - t0;
    assert.equal(refused.status, 503);
    assert.ok(waited >= 280, `refused after ${waited.toFixed(0)} ms`);
    assert.equal((await a.finish()).status, 200);
  });
});
