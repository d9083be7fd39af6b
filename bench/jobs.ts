import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { openStore } from '../src/store/db.js';
import { buildServer } from '../src/server/app.js';
import { generateDemo } from '../src/demo/generate.js';
import { tagDemoTickets } from '../src/demo/tags.js';
import { createKey } from '../src/auth/keys.js';

/** Pings /healthz and sends a tracking event in turn from a thread of its own (the server's thread may be the one that stalls); bench/import-api.ts uses it too. */
export const PINGER = `
const { parentPort, workerData } = require('node:worker_threads');
let running = true; const reads = []; const writes = []; let n = 0; let failed = 0;
parentPort.on('message', () => { running = false; });
(async () => {
  while (running) {
    const t0 = performance.now();
    if (n++ % 2 === 0) {
      const r = await fetch(workerData.address + '/healthz');
      if (!r.ok) failed++;
      reads.push(performance.now() - t0);
    } else {
      const r = await fetch(workerData.address + '/v1/track', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + workerData.key },
        body: JSON.stringify({ userId: 'bench-' + (n % 50), event: 'Page Viewed', messageId: 'bench-' + n, timestamp: new Date().toISOString() }),
      });
      if (!r.ok) failed++;
      writes.push(performance.now() - t0);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  parentPort.postMessage({ reads, writes, failed });
})();`;

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

/**
 * The server's scheduled runs (customer value, then listening: signals, themes, tags) on a demo
 * shop that has never been analysed, with the jobs on the server's thread and then on a worker
 * thread: how long the server takes to answer a request meanwhile (a client on another thread
 * asks /healthz and sends a tracking event in turn, 20 ms apart), and how long the runs take.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { customers: { type: 'string', default: '20000' } } });
  const customers = Number(values.customers);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-jobs-'));
  try {
    const base = path.join(dir, 'base.db');
    const t0 = performance.now();
    const store = await openStore({ kind: 'sqlite', file: base });
    const s = await generateDemo(store, { customers, seed: 1 });
    await tagDemoTickets(store, Date.now());
    await store.close();
    process.stdout.write(`demo: ${customers} customers, ${s.orders} orders, ${s.feedback} feedback items (${((performance.now() - t0) / 1000).toFixed(0)} s to load)\n`);
    for (const threads of [false, true]) {
      const file = path.join(dir, `${threads ? 'thread' : 'inline'}.db`);
      fs.copyFileSync(base, file);
      const st = await openStore({ kind: 'sqlite', file }, { checkpointer: true });
      const logs: string[] = [];
      const app = await buildServer({ store: st, logLevel: 'silent', schedule: { checkMs: 3_600_000, log: (m) => logs.push(m) }, jobThreads: threads });
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const key = (await createKey(st.db, 'bench', 'ingest', Date.now())).secret;
      const pinger = new Worker(PINGER, { eval: true, workerData: { address, key } });
      const times = new Promise<{ reads: number[]; writes: number[]; failed: number }>((r) => pinger.once('message', r));
      const started = performance.now();
      while (!logs.some((l) => /feedback analysed|failed/.test(l))) await new Promise((r) => setTimeout(r, 100));
      const seconds = (performance.now() - started) / 1000;
      pinger.postMessage('stop');
      const { reads, writes, failed } = await times;
      await pinger.terminate();
      await app.close();
      await st.close();
      const line = (what: string, times: number[]) => {
        const sorted = [...times].sort((a, b) => a - b);
        return `  ${what}: ${sorted.length} answered, p50 ${q(sorted, 0.5).toFixed(1)} ms, p99 ${q(sorted, 0.99).toFixed(1)} ms, longest ${(sorted[sorted.length - 1] ?? NaN).toFixed(0)} ms\n`;
      };
      process.stdout.write(
        `jobs ${threads ? 'on a worker thread' : "on the server's thread"}: runs done ${seconds.toFixed(1)} s after start-up; ${failed} requests failed\n` +
          line('GET /healthz', reads) +
          line('POST /v1/track (a write)', writes) +
          logs.map((l) => `  ${l}\n`).join(''),
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
