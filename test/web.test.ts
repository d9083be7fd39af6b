import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createSignInToken } from '../src/auth/staff.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { normalizeMessage, type MessageType } from '../src/ingest/segment/segment.js';
import type { FeedbackRecord } from '../src/ingest/records.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, type BrowserRig } from './support/browser.js';

/**
 * The dashboard in a real Chromium against a real server and store: sign in with a one-time
 * link, search customers, open one, read and page the timeline, sign out.
 */
/** The axis titles and labels the page's charts draw (their SVG text). */
const chartTexts = (p: Page): Promise<string[]> => p.evaluate(() => [...document.querySelectorAll('.chart svg text')].map((e) => e.textContent ?? ''));

const ANN_TICKET = 'Exports to CSV time out on projects with more than 10,000 rows.';
const ANN_INTERACTIONS = 40;

async function seed(t: TestStore): Promise<void> {
  const writer = new IngestWriter(t.store);
  const send = (type: MessageType, raw: Record<string, unknown>) =>
    writer.write(normalizeMessage(type, raw, { source: 'test', receivedAt: Date.UTC(2025, 5, 1) }));
  const day = (d: number, h = 12) => new Date(Date.UTC(2025, 0, d, h)).toISOString();

  await send('identify', { userId: 'ann', anonymousId: 'anon-ann', traits: { name: 'Ann Lee', email: 'ann@example.com', plan: 'pro', address: { city: 'Lyon', postcode: '69001' }, labels: ['vip', 'beta'] }, timestamp: day(1, 8) });
  await send('group', { userId: 'ann', groupId: 'acme', traits: { name: 'Acme Corp', industry: 'Retail' }, timestamp: day(1, 8) });
  for (let i = 0; i < ANN_INTERACTIONS; i++) {
    const event = i % 10 === 0 ? 'Email Sent' : i % 7 === 0 ? 'Call Completed' : 'Report Exported';
    await send('track', { userId: 'ann', event, messageId: `ann-${i}`, timestamp: day(2 + i), properties: event === 'Email Sent' ? { channel: 'email' } : { format: 'csv' } });
  }
  // The newest two events: an order, then a support ticket; both land on the first timeline page.
  await send('track', {
    userId: 'ann',
    event: 'Order Completed',
    messageId: 'ann-order',
    timestamp: day(50),
    properties: {
      order_id: 'A-1001',
      total: 129.5,
      currency: 'EUR',
      products: [
        { product_id: 'hp-1', name: 'Noise-cancelling headphones', category: 'Audio', price: 119.5, quantity: 1 },
        { product_id: 'cb-2', name: 'USB-C cable', category: 'Accessories', price: 5, quantity: 2 },
      ],
    },
  });
  const ticket: FeedbackRecord = {
    kind: 'feedback',
    who: { userId: 'ann' },
    feedbackKind: 'ticket',
    text: ANN_TICKET,
    rating: null,
    status: 'open',
    at: Date.UTC(2025, 0, 51, 12),
    properties: { priority: 'high' },
    source: 'test',
    sourceId: 'ticket-1',
  };
  await writer.write([ticket]);

  await send('identify', { userId: 'bob', traits: { name: 'Bob Stone', email: 'bob@example.org' }, timestamp: day(3) });
  await send('track', { userId: 'bob', event: 'Order Completed', timestamp: day(4), properties: { order_id: 'B-1', total: 20, currency: 'USD' } });
  await send('identify', { userId: 'cara', traits: { name: 'Cara Diaz', email: 'cara@example.net' }, timestamp: day(5) });
}

describe('web dashboard in Chromium', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  let base = '';
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];

  before(async () => {
    t = await sqliteStore();
    await seed(t);
    rig = await openBrowserRig(t.store);
    ({ base, browser, page, pageErrors } = rig);
  });

  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('shows the sign-in help instead of the dashboard without a session', async () => {
    const anonymous = await browser.newPage();
    try {
      await anonymous.goto(`${base}/customers`);
      await anonymous.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.match(await anonymous.locator('main').innerText(), /rapport staff link/);
      assert.equal(await anonymous.locator('[data-testid=customer-row]').count(), 0);
    } finally {
      await anonymous.close();
    }
  });

  it('explains a used sign-in link on the styled sign-in page, and takes its own browser on to the app', async () => {
    const token = await createSignInToken(t.store.db, Date.now());
    const link = `${base}/auth/signin?token=${encodeURIComponent(token)}`;
    const first = await browser.newPage();
    const other = await browser.newPage();
    try {
      await first.goto(link);
      await first.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      // Again in the same browser: still signed in, on to the app.
      await first.goto(link);
      await first.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      // In another browser: the app's sign-in page, saying why and what to do.
      await other.goto(link);
      await other.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.match(await other.getByTestId('link-used').innerText(), /already been used or has expired/);
      assert.match(await other.locator('main').innerText(), /rapport staff link/);
      const card = await other.locator('.signin-card').evaluate((el) => {
        const cs = getComputedStyle(el);
        return { radius: cs.borderRadius, font: getComputedStyle(document.body).fontFamily };
      });
      assert.notEqual(card.radius, '0px', 'the app stylesheet is applied');
      assert.doesNotMatch(card.font, /^"?Times/);
    } finally {
      await first.close();
      await other.close();
    }
  });

  it('signs in with a one-time link and opens on the overview with real totals', async () => {
    const token = await createSignInToken(t.store.db, Date.now());
    await page.goto(`${base}/auth/signin?token=${encodeURIComponent(token)}`);
    await page.waitForURL(`${base}/`);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.equal((await page.getByTestId('user-name').innerText()).trim(), 'Administrator');
    assert.match(await page.getByTestId('kpi-identified').innerText(), /\b3\b/);
    assert.match(await page.getByTestId('kpi-orders').innerText(), /\b2\b/);
    // Ann paid in euros, Bob in dollars: the revenue is in euros, the currency of most order
    // value, and says that Bob's dollars are added unconverted.
    const revenue = page.getByTestId('kpi-revenue');
    assert.match(await revenue.innerText(), /€149\.50[\s\S]*other currencies added unconverted/);
    assert.match((await revenue.textContent()) ?? '', /87% of order value is in EUR; 1 order in USD is summed with it unconverted/);
    assert.match(await page.getByTestId('kpi-interactions').innerText(), new RegExp(`\\b${ANN_INTERACTIONS}\\b`));
    await page.locator('.chart svg').first().waitFor();
    // Both axes of the monthly chart say what they count.
    await page.waitForFunction(() => [...document.querySelectorAll('.chart svg text')].some((e) => e.textContent === 'month'));
    assert.ok((await chartTexts(page)).includes('interactions'));
    // Counts agree with their nouns: Bob's one order is "1 order".
    const text = await page.locator('main').innerText();
    assert.match(text, /\b1 order\b/);
    assert.doesNotMatch(text, /\b1 (orders|interactions|items|repeats|customers)\b/);
  });

  it('searches the customer list and keeps the query in the URL', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.waitForURL(`${base}/customers`);
    const rows = page.getByTestId('customer-row');
    await rows.nth(2).waitFor();
    assert.equal(await rows.count(), 3);

    await page.getByLabel('Search customers').fill('ann@');
    await page.waitForURL(/\/customers\?q=ann%40/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=customer-row]').length === 1);
    const only = rows.first();
    assert.match(await only.innerText(), /Ann Lee/);
    assert.match(await only.innerText(), /€129\.50/);

    await page.getByLabel('Search customers').fill('bob');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=customer-row]')].some((r) => r.textContent?.includes('Bob')));
    // Each customer's revenue in their own currency.
    assert.match(await rows.first().innerText(), /\$20\.00/);

    await page.getByLabel('Search customers').fill('nobody-here');
    await page.getByText('No customer matches').waitFor();
    await page.getByLabel('Search customers').fill('ann');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=customer-row]').length === 1);
  });

  it('downloads the customer list as it is filtered as CSV, and sorts it by CLV', async () => {
    const download = async (): Promise<string[][]> => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('customers-csv').click()]);
      const text = fs.readFileSync(await file.path(), 'utf8');
      return text.trim().split('\r\n').map((l) => l.split(','));
    };
    // The search of the test before: only Ann.
    const filtered = await download();
    assert.deepEqual(filtered[0]!.slice(0, 3), ['user_id', 'name', 'email']);
    assert.deepEqual(filtered.slice(1).map((r) => r[0]), ['ann']);
    assert.equal(filtered[1]![6], '129.5');
    assert.equal(filtered[1]![7], 'EUR', 'revenue_currency');
    await page.getByLabel('Search customers').fill('');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=customer-row]').length === 3);
    assert.match(await page.locator('.list-foot').innerText(), /Showing all 3 customers/);
    assert.deepEqual((await download()).slice(1).map((r) => r[0]).sort(), ['ann', 'bob', 'cara']);
    await page.getByRole('button', { name: /^CLV/ }).click();
    await page.waitForURL(/sort=clv/);
    // Back to Ann alone, where the next test starts.
    await page.getByLabel('Search customers').fill('ann');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=customer-row]').length === 1);
  });

  it('opens a customer with profile, timeline content and expandable order lines', async () => {
    await page.getByTestId('customer-row').first().click();
    await page.waitForURL(`${base}/customers/ann`);
    const header = page.getByTestId('customer-header');
    await header.waitFor();
    const headerText = await header.innerText();
    assert.match(headerText, /Ann Lee/);
    assert.match(headerText, /ann@example\.com/);
    assert.match(headerText, /Acme Corp/);
    assert.match(await page.getByTestId('customer-revenue').innerText(), /129\.50/);
    assert.match(await page.getByTestId('traits').innerText(), /plan\s+pro/);
    // An object trait is shown as its fields, not as JSON; a list as its items.
    const traits = page.getByTestId('traits');
    assert.doesNotMatch(await traits.innerText(), /[{}"[\]]/);
    assert.match(await traits.locator('.table-kv-nested').innerText(), /city\s+Lyon[\s\S]*postcode\s+69001/);
    assert.match(await traits.innerText(), /labels\s+vip, beta/);
    // The timeline's filters are a labelled group of toggles.
    const filters = page.getByRole('group', { name: 'Show' });
    assert.equal(await filters.getByRole('checkbox').count(), 3);
    assert.ok(await filters.getByText('Show', { exact: true }).isVisible());

    const items = page.getByTestId('timeline-item');
    await items.first().waitFor();
    assert.match(await items.nth(0).innerText(), new RegExp(ANN_TICKET.replace(/[.,]/g, '\\$&')));
    assert.equal(await items.nth(0).getAttribute('data-kind'), 'feedback');
    const order = items.nth(1);
    assert.match(await order.innerText(), /Order A-1001: 129\.50 EUR/);
    assert.equal(await order.getByText('Noise-cancelling headphones').isVisible(), false);
    await order.getByRole('button', { name: /2 lines/ }).click();
    await order.getByText('Noise-cancelling headphones').waitFor();
    assert.match(await order.locator('table').innerText(), /USB-C cable/);
  });

  it('pages the timeline with Load more and filters it by kind', async () => {
    const items = page.getByTestId('timeline-item');
    const firstPage = await items.count();
    assert.equal(firstPage, 30);
    const more = page.getByTestId('timeline-more');
    if (await more.isVisible()) {
      await more.click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=timeline-item]').length > n, firstPage);
    }
    assert.equal(await items.count(), ANN_INTERACTIONS + 2);
    assert.equal(await more.count(), 0);
    assert.match(await items.last().innerText(), /Report Exported|Email Sent|Call Completed/);

    await page.getByTestId('filter-interaction').uncheck();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=timeline-item]').length === 2);
    const kinds = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    assert.deepEqual(kinds, ['feedback', 'order']);
  });

  it('signs out and stays signed out after a reload', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
