import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/**
 * The Import page in Chromium: an invoice export whose customer column no alias knows, mapped
 * by hand in the page, then imported, with a rejected row named by row and field.
 */
const INVOICES = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,Buyer,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
536366,22633,<img src=x onerror=alert(1)>HAND WARMER,6,12/1/2010 8:28,1.85,17850,United Kingdom
536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047,United Kingdom
C536379,22633,HAND WARMER UNION JACK,-2,12/1/2010 9:41,1.85,17850,United Kingdom
536381,22139,RETROSPOT TEA SET CERAMIC 11 PC,2,12/13/2010 9:45,4.95,13047,France
536382,10002,INFLATABLE POLITICAL GLOBE,12,12/13/2010 10:01,abc,12583,France
536384,22728,ALARM CLOCK BAKELIKE PINK,24,12/14/2010 10:30,3.75,12583,France
`;

describe('the Import page in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  let dir: string;
  let file: string;
  before(async () => {
    t = await sqliteStore();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-web-import-'));
    file = path.join(dir, 'Online Retail.csv');
    fs.writeFileSync(file, INVOICES);
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('previews an invoice export, takes a column chosen by hand, imports it and names the rejected row', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
    await page.waitForURL(`${base}/import`);
    await page.getByRole('heading', { name: 'Import', level: 1 }).waitFor();
    assert.equal(await page.getByLabel('What the file holds').inputValue(), 'orders');
    await page.getByLabel('File (CSV or NDJSON)').setInputFiles(file);

    // The guess: the invoice columns by their names, the dates month first (12/13/2010 decides).
    await page.getByTestId('import-fields').waitFor();
    assert.equal(await page.getByLabel('order_id', { exact: true }).inputValue(), 'InvoiceNo');
    assert.equal(await page.getByLabel('date', { exact: true }).inputValue(), 'InvoiceDate');
    assert.equal(await page.getByLabel('price', { exact: true }).inputValue(), 'UnitPrice');
    assert.equal(await page.getByLabel('user_id', { exact: true }).inputValue(), '');
    assert.match(await page.getByTestId('import-date-message').innerText(), /month first.*12\/13\/2010 9:45 \(row 6\)/);
    assert.match(await page.getByTestId('import-missing').innerText(), /orders need a column for user_id or email/);
    assert.equal(await page.getByTestId('import-start').isDisabled(), true);
    // File contents stay text: the markup in a description is shown, not run.
    const rows = page.getByTestId('import-row');
    assert.match(await rows.nth(2).innerText(), /<img src=x onerror=alert\(1\)>HAND WARMER/);
    assert.equal(await page.getByTestId('import-rows').locator('img').count(), 0);
    assert.match(await rows.nth(6).innerText(), /UnitPrice: expected a number, got "abc"/);
    assert.match(await rows.nth(4).innerText(), /needs a customer/);

    // The customer is in Buyer: choose it; the preview reads the rows with it.
    await page.getByLabel('user_id', { exact: true }).selectOption('Buyer');
    await page.getByTestId('import-missing').waitFor({ state: 'detached' });
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('[data-testid=import-start]')?.disabled);
    assert.equal(await page.getByTestId('field-userId').locator('.import-sample').innerText(), '17850');
    assert.match(await page.getByTestId('import-unused').innerText(), /Country/);
    assert.match(await rows.nth(4).innerText(), /refund: stored as an Order Refunded event/);

    await page.getByTestId('import-start').click();
    await page.getByTestId('import-result').waitFor();
    assert.equal(await page.getByTestId('import-stored').innerText(), '7');
    assert.equal(await page.getByTestId('import-rejected').innerText(), '1');
    const rejected = await page.getByTestId('import-rejects').locator('tbody tr').allInnerTexts();
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /^7\s+UnitPrice\s+expected a number, got "abc"$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-report').click()]);
    assert.equal(download.suggestedFilename(), 'rejected-rows.csv');
    assert.equal(fs.readFileSync(await download.path(), 'utf8'), 'row,field,reason\r\n7,UnitPrice,"expected a number, got ""abc"""\r\n');

    const customers = await t.store.db.selectFrom('customers').select('user_id').where('user_id', 'is not', null).orderBy('user_id').execute();
    assert.deepEqual(customers.map((c) => c.user_id), ['12583', '13047', '17850']);
    const orders = await t.store.db.selectFrom('orders').select('order_id').orderBy('order_id').execute();
    assert.deepEqual(orders.map((o) => o.order_id), ['536365', '536366', '536367', '536381', '536384']);
    assert.deepEqual(rig.pageErrors, []);
  });

  it('fits a 390-pixel-wide phone, every control labelled', async () => {
    const { page } = rig;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByLabel('File (CSV or NDJSON)').setInputFiles(file);
    await page.getByTestId('import-fields').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width} px wide`);
    const box = await page.getByLabel('order_id', { exact: true }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, 'a mapping dropdown is in view');
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('main select, main input')].filter((e) => {
        const id = e.getAttribute('id');
        return !(id && document.querySelector(`label[for="${CSS.escape(id)}"]`)) && !e.closest('label');
      }).length,
    );
    assert.equal(unlabelled, 0);
  });
});
