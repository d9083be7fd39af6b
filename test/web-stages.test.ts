import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { runStages } from '../src/relationships/stages.job.js';
import { customerStageOf, stagesSummary } from '../src/relationships/stages.service.js';
import { DAY_MS } from '../src/models/time.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** The Relationships page and a customer's stage, in Chromium, against a real stages run. */
const NOW = Date.now();
function records(): IngestRecord[] {
  const out: IngestRecord[] = [];
  let n = 0;
  const ago = (d: number) => NOW - d * DAY_MS;
  const order = (u: string, d: number) => out.push({ kind: 'order', who: { userId: u }, orderId: `o${++n}`, at: ago(d), total: 30, currency: 'USD', lines: [{ productId: 'p', name: 'Book', category: 'books', price: 30, quantity: 1 }], properties: {}, source: 't', sourceId: `o${n}` });
  const track = (u: string, name: string, d: number, direction: 'inbound' | 'mutual' = 'inbound') => out.push({ kind: 'interaction', who: { userId: u }, type: 'track', name, channel: 'web', direction, at: ago(d), properties: {}, source: 't', sourceId: `e${++n}` });
  for (let i = 0; i < 6; i++) out.push({ kind: 'identify', who: { userId: `visitor${i}` }, traits: { name: `Visitor ${i}` }, at: ago(100) });
  out.push({ kind: 'identify', who: { userId: 'ada' }, traits: { name: 'Ada Stone', email: 'ada@example.com' }, at: ago(400) });
  for (const d of [300, 200, 100, 20]) order('ada', d);
  track('ada', 'Product Reviewed', 90);
  track('ada', 'Referral Sent', 80);
  out.push({ kind: 'identify', who: { userId: 'bo' }, traits: { name: 'Bo Lind <b>bold</b>' }, at: ago(50) });
  order('bo', 10);
  return out;
}

describe('relationship stages in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await new IngestWriter(t.store, () => NOW).write(records());
    await runStages(t.store, { trigger: 'cli', asOf: NOW });
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('shows the ladder with the counts the API gives, and lists the customers at a stage', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Relationships' }).click();
    await page.waitForURL(`${base}/relationships`);
    await page.getByRole('heading', { name: 'Relationships', level: 1 }).waitFor();
    const s = await stagesSummary(t.store);
    const rows = await page.getByTestId('ladder').locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 5);
    s.stages.forEach((x, i) => assert.match(rows[i]!, new RegExp(`^${x.name}\\t${x.customers}\\t`), rows[i] ?? ''));
    assert.match(rows[0]!, /^Introduction\t6\t/);
    assert.match(rows[3]!, /^Affinity\t1\t/);
    await page.getByRole('button', { name: 'Affinity' }).click();
    const list = page.getByTestId('stage-customers');
    await list.getByRole('link', { name: 'Ada Stone' }).waitFor();
  });

  it("explains a customer's stage on their page, with user text kept inert", async () => {
    const { page, base } = rig;
    await page.goto(`${base}/customers/ada`);
    const panel = page.getByTestId('customer-stage');
    await panel.waitFor();
    assert.equal(await page.getByTestId('customer-stage-name').innerText(), 'Affinity');
    const text = await panel.innerText();
    assert.match(text, /events in group reviews: 1 need ≥ 1/);
    assert.match(text, /orders: 4/);
    const api = await customerStageOf(t.store, 'ada');
    const next = (api.explanation as { next: { name: string; need: string } }).next;
    assert.equal(await page.getByTestId('customer-stage-next').innerText(), `For ${next.name}: ${next.need}.`);
    await page.goto(`${base}/customers/bo`);
    await page.getByTestId('customer-stage').waitFor();
    assert.equal(await page.getByTestId('customer-stage-name').innerText(), 'Information');
    assert.equal(await page.locator('b', { hasText: 'bold' }).count(), 0, 'a name with markup is shown as text');
  });

  it('checks a rules file in the page, names the line of an error, and saves nothing', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/relationships`);
    await page.getByText('Edit the rules').click();
    const box = page.getByTestId('rules-text');
    const source = await box.inputValue();
    await box.fill(source.replace('measure: orders, at_least: 1', 'measure: orderz, at_least: 1'));
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    const issues = page.getByTestId('rules-issues');
    await issues.waitFor();
    assert.match(await issues.innerText(), /^line \d+, information: unknown measure orderz/);
    const r = await t.store.db.selectFrom('stage_rules').selectAll().execute();
    assert.equal(r.length, 0, 'nothing saved');
  });
});
