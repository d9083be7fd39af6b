import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { coverage } from '../src/relationships/coverage.service.js';
import { logVisit } from '../src/relationships/visits.service.js';
import { runClv } from '../src/value/value.job.js';
import { DAY, drawOrders } from './support/orders.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** Where to keep screenshots of the pages, when asked (RAPPORT_SCREENSHOTS=<dir>). */
const SHOTS = process.env['RAPPORT_SCREENSHOTS'];

describe('listening coverage in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  let heard = '';
  before(async () => {
    t = await sqliteStore();
    const writer = new IngestWriter(t.store);
    const orders: IngestRecord[] = drawOrders(60, 3).map((o, i) => ({ kind: 'order', who: { userId: `buyer-${o.customer}` }, orderId: `d${i}`, at: o.at, total: o.amount, currency: 'USD', lines: [], properties: {}, source: 'web-coverage', sourceId: `d${i}` }));
    await writer.write([...orders, { kind: 'identify', who: { userId: 'buyer-34' }, traits: { name: 'Nia <i>Top</i> Buyer' }, at: Date.UTC(2025, 0, 5) }]);
    await runClv(t.store, { trigger: 'cli' });
    // The most valuable customer had a call a week before the data end: two-way contact.
    const first = await coverage(t.store, { top: 50 });
    heard = first.rows[0]!.userId;
    await logVisit(t.store, writer, { customer: heard, kind: 'call', at: new Date(Date.parse(first.asOf) - 7 * DAY).toISOString() }, 'test', Date.now());
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('shows the alerts on the overview, links to the customers they name, and says how each was computed', async () => {
    const { page, base } = rig;
    const api = await coverage(t.store, {});
    const expected = api.alerts.find((a) => a.key === 'no_two_way')!;
    assert.ok(expected.count > 0 && expected.count < api.rows.length, 'some are heard, some are not');
    const alert = page.getByTestId('coverage-alert-no_two_way');
    await alert.waitFor();
    assert.equal(await alert.getByRole('link').innerText(), expected.message);
    assert.match(expected.message, /^\d+ of your \d+ most valuable customers had no two-way contact in 90 days$/);
    await alert.getByText('How this was computed').click();
    assert.match(await alert.innerText(), /a mutual interaction on any channel, or an inbound and an outbound interaction through a conversation channel/);
    if (SHOTS) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'coverage-overview.png'), fullPage: true });
    }
    await alert.getByRole('link').click();
    await page.waitForURL(`${base}/relationships/coverage?alert=no_two_way`);
    const rows = page.getByTestId('coverage-rows').locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), expected.count, 'the list holds the customers the alert counts');
    assert.equal(await page.getByTestId('coverage-rows').locator(`a[href="/customers/${heard}"]`).count(), 0, 'the customer with a call is not among them');
    await page.getByRole('button', { name: 'all', exact: true }).click();
    await page.waitForURL(`${base}/relationships/coverage`);
    assert.equal(await rows.count(), api.rows.length);
    assert.equal(await page.getByTestId('coverage-rows').locator(`a[href="/customers/${heard}"]`).count(), 1);
    assert.match(await page.getByTestId('coverage-rows').innerText(), /Nia <i>Top<\/i> Buyer/, 'a name with markup is text');
    assert.equal(await page.locator('[data-testid="coverage-rows"] i').count(), 0);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'coverage-page.png') });
    assert.deepEqual(rig.pageErrors, []);
  });
});
