import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importFile } from '../src/ingest/files/import.js';
import { runClv } from '../src/value/value.job.js';
import { clvSummary, customerValue, rankCustomers } from '../src/value/value.service.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';
import { drawOrders, ordersCsv } from './support/orders.js';

/** The customer-value page and the value panel of a customer, in Chromium, against a real run of a shop selling in euros. */
const money = (v: number): string => `€${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

describe('customer value in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-web-value-'));
    try {
      const file = path.join(dir, 'orders.csv');
      ordersCsv(drawOrders(800, 17), file, 'EUR');
      await importFile(t.store, { file, kind: 'orders' });
      // A dozen orders in dollars: summed unconverted, and the page says so.
      const usd = path.join(dir, 'usd.csv');
      fs.writeFileSync(usd, `order_id,customer_id,date,total,currency\n${Array.from({ length: 12 }, (_, i) => `usd${i},c${i + 1},2025-06-${10 + i}T12:00:00Z,3.00,USD`).join('\n')}\n`);
      await importFile(t.store, { file: usd, kind: 'orders' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await runClv(t.store, { trigger: 'cli' });
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('shows value, the validation against the holdout, and the two ranked lists', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Value' }).click();
    await page.waitForURL(`${base}/value`);
    await page.getByRole('heading', { name: 'Customer value', level: 1 }).waitFor();
    const summary = await clvSummary(t.store);
    // The as-of sentence names the day and why that day.
    assert.equal(await page.getByTestId('as-of-reason').innerText(), summary.run!.asOfReason);
    assert.match(summary.run!.asOfReason, /^the latest order: an imported history, its last order [\d,]+ days ago \(more than 7 days\), so it is taken as complete up to then$/);
    // The model card names the model that scored and the holdout error of each candidate.
    const sc = summary.scoring!;
    const choice = await page.getByTestId('model-choice').innerText();
    assert.match(choice, new RegExp(`^Scored with ${sc.label.replace('/', '\\/')} \\(the lower holdout error\\): lowest holdout error`));
    for (const c of sc.candidates) {
      const card = await page.getByTestId(`model-${c.model}`).innerText();
      assert.match(card, new RegExp(`holdout error ${c.holdoutMeanAbsoluteError!.toFixed(4)} purchases per customer`));
      assert.equal(/scored/.test(card), c.model === sc.model, `${c.label} card marks whether it scored`);
    }
    assert.match((await page.getByTestId('kpi-risk').textContent()) ?? '', /CLV \+ value at risk = the value if every customer were still active/);
    assert.match(await page.getByTestId('kpi-top10').innerText(), new RegExp(`${Math.round(summary.distribution!.clv!.top10Share * 100)}%`));
    const totals = await page.getByTestId('validation-totals').innerText();
    assert.match(totals, new RegExp(`actual ${summary.validation!.actualRepeatPurchases!.toLocaleString('en-US')}`));
    await page.waitForFunction(() => document.querySelectorAll('.chart svg').length >= 3);
    // Every chart says what its axes are.
    const texts = await page.evaluate(() => [...document.querySelectorAll('.chart svg text')].map((e) => e.textContent ?? ''));
    for (const title of ['CLV band', 'customers', 'week', 'repeat purchases, cumulative', 'repeat purchases before the holdout', 'repeat purchases per customer, holdout']) {
      assert.ok(texts.includes(title), `an axis titled "${title}"`);
    }
    assert.ok(texts.includes(`Predicted (${sc.label})`), 'the forecast line names the model that scored');
    // Every amount in the currency of the orders, EUR.
    assert.equal(summary.currency, 'EUR');
    assert.equal(await page.getByTestId('value-currency').innerText(), 'EUR');
    assert.match(await page.getByTestId('kpi-clv').innerText(), /€[\d.,]+K?/);
    assert.match(await page.getByTestId('kpi-risk').innerText(), /€[\d.,]+K?/);
    assert.doesNotMatch(await page.locator('main').innerText(), /\$\d/, 'no dollar amount on a euro shop page');
    assert.match(summary.currencyBreakdown!.note!, /of order value is in EUR; 12 orders in USD are summed with it unconverted/);
    assert.ok((await page.getByRole('list', { name: 'Warnings' }).innerText()).includes(summary.currencyBreakdown!.note!));
    const ranking = await rankCustomers(t.store, { sort: 'clv', limit: 10 });
    const top = ranking.items;
    assert.equal(await page.getByTestId('top-customers-total').innerText(), `Top 10 of ${ranking.total.toLocaleString('en-US')} by CLV`);
    const rows = page.getByTestId('top-customers').locator('tbody tr');
    await rows.nth(9).waitFor();
    assert.match(await rows.first().innerText(), new RegExp(`${top[0]!.userId}[\\s\\S]*${money(top[0]!.clv!).replace('.', '\\.')}`));
    const risky = (await rankCustomers(t.store, { sort: 'risk', limit: 1 })).items[0]!;
    assert.match(await page.getByTestId('slipping-customers').locator('tbody tr').first().innerText(), new RegExp(risky.userId));
    // P(alive) is never shown as a certainty, in the lists nor on the segment cards.
    const body = await page.locator('main').innerText();
    assert.ok(!/P\(alive\)\s*(100|0)%/.test(body), 'no P(alive) of 100% or 0% on the page');
    const cells = await page.getByTestId('slipping-customers').locator('tbody td:nth-child(3)').allInnerTexts();
    assert.ok(cells.length > 0 && cells.every((c) => !/^(100|0)%$/.test(c.trim())), cells.join(' '));
  });

  it('filters both lists by an RFM segment and keeps it in the URL', async () => {
    const { page } = rig;
    const cards = page.getByTestId('rfm-cards');
    await cards.getByRole('button', { name: /Champions/ }).click();
    await page.waitForURL(/\/value\?group=champions/);
    await page.waitForFunction(() => {
      const names = [...document.querySelectorAll('[data-testid=top-customers] tbody th .muted')].map((e) => e.textContent?.trim());
      return names.length > 0 && names.every((n) => n === 'Champions');
    });
    assert.equal(await cards.getByRole('button', { name: /Champions/ }).getAttribute('aria-pressed'), 'true');
    // The list downloads from the server as it is filtered: every customer of it, not only
    // the ten shown, in the same order.
    const shown = await page.getByTestId('top-customers').locator('tbody th a').allInnerTexts();
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('top-customers-csv').click()]);
    assert.equal(file.suggestedFilename(), 'most-valuable-champions.csv');
    const lines = fs.readFileSync(await file.path(), 'utf8').trim().split('\r\n');
    assert.equal(lines[0], 'user_id,name,email,clv,value_at_risk,currency,p_alive,expected_purchases,spend,purchases,last_purchase,rfm_group,segment');
    const champions = await rankCustomers(t.store, { sort: 'clv', group: 'champions', limit: 10 });
    assert.equal(lines.length - 1, champions.total);
    assert.ok(champions.total > shown.length, `${champions.total} champions, ${shown.length} shown`);
    assert.deepEqual(lines.slice(1, 1 + shown.length).map((l) => l.split(',')[0]), champions.items.map((c) => c.userId));
    assert.ok(lines.slice(1).every((l) => l.includes(',champions,') && l.includes(',EUR,')));
    const clvs = lines.slice(1).map((l) => Number(l.split(',')[3]));
    assert.deepEqual(clvs, [...clvs].sort((a, b) => b - a));
  });

  it('shows the micro-segments as cards that filter the lists', async () => {
    const { page } = rig;
    const summary = await clvSummary(t.store);
    const cards = summary.segments!.cards!;
    const panel = page.getByTestId('micro-segments');
    await panel.waitFor();
    assert.equal(await panel.locator('li').count(), cards.length);
    const first = cards[0]!;
    await panel.getByRole('button', { name: new RegExp(first.label.replace(/[~()]/g, '.')) }).first().click();
    await page.waitForURL(new RegExp(`/value\\?segment=${first.id}$`));
    await page.getByRole('heading', { name: new RegExp(`Most valuable: ${first.label.replace(/[~()]/g, '.')}`) }).waitFor();
    await page.getByRole('button', { name: 'Show all segments' }).click();
    await page.waitForURL(/\/value$/);
  });

  it("explains a customer's value step by step on their page", async () => {
    const { page, base } = rig;
    const first = page.getByTestId('top-customers').locator('tbody a').first();
    const userId = (await first.innerText()).trim();
    await first.click();
    await page.waitForURL(`${base}/customers/${userId}`);
    const panel = page.getByTestId('customer-value');
    await panel.waitFor();
    const stored = (await rankCustomers(t.store, { sort: 'clv', limit: 50, group: 'champions' })).items.find((c) => c.userId === userId)!;
    assert.match(await panel.innerText(), new RegExp(money(stored.clv!).replace('.', '\\.')));
    assert.match(await page.getByTestId('purchase-outlook').innerText(), /\d+%[\s\S]*none[\s\S]*3\+/);
    // P(alive) speaks of purchases; the panel says that and the other activity side by side.
    const api = (await customerValue(t.store, Number((await t.store.db.selectFrom('customers').select('id').where('user_id', '=', userId).executeTakeFirstOrThrow()).id)))!;
    assert.equal(await page.getByTestId('purchase-activity').innerText(), `(${api.activity.statement})`);
    // The panel names the purchase model that produced P(alive) and the expected purchases.
    assert.equal(await page.getByTestId('customer-model').innerText(), api.model.label);
    assert.equal(api.model.label, (await clvSummary(t.store)).scoring!.label);
    assert.match(api.activity.statement, /^(no purchase in|bought on the as-of day)[^;]*; (no other activity since|active in the product)/);
    assert.doesNotMatch(await panel.innerText(), /100(\.0)?%/);
    await page.getByTestId('value-how').locator('summary').click();
    const how = await page.getByTestId('value-how').innerText();
    assert.match(how, /P\(alive\) = /);
    assert.match(how, /CLV = /);
    assert.match(how, new RegExp(`x = ${stored.purchases - 1} repeat purchases`));
    assert.deepEqual(rig.pageErrors, []);
  });
});
