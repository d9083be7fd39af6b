import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sqliteStore, type TestStore } from './support/stores.js';
import { browserSkip as skip, openBrowserRig, signIn, type BrowserRig } from './support/browser.js';
import { importDrawnOrdersAndValue } from './support/orders.js';

/**
 * The staff app against cross-site requests, in a real Chromium: a page on another port of the
 * same host (same site, so the SameSite=Lax cookie goes along) submits forms to Rapport with
 * the signed-in staff cookie. Nothing it asks for may happen. And the app's own pages work
 * under the content security policy, with no violation reported.
 */
describe('the staff app resists cross-site requests', { skip }, () => {
  let t: TestStore;
  let rig: BrowserRig;
  let attacker: http.Server;
  let evil = '';
  before(async () => {
    t = await sqliteStore();
    await importDrawnOrdersAndValue(t.store, 300, 5);
    rig = await openBrowserRig(t.store);
    await signIn(rig, t.store);
    // The attacker's page: forms that post to Rapport as a plain HTML form can (text/plain, form data).
    attacker = http.createServer((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/api/clv/run';
      const type = new URL(req.url ?? '/', 'http://x').searchParams.get('type') ?? 'text/plain';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="POST" action="${rig.base}${target}" enctype="${type}"><input name='{"x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const address = attacker.address();
    if (!address || typeof address !== 'object') throw new Error('no address');
    evil = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await rig?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await t?.cleanup();
  });

  const runs = async () => (await t.store.db.selectFrom('job_runs').select('id').execute()).length;

  it('refuses a same-site form that would start a value run or sign the user out, and the session lives on', async () => {
    const { page, base } = rig;
    const before = await runs();
    for (const [to, type] of [
      ['/api/clv/run', 'text/plain'],
      ['/api/clv/run', 'application/x-www-form-urlencoded'],
      ['/auth/signout', 'text/plain'],
    ] as const) {
      const answered = page.waitForResponse((r) => r.url().startsWith(`${base}${to}`));
      await page.goto(`${evil}/?to=${encodeURIComponent(to)}&type=${encodeURIComponent(type)}`);
      const r = await answered;
      assert.equal(r.status(), 403, `${to} as ${type}`);
      assert.match(await r.text(), /cross-site request refused/);
    }
    assert.equal(await runs(), before, 'no value run was started');
    const session = await page.goto(`${base}/api/session`);
    assert.equal(session?.status(), 200, 'still signed in');
  });

  it("serves every page with a content security policy, no framing and no sniffing, and the app's pages break none of it", async () => {
    const { page, base } = rig;
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    const r = await page.goto(`${base}/`);
    const h = r!.headers();
    assert.match(h['content-security-policy'] ?? '', /script-src 'self'/);
    assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.ok(h['x-frame-options'], 'frame protection for older browsers');
    assert.equal(h['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
    for (const [link, ready] of [
      ['Value', 'Customer value'],
      ['Customers', 'Customers'],
      ['Listening', 'Listening'],
      ['Search', 'Search'],
    ] as const) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
      await page.getByRole('heading', { name: ready, exact: false }).first().waitFor();
    }
    await page.waitForTimeout(300);
    assert.deepEqual(violations, []);
    assert.deepEqual(rig.pageErrors, []);
    // The app's own state-changing requests still go through: signing out works.
    await page.goto(`${base}/`);
    const out = await page.evaluate(async () => (await fetch('/auth/signout', { method: 'POST', credentials: 'same-origin' })).status);
    assert.equal(out, 200);
    assert.equal((await page.goto(`${base}/api/session`))?.status(), 401);
  });
});
