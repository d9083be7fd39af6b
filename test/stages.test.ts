import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { checkRules, defaultRulesText, parseRules } from '../src/relationships/rules-file.js';
import { runStages } from '../src/relationships/stages.job.js';
import { accountStageOf, customerStageOf, saveRulesText, stagesSummary } from '../src/relationships/stages.service.js';
import { buildServer } from '../src/server/app.js';
import { DAY_MS, monthOfMs } from '../src/models/time.js';
import { CONVERSATION_BIT, Features, featurePlan, INBOUND, MUTUAL, OUTBOUND, REACTION_BIT } from '../src/models/stages/features.js';
import { rapport } from './support/cli.js';
import { DIALECTS, type TestStore } from './support/stores.js';

const AS_OF = Date.UTC(2026, 5, 30, 12);
const ago = (days: number): number => AS_OF - days * DAY_MS;

describe('the stage rules file', () => {
  it('reads the default file: five stages in order, its event groups and momentum', () => {
    const r = parseRules(defaultRulesText());
    assert.deepEqual(
      r.stages.map((s) => s.key),
      ['introduction', 'information', 'commitment', 'affinity', 'co-creation'],
    );
    assert.equal(r.stages[0]!.when, null);
    assert.ok(r.events['referrals']!.includes('invite sent'), 'event names are lower-cased');
    assert.equal(r.momentum.windowDays, 90);
  });

  it('names the line, the rule and what was expected for every error, and refuses the whole file', () => {
    const good = defaultRulesText();
    const lines = good.split('\n');
    const at = lines.findIndex((l) => l.includes('measure: order_months')) + 1;
    const bad = good.replace('measure: order_months', 'measure: order_monthz').replace('window_days: 90', 'window_days: 9000');
    const issues = checkRules(bad);
    assert.equal(issues.length, 2, issues.join('\n'));
    assert.match(issues[0]!, new RegExp(`^line ${at}, commitment: unknown measure order_monthz: expected one of`));
    assert.match(issues[1]!, /^line \d+, momentum: expected window_days from 7 to 730; got 9000$/);
    assert.throws(() => parseRules(bad), /rules file, line \d+, commitment: unknown measure order_monthz/);
  });

  it('refuses stages out of order, a missing rule, an unknown event group and YAML that does not parse', () => {
    const good = defaultRulesText();
    assert.match(checkRules(good.replace('key: affinity', 'key: co-creation').replace(/key: co-creation\n(\s+)name: Co-creation/, 'key: affinity\n$1name: Co-creation')).join('\n'), /affinity|co-creation/);
    assert.match(checkRules(good.replace('events:reviews', 'events:reveiws')).join('\n'), /line \d+, affinity: no event group reveiws under events: expected one of answered, referrals/);
    assert.match(checkRules('version: 1\nstages: [\n').join('\n'), /^line \d+, yaml: /);
    assert.match(checkRules(good.replace(/stages:\n[\s\S]*?\n# Momentum/, 'stages: []\n# Momentum')).join('\n'), /expected the five stages in order/);
    assert.match(checkRules(good.replace("  - key: information\n    name: Information", "  - key: information\n    when_: 1\n    name: Information")).join('\n'), /unknown key when_/);
  });

  it('counts a month as two-way only for a conversation: mutual, or both ways through a conversation channel, never a reaction', () => {
    const rules = parseRules(defaultRulesText());
    const asOf = Date.UTC(2026, 5, 30);
    const plan = featurePlan(rules, asOf);
    const f = new Features(plan, 4);
    const slot = plan.slotOf('two_way_months', 730);
    const active = plan.slotOf('active_months', 730);
    for (let m = 1; m <= 5; m++) {
      const at = Date.UTC(2026, m, 10);
      // 0: a push and a page view every month; 1: a newsletter and a reply by e-mail; 2: a call.
      f.addInteraction(0, at, OUTBOUND, 0);
      f.addInteraction(0, at + DAY_MS, INBOUND, 0);
      f.addInteraction(1, at, OUTBOUND, CONVERSATION_BIT);
      f.addInteraction(1, at + DAY_MS, INBOUND, CONVERSATION_BIT);
      if (m <= 2) f.addInteraction(2, at, MUTUAL, 0);
      // 3: a newsletter opened: a reaction, which answers nothing.
      f.addInteraction(3, at, OUTBOUND, CONVERSATION_BIT);
      f.addInteraction(3, at + DAY_MS, INBOUND, CONVERSATION_BIT | REACTION_BIT);
    }
    assert.deepEqual([0, 1, 2, 3].map((i) => f.value(i, slot)), [0, 5, 2, 0]);
    assert.deepEqual([0, 1, 2, 3].map((i) => f.value(i, active)), [5, 5, 2, 0], 'outbound alone, or a reaction, is not activity of their own');
    assert.deepEqual([f.recentOf(3), f.previousOf(3)], [0, 0], 'nor a touch for momentum');
    // A row after the as-of time is not counted.
    f.addInteraction(2, asOf + DAY_MS, MUTUAL, 0);
    assert.equal(f.value(2, slot), 2);
  });

  it('counts calendar months without Date: monthOfMs agrees with the calendar', () => {
    for (let t = Date.UTC(1969, 0, 1); t < Date.UTC(2031, 0, 1); t += 13 * DAY_MS + 3600_000) {
      const d = new Date(t);
      assert.equal(monthOfMs(t), d.getUTCFullYear() * 12 + d.getUTCMonth(), d.toISOString());
    }
  });
});

/** A small company whose people each sit clearly at one stage, plus momentum and an account. */
function records(): IngestRecord[] {
  const out: IngestRecord[] = [];
  let n = 0;
  const who = (u: string) => ({ userId: u });
  const identify = (u: string, at: number) => out.push({ kind: 'identify', who: who(u), traits: { name: u }, at });
  const track = (u: string, name: string, at: number, direction: 'inbound' | 'outbound' | 'mutual' = 'inbound', channel = 'web') =>
    out.push({ kind: 'interaction', who: who(u), type: 'track', name, channel, direction, at, properties: {}, source: 'test', sourceId: `e${++n}` });
  const order = (u: string, at: number, total = 40) =>
    out.push({ kind: 'order', who: who(u), orderId: `o${++n}`, at, total, currency: 'USD', lines: [{ productId: 'p1', name: 'Thing', category: 'things', price: total, quantity: 1 }], properties: {}, source: 'test', sourceId: `o${n}` });
  const feedback = (u: string, kind: 'survey' | 'review' | 'interview' | 'ticket', at: number, rating: number | null = null) =>
    out.push({ kind: 'feedback', who: who(u), feedbackKind: kind, text: `${kind} from ${u}: the delivery was quick and the book lovely`, rating, status: 'received', at, properties: {}, source: 'test', sourceId: `f${++n}` });

  identify('intro', ago(300));
  track('intro', 'Page Viewed', ago(299));
  track('intro', 'Newsletter Sent', ago(200), 'outbound', 'email');

  identify('info', ago(200));
  order('info', ago(150));

  identify('commit', ago(400));
  for (const d of [330, 250, 160, 100, 40]) order('commit', ago(d));
  feedback('commit', 'survey', ago(90), 8);

  identify('fan', ago(500));
  for (const d of [400, 300, 200, 120, 30]) order('fan', ago(d));
  track('fan', 'Product Reviewed', ago(110));
  track('fan', 'Referral Sent', ago(100));
  feedback('fan', 'survey', ago(60), 10);

  identify('maker', ago(600));
  for (const d of [500, 350, 210, 90, 20]) order('maker', ago(d));
  track('maker', 'Interview Completed', ago(70), 'mutual', 'phone');

  // Busy 100–180 days ago, silent since: cooling.
  identify('fading', ago(400));
  for (let d = 175; d > 100; d -= 8) track('fading', 'Support Chat Completed', ago(d), 'mutual', 'support');
  // Quiet before, busy in the last 90 days: warming.
  identify('rising', ago(400));
  for (let d = 80; d > 0; d -= 10) track('rising', 'App Opened', ago(d));

  // An account: two people at Commitment and its most valuable person at Co-creation.
  for (const u of ['commit', 'maker', 'info']) out.push({ kind: 'group', who: who(u), groupId: 'acme', traits: { name: 'Acme' }, at: ago(300) });
  identify('commit2', ago(400));
  for (const d of [300, 200, 60]) order('commit2', ago(d));
  feedback('commit2', 'survey', ago(50), 7);
  out.push({ kind: 'group', who: who('commit2'), groupId: 'acme', traits: { name: 'Acme' }, at: ago(300) });
  return out;
}

for (const d of DIALECTS) {
  describe(`relationship stages on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let admin = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      await new IngestWriter(t.store, () => AS_OF).write(records());
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });

    it('places each customer at the highest stage whose rule they meet; no interactions at all is Introduction', { skip }, async () => {
      const { report } = await runStages(t.store, { trigger: 'cli', asOf: AS_OF });
      assert.equal(report.asOfRule, 'given');
      const stageOf = async (u: string) => (await customerStageOf(t.store, u)).stage?.key;
      assert.equal(await stageOf('intro'), 'introduction');
      assert.equal(await stageOf('info'), 'information');
      assert.equal(await stageOf('commit'), 'commitment');
      assert.equal(await stageOf('commit2'), 'commitment');
      assert.equal(await stageOf('fan'), 'affinity');
      assert.equal(await stageOf('maker'), 'co-creation');
      // A customer added after the run, with nothing but an identify call.
      await new IngestWriter(t.store, () => AS_OF).write([{ kind: 'identify', who: { userId: 'silent' }, traits: {}, at: ago(5) }]);
      const silent = await customerStageOf(t.store, 'silent');
      assert.equal(silent.stage, null, 'not placed by the run');
      assert.equal(silent.explanation && (silent.explanation as { stage: string }).stage, 'introduction');
      assert.match(silent.note ?? '', /Not placed by a run yet/);
      await runStages(t.store, { trigger: 'cli', asOf: AS_OF });
      assert.equal(await stageOf('silent'), 'introduction');
    });

    it('counts the same on two threads as on one (a SQLite file splits its interactions between them)', { skip }, async () => {
      const read = async () => (await t.store.db.selectFrom('customer_stages').select(['customer_id', 'stage', 'met', 'momentum', 'activity_recent', 'activity_previous']).orderBy('customer_id').execute());
      const one = await read();
      const { report } = await runStages(t.store, { trigger: 'cli', asOf: AS_OF, parallelAbove: 2 });
      assert.equal(report.customers, one.length);
      assert.equal(report.threads, d.name === 'sqlite' ? 2 : 1);
      assert.deepEqual(await read(), one);
    });

    it('explains a placement with the values the rules read and what is missing for the next stage', { skip }, async () => {
      const r = await customerStageOf(t.store, 'commit');
      assert.equal(r.note, null, 'the explanation agrees with the stored placement');
      const text = r.lines.join('\n');
      assert.match(text, /✓ orders: 5 \(at least 2\)/);
      assert.match(text, /✓ feedback of kind survey: 1 \(at least 1\)/);
      assert.match(text, /Affinity — rule not met/);
      assert.match(text, /For Affinity: 2 more of the 6 conditions not yet met\./);
      const e = r.explanation as { next: { key: string; missing: unknown[] } };
      assert.equal(e.next.key, 'affinity');
      assert.equal(e.next.missing.length, 6);
      const top = await customerStageOf(t.store, 'maker');
      assert.match(top.lines.at(-1)!, /At the top of the ladder/);
    });

    it('reads momentum separately from the stage: cooling after a busy spell, warming after a quiet one', { skip }, async () => {
      const fading = await customerStageOf(t.store, 'fading');
      assert.equal(fading.momentum, 'cooling');
      assert.equal(fading.momentumReading.activityRecent, 0);
      assert.ok(fading.momentumReading.activityPrevious >= 9);
      assert.equal(fading.stage?.key, 'information', 'conversations place them at Information however they are trending');
      const rising = await customerStageOf(t.store, 'rising');
      assert.equal(rising.momentum, 'warming');
      assert.equal(rising.momentumReading.activityRecent, 8);
    });

    it('places an account by what two of its people hold, or by its most valuable person, and lists them', { skip }, async () => {
      const a = await accountStageOf(t.store, 'acme');
      assert.equal(a.people.length, 4);
      // Without customer value the most valuable person is unknown: two people hold Commitment.
      assert.equal(a.stage?.key, 'commitment');
      assert.equal(a.basis, 'people');
      assert.match(a.explanation, /held by 3 of its 4 people/);
    });

    it('summarises the ladder: counts per stage and momentum that add up to every customer', { skip }, async () => {
      const s = await stagesSummary(t.store);
      assert.equal(s.customers, 9);
      assert.equal(s.stages.reduce((a, x) => a + x.customers, 0), s.customers);
      assert.equal(Object.values(s.momentum).reduce((a, x) => a + x, 0), s.customers);
      assert.equal(s.stages.find((x) => x.key === 'commitment')!.customers, 2);
      assert.equal(s.stages.find((x) => x.key === 'commitment')!.accounts, 1);
    });

    it('takes a team’s rules: a bad file changes nothing, a good one is a new version the next run uses', { skip }, async () => {
      const bad = defaultRulesText().replace('{ measure: orders, at_least: 2 }', '{ measure: orders, at_least: "two" }');
      const put = (source: string, key = admin) => app.inject({ method: 'PUT', url: '/api/stages/rules', headers: { authorization: `Bearer ${key}` }, payload: { source } });
      const refused = await put(bad);
      assert.equal(refused.statusCode, 400);
      const body = refused.json<{ error: { message: string; issues: { field: string; message: string; row: number }[] } }>();
      assert.match(body.error.issues[0]!.message, /^line \d+, commitment: expected at_least, a number/);
      assert.equal(body.error.issues[0]!.field, 'stages[2].when.of[0].at_least');
      assert.equal((await put(defaultRulesText(), read)).statusCode, 403);
      const rules = await app.inject({ method: 'GET', url: '/api/stages/rules', headers: { authorization: `Bearer ${read}` } });
      assert.equal(rules.json<{ version: number | null }>().version, null, 'the refused file did not replace the default');
      // Stricter Commitment: five orders in the last 365 days.
      const strict = defaultRulesText().replace('name: Rapport default', 'name: strict').replace(/when:\n {6}at_least: 2\n {6}of:\n {8}- \{ measure: orders, at_least: 2 \}[^\n]*\n(?: {8}- [^\n]*\n){4}/, 'when: { measure: orders, window_days: 365, at_least: 6 }\n');
      assert.deepEqual(checkRules(strict), []);
      const ok = await put(strict);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json<{ version: number; name: string }>().name, 'strict');
      const note = await stagesSummary(t.store);
      assert.match(note.notes.join(' '), /rules changed since the latest run/);
      const run = await app.inject({ method: 'POST', url: '/api/stages/run', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(run.statusCode, 200, run.body);
      assert.equal((await customerStageOf(t.store, 'commit')).stage?.key, 'information', 'five orders in the year are not six');
      assert.equal((await customerStageOf(t.store, 'maker')).stage?.key, 'co-creation');
      await saveRulesText(t.store, defaultRulesText(), 'test');
      await runStages(t.store, { trigger: 'cli', asOf: AS_OF });
      assert.equal((await customerStageOf(t.store, 'commit')).stage?.key, 'commitment');
    });

    it('recomputes the stage history through the API: incremental when nothing is new, every customer when asked', { skip }, async () => {
      const post = (payload?: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/stages/history/run', headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload }) });
      const first = await post();
      assert.equal(first.statusCode, 200, first.body);
      const again = (await post({})).json<{ mode: string; read: number }>();
      assert.deepEqual([again.mode, again.read], ['incremental', 0]);
      const full = (await post({ full: true })).json<{ mode: string; why: string; read: number; customers: number }>();
      assert.deepEqual([full.mode, full.why, full.read], ['full', 'asked for a full run', full.customers]);
      const bad = await post({ full: 'yes' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ error: { issues: { field: string }[] } }>().error.issues[0]!.field, 'full');
    });

    it('answers the stage routes to a read key and documents them', { skip }, async () => {
      const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${read}` } });
      const profile = (await get('/api/customers/fan')).json<{ stage: string; momentum: string; relationship: { stage: { name: string }; explanation: string } }>();
      assert.equal(profile.stage, 'affinity');
      assert.equal(profile.relationship.stage.name, 'Affinity');
      assert.equal(profile.relationship.explanation, '/api/customers/fan/stage');
      const listed = (await get('/api/customers?q=commit')).json<{ items: { userId: string; stage: string | null }[] }>();
      assert.deepEqual(listed.items.map((x) => [x.userId, x.stage]).sort(), [['commit', 'commitment'], ['commit2', 'commitment']]);
      const one = await get('/api/customers/fan/stage');
      assert.equal(one.statusCode, 200);
      assert.equal(one.json<{ stage: { key: string } }>().stage.key, 'affinity');
      assert.equal((await get('/api/customers/nobody/stage')).statusCode, 404);
      const list = await get('/api/stages/customers?stage=commitment');
      assert.deepEqual(list.json<{ items: { userId: string }[] }>().items.map((x) => x.userId).sort(), ['commit', 'commit2']);
      assert.equal((await get('/api/stages/customers?stage=sideways')).statusCode, 400);
      assert.equal((await get('/api/accounts/acme/stage')).statusCode, 200);
      assert.equal((await app.inject({ method: 'POST', url: '/api/stages/run', headers: { authorization: `Bearer ${read}` } })).statusCode, 403);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, unknown> }>();
      for (const p of ['/api/stages/summary', '/api/stages/rules', '/api/stages/run', '/api/customers/{userId}/stage', '/api/accounts/{groupId}/stage']) assert.ok(doc.paths[p], p);
    });
  });
}

describe('rapport stages rules check', () => {
  it('prints every issue with its line and exits 2 (invalid input); a good file exits 0', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-rules-'));
    try {
      const file = path.join(dir, 'rules.yaml');
      fs.writeFileSync(file, defaultRulesText().replace('measure: mutual', 'measure: mutal'));
      const bad = rapport(['stages', 'rules', 'check', file], `sqlite:${path.join(dir, 'r.db')}`);
      assert.equal(bad.code, 2, bad.err);
      assert.match(bad.err, /1 issue\n {2}line \d+, information: unknown measure mutal/);
      fs.writeFileSync(file, defaultRulesText());
      const good = rapport(['stages', 'rules', 'check', file], `sqlite:${path.join(dir, 'r.db')}`);
      assert.equal(good.code, 0, good.err);
      assert.match(good.out, /the rules are valid/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
