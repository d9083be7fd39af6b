import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSignInToken } from '../src/auth/staff.js';
import { generateDemo } from '../src/demo/generate.js';
import { tagDemoTickets } from '../src/demo/tags.js';
import { runClv } from '../src/value/value.job.js';
import { runListen } from '../src/listening/listen.job.js';
import { defectLedger } from '../src/listening/defects.js';
import { reviewQueue, tagSets } from '../src/listening/tags.service.js';
import { themeBoard } from '../src/listening/themes.service.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** The Listening pages in Chromium against a real demo: themes, a theme, tag review, the defect ledger. */
describe('listening in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await generateDemo(t.store, { customers: 300, seed: 5 });
    await runClv(t.store, { trigger: 'cli' });
    await tagDemoTickets(t.store, Date.now());
    await runListen(t.store, { trigger: 'cli' });
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('shows the themes board by value at stake, and a theme that can be renamed', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Listening' }).click();
    await page.waitForURL(`${base}/listening`);
    const board = await themeBoard(t.store, { sort: 'value', limit: 100 });
    const cards = page.getByTestId('theme-card');
    await cards.first().waitFor();
    assert.equal(await cards.count(), board.themes.length);
    const top = board.themes[0]!;
    assert.match(await cards.first().innerText(), new RegExp(top.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await cards.first().getByRole('link').first().click();
    await page.waitForURL(`${base}/listening/themes/${top.id}`);
    await page.getByTestId('theme-members').locator('li').first().waitFor();
    assert.equal(await page.getByTestId('theme-members').locator('li').count(), Math.min(30, top.size));
    await page.getByLabel('Theme name').fill('Where is my parcel');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { name: 'Where is my parcel', level: 1 }).waitFor();
    const renamed = (await themeBoard(t.store, { sort: 'value', limit: 100 })).themes.find((x) => x.id === top.id)!;
    assert.equal(renamed.name, 'Where is my parcel');
    assert.deepEqual(rig.pageErrors, []);
  });

  it('names themes in the customers\' words on the board, and moves a member to another theme by hand', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/listening?sort=size`);
    const board = await themeBoard(t.store, { sort: 'size', limit: 100 });
    const cards = page.getByTestId('theme-card');
    await cards.first().waitFor();
    const names = await page.locator('[data-testid=theme-card] .theme-name').allInnerTexts();
    assert.deepEqual(names, board.themes.map((x) => x.name));
    // Readable names, not lists of stems; the general bucket is marked as such.
    for (const x of board.themes.filter((c) => !c.renamed)) assert.doesNotMatch(x.name, / \/ /);
    const general = board.themes.findIndex((x) => x.general);
    if (general >= 0) assert.match(await cards.nth(general).innerText(), /general/);
    const topics = board.themes.filter((x) => !x.general);
    const from = topics[0]!;
    // A target whose members fit on one page, so that the moved item shows there.
    const to = topics.find((x) => x.id !== from.id && x.size < 29)!;
    await page.goto(`${base}/listening/themes/${from.id}`);
    const list = page.getByTestId('theme-members').locator('li');
    await list.first().waitFor();
    const item = list.first();
    const text = await item.locator('.feedback-text').innerText();
    const moving = await t.store.db.selectFrom('feedback_insights as i').innerJoin('feedback as f', 'f.id', 'i.feedback_id').select('f.id').where('i.theme_id', '=', from.id).orderBy('f.id', 'desc').executeTakeFirstOrThrow();
    await item.getByLabel(`Move item ${moving.id} to`).selectOption(String(to.id));
    await item.getByRole('button', { name: 'Move' }).click();
    await page.waitForFunction((id) => ![...document.querySelectorAll('[data-testid=theme-members] li')].some((li) => li.querySelector(`#move-${id}`)), Number(moving.id));
    const row = await t.store.db.selectFrom('feedback_insights').select('theme_id').where('feedback_id', '=', moving.id).executeTakeFirstOrThrow();
    assert.equal(Number(row.theme_id), to.id);
    const pin = await t.store.db.selectFrom('theme_pins').select(['theme_id', 'from_theme_id']).where('feedback_id', '=', moving.id).executeTakeFirstOrThrow();
    assert.deepEqual([Number(pin.theme_id), Number(pin.from_theme_id)], [to.id, from.id]);
    // On the target theme's page it is marked as moved here.
    await page.goto(`${base}/listening/themes/${to.id}`);
    const moved = page.getByTestId('theme-members').locator('li', { has: page.locator(`#move-${moving.id}`) });
    await moved.waitFor();
    assert.match(await moved.innerText(), /moved here/);
    assert.equal(await moved.locator('.feedback-text').innerText(), text);
    assert.deepEqual(rig.pageErrors, []);
  });

  it('reviews tag suggestions: accepting one takes it out of the queue', async () => {
    const { page, base } = rig;
    await page.getByRole('link', { name: 'Tag review' }).click();
    await page.waitForURL(`${base}/listening/review`);
    const before = await reviewQueue(t.store, { limit: 50 });
    assert.ok(before.total > 0);
    const items = page.getByTestId('review-item');
    await items.first().waitFor();
    assert.equal(await items.count(), Math.min(50, before.total));
    assert.match(await items.first().innerText(), new RegExp(before.items[0]!.suggested));
    await items.first().getByRole('button', { name: 'Accept' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=review-item]').length === n, Math.min(50, before.total) - 1);
    const after = await reviewQueue(t.store, { limit: 50 });
    assert.equal(after.total, before.total - 1);
    const example = await t.store.db.selectFrom('feedback_tags').select(['source']).where('feedback_id', '=', before.items[0]!.feedbackId).executeTakeFirstOrThrow();
    assert.equal(example.source, 'human');
  });

  it('accepting a suggestion can be undone: the item is back in the queue with the same counts', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/listening/review`);
    const before = await reviewQueue(t.store, { limit: 50 });
    const setBefore = (await tagSets(t.store))[0]!;
    const first = page.getByTestId('review-item').first();
    await first.waitFor();
    assert.match(await first.innerText(), new RegExp(`Is this about “${before.items[0]!.suggested}”\\?`));
    const tile = page.getByTestId('tag-set-tile').first();
    assert.match(await tile.innerText(), new RegExp(`${setBefore.toReview} to review`));
    assert.match(await tile.innerText(), /accurate \(95% CI \d+–\d+%, \d+ examples, cross-validated\)/);
    const count = page.getByTestId('queue-count');
    const countBefore = await count.innerText();
    await first.getByRole('button', { name: 'Accept' }).click();
    const done = page.getByTestId('review-done').first();
    await done.waitFor();
    // The counts move at once: the tile and the queue's line.
    await page.waitForFunction((n) => document.querySelector('[data-testid=tag-set-tile]')?.textContent?.includes(`${n} to review`), setBefore.toReview - 1);
    assert.equal((await reviewQueue(t.store, { limit: 50 })).total, before.total - 1);
    await done.getByRole('button', { name: 'Undo' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=review-done]').length === 0);
    await page.waitForFunction((n) => document.querySelector('[data-testid=tag-set-tile]')?.textContent?.includes(`${n} to review`), setBefore.toReview);
    assert.equal(await count.innerText(), countBefore);
    const after = await reviewQueue(t.store, { limit: 50 });
    assert.equal(after.total, before.total);
    assert.deepEqual(after.items.map((i) => [i.feedbackId, i.suggested, i.confidence]), before.items.map((i) => [i.feedbackId, i.suggested, i.confidence]));
    assert.match(await page.getByTestId('review-item').first().innerText(), new RegExp(before.items[0]!.suggested));
    assert.deepEqual(rig.pageErrors, []);
  });

  it('creates, renames and deletes a tag, the counts updating at once', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/listening/review`);
    const rows = page.getByTestId('tag-row');
    await rows.first().waitFor();
    const n = await rows.count();
    await page.getByLabel('New tag').fill('refund request');
    await page.getByRole('button', { name: 'Create tag' }).click();
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid=tag-row]').length === k, n + 1);
    const row = rows.filter({ hasText: 'refund request' });
    assert.match(await row.innerText(), /no examples when the model was trained|not validated/);
    await row.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name of tag refund request').fill('refunds');
    await page.getByRole('button', { name: 'Save' }).click();
    await rows.filter({ hasText: 'refunds' }).waitFor();
    const renamed = (await tagSets(t.store))[0]!.tags.find((x) => x.name === 'refunds');
    assert.ok(renamed, 'renamed in the store');
    await rows.filter({ hasText: 'refunds' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid=tag-row]').length === k, n);
    assert.equal((await tagSets(t.store))[0]!.tags.length, n);
    assert.deepEqual(rig.pageErrors, []);
  });

  it('shows the defect ledger with churn against the baseline and the features-vs-fixes balance', async () => {
    const { page, base } = rig;
    await page.getByRole('link', { name: 'Defect ledger' }).click();
    await page.waitForURL(`${base}/listening/defects`);
    const ledger = await defectLedger(t.store, { minContacts: 1 });
    const rows = page.getByTestId('ledger-type-cause').locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), ledger.byTypeCause.length);
    assert.match(await rows.first().innerText(), new RegExp(ledger.byTypeCause[0]!.label.replace('·', '.')));
    await page.waitForFunction(() => document.querySelectorAll('.chart svg').length >= 2);
    assert.deepEqual(rig.pageErrors, []);
  });

  it('fits a phone-width screen on the Value, Listening and Search pages, with every page link in reach', async () => {
    const phone = await rig.browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      const token = await createSignInToken(t.store.db, Date.now());
      await phone.goto(`${rig.base}/auth/signin?token=${encodeURIComponent(token)}`);
      await phone.waitForURL(`${rig.base}/`);
      for (const [url, ready] of [['/value', '[data-testid=top-customers] tbody tr'], ['/listening', '.chart svg, [data-testid=theme-card], main h2'], ['/search?q=refund', 'main li']] as const) {
        await phone.goto(`${rig.base}${url}`);
        await phone.locator(ready).first().waitFor();
        await phone.waitForTimeout(300);
        const { sw, cw } = await phone.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
        assert.ok(sw <= cw, `${url}: the page scrolls sideways (${sw} px wide in ${cw} px)`);
        const links = phone.getByRole('navigation', { name: 'Main' }).getByRole('link');
        const n = await links.count();
        assert.ok(n >= 5, `${url}: ${n} page links`);
        for (let i = 0; i < n; i++) {
          const box = (await links.nth(i).boundingBox())!;
          assert.ok(box.x >= 0 && box.x + box.width <= cw, `${url}: page link ${i} (${await links.nth(i).innerText()}) is out of view at x ${box.x}`);
        }
      }
    } finally {
      await phone.close();
    }
  });
});
