import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** The search page in Chromium: query and filters in the URL, highlights as text, customer and value beside each hit. */
const T0 = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;

function records(): IngestRecord[] {
  const fb = (userId: string | null, kind: 'ticket' | 'review' | 'survey', text: string, day: number, n: number): IngestRecord => ({
    kind: 'feedback',
    who: userId ? { userId } : null,
    feedbackKind: kind,
    text,
    rating: null,
    status: 'open',
    at: T0 + day * DAY,
    properties: {},
    source: 'web-test',
    sourceId: `f${n}`,
  });
  return [
    { kind: 'identify', who: { userId: 'ann' }, traits: { name: 'Ann Lee', email: 'ann@example.com' }, at: T0 },
    { kind: 'identify', who: { userId: 'bob' }, traits: { name: 'Bob Stone', email: 'bob@example.com' }, at: T0 },
    fb('ann', 'ticket', 'My parcel arrived damaged, I want a refund', 1, 1),
    fb('bob', 'review', 'Quick delivery, but the parcel was damaged <img src=x onerror="window.__pwned=1"> sadly', 2, 2),
    fb('bob', 'survey', 'Delivery is always on time', 3, 3),
  ];
}

describe('search in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await new IngestWriter(t.store).write(records());
    const ann = await t.store.db.selectFrom('customers').select('id').where('user_id', '=', 'ann').executeTakeFirstOrThrow();
    await t.store.db
      .insertInto('customer_values')
      .values({ customer_id: ann.id, run_id: 1, first_day: 0, last_day: 1, purchase_days: 2, spend: 100, repeat_spend: 50, p_alive: 0.9, expected_purchases: 1, expected_spend: 50, clv: 1234.5, value_at_risk: 10, rfm_r: 3, rfm_f: 3, rfm_m: 3, rfm_group: 'loyal', segment: 2 })
      .execute();
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('starts empty, searches as one types, keeps the query in the URL, and highlights matches as text', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Search' }).click();
    await page.waitForURL(`${base}/search`);
    await page.getByText('Search what customers said').first().waitFor();
    await page.getByTestId('search-box').fill('damaged');
    await page.waitForURL(`${base}/search?q=damaged`);
    const hits = page.getByTestId('search-hit');
    await hits.nth(1).waitFor();
    assert.equal(await hits.count(), 2);
    assert.match(await page.getByTestId('search-summary').innerText(), /2 matches for damaged/);
    const marks = await page.locator('[data-testid=search-snippet] mark').allInnerTexts();
    assert.deepEqual(marks.map((m) => m.toLowerCase()), ['damaged', 'damaged']);
    // The review's markup is shown as text, never run.
    const review = hits.filter({ hasText: 'Quick delivery' });
    assert.match(await review.getByTestId('search-snippet').innerText(), /<img src=x onerror="window.__pwned=1">/);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('.search-snippet img').count(), 0);
  });

  it("shows the customer and their value beside a hit and links to the customer's page", async () => {
    const { page, base } = rig;
    const ticket = page.getByTestId('search-hit').filter({ hasText: 'refund' });
    const who = ticket.getByTestId('search-customer');
    assert.match(await who.innerText(), /Ann Lee[\s\S]*CLV 1,234\.50[\s\S]*P\(alive\) 90%/);
    await who.getByRole('link', { name: 'Ann Lee' }).click();
    await page.waitForURL(`${base}/customers/ann`);
    await page.goBack();
    await page.waitForURL(`${base}/search?q=damaged`);
    await page.getByTestId('search-hit').nth(1).waitFor();
  });

  it('filters by kind and date, from the URL and back into it', async () => {
    const { page, base } = rig;
    await page.getByTestId('search-kind').selectOption('review');
    await page.waitForURL(`${base}/search?q=damaged&kind=review`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=search-hit]').length === 1);
    assert.match(await page.getByTestId('search-hit').innerText(), /Quick delivery/);
    await page.goto(`${base}/search?q=delivery&from=2026-03-04`);
    await page.getByTestId('search-hit').first().waitFor();
    assert.equal(await page.getByTestId('search-hit').count(), 1);
    assert.match(await page.getByTestId('search-hit').innerText(), /always on time/);
    assert.equal(await page.getByTestId('search-from').inputValue(), '2026-03-04');
  });

  it('says when nothing matches, and shows a bad query as an error naming the parameter', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/search?q=zebra`);
    await page.getByText('Nothing matches “zebra”').waitFor();
    await page.goto(`${base}/search?q=${encodeURIComponent('"unclosed')}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /q: the quoted phrase starting at character 1 is not closed/);
    assert.deepEqual(rig.pageErrors, []);
  });
});
