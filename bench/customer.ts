import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/db.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { normalizeMessage } from '../src/ingest/segment/segment.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { percentile } from './_server.js';

/**
 * Customer page API latency with 1,000,000 interactions stored (SQLite): the two calls the
 * customer page makes (profile, first timeline page), over loopback HTTP. Target: p95 < 20 ms.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { interactions: { type: 'string', default: '1000000' }, customers: { type: 'string', default: '20000' }, requests: { type: 'string', default: '2000' } },
  });
  const total = Number(values.interactions);
  const customers = Number(values.customers);
  const requests = Number(values.requests);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-customer-'));
  const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'rapport.db') });
  const writer = new IngestWriter(store, () => Date.UTC(2026, 0, 1));
  const opts = { source: 'segment', receivedAt: Date.UTC(2026, 0, 1) };
  // Skewed activity: customer k gets a share ∝ 1/(k+10), so a few have tens of thousands of touches.
  let state = 42;
  const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const weights = Array.from({ length: customers }, (_, k) => 1 / (k + 10));
  const cum: number[] = [];
  weights.reduce((s, w, i) => (cum[i] = s + w), 0);
  const W = cum[cum.length - 1]!;
  const pick = () => {
    const x = rand() * W;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const t0 = performance.now();
  const names = ['Product Viewed', 'Added to Cart', 'Email Sent', 'Support Chat Completed', 'Searched'];
  for (let i = 0; i < total; ) {
    const records: IngestRecord[] = [];
    for (let j = 0; j < 10000 && i < total; j++, i++) {
      const k = pick();
      const msg = { userId: `c${k}`, event: names[i % names.length]!, messageId: `m${i}`, timestamp: Date.UTC(2024, 0, 1) + Math.floor(rand() * 700 * 86400_000), properties: { n: i } };
      records.push(...normalizeMessage('track', msg, opts));
      if (i % 50 === 0) records.push(...normalizeMessage('track', { userId: `c${k}`, event: 'Order Completed', messageId: `o${i}`, timestamp: msg.timestamp, properties: { order_id: `o${i}`, total: 20, products: [{ product_id: 'p1', price: 10, quantity: 2 }] } }, opts));
    }
    await writer.write(records);
  }
  const loadS = (performance.now() - t0) / 1000;
  const key = (await createKey(store.db, 'bench', 'read', Date.now())).secret;
  const app = await buildServer({ store });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${key}` };
  const ids = (await store.db.selectFrom('customers').select('user_id').orderBy('interaction_count', 'desc').execute()).map((c) => c.user_id!);
  const profile: number[] = [];
  const timeline: number[] = [];
  const page: number[] = [];
  for (let r = 0; r < requests + 100; r++) {
    const id = r % 10 === 0 ? ids[r % 20]! : ids[Math.floor(rand() * ids.length)]!;
    const s = performance.now();
    const a = await fetch(`${url}/api/customers/${id}`, { headers });
    await a.json();
    const m = performance.now();
    const b = await fetch(`${url}/api/customers/${id}/timeline?limit=50`, { headers });
    await b.json();
    const e = performance.now();
    if (a.status !== 200 || b.status !== 200) throw new Error(`HTTP ${a.status}/${b.status} for ${id}`);
    if (r < 100) continue; // warm-up
    profile.push(m - s);
    timeline.push(e - m);
    page.push(e - s);
  }
  await app.close();
  const biggest = await store.db.selectFrom('customers').select(['user_id', 'interaction_count']).orderBy('interaction_count', 'desc').limit(1).executeTakeFirstOrThrow();
  await store.close();
  for (const a of [profile, timeline, page]) a.sort((x, y) => x - y);
  const fmt = (a: number[]) => `p50 ${percentile(a, 50).toFixed(2)}  p95 ${percentile(a, 95).toFixed(2)}  p99 ${percentile(a, 99).toFixed(2)} ms`;
  process.stdout.write(
    [
      `customer: ${total.toLocaleString('en-US')} interactions over ${customers.toLocaleString('en-US')} customers loaded in ${loadS.toFixed(1)} s (largest: ${biggest.user_id} with ${biggest.interaction_count} interactions)`,
      `  ${requests} customer pages over loopback HTTP, a tenth of them the 20 most active customers`,
      `  GET /api/customers/:id           ${fmt(profile)}`,
      `  GET /api/customers/:id/timeline  ${fmt(timeline)}`,
      `  both (one customer page)         ${fmt(page)}   (target p95 < 20 ms)`,
    ].join('\n') + '\n',
  );
  fs.rmSync(dir, { recursive: true, force: true });
}
