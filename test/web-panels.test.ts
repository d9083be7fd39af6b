import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateDemo } from '../src/demo/generate.js';
import { tagDemoTickets } from '../src/demo/tags.js';
import { runListenAfterLoad } from '../src/listening/listen.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { launchComparison, panelFeedback, panelMembers, MembersQuery, previewPanel, PreviewBody } from '../src/relationships/panels.service.js';
import { runClv } from '../src/value/value.job.js';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';

/** Where the page's screenshot goes (RAPPORT_SCREENSHOT_DIR, else the temporary directory). */
const SHOTS = process.env['RAPPORT_SCREENSHOT_DIR'] ?? os.tmpdir();

/** Building a panel on the demo company in Chromium, moving a member along, exporting it, and its feedback and launch figures. */
describe('co-creation panels in the web dashboard', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  before(async () => {
    t = await sqliteStore();
    await generateDemo(t.store, { customers: 250, seed: 3 });
    await runClv(t.store, { trigger: 'demo' });
    await tagDemoTickets(t.store, Date.now());
    await runListenAfterLoad(t.store, 'demo');
    await runStages(t.store, { trigger: 'demo' });
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
  });
  after(async () => {
    await rig?.close();
    await t?.cleanup();
  });

  it('builds a panel with a live preview, moves a member along, exports it as CSV, and shows what it said and the launch', async () => {
    const { page, base } = rig;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Relationships' }).click();
    await page.getByRole('navigation', { name: 'Relationships' }).getByRole('link', { name: 'Panels' }).click();
    await page.waitForURL(`${base}/relationships/panels`);
    await page.getByRole('heading', { name: 'Build a panel' }).waitFor();

    const name = 'Reading circle <b>bold</b>';
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Seats', { exact: true }).fill('12');
    await page.getByLabel('Seed', { exact: true }).fill('5');
    await page.getByLabel('Started on', { exact: true }).fill('2026-03-01');
    await page.getByRole('checkbox', { name: 'Commitment' }).check();
    await page.getByRole('checkbox', { name: 'Affinity' }).check();
    // The live preview counts as the API does for the same filters.
    const api = await previewPanel(t.store, PreviewBody.parse({ filters: { stages: ['commitment', 'affinity'] }, size: 12, seed: 5 }));
    assert.ok(api.eligible > 12, `eligible ${api.eligible}`);
    const eligible = page.getByTestId('preview-eligible');
    await page.waitForFunction((n) => document.querySelector('[data-testid="preview-eligible"]')?.textContent === n, api.eligible.toLocaleString('en-US'));
    assert.equal(await eligible.innerText(), api.eligible.toLocaleString('en-US'));
    const rows = await page.getByTestId('preview-segments').locator('tbody tr').allInnerTexts();
    assert.deepEqual(rows, api.segments.map((s) => `${s.label}\t${s.eligible}\t${s.asked}\t${s.selected}`));

    await page.screenshot({ path: path.join(SHOTS, 'rapport-web-panels-builder.png'), fullPage: true });
    await page.getByRole('button', { name: 'Create the panel' }).click();
    await page.waitForURL(/\/relationships\/panels\/\d+$/);
    const id = Number(page.url().split('/').pop());
    assert.equal(await page.getByTestId('panel-name').innerText(), name, 'the name is shown as text');
    assert.equal(await page.locator('h1 b').count(), 0);
    const members = (await panelMembers(t.store, id, MembersQuery.parse({}))).items;
    assert.equal(members.length, 12);
    const table = page.getByTestId('panel-members');
    await table.waitFor();
    assert.equal(await table.locator('tbody tr').count(), 12);

    // Invite the first member: their status changes and the invitation is on their record.
    const first = members[0]!;
    const row = table.locator(`tr[data-user="${first.userId}"]`);
    await row.getByRole('button', { name: /^Invite: / }).click();
    await row.getByText('invited', { exact: true }).waitFor();
    await row.getByRole('button', { name: /^Accepted: / }).click();
    await row.getByText('accepted', { exact: true }).waitFor();
    const recorded = await t.store.db
      .selectFrom('interactions as i')
      .innerJoin('customers as c', 'c.id', 'i.customer_id')
      .select(['i.name', 'i.direction'])
      .where('c.user_id', '=', first.userId)
      .where('i.source', '=', 'panels')
      .orderBy('i.occurred_at')
      .execute();
    assert.deepEqual(recorded.map((r) => [r.name, r.direction]), [['Panel Invited', 'outbound'], ['Panel Joined', 'inbound']]);

    // The CSV download holds every member, as the API lists them.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('panel-csv').click()]);
    assert.match(download.suggestedFilename(), new RegExp(`^panel-${id}-Reading-circle-b-bold-b.csv$`));
    const csv = fs.readFileSync(await download.path(), 'utf8').trimEnd().split('\r\n');
    assert.equal(csv[0], 'userId,email,name,segment,stage,stageNow,clv,status,invitedAt,respondedAt,participatedAt');
    assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]).sort(), members.map((m) => m.userId).sort());
    assert.match(csv.find((l) => l.startsWith(`${first.userId},`))!, /,accepted,\d{4}-/);

    // What the panel said since it started.
    const said = await panelFeedback(t.store, id, {});
    assert.ok(said.items > 0);
    await page.getByTestId('panel-feedback').waitFor();
    assert.equal(await page.getByTestId('feedback-items').innerText(), said.items.toLocaleString('en-US'));
    assert.equal(await page.getByTestId('feedback-themes').locator('tbody tr').count(), said.themes.length);

    // The launch comparison, once a category and a launch day are set.
    assert.match(await page.getByTestId('launch-reason').innerText(), /Nothing is under test/);
    await page.getByTestId('launch-form').getByLabel('Category').fill('Books');
    await page.getByTestId('launch-form').getByLabel('Launched on').fill('2026-05-01');
    await page.getByTestId('launch-form').getByRole('button', { name: 'Save' }).click();
    const summary = page.getByTestId('launch-summary');
    await summary.waitFor();
    const l = await launchComparison(t.store, id, {});
    assert.equal(await summary.innerText(), l.summary);
    assert.equal(await page.getByTestId('launch-segments').locator('tbody tr').count(), l.segments.length + 1);
    assert.match(await page.getByTestId('panel-launch').innerText(), /observational comparison/i);

    const shot = path.join(SHOTS, 'rapport-web-panels.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stdout.write(`# screenshot: ${shot}\n`);
    assert.deepEqual(rig.pageErrors, []);
  });
});
