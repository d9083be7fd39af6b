import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildServer } from '../../src/server/app.js';
import { createSignInToken } from '../../src/auth/staff.js';
import type { Store } from '../../src/store/db.js';

/**
 * The dashboard in a real Chromium against a real server: what the browser suites share.
 * Without /usr/bin/chromium they are skipped with a message, except under CI=true.
 */
export const CHROMIUM = '/usr/bin/chromium';
const CI = process.env['CI'] === 'true';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WEB_ROOT = path.join(ROOT, 'web', 'dist');
export const hasChromium = fs.existsSync(CHROMIUM);
export const browserSkip = !hasChromium && !CI ? `${CHROMIUM} is missing (apt-get install -y chromium): browser tests skipped` : false;

export interface BrowserRig {
  app: FastifyInstance;
  base: string;
  browser: Browser;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

/** Builds the web app when needed, serves `store` on a free port and opens a Chromium page on it. */
export async function openBrowserRig(store: Store): Promise<BrowserRig> {
  if (!hasChromium) throw new Error(`${CHROMIUM} is missing and CI=true: install it with apt-get install -y chromium`);
  if (!fs.existsSync(path.join(WEB_ROOT, 'index.html'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  }
  const app = await buildServer({ store, webRoot: WEB_ROOT });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the test server has no address');
  const base = `http://127.0.0.1:${address.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    app,
    base,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close();
      await app.close();
    },
  };
}

/** Signs `page` in through a one-time link, landing on the overview. */
export async function signIn(rig: BrowserRig, store: Store): Promise<void> {
  const token = await createSignInToken(store.db, Date.now());
  await rig.page.goto(`${rig.base}/auth/signin?token=${encodeURIComponent(token)}`);
  await rig.page.waitForURL(`${rig.base}/`);
}
