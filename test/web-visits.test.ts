import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { DAY_MS } from '../src/models/time.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** Where to keep screenshots of the pages, when asked (RAPPORT_SCREENSHOTS=<dir>). */
const SHOTS = process.env['RAPPORT_SCREENSHOTS'];
const NOW = Date.now();

function records(): IngestRecord[] {
  return [
    { kind: 'identify', who: { userId: 'ada' }, traits: { name: 'Ada Stone', email: 'ada@example.com' }, at: NOW - 100 * DAY_MS },
    { kind: 'interaction', who: { userId: 'ada' }, type: 'page', name: 'Home', channel: 'web', direction: 'inbound', at: NOW - 99 * DAY_MS, properties: {}, source: 't', sourceId: 'p1' },
  ];
}

/** `datetime-local` text for a time, in the browser's zone (the tests run with TZ=UTC, as Chromium does then). */
function local(t: number): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

describe('visits in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await new IngestWriter(t.store).write(records());
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('logs a visit on the customer page and lists it; the stored records follow; user text stays inert', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/customers/ada`);
    const panel = page.getByTestId('customer-visits');
    await panel.getByText('No visits logged yet').waitFor();
    const form = page.getByRole('form', { name: 'Log a visit form' });
    await form.getByLabel('Kind').selectOption('interview');
    await page.getByTestId('visit-at').fill(local(NOW - 2 * DAY_MS));
    await page.getByTestId('visit-notes').fill('They want <b>bulk</b> export and a faster reorder flow');
    await form.getByLabel('Attended by (comma-separated)').fill('Lea, Sam');
    await form.getByRole('button', { name: 'Log it' }).click();
    const item = page.getByTestId('customer-visit-list').getByTestId('visit').first();
    await item.waitFor();
    const text = await item.innerText();
    assert.match(text, /Interview/);
    assert.match(text, /done/);
    assert.match(text, /They want <b>bulk<\/b> export/, 'notes are shown as typed');
    assert.match(text, /Attended by Lea, Sam/);
    assert.match(text, /Recorded as a mutual interaction \(Interview Completed\), the notes as an interview/);
    assert.equal(await page.locator('.visit-notes b').count(), 0, 'markup in notes is text, not HTML');
    assert.match(await form.getByRole('status').innerText(), /^Logged: Interview/);
    assert.equal(await page.getByTestId('visit-notes').inputValue(), '', 'the notes field is cleared');
    const stored = await t.store.db.selectFrom('interactions').select(['name', 'direction', 'channel']).where('source', '=', 'visits').execute();
    assert.deepEqual(stored, [{ name: 'Interview Completed', direction: 'mutual', channel: 'video' }]);
    const fb = await t.store.db.selectFrom('feedback').select(['kind', 'text']).execute();
    assert.deepEqual(fb, [{ kind: 'interview', text: 'They want <b>bulk</b> export and a faster reorder flow' }]);
    // The timeline read again: the interview is there.
    await page.getByText('Interview Completed').first().waitFor();
  });

  it('shows the API’s refusal next to the field, and logs a planned visit that can be marked done later', async () => {
    const { page, base } = rig;
    const form = page.getByRole('form', { name: 'Log a visit form' });
    await page.getByTestId('visit-at').fill(local(NOW + 10 * DAY_MS));
    await page.getByTestId('visit-notes').fill('Quarterly review');
    await form.getByRole('button', { name: 'Log it' }).click();
    const at = page.getByTestId('visit-at');
    await page.waitForFunction(() => document.querySelector('[data-testid="visit-at"]')?.getAttribute('aria-invalid') === 'true');
    const errorId = await at.getAttribute('aria-describedby');
    assert.ok(errorId);
    const error = page.locator(`[id="${errorId}"]`);
    assert.match(await error.innerText(), /a visit that took place must not lie more than a day ahead.*log it as planned/);
    assert.equal(await page.getByTestId('customer-visit-list').getByTestId('visit').count(), 1, 'nothing was logged');
    if (SHOTS) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.getByTestId('customer-visits').screenshot({ path: path.join(SHOTS, 'visits-error.png') });
    }

    await form.getByLabel('is planned').check();
    await form.getByLabel('Kind').selectOption('meeting');
    await form.getByRole('button', { name: 'Log it' }).click();
    const planned = page.getByTestId('customer-visit-list').getByTestId('visit').filter({ hasText: 'planned' });
    await planned.waitFor();
    assert.equal(await at.getAttribute('aria-invalid'), null, 'the error is gone');
    assert.match(await planned.innerText(), /Meeting/);
    assert.equal(await page.getByTestId('customer-visit-list').getByTestId('visit').count(), 2);
    if (SHOTS) await page.getByTestId('customer-visits').screenshot({ path: path.join(SHOTS, 'visits-customer.png') });

    // On the Visits tab: coming up, and every visit.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Relationships' }).click();
    await page.getByRole('navigation', { name: 'Relationships' }).getByRole('link', { name: 'Visits' }).click();
    await page.waitForURL(`${base}/relationships/visits`);
    const coming = page.getByTestId('planned-visits');
    await coming.waitFor();
    assert.equal(await coming.getByTestId('visit').count(), 1);
    assert.match(await coming.innerText(), /Meeting[\s\S]*planned[\s\S]*with Ada Stone/);
    const all = page.getByTestId('all-visits');
    assert.equal(await all.getByTestId('visit').count(), 2);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'visits-page.png'), fullPage: true });
    // Planned ten days ahead: marking it done is refused, and the refusal is shown beside it.
    await coming.getByRole('button', { name: 'Mark done' }).click();
    await coming.getByRole('alert').waitFor();
    assert.match(await coming.getByRole('alert').innerText(), /more than a day ahead/);
    await coming.getByRole('button', { name: 'Cancel visit' }).click();
    await page.getByTestId('planned-visits').waitFor({ state: 'detached' }).catch(() => undefined);
    await page.getByText('Nothing planned').waitFor();
    assert.equal((await t.store.db.selectFrom('visits').select('status').where('kind', '=', 'meeting').executeTakeFirstOrThrow()).status, 'cancelled');
    assert.deepEqual(rig.pageErrors, []);
  });
});
