import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateDemo } from '../src/demo/generate.js';
import { listActions } from '../src/relationships/actions.service.js';
import { runActions } from '../src/relationships/actions.job.js';
import { stageFlow } from '../src/relationships/history.service.js';
import { runHistory } from '../src/relationships/history.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { customerStageOf } from '../src/relationships/stages.service.js';
import { runClv } from '../src/value/value.job.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** The stage history, LOV and next best actions in Chromium, on a demo company. */
describe('relationship history, LOV and actions in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await generateDemo(t.store, { customers: 500, seed: 4 });
    await runClv(t.store, { trigger: 'demo' });
    await runHistory(t.store, { trigger: 'demo' });
    await runStages(t.store, { trigger: 'demo' });
    await runActions(t.store, { trigger: 'demo' });
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('shows how customers moved between two months, with the numbers the API gives', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/relationships`);
    const flow = page.getByTestId('stage-flow');
    await flow.waitFor();
    const api = await stageFlow(t.store, {});
    const text = await flow.innerText();
    assert.match(text, new RegExp(`From ${api.overall.from} to ${api.overall.to}: ${api.overall.moved.up.toLocaleString('en-US')} moved up`));
    // Another start month: the sentence follows.
    const from = api.months[api.months.length - 4]!;
    await page.getByTestId('flow-from').selectOption(from);
    await flow.getByText(`From ${from} to ${api.overall.to}:`).waitFor();
    const again = await stageFlow(t.store, { from });
    await flow.getByText('Show the numbers').click();
    const cells = await page.getByTestId('flow-matrix').locator('tbody tr').first().locator('td').allInnerTexts();
    assert.deepEqual(cells.map((c) => Number(c.replace(/,/g, ''))), again.overall.matrix[0]);
    await page.getByTestId('time-to').waitFor();
    await page.getByTestId('stays').waitFor();
    await page.screenshot({ path: `${process.env['RAPPORT_SCREENSHOTS'] ?? '/tmp'}/rapport-love-flow.png`, fullPage: true });
  });

  it("decomposes a customer's Lifetime Opportunity Value on their page, parts adding up", async () => {
    const { page, base } = rig;
    const top = await t.store.db.selectFrom('customer_stages as s').innerJoin('customers as c', 'c.id', 's.customer_id').select(['c.user_id']).where('s.opportunity', '>', 0).where('c.user_id', 'is not', null).orderBy('s.opportunity', 'desc').limit(1).executeTakeFirstOrThrow();
    const api = await customerStageOf(t.store, top.user_id!);
    assert.ok(api.lov && api.lov.opportunity !== null);
    assert.ok(Math.abs(api.lov.clv + api.lov.contribution + api.lov.opportunity - api.lov.total) < 1e-6);
    await page.goto(`${base}/customers/${encodeURIComponent(top.user_id!)}`);
    const lov = page.getByTestId('customer-lov');
    await lov.waitFor();
    const text = await lov.innerText();
    assert.match(text, /CLV/);
    assert.match(text, /opportunity/);
    assert.match(text, /observational estimate/);
    const shown = Number((await page.getByTestId('customer-lov-total').innerText()).replace(/[^0-9.-]/g, ''));
    assert.ok(Math.abs(shown - api.lov.total) < 0.01, `${shown} vs ${api.lov.total}`);
  });

  it('marks an action done from the Actions tab, which records the interaction', async () => {
    const { page, base } = rig;
    const before = await listActions(t.store, { status: 'open', limit: 50, offset: 0 });
    assert.ok(before.items.length > 0);
    await page.goto(`${base}/relationships/actions`);
    const first = page.getByTestId('action-row').first();
    await first.waitFor();
    const who = before.items[0]!;
    assert.match(await first.innerText(), new RegExp(who.title.replace(/[()]/g, '.')));
    await first.getByRole('button', { name: 'Done' }).click();
    // One action per customer: their row leaves the open list.
    await page.getByTestId('actions').locator(`a[href="/customers/${encodeURIComponent(who.customer.userId!)}"]`).waitFor({ state: 'detached' });
    const done = await listActions(t.store, { status: 'done', limit: 50, offset: 0 });
    assert.equal(done.items[0]!.id, who.id);
    const c = await t.store.db.selectFrom('customers').select('id').where('user_id', '=', who.customer.userId).executeTakeFirstOrThrow();
    const recorded = await t.store.db.selectFrom('interactions').select('name').where('customer_id', '=', c.id).where('source', '=', 'actions').execute();
    assert.equal(recorded.length, 1);
    await page.screenshot({ path: `${process.env['RAPPORT_SCREENSHOTS'] ?? '/tmp'}/rapport-love-actions.png`, fullPage: true });
  });
});
