import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import { generateDemo } from '../src/demo/generate.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { AccountList, AccountReply } from '../src/relationships/accounts.service.js';
import { runHistory } from '../src/relationships/history.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { accountStageOf } from '../src/relationships/stages.service.js';
import { buildServer } from '../src/server/app.js';
import { runClv } from '../src/value/value.job.js';
import type { z } from 'zod';
import { rapport } from './support/cli.js';
import { DIALECTS, type TestStore } from './support/stores.js';

type List = z.infer<typeof AccountList>;
type Account = z.infer<typeof AccountReply>;
const STAGES = ['introduction', 'information', 'commitment', 'affinity', 'co-creation'] as const;

/** The account rule recomputed from its people: the highest stage at least `min` of them reached, or the most valuable person's when higher (any of several tied at the top CLV). */
function expectedStages(people: Account['people'], min: number): Set<number> {
  const at = people.map((p) => (p.stage === null ? -1 : STAGES.indexOf(p.stage)));
  let held = 0;
  for (let s = STAGES.length - 1; s >= 0; s--) {
    if (at.filter((x) => x >= s).length >= min) {
      held = s;
      break;
    }
  }
  const valued = people.filter((p) => p.clv !== null);
  if (valued.length === 0) return new Set([held]);
  const top = Math.max(...valued.map((p) => p.clv!));
  return new Set(valued.filter((p) => p.clv === top).map((p) => Math.max(held, STAGES.indexOf(p.stage!))));
}

for (const d of DIALECTS) {
  describe(`account pages on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    const get = (url: string, key = read) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });
    const everyAccount = async (limit: number): Promise<List['items']> => {
      const out: List['items'] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 1000; i++) {
        const page: List = (await get(`/api/accounts?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)).json<List>();
        out.push(...page.items);
        cursor = page.nextCursor;
        if (!cursor) return out;
      }
      throw new Error('the list does not end');
    };
    before(async () => {
      if (skip) return;
      t = await d.open();
      await generateDemo(t.store, { customers: 300, seed: 11 });
      await runClv(t.store, { trigger: 'demo' });
      await runHistory(t.store, { trigger: 'demo' });
      await runStages(t.store, { trigger: 'demo' });
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });

    it("places every account as the rule says from its people's stages, and counts them per stage", { skip }, async () => {
      const accounts = await everyAccount(200);
      assert.ok(accounts.length >= 5, `the demo has accounts (${accounts.length})`);
      const stored = await t.store.db.selectFrom('account_stages').select(['account_id', 'lov']).execute();
      assert.equal(accounts.filter((a) => a.stage !== null).length, stored.length, 'every placed account is listed');
      let withOpportunity = 0;
      for (const item of accounts) {
        const res = await get(`/api/accounts/${encodeURIComponent(item.groupId)}?limit=500`);
        assert.equal(res.statusCode, 200, res.body);
        const a = res.json<Account>();
        assert.ok(a.people.length < 500, 'one page holds every person');
        assert.equal(a.counts.people, a.people.length);
        assert.equal(item.people, a.people.length);
        for (const s of a.counts.byStage) assert.equal(s.people, a.people.filter((p) => p.stage === s.key).length, `${a.groupId} ${s.key}`);
        assert.equal(a.counts.notPlaced, a.people.filter((p) => p.stage === null).length);
        assert.ok(a.stage, `${a.groupId} is placed`);
        const k = STAGES.indexOf(a.stage.key);
        assert.ok(expectedStages(a.people, a.minPeople).has(k), `${a.groupId}: ${a.stage.key} from ${JSON.stringify(a.people.map((p) => [p.stage, p.clv]))}`);
        assert.equal(a.counts.holders, a.people.filter((p) => p.stage !== null && STAGES.indexOf(p.stage) >= k).length);
        assert.equal(a.stage.key, (await accountStageOf(t.store, a.groupId)).stage?.key, 'the same as the stage endpoint');
        if (a.basis === 'most_valuable') {
          assert.equal(a.lead?.stage, a.stage.key, "the lead's stage");
          assert.match(a.lines.join('\n'), /its most valuable person.*is: the account takes their stage/);
        } else assert.match(a.lines.join('\n'), new RegExp(`${a.counts.holders} (person is|people are) at ${a.stage.name} or above \\(${a.minPeople} needed\\)`));
        if (a.lead) assert.equal(a.lead.clv, Math.max(...a.people.filter((p) => p.clv !== null).map((p) => p.clv!)), 'the lead is the most valuable by CLV');
        // LOV is the sum of the people's, and they come most valuable first.
        const sum = a.people.reduce((s, p) => s + (p.lov ?? 0), 0);
        assert.ok(a.lov !== null && Math.abs(a.lov - sum) <= 1e-6 * Math.max(1, sum), `${a.groupId}: LOV ${a.lov} = Σ ${sum}`);
        assert.equal(item.lov, a.lov);
        for (let i = 1; i < a.people.length; i++) assert.ok((a.people[i - 1]!.lov ?? -Infinity) >= (a.people[i]!.lov ?? -Infinity), `${a.groupId}: people by LOV`);
        if (a.opportunity !== null) withOpportunity += 1;
        const last = a.lines.find((l) => l.startsWith('For ') || l === 'At the top of the ladder.');
        assert.ok(last, a.lines.join('\n'));
      }
      assert.ok(withOpportunity > 0, 'with a stage history, accounts carry an opportunity');
    });

    it('lists accounts most valuable first, pages without gaps or repeats, and filters by name or group id', { skip }, async () => {
      const all = await everyAccount(200);
      const lovs = all.map((a) => a.lov);
      for (let i = 1; i < lovs.length; i++) assert.ok((lovs[i - 1] ?? -Infinity) >= (lovs[i] ?? -Infinity), `LOV order at ${i}`);
      const paged = await everyAccount(3);
      assert.deepEqual(paged.map((a) => a.groupId), all.map((a) => a.groupId));
      assert.equal(new Set(all.map((a) => a.groupId)).size, all.length);
      const first = (await get('/api/accounts?limit=2')).json<List>();
      assert.equal(first.total, all.length);
      assert.equal(first.items.length, 2);
      // A word of an account's name, in capitals: every listed account has it in its name or id.
      const named = all.find((a) => a.name && a.name.length >= 4)!;
      const word = named.name!.slice(0, 4).toUpperCase();
      const found = (await get(`/api/accounts?q=${encodeURIComponent(word)}&limit=200`)).json<List>();
      assert.ok(found.items.some((a) => a.groupId === named.groupId));
      for (const a of found.items) assert.ok(`${a.name ?? ''} ${a.groupId}`.toLowerCase().includes(word.toLowerCase()), a.name ?? a.groupId);
      assert.equal(found.total, found.items.length);
      const byId = (await get(`/api/accounts?q=${encodeURIComponent(named.groupId)}`)).json<List>();
      assert.deepEqual(byId.items.map((a) => a.groupId), [named.groupId]);
      const none = (await get('/api/accounts?q=%25_%25')).json<List>();
      assert.equal(none.total, 0, '% and _ match themselves');
    });

    it('answers 404 for an unknown account and 400 naming the field for bad parameters', { skip }, async () => {
      const missing = await get('/api/accounts/no-such-account');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json<{ error: { code: string } }>().error.code, 'not_found');
      const field = async (url: string) => {
        const r = await get(url);
        assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
        return r.json<{ error: { issues: { field: string }[] } }>().error.issues.map((i) => i.field);
      };
      assert.deepEqual(await field('/api/accounts?limit=0'), ['query.limit']);
      assert.deepEqual(await field('/api/accounts?limit=201'), ['query.limit']);
      assert.deepEqual(await field('/api/accounts?limit=ten'), ['query.limit']);
      assert.deepEqual(await field(`/api/accounts?q=${'x'.repeat(201)}`), ['query.q']);
      assert.deepEqual(await field('/api/accounts?cursor=bm90LWEtY3Vyc29y'), ['cursor']);
      const some = (await get('/api/accounts?limit=1')).json<List>().items[0]!;
      assert.deepEqual(await field(`/api/accounts/${encodeURIComponent(some.groupId)}?limit=501`), ['query.limit']);
      assert.deepEqual(await field(`/api/accounts/${encodeURIComponent(some.groupId)}?cursor=${Buffer.from('[1]').toString('base64url')}`), ['cursor']);
      assert.equal((await get('/api/accounts', '')).statusCode, 401);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, { get: { parameters: { name: string }[] } }> }>();
      assert.deepEqual(doc.paths['/api/accounts']!.get.parameters.map((p) => p.name).sort(), ['cursor', 'limit', 'q']);
      assert.ok(doc.paths['/api/accounts/{groupId}'], 'the account page is documented');
    });

    it("pages an account's people by cursor, most valuable first", { skip }, async () => {
      const all = await everyAccount(200);
      const big = all.reduce((a, b) => (b.people > a.people ? b : a));
      assert.ok(big.people >= 3, `an account with three people or more (${big.people})`);
      const whole = (await get(`/api/accounts/${encodeURIComponent(big.groupId)}?limit=500`)).json<Account>();
      const seen: Account['people'] = [];
      let cursor: string | null = null;
      do {
        const page: Account = (await get(`/api/accounts/${encodeURIComponent(big.groupId)}?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json<Account>();
        assert.ok(page.people.length <= 2);
        seen.push(...page.people);
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen.map((p) => p.userId), whole.people.map((p) => p.userId));
    });

    it('lists an account that joined after the run without a stage, after the valued ones, and says why', { skip }, async () => {
      // A valued customer above Introduction: alone in the account, their stage is its stage.
      const someone = await t.store.db
        .selectFrom('customers as c')
        .innerJoin('customer_stages as s', 's.customer_id', 'c.id')
        .innerJoin('customer_values as v', 'v.customer_id', 'c.id')
        .select(['c.user_id', 's.stage'])
        .where('c.user_id', 'is not', null)
        .where('v.clv', 'is not', null)
        .where('s.stage', '>', 0)
        .orderBy('c.id')
        .limit(1)
        .executeTakeFirstOrThrow();
      await new IngestWriter(t.store).write([{ kind: 'group', who: { userId: someone.user_id! }, groupId: 'zz-new', traits: { name: 'Newco <b>bold</b>', plan: 'trial' }, at: Date.now() }]);
      const all = await everyAccount(4);
      assert.equal(all.at(-1)!.groupId, 'zz-new');
      assert.equal(all.at(-1)!.stage, null);
      assert.equal(all.at(-1)!.lov, null);
      assert.equal(all.at(-1)!.people, 1);
      const a = (await get('/api/accounts/zz-new')).json<Account>();
      assert.equal(a.stage, null);
      assert.equal(a.name, 'Newco <b>bold</b>');
      assert.equal(a.traits['plan'], 'trial');
      assert.equal(a.counts.people, 1);
      assert.match(a.lines[0]!, /Not placed by a stages run yet/);
      await runStages(t.store, { trigger: 'cli' });
      const placed = (await get('/api/accounts/zz-new')).json<Account>();
      assert.ok(placed.stage, 'the next run places it');
      assert.equal(placed.basis, 'most_valuable', 'one person is fewer than two: its stage is its most valuable person’s');
      assert.equal(placed.stage.key, STAGES[Number(someone.stage)]);
      assert.equal(placed.lead?.userId, someone.user_id);
    });

    it('prints the list and an account with `rapport accounts`, and exits 4 for an unknown one', { skip }, async () => {
      const list = rapport(['accounts', 'list', '--json', '--limit', '5'], t.url);
      assert.equal(list.code, 0, list.err);
      const parsed = JSON.parse(list.out) as List;
      assert.equal(parsed.items.length, 5);
      assert.deepEqual(parsed.items, (await get('/api/accounts?limit=5')).json<List>().items);
      const text = rapport(['accounts', 'list', '--filter', parsed.items[0]!.groupId], t.url);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, new RegExp(`^1 account; `));
      assert.ok(text.out.includes(parsed.items[0]!.groupId));
      const show = rapport(['accounts', 'show', parsed.items[0]!.groupId], t.url);
      assert.equal(show.code, 0, show.err);
      const api = (await get(`/api/accounts/${encodeURIComponent(parsed.items[0]!.groupId)}`)).json<Account>();
      assert.ok(show.out.includes(api.lines[1]!), show.out);
      assert.match(show.out, /^LOV [\d,]+, opportunity /m);
      const unknown = rapport(['accounts', 'show', 'no-such-account'], t.url);
      assert.equal(unknown.code, 4, unknown.err);
      const bad = rapport(['accounts', 'list', '--limit', '0'], t.url);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--limit/);
    });
  });
}
