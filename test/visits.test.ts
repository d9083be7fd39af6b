import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import { eraseCustomer } from '../src/customers/customer.service.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { runStages } from '../src/relationships/stages.job.js';
import { customerStageOf } from '../src/relationships/stages.service.js';
import { logVisit, visitTime, type Visit, type VisitPage } from '../src/relationships/visits.service.js';
import { syncSearch } from '../src/search/search.indexer.js';
import { search, SearchParams } from '../src/search/search.service.js';
import { buildServer } from '../src/server/app.js';
import { DAY_MS, HOUR_MS } from '../src/models/time.js';
import { rapport } from './support/cli.js';
import { DIALECTS, type TestStore } from './support/stores.js';

const NOW = Date.now();
const ago = (days: number): number => NOW - days * DAY_MS;
const isoAgo = (days: number): string => new Date(ago(days)).toISOString();

/** Customers at Introduction (a sign-up and a page view), one in an account, and one merged later. */
function records(): IngestRecord[] {
  const out: IngestRecord[] = [];
  let n = 0;
  for (const u of ['ada', 'bo', 'cy', 'dee', 'eve', 'old-id']) {
    out.push({ kind: 'identify', who: { userId: u }, traits: { name: `${u[0]!.toUpperCase()}${u.slice(1)} Person` }, at: ago(200) });
    out.push({ kind: 'interaction', who: { userId: u }, type: 'page', name: 'Home', channel: 'web', direction: 'inbound', at: ago(190), properties: {}, source: 'test', sourceId: `p${++n}` });
  }
  out.push({ kind: 'group', who: { userId: 'bo' }, groupId: 'acme', traits: { name: 'Acme Ltd' }, at: ago(190) });
  return out;
}

type ErrorBody = { error: { code: string; message: string; issues?: { field: string; message: string }[] } };

for (const d of DIALECTS) {
  describe(`visits on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let admin = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      await new IngestWriter(t.store).write(records());
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });

    const post = (payload: Record<string, unknown>, key = admin) => app.inject({ method: 'POST', url: '/api/visits', headers: { authorization: `Bearer ${key}` }, payload });
    const patch = (id: number, payload: Record<string, unknown>) => app.inject({ method: 'PATCH', url: `/api/visits/${id}`, headers: { authorization: `Bearer ${admin}` }, payload });
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${read}` } });
    const interactionsOf = async (userId: string) =>
      t.store.db.selectFrom('interactions as i').innerJoin('customers as c', 'c.id', 'i.customer_id').select(['i.id as id', 'i.name as name', 'i.channel as channel', 'i.direction as direction', 'i.occurred_at as at', 'i.source as source']).where('c.user_id', '=', userId).where('i.source', '=', 'visits').orderBy('i.id').execute();
    const feedbackOf = async (userId: string) =>
      t.store.db.selectFrom('feedback as f').innerJoin('customers as c', 'c.id', 'f.customer_id').select(['f.id as id', 'f.kind as kind', 'f.text as text', 'f.created_at as at']).where('c.user_id', '=', userId).orderBy('f.id').execute();

    it('logs a done visit as a mutual interaction and its notes as feedback, through the writer (counters, last seen, search)', { skip }, async () => {
      const before = await t.store.db.selectFrom('customers').select(['last_seen', 'interaction_count', 'feedback_count']).where('user_id', '=', 'ada').executeTakeFirstOrThrow();
      const at = isoAgo(2);
      const r = await post({ customer: 'ada', kind: 'visit', at, notes: '  Toured the warehouse; they want quokkaflux bulk export and faster delivery  ', attendees: ['Lea (product)', 'Sam'], durationMinutes: 90 });
      assert.equal(r.statusCode, 200, r.body);
      const v = r.json<Visit>();
      assert.equal(v.status, 'done');
      assert.equal(v.customer.userId, 'ada');
      assert.equal(v.customer.name, 'Ada Person');
      assert.equal(v.at, at);
      assert.equal(v.channel, 'in_person');
      assert.equal(v.event, 'Visit Completed');
      assert.equal(v.createdBy, 'ops');
      assert.equal(v.notes, 'Toured the warehouse; they want quokkaflux bulk export and faster delivery', 'notes are trimmed');
      assert.deepEqual(v.attendees, ['Lea (product)', 'Sam']);
      const [i] = await interactionsOf('ada');
      assert.ok(i, 'an interaction was written');
      assert.equal(Number(i.id), v.interactionId);
      assert.deepEqual([i.name, i.channel, i.direction, Number(i.at)], ['Visit Completed', 'in_person', 'mutual', Date.parse(at)]);
      const [f] = await feedbackOf('ada');
      assert.ok(f, 'a feedback item was written');
      assert.equal(Number(f.id), v.feedbackId);
      assert.deepEqual([f.kind, f.text, Number(f.at)], ['visit_note', v.notes, Date.parse(at)]);
      const after = await t.store.db.selectFrom('customers').select(['last_seen', 'interaction_count', 'feedback_count']).where('user_id', '=', 'ada').executeTakeFirstOrThrow();
      assert.equal(Number(after.last_seen), Date.parse(at), 'the customer was last seen at the visit');
      assert.ok(Number(after.last_seen) > Number(before.last_seen));
      assert.equal(Number(after.interaction_count), Number(before.interaction_count) + 1);
      assert.equal(Number(after.feedback_count), Number(before.feedback_count) + 1);
      await syncSearch(t.store);
      const found = await search(t.store, SearchParams.parse({ q: 'quokkaflux' }));
      assert.equal(found.total, 1, 'the notes are searchable');
      const timeline = (await get('/api/customers/ada/timeline')).json<{ items: { kind: string }[] }>();
      assert.ok(timeline.items.some((x) => x.kind === 'interaction') && timeline.items.some((x) => x.kind === 'feedback'));
    });

    it('records each kind under its own event and channel; an interview is feedback of kind interview; without notes, no feedback', { skip }, async () => {
      const cases = [
        { kind: 'call', event: 'Call Completed', channel: 'phone' },
        { kind: 'meeting', event: 'Meeting Held', channel: 'in_person' },
        { kind: 'interview', event: 'Interview Completed', channel: 'video' },
        { kind: 'interview', channel: 'phone', event: 'Interview Completed', given: 'phone' },
      ];
      const before = (await feedbackOf('cy')).length;
      for (const [k, c] of cases.entries()) {
        const r = await post({ customer: 'cy', kind: c.kind, at: new Date(ago(10 + k) + HOUR_MS).toISOString(), ...(c.given ? { channel: c.given } : {}), ...(c.kind === 'interview' ? { notes: 'Walked through their reorder flow' } : {}) });
        assert.equal(r.statusCode, 200, r.body);
        const v = r.json<Visit>();
        assert.deepEqual([v.event, v.channel], [c.event, c.channel]);
        assert.equal(v.feedbackId === null, c.kind !== 'interview');
      }
      const rows = await interactionsOf('cy');
      assert.deepEqual(rows.map((x) => [x.name, x.channel, x.direction]).sort(), cases.map((c) => [c.event, c.channel, 'mutual']).sort());
      const fb = (await feedbackOf('cy')).slice(before);
      assert.deepEqual(fb.map((x) => x.kind), ['interview', 'interview']);
    });

    it('records a planned visit only when it is marked done, once however often; a cancelled one never', { skip }, async () => {
      const planned = await post({ customer: 'dee', kind: 'meeting', status: 'planned', at: new Date(NOW + 20 * DAY_MS).toISOString(), notes: 'Agenda: renewal' });
      assert.equal(planned.statusCode, 200, planned.body);
      const p = planned.json<Visit>();
      assert.equal(p.status, 'planned');
      assert.equal(p.interactionId, null);
      assert.equal((await interactionsOf('dee')).length, 0, 'nothing recorded while planned');
      assert.equal((await feedbackOf('dee')).length, 0);
      // Planned three weeks ahead: marking it done without saying when it took place is refused.
      const early = await patch(p.id, { status: 'done' });
      assert.equal(early.statusCode, 400);
      assert.equal(early.json<ErrorBody>().error.issues?.[0]?.field, 'at');
      const done = await patch(p.id, { status: 'done', at: isoAgo(1), notes: 'Renewal agreed; they asked for quarterly reviews' });
      assert.equal(done.statusCode, 200, done.body);
      const v = done.json<Visit>();
      assert.equal(v.status, 'done');
      assert.ok(v.interactionId !== null && v.feedbackId !== null);
      const again = await patch(p.id, { status: 'done' });
      assert.equal(again.statusCode, 200, 'marking it done again changes nothing');
      assert.equal((await interactionsOf('dee')).length, 1);
      assert.deepEqual((await feedbackOf('dee')).map((f) => f.text), ['Renewal agreed; they asked for quarterly reviews']);
      const cancel = await patch(p.id, { status: 'cancelled' });
      assert.equal(cancel.statusCode, 409);
      assert.match(cancel.json<ErrorBody>().error.message, /took place and is recorded/);
      const edit = await patch(p.id, { notes: 'rewritten' });
      assert.equal(edit.statusCode, 409);

      const other = (await post({ customer: 'dee', kind: 'visit', status: 'planned', at: new Date(NOW + 40 * DAY_MS).toISOString() })).json<Visit>();
      const off = await patch(other.id, { status: 'cancelled' });
      assert.equal(off.statusCode, 200, off.body);
      assert.equal(off.json<Visit>().status, 'cancelled');
      assert.equal((await interactionsOf('dee')).length, 1, 'a cancelled visit records nothing');
      assert.equal((await patch(other.id, { status: 'done', at: isoAgo(1) })).statusCode, 409, 'a cancelled visit changes no more');
      assert.equal((await interactionsOf('dee')).length, 1);

      // A done visit logged without notes takes them once, as feedback.
      const bare = (await post({ customer: 'dee', kind: 'call', at: isoAgo(3) })).json<Visit>();
      assert.equal(bare.feedbackId, null);
      const noted = await patch(bare.id, { notes: 'Called about the invoice' });
      assert.equal(noted.statusCode, 200, noted.body);
      assert.ok(noted.json<Visit>().feedbackId !== null);
      assert.equal((await interactionsOf('dee')).length, 2, 'the call is recorded once');
    });

    it('refuses bad input naming the field, an unknown customer with 404, and a read key', { skip }, async () => {
      const field = async (payload: Record<string, unknown>, status = 400) => {
        const r = await post(payload);
        assert.equal(r.statusCode, status, `${JSON.stringify(payload).slice(0, 80)}: ${r.body}`);
        return r.json<ErrorBody>().error;
      };
      const ok = { customer: 'eve', at: isoAgo(1) };
      assert.equal((await field({ ...ok, at: '1900-01-01' })).issues?.[0]?.field, 'at');
      assert.match((await field({ ...ok, at: '1900-01-01' })).message, /^at: must not lie before 2000-01-01/);
      assert.match((await field({ ...ok, status: 'planned', at: '3000-01-01' })).message, /^at: a visit may be planned at most five years ahead/);
      assert.match((await field({ ...ok, at: new Date(NOW + 3 * DAY_MS).toISOString() })).message, /^at: a visit that took place must not lie more than a day ahead.*log it as planned/);
      assert.match((await field({ ...ok, at: 'next tuesday' })).message, /^at: expected an ISO 8601 date or time/);
      assert.match((await field({ ...ok, at: '2026-02-30' })).message, /^at: no such day/);
      assert.equal((await field({ ...ok, kind: 'lunch' })).issues?.[0]?.field, 'kind');
      assert.equal((await field({ ...ok, notes: 'x'.repeat(20_001) })).issues?.[0]?.field, 'notes');
      assert.equal((await field({ ...ok, notes: 'a\u0000b' })).issues?.[0]?.field, 'notes');
      assert.equal((await field({ ...ok, durationMinutes: 0 })).issues?.[0]?.field, 'durationMinutes');
      assert.equal((await field({ ...ok, attendees: [''] })).issues?.[0]?.field, 'attendees.0');
      assert.equal((await field({ ...ok, channel: 'carrier pigeon' })).issues?.[0]?.field, 'channel');
      assert.equal((await field({ at: isoAgo(1) })).issues?.[0]?.field, 'customer');
      const unknown = await field({ ...ok, customer: 'nobody' }, 404);
      assert.equal(unknown.code, 'not_found');
      assert.match(unknown.message, /^customer "nobody" not found: visits are logged for a customer Rapport knows, named by their user id/);
      assert.equal(unknown.issues?.[0]?.field, 'customer');
      assert.equal((await field({ ...ok, account: 'no-such-account' }, 404)).issues?.[0]?.field, 'account');
      assert.equal((await post(ok, read)).statusCode, 403, 'a read key may not log visits');
      assert.equal((await get('/api/visits?customer=nobody')).statusCode, 404);
      assert.equal((await get('/api/visits?cursor=nonsense')).statusCode, 400);
      assert.equal((await get('/api/visits?from=2026-03-01&to=2026-02-01')).json<ErrorBody>().error.issues?.[0]?.field, 'to');
      assert.equal((await get('/api/visits/999999')).statusCode, 404);
      assert.equal((await patch(999999, { status: 'done' })).statusCode, 404);
      assert.equal((await patch(1, {})).statusCode, 400, 'an empty change is refused');
      assert.equal((await t.store.db.selectFrom('visits').innerJoin('customers as c', 'c.id', 'visits.customer_id').select('visits.id').where('c.user_id', '=', 'eve').execute()).length, 0, 'nothing was stored for eve');
      const now = Date.UTC(2026, 2, 20);
      assert.equal(visitTime('2026-03-14T10:30', 'at', 'done', now), Date.UTC(2026, 2, 14, 10, 30), 'a time without an offset is UTC');
      assert.equal(visitTime('2026-03-14T10:30+02:00', 'at', 'done', now), Date.UTC(2026, 2, 14, 8, 30));
      assert.equal(visitTime('2026-03-14', 'at', 'done', now), Date.UTC(2026, 2, 14));
    });

    it('lists visits newest first or soonest first, by customer, status and time, a page at a time; an account is named', { skip }, async () => {
      for (let k = 0; k < 5; k++) assert.equal((await post({ customer: 'bo', kind: 'call', at: isoAgo(30 + k), account: 'acme' })).statusCode, 200);
      const first = (await get('/api/visits?customer=bo&limit=2')).json<VisitPage>();
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      assert.deepEqual(first.items.map((v) => v.at), [isoAgo(30), isoAgo(31)]);
      assert.deepEqual(first.items[0]!.account, { groupId: 'acme', name: 'Acme Ltd' });
      const second = (await get(`/api/visits?customer=bo&limit=2&cursor=${first.nextCursor}`)).json<VisitPage>();
      assert.deepEqual(second.items.map((v) => v.at), [isoAgo(32), isoAgo(33)]);
      const all = (await get('/api/customers/bo/visits?limit=50')).json<VisitPage>();
      assert.equal(all.items.length, 5);
      assert.equal(all.nextCursor, null);
      const soonest = (await get('/api/visits?customer=bo&order=asc&limit=1')).json<VisitPage>();
      assert.equal(soonest.items[0]!.at, isoAgo(34));
      const window = (await get(`/api/visits?customer=bo&from=${isoAgo(32).slice(0, 10)}&to=${isoAgo(31).slice(0, 10)}`)).json<VisitPage>();
      assert.deepEqual(window.items.map((v) => v.at), [isoAgo(31), isoAgo(32)]);
      const planned = (await get('/api/visits?status=planned')).json<VisitPage>();
      assert.ok(planned.items.every((v) => v.status === 'planned'));
      assert.equal((await get('/api/customers/nobody/visits')).statusCode, 404);
      const one = await get(`/api/visits/${first.items[0]!.id}`);
      assert.equal(one.json<Visit>().id, first.items[0]!.id);
    });

    it('moves a customer at Introduction to Co-creation after a stages run once a research visit is logged; a call is a conversation (Information)', { skip }, async () => {
      const fresh: IngestRecord[] = ['vic', 'cal'].flatMap((u, k): IngestRecord[] => [
        { kind: 'identify', who: { userId: u }, traits: { name: u }, at: ago(100) },
        { kind: 'interaction', who: { userId: u }, type: 'page', name: 'Home', channel: 'web', direction: 'inbound', at: ago(99), properties: {}, source: 'test', sourceId: `fresh${k}` },
      ]);
      await new IngestWriter(t.store).write(fresh);
      await runStages(t.store, { trigger: 'cli', asOf: NOW });
      assert.equal((await customerStageOf(t.store, 'vic')).stage?.key, 'introduction');
      assert.equal((await customerStageOf(t.store, 'cal')).stage?.key, 'introduction');
      await logVisit(t.store, new IngestWriter(t.store), { customer: 'vic', kind: 'visit', at: isoAgo(3), notes: 'Saw how they pack orders' }, 'test', NOW);
      await logVisit(t.store, new IngestWriter(t.store), { customer: 'cal', kind: 'call', at: isoAgo(3) }, 'test', NOW);
      await runStages(t.store, { trigger: 'cli', asOf: NOW });
      const vic = await customerStageOf(t.store, 'vic');
      assert.equal(vic.stage?.key, 'co-creation');
      assert.match(vic.lines.join('\n'), /✓ events in group research: 1/);
      assert.equal((await customerStageOf(t.store, 'cal')).stage?.key, 'information');
    });

    it('moves visits with their customer when two customers merge', { skip }, async () => {
      const v = await logVisit(t.store, new IngestWriter(t.store), { customer: 'old-id', kind: 'meeting', status: 'planned', at: new Date(NOW + 5 * DAY_MS).toISOString() }, 'test', NOW);
      await new IngestWriter(t.store).write([{ kind: 'alias', previousId: 'old-id', userId: 'new-id', at: NOW }]);
      const page = (await get('/api/customers/new-id/visits')).json<VisitPage>();
      assert.deepEqual(page.items.map((x) => x.id), [v.id]);
    });

    it('documents the routes', { skip }, async () => {
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
      for (const [p, m] of [['/api/visits', 'post'], ['/api/visits', 'get'], ['/api/visits/{id}', 'get'], ['/api/visits/{id}', 'patch'], ['/api/customers/{userId}/visits', 'get']] as const) assert.ok(doc.paths[p]?.[m], `${m} ${p}`);
    });

    it('rapport visits log and list: the visit as JSON or in words, and exit 4 for an unknown customer, 2 for a bad date', { skip }, async () => {
      const logged = rapport(['visits', 'log', '--customer', 'eve', '--at', isoAgo(4).slice(0, 16), '--kind', 'interview', '--notes', 'Likes the \u001b[31mnew\u001b[0m search', '--attendee', 'Lea', '--attendee', 'Priya', '--minutes', '45'], t.url);
      assert.equal(logged.code, 0, logged.err);
      assert.match(logged.out, /^Logged #\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}interview done {6}Eve Person \(eve\), 45 min, with Lea, Priya\n {6}Likes the \[31mnew \[0m search\nrecorded as interaction \d+ \(Interview Completed, video, mutual\) and feedback item \d+ \(interview\)/);
      assert.ok(!logged.out.includes('\u001b'), 'control characters are not printed');
      const json = rapport(['visits', 'log', '--customer', 'eve', '--at', new Date(NOW + 9 * DAY_MS).toISOString(), '--planned', '--json'], t.url);
      assert.equal(json.code, 0, json.err);
      const v = JSON.parse(json.out) as Visit;
      assert.equal(v.status, 'planned');
      assert.equal(v.kind, 'visit');
      const list = rapport(['visits', 'list', '--customer', 'eve', '--json'], t.url);
      assert.equal(list.code, 0, list.err);
      assert.deepEqual((JSON.parse(list.out) as VisitPage).items.map((x) => x.kind), ['visit', 'interview']);
      const words = rapport(['visits', 'list', '--customer', 'eve'], t.url);
      assert.match(words.out, /#\d+ .*visit {5}planned/);
      const unknown = rapport(['visits', 'log', '--customer', 'nobody', '--at', isoAgo(1)], t.url);
      assert.equal(unknown.code, 4);
      assert.match(unknown.err, /error: customer "nobody" not found/);
      const bad = rapport(['visits', 'log', '--customer', 'eve', '--at', '1900-05-01'], t.url);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /error: at: must not lie before 2000-01-01/);
      const minutes = rapport(['visits', 'log', '--customer', 'eve', '--at', isoAgo(1), '--minutes', 'ten'], t.url);
      assert.equal(minutes.code, 2);
      assert.match(minutes.err, /error: --minutes: /);
      const done = rapport(['visits', 'done', String(v.id), '--at', isoAgo(0.5), '--notes', 'Went well'], t.url);
      assert.equal(done.code, 0, done.err);
      assert.match(done.out, /recorded as interaction \d+ \(Visit Completed, in_person, mutual\) and feedback item \d+ \(visit note\)/);
    });

    it('erases a customer’s visits with them', { skip }, async () => {
      const r = await eraseCustomer(t.store, 'dee');
      assert.equal(r.removed.find((x) => x.table === 'visits')?.rows, 3);
      const left = await t.store.db.selectFrom('visits').select((eb) => eb.fn.countAll<number>().as('n')).where('notes', 'like', '%Renewal%').executeTakeFirstOrThrow();
      assert.equal(Number(left.n), 0);
    });
  });
}
