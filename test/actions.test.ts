import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import { generateDemo } from '../src/demo/generate.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { candidateActions, type ActionSignals } from '../src/models/stages/actions.js';
import type { ExplainedCondition } from '../src/models/stages/engine.js';
import { runActions } from '../src/relationships/actions.job.js';
import { runHistory } from '../src/relationships/history.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { buildServer } from '../src/server/app.js';
import { runClv } from '../src/value/value.job.js';
import { DIALECTS, type TestStore } from './support/stores.js';

const leaf = (measure: string, label = measure): ExplainedCondition => ({ kind: 'measure', measure: measure as never, label, windowDays: null, atLeast: 1, atMost: null, value: 0, met: false });
const NAMES = ['Introduction', 'Information', 'Commitment', 'Affinity', 'Co-creation'];
const base: ActionSignals = {
  stage: 2,
  stageNames: NAMES,
  momentum: 'steady',
  clv: 100,
  valueAtRisk: 20,
  opportunity: 12,
  contribution: 0,
  openTickets: 0,
  oldestTicketDays: null,
  ideasUnthanked: 0,
  renewalInDays: null,
  missing: [leaf('events:reviews', 'events in group reviews'), leaf('promoters')],
  recentlyDone: new Set(),
};

describe('the next best action model', () => {
  it('asks a committed customer for what Affinity misses, valued at the opportunity', () => {
    const [a, b] = candidateActions(base);
    assert.equal(a!.kind, 'invite_review');
    assert.equal(a!.value, 12);
    assert.match(a!.reasons.join(' '), /Affinity counts reviews/);
    assert.equal(b!.kind, 'invite_survey');
  });

  it('puts an unanswered ticket first, then a renewal, whatever the values', () => {
    const all = candidateActions({ ...base, openTickets: 2, oldestTicketDays: 9, renewalInDays: 20, opportunity: 500 });
    assert.deepEqual(
      all.slice(0, 2).map((x) => x.kind),
      ['answer_ticket', 'call_before_renewal'],
    );
    assert.match(all[0]!.title, /2 open tickets \(the oldest 9 days old\)/);
  });

  it('does not suggest what was done recently, and nothing to climb at Co-creation', () => {
    assert.equal(candidateActions({ ...base, recentlyDone: new Set(['invite_review']) })[0]!.kind, 'invite_survey');
    assert.deepEqual(candidateActions({ ...base, stage: 4, opportunity: 0, missing: [] }), []);
    assert.equal(candidateActions({ ...base, stage: 3, momentum: 'cooling', missing: [leaf('events:research')] })[0]!.kind, 'reach_out_cooling');
  });
});

for (const d of DIALECTS) {
  describe(`next best actions on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let admin = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      await generateDemo(t.store, { customers: 600, seed: 3 });
      await runClv(t.store, { trigger: 'demo' });
      await runHistory(t.store, { trigger: 'demo' });
      await runStages(t.store, { trigger: 'demo' });
      // Two tickets nobody answered, from customers who bought.
      const buyers = await t.store.db.selectFrom('customers as c').innerJoin('customer_values as v', 'v.customer_id', 'c.id').select('c.user_id').where('c.user_id', 'is not', null).orderBy('v.clv', 'desc').limit(2).execute();
      const at = Date.parse((await runStages(t.store, { trigger: 'demo' })).report.asOf) - 5 * 86_400_000;
      await new IngestWriter(t.store, () => at).write(
        buyers.map((b, k) => ({ kind: 'feedback' as const, who: { userId: b.user_id! }, feedbackKind: 'ticket' as const, text: 'My order never arrived', rating: null, status: 'open', at: at - k * 86_400_000, properties: {}, source: 'actions-test', sourceId: `t${k}` })),
      );
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });
    const call = (method: 'GET' | 'POST', url: string, key: string, payload?: unknown) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

    it('finds one action per customer, tickets first, each with its reasons and what is at stake', { skip }, async () => {
      const { report } = await runActions(t.store, { trigger: 'cli' });
      assert.ok(report.actions > 20, `${report.actions} actions`);
      const r = await call('GET', '/api/actions?limit=200', read);
      assert.equal(r.statusCode, 200, r.body);
      const list = r.json<{ items: { id: number; kind: string; value: number; reasons: string[]; customer: { userId: string } }[]; open: Record<string, number> }>();
      assert.equal(new Set(list.items.map((x) => x.customer.userId)).size, list.items.length, 'one per customer');
      assert.ok(list.items.every((x) => x.reasons.length > 0 && x.value >= 0));
      const firstOther = list.items.findIndex((x) => x.kind !== 'answer_ticket' && x.kind !== 'call_before_renewal');
      assert.ok(list.items.slice(firstOther).every((x) => x.kind !== 'answer_ticket'), 'tickets come first');
      assert.ok((list.open['answer_ticket'] ?? 0) > 0, 'the demo has open tickets');
      assert.ok(Object.keys(list.open).some((k) => k.startsWith('invite_')), JSON.stringify(list.open));
    });

    it('records the interaction when an action is done, and does not suggest it again', { skip }, async () => {
      const list = (await call('GET', '/api/actions?kind=answer_ticket', read)).json<{ items: { id: number; customer: { userId: string } }[] }>();
      const a = list.items[0]!;
      assert.equal((await call('POST', `/api/actions/${a.id}/done`, read, {})).statusCode, 403, 'a read key may not');
      const done = await call('POST', `/api/actions/${a.id}/done`, admin, { note: 'replied by phone' });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json<{ recorded: { name: string } }>().recorded.name, 'Ticket Answered');
      const c = await t.store.db.selectFrom('customers').select('id').where('user_id', '=', a.customer.userId).executeTakeFirstOrThrow();
      const i = await t.store.db.selectFrom('interactions').select(['name', 'direction', 'source']).where('customer_id', '=', c.id).where('source', '=', 'actions').execute();
      assert.deepEqual(i, [{ name: 'Ticket Answered', direction: 'outbound', source: 'actions' }]);
      assert.equal((await call('POST', `/api/actions/${a.id}/done`, admin, {})).statusCode, 409, 'done once');
      await runActions(t.store, { trigger: 'cli' });
      const again = (await call('GET', `/api/actions?customer=${encodeURIComponent(a.customer.userId)}`, read)).json<{ items: { kind: string }[] }>();
      assert.ok(again.items.every((x) => x.kind !== 'answer_ticket'));
      const history = (await call('GET', '/api/actions?status=done', read)).json<{ items: { id: number; note: string }[] }>();
      assert.equal(history.items[0]!.id, a.id);
      assert.equal(history.items[0]!.note, 'replied by phone');
    });

    it('names the field of a bad query', { skip }, async () => {
      const r = await call('GET', '/api/actions?kind=bribe', read);
      assert.equal(r.statusCode, 400);
      assert.match(r.body, /kind/);
      assert.equal((await call('POST', '/api/actions/999999/done', admin, {})).statusCode, 404);
    });
  });
}
