import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateDemo } from '../src/demo/generate.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { accountOf, AccountParams, AccountListParams, listAccounts } from '../src/relationships/accounts.service.js';
import { runHistory } from '../src/relationships/history.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { runClv } from '../src/value/value.job.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** Where the page's screenshots go (RAPPORT_SCREENSHOT_DIR, else the temporary directory). */
const SHOTS = process.env['RAPPORT_SCREENSHOT_DIR'] ?? os.tmpdir();

/** The Accounts tab and an account's page in Chromium, against the demo company after value, history and stages runs. */
describe('accounts in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await generateDemo(t.store, { customers: 300, seed: 11 });
    // An account whose name carries markup: shown as text.
    const someone = await t.store.db.selectFrom('customers').select('user_id').where('user_id', 'is not', null).orderBy('id').limit(1).executeTakeFirstOrThrow();
    await new IngestWriter(t.store).write([{ kind: 'group', who: { userId: someone.user_id! }, groupId: 'acct-markup', traits: { name: 'Markup <b>bold</b> Ltd' }, at: Date.now() - 86_400_000 }]);
    await runClv(t.store, { trigger: 'demo' });
    await runHistory(t.store, { trigger: 'demo' });
    await runStages(t.store, { trigger: 'demo' });
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('lists accounts most valuable first as the API does, and filters them by name', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Relationships' }).click();
    await page.getByRole('navigation', { name: 'Relationships' }).getByRole('link', { name: 'Accounts' }).click();
    await page.waitForURL(`${base}/relationships/accounts`);
    const table = page.getByTestId('accounts-list');
    await table.waitFor();
    const api = await listAccounts(t.store, AccountListParams.parse({}));
    const rows = await table.locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, api.items.length);
    api.items.forEach((a, i) => {
      assert.ok(rows[i]!.startsWith(a.name ?? a.groupId), `${rows[i]} is ${a.name}`);
      assert.ok(rows[i]!.includes(`\t${a.stageName ?? 'not placed'}\t${a.people}\t`), rows[i] ?? '');
    });
    await page.screenshot({ path: path.join(SHOTS, 'rapport-web-accounts-list.png'), fullPage: true });
    const first = api.items[0]!;
    await page.getByTestId('account-search').fill(first.name!.slice(0, 5).toLowerCase());
    await page.waitForURL(/\?q=/);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="accounts-list"] tbody tr').length === n, (await listAccounts(t.store, AccountListParams.parse({ q: first.name!.slice(0, 5) }))).items.length);
    assert.ok((await table.locator('tbody tr').allInnerTexts()).every((r) => r.toLowerCase().includes(first.name!.slice(0, 5).toLowerCase())));
    await page.getByTestId('account-search').fill('Markup');
    await table.getByRole('link', { name: 'Markup <b>bold</b> Ltd' }).waitFor();
    assert.equal(await page.locator('[data-testid="accounts-list"] b').count(), 0, 'a name with markup is shown as text');
  });

  it("shows an account's stage and why, people per stage, LOV, and follows a person to their page", async () => {
    const { page, base } = rig;
    const top = (await listAccounts(t.store, AccountListParams.parse({}))).items.find((a) => a.people >= 2)!;
    await page.goto(`${base}/relationships/accounts`);
    await page.getByTestId('accounts-list').getByRole('link', { name: top.name ?? top.groupId, exact: true }).click();
    await page.waitForURL(`${base}/relationships/accounts/${encodeURIComponent(top.groupId)}`);
    const a = await accountOf(t.store, top.groupId, AccountParams.parse({}));
    await page.getByTestId('account-stage').waitFor();
    assert.equal(await page.getByTestId('account-name').innerText(), a.name ?? a.groupId);
    assert.equal(await page.getByTestId('account-stage').innerText(), a.stage!.name);
    assert.equal(await page.getByTestId('account-explanation').innerText(), a.explanation);
    const why = await page.getByTestId('account-why').innerText();
    assert.ok(why.includes(a.lines.find((l) => l.startsWith('For ') || l === 'At the top of the ladder.')!), why);
    const lov = await page.getByTestId('account-lov').innerText();
    assert.match(lov, /\d/);
    assert.ok(lov.replace(/[^\d]/g, '').startsWith(String(Math.floor(a.lov!)).slice(0, 2)), `${lov} shows ${a.lov}`);
    // The bar's counts are the API's.
    const counts = await page.getByTestId('account-stage-counts').locator('li').allInnerTexts();
    a.counts.byStage.forEach((s, k) => assert.equal(counts[k], `${s.name} ${s.people}`));
    assert.equal(await page.getByTestId('account-stage-bar').locator('.stage-bar-part').count(), a.counts.byStage.filter((s) => s.people > 0).length + (a.counts.notPlaced > 0 ? 1 : 0));
    const people = await page.getByTestId('account-people').locator('tbody tr').allInnerTexts();
    assert.equal(people.length, a.people.length);
    a.people.forEach((p, i) => assert.ok(people[i]!.startsWith(p.name ?? p.userId ?? ''), `${people[i]} is ${p.name}`));
    // Every number has its "how".
    assert.equal(await page.locator('.tile').count(), 4);
    assert.equal(await page.locator('.tile .infotip').count(), 4, 'each figure says how it is computed');
    assert.equal(await page.locator('.panel-head .infotip, .panel .infotip').count() >= 4, true, 'and each panel');
    await page.screenshot({ path: path.join(SHOTS, 'rapport-web-account.png'), fullPage: true });

    const person = a.people[0]!;
    await page.getByTestId('account-people').getByRole('link', { name: person.name ?? person.userId!, exact: true }).click();
    await page.waitForURL(`${base}/customers/${encodeURIComponent(person.userId!)}`);
    await page.getByTestId('customer-header').waitFor();
    // And back to the account from the customer's page.
    await page.getByTestId('customer-account-link').filter({ hasText: a.name ?? a.groupId }).click();
    await page.waitForURL(`${base}/relationships/accounts/${encodeURIComponent(a.groupId)}`);
    await page.getByTestId('account-people').waitFor();
    assert.deepEqual(rig.pageErrors, []);
  });

  it('says when an account is unknown', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/relationships/accounts/no-such-account`);
    await page.getByText('Account not found').waitFor();
  });
});
