import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { lastAnswer, lastTwoWay, unanswered } from '../src/models/stages/contact.js';
import { conversationTouchesQuery, topByClvQuery } from '../src/relationships/coverage.repository.js';
import { coverage, type CoverageReport } from '../src/relationships/coverage.service.js';
import { logVisit } from '../src/relationships/visits.service.js';
import { buildServer } from '../src/server/app.js';
import { runClv } from '../src/value/value.job.js';
import { rapport } from './support/cli.js';
import { DAY, drawOrders } from './support/orders.js';
import { DIALECTS, type TestStore } from './support/stores.js';

/** The data end here (the drawn orders end 2025-12-31): coverage is read as of this time. */
const END = Date.UTC(2026, 0, 31, 12);
const before_ = (days: number): number => END - days * DAY;
const iso = (days: number): string => new Date(before_(days)).toISOString();

describe('two-way contact and unanswered feedback, as the LOVE rules read them', () => {
  it('takes a mutual touch, or inbound and outbound in one month; an answer is outbound or mutual', () => {
    assert.equal(lastTwoWay([]), null);
    assert.equal(lastTwoWay([{ month: '2026-01', direction: 0, at: 5 }]), null, 'inbound alone is no exchange');
    assert.equal(lastTwoWay([{ month: '2026-01', direction: 0, at: 5 }, { month: '2026-02', direction: 1, at: 9 }]), null, 'nor inbound and outbound in different months');
    assert.equal(lastTwoWay([{ month: '2026-01', direction: 0, at: 5 }, { month: '2026-01', direction: 1, at: 3 }, { month: '2025-12', direction: 2, at: 1 }]), 5);
    assert.equal(lastTwoWay([{ month: '2026-01', direction: 0, at: 5 }, { month: '2026-02', direction: 2, at: 7 }]), 7);
    assert.equal(lastAnswer([{ month: '2026-01', direction: 0, at: 9 }, { month: '2026-01', direction: 1, at: 4 }]), 4);
    const items = [{ at: 3 }, { at: 6 }, { at: 8 }];
    assert.deepEqual(unanswered(items, 6), { count: 1, oldest: { at: 8 } }, 'an answer at the same moment answers');
    assert.deepEqual(unanswered(items, null), { count: 3, oldest: { at: 3 } });
  });
});

function records(): IngestRecord[] {
  const out: IngestRecord[] = drawOrders(60, 3).map((o, i) => ({ kind: 'order', who: { userId: `buyer-${o.customer}` }, orderId: `d${i}`, at: o.at, total: o.amount, currency: 'USD', lines: [], properties: {}, source: 'coverage-test', sourceId: `d${i}` }));
  // Someone seen at END: the data end there, so coverage is as of END.
  out.push({ kind: 'identify', who: { userId: 'anchor' }, traits: {}, at: END });
  return out;
}

let n = 0;
const touch = (userId: string, name: string, days: number, direction: 'inbound' | 'outbound' | 'mutual', channel: string): IngestRecord => ({ kind: 'interaction', who: { userId }, type: 'track', name, channel, direction, at: before_(days), properties: {}, source: 'coverage-test', sourceId: `t${++n}` });
const ticket = (userId: string, days: number): IngestRecord => ({ kind: 'feedback', who: { userId }, feedbackKind: 'ticket', text: 'Where is my refund?', rating: null, status: 'open', at: before_(days), properties: {}, source: 'coverage-test', sourceId: `f${++n}` });

for (const d of DIALECTS) {
  describe(`listening coverage on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let beforeValue: CoverageReport;
    let top: string[] = [];
    before(async () => {
      if (skip) return;
      t = await d.open();
      const writer = new IngestWriter(t.store);
      await writer.write(records());
      beforeValue = await coverage(t.store, { top: 10 });
      await runClv(t.store, { trigger: 'cli' });
      top = (await t.store.db.selectFrom('customer_values as v').innerJoin('customers as c', 'c.id', 'v.customer_id').select('c.user_id').where('v.clv', 'is not', null).orderBy('v.clv', 'desc').orderBy('v.customer_id', 'desc').limit(10).execute()).map((r) => r.user_id!);
      const [a, b, c] = top as [string, string, string];
      // a: a call logged 10 days before (two-way), answering their ticket of 30 days before; a visit 100 days before.
      await writer.write([ticket(a, 30)]);
      await logVisit(t.store, writer, { customer: a, kind: 'call', at: iso(10) }, 'test', Date.now());
      await logVisit(t.store, writer, { customer: a, kind: 'visit', at: iso(100), notes: 'Saw their team' }, 'test', Date.now());
      // b: an e-mail from them and the reply in the same month; a ticket after the reply, 16 days old; a visit planned.
      await writer.write([touch(b, 'Email Received', 20, 'inbound', 'email'), touch(b, 'Email Sent', 18, 'outbound', 'email'), ticket(b, 16)]);
      await logVisit(t.store, writer, { customer: b, kind: 'meeting', status: 'planned', at: new Date(END + 20 * DAY).toISOString() }, 'test', Date.now());
      // c: a push and a page view, a newsletter and its opening (a reaction): no exchange; a ticket of 5 days.
      await writer.write([touch(c, 'Push Sent', 12, 'outbound', 'push'), touch(c, 'Page Viewed', 11, 'inbound', 'web'), touch(c, 'Newsletter Sent', 9, 'outbound', 'email'), touch(c, 'Email Opened', 8, 'inbound', 'email'), ticket(c, 5)]);
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });

    it('says so before the first customer-value run', { skip }, () => {
      assert.equal(beforeValue.available, false);
      assert.deepEqual(beforeValue.alerts, []);
      assert.match(beforeValue.note ?? '', /No customer-value run yet/);
    });

    it('reads each of the most valuable customers: last two-way contact, unanswered feedback, visits; and counts the alerts with their basis', { skip }, async () => {
      const r = await coverage(t.store, { top: 10 });
      assert.equal(r.available, true);
      assert.equal(r.asOf, new Date(END).toISOString());
      assert.equal(r.asOfRule, 'end of data');
      assert.deepEqual(r.rows.map((x) => x.userId), top, 'most valuable first, as the CLV index orders them');
      const [a, b, c] = r.rows as [CoverageReport['rows'][number], CoverageReport['rows'][number], CoverageReport['rows'][number]];
      assert.equal(a.lastTwoWay, iso(10));
      assert.equal(a.twoWayDaysAgo, 10);
      assert.deepEqual(a.unanswered, { count: 0, oldest: null }, 'the call answered the ticket');
      assert.equal(a.lastVisit, iso(10), 'the call is their latest visit done');
      assert.deepEqual(a.alerts, []);
      assert.equal(b.lastTwoWay, iso(18), 'inbound and outbound e-mail in one month');
      assert.equal(b.unanswered.count, 1);
      assert.equal(b.unanswered.oldest?.daysAgo, 16);
      assert.equal(b.nextVisit, new Date(END + 20 * DAY).toISOString());
      assert.deepEqual(b.alerts, ['unanswered']);
      assert.equal(c.lastTwoWay, null, 'a push, a page view and a reaction are no exchange');
      assert.equal(c.unanswered.count, 1);
      assert.deepEqual(c.alerts, ['no_two_way', 'no_visit'], 'their ticket is 5 days old: not yet overdue');
      const alert = (k: string) => r.alerts.find((x) => x.key === k)!;
      assert.equal(alert('no_two_way').message, '8 of your 10 most valuable customers had no two-way contact in 90 days');
      assert.equal(alert('unanswered').message, '1 of your 10 most valuable customers have unanswered feedback older than 14 days');
      assert.deepEqual(alert('unanswered').userIds, [b.userId]);
      assert.equal(alert('no_visit').message, '8 of your 10 most valuable customers have no visit in the last year and none planned');
      assert.ok(!alert('no_visit').userIds.includes(a.userId) && !alert('no_visit').userIds.includes(b.userId));
      assert.match(alert('no_two_way').basis, /a mutual interaction on any channel, or an inbound and an outbound interaction through a conversation channel \(email, support, phone/);
      assert.match(alert('no_two_way').basis, /before 2026-01-31 \(the as-of day: end of data\)/);
      assert.match(alert('unanswered').basis, /no later answer/);
      // A shorter window for contact: a's call 10 days before is still in, b's e-mails of 18 days are not.
      const tight = await coverage(t.store, { top: 10, days: 14 });
      assert.equal(tight.alerts.find((x) => x.key === 'no_two_way')!.count, 9);
    });

    it('takes a CLV band', { skip }, async () => {
      const all = await coverage(t.store, { top: 10 });
      const [hi, , lo] = all.rows.map((x) => x.clv) as [number, number, number];
      const band = await coverage(t.store, { top: 10, minClv: lo, maxClv: hi });
      assert.deepEqual(band.rows.map((x) => x.userId), top.slice(0, 3));
      assert.match(band.alerts[0]!.message, /^1 of your 3 most valuable customers with a CLV between \d[\d,]* and \d[\d,]* had no two-way contact in 90 days$/);
      await assert.rejects(coverage(t.store, { minClv: 10, maxClv: 5 }), /maxClv: must not be below minClv/);
    });

    it('reads the top customers off the CLV index and only their interactions by customer and time', { skip }, async () => {
      const plan = async (q: { compile(): { sql: string; parameters: readonly unknown[] } }): Promise<string> => {
        const c = q.compile();
        if (d.name === 'sqlite') {
          const rows = t.store.sqlite!.prepare(`explain query plan ${c.sql}`).all(...(c.parameters as unknown[])) as { detail: string }[];
          return rows.map((r) => r.detail).join('\n');
        }
        return t.store.db.transaction().execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          const r = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${c.sql.replace(/\$(\d+)/g, (_, k: string) => { const v = c.parameters[Number(k) - 1]; return typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v); })}`).execute(trx);
          return r.rows.map((x) => x['QUERY PLAN']).join('\n');
        });
      };
      const topPlan = await plan(topByClvQuery(t.store.db, { limit: 50 }));
      assert.match(topPlan, /customer_values_clv/, topPlan);
      if (d.name === 'sqlite') assert.doesNotMatch(topPlan, /TEMP B-TREE FOR ORDER BY/, 'no sort of every valued customer');
      const touchPlan = await plan(conversationTouchesQuery(t.store.db, t.store.dialect, { customerIds: [1, 2, 3], since: 0, until: END, channels: ['email', 'phone'], reactions: ['email opened'] }));
      assert.match(touchPlan, /interactions_customer_time/, touchPlan);
    });

    it('answers GET /api/coverage to a read key, documents it, and names a bad parameter', { skip }, async () => {
      const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${read}` } });
      const ok = await get('/api/coverage?top=10&days=90');
      assert.equal(ok.statusCode, 200, ok.body);
      const r = ok.json<CoverageReport>();
      assert.equal(r.rows.length, 10);
      assert.equal(r.alerts.length, 3);
      const bad = await get('/api/coverage?top=0');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ error: { issues: { field: string }[] } }>().error.issues[0]!.field, 'query.top');
      assert.equal((await app.inject({ method: 'GET', url: '/api/coverage' })).statusCode, 401);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, { get?: unknown }> }>();
      assert.ok(doc.paths['/api/coverage']?.get);
    });

    it('rapport coverage prints the alerts (with --how, their basis) and the customers, or JSON; exit 2 for a bad --top', { skip }, async () => {
      const words = rapport(['coverage', '--top', '10', '--how'], t.url);
      assert.equal(words.code, 0, words.err);
      assert.match(words.out, /^Listening coverage of your 10 most valuable customers, as of 2026-01-31 \(end of data\)\n! 8 of your 10 most valuable customers had no two-way contact in 90 days\n {4}how: Of the 10 customers/);
      assert.match(words.out, /! 1 of your 10 most valuable customers have unanswered feedback older than 14 days/);
      assert.match(words.out, new RegExp(`${top[1]}\\s+[\\d,]+  2026-01-13  1 \\(oldest 16 d\\)`));
      const json = rapport(['coverage', '--top', '3', '--json'], t.url);
      assert.equal(json.code, 0, json.err);
      assert.equal((JSON.parse(json.out) as CoverageReport).rows.length, 3);
      const bad = rapport(['coverage', '--top', '0'], t.url);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /error: --top: /);
    });
  });
}
