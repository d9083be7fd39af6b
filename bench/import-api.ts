import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createKey } from '../src/auth/keys.js';
import { buildServer } from '../src/server/app.js';
import { openStore } from '../src/store/db.js';
import { PINGER } from './jobs.js';

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

/** An invoice export in the UCI Online Retail shape: five lines an invoice, month-first dates, one invoice in 50 a cancellation. */
function invoices(rows: number): Buffer {
  const lines = ['InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'];
  const start = Date.UTC(2010, 11, 1);
  for (let i = 0; i < rows; i++) {
    const invoice = 536365 + Math.floor(i / 5);
    const at = new Date(start + Math.floor(i / 5) * 600_000);
    const date = `${at.getUTCMonth() + 1}/${at.getUTCDate()}/${at.getUTCFullYear()} ${at.getUTCHours()}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
    const cancel = invoice % 50 === 0;
    lines.push(`${cancel ? 'C' : ''}${invoice},${20000 + (i % 997)},PRODUCT NUMBER ${i % 997} WITH A DESCRIPTION,${cancel ? -1 : 1 + (i % 12)},${date},${(1 + (i % 500) / 100).toFixed(2)},${12000 + (invoice % 5000)},United Kingdom`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/**
 * The web app's import path on `rapport serve`'s settings (SQLite, jobs on a worker thread): a
 * preview and an import of an invoice export of `--rows` lines (default 600,000, about 50 MB)
 * through POST /api/import/preview and POST /api/import, while a client on another thread asks
 * /healthz and sends a tracking event in turn, 20 ms apart.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rows: { type: 'string', default: '600000' } } });
  const rows = Number(values.rows);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-import-api-'));
  try {
    const body = invoices(rows);
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'rapport.db') }, { checkpointer: true });
    const app = await buildServer({ store, logLevel: 'silent', jobThreads: true, importMaxBytes: 200 * 1024 * 1024 });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const admin = (await createKey(store.db, 'bench', 'admin', Date.now())).secret;
    const ingest = (await createKey(store.db, 'bench-ingest', 'ingest', Date.now())).secret;
    const post = async (url: string) => {
      const t0 = performance.now();
      const res = await fetch(`${address}${url}?kind=orders&filename=invoices.csv`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' }, body: new Uint8Array(body) });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
      return { seconds: (performance.now() - t0) / 1000, json };
    };
    process.stdout.write(`file: ${rows.toLocaleString('en-US')} invoice lines, ${(body.length / 1024 / 1024).toFixed(1)} MB\n`);
    for (const step of ['/api/import/preview', '/api/import']) {
      const pinger = new Worker(PINGER, { eval: true, workerData: { address, key: ingest } });
      const times = new Promise<{ reads: number[]; writes: number[]; failed: number }>((r) => pinger.once('message', r));
      await new Promise((r) => setTimeout(r, 200));
      const { seconds, json } = await post(step);
      pinger.postMessage('stop');
      const { reads, writes, failed } = await times;
      await pinger.terminate();
      const line = (what: string, t: number[]) => {
        const sorted = [...t].sort((a, b) => a - b);
        return `  ${what}: ${sorted.length} answered, p50 ${q(sorted, 0.5).toFixed(1)} ms, p99 ${q(sorted, 0.99).toFixed(1)} ms, longest ${(sorted[sorted.length - 1] ?? NaN).toFixed(0)} ms\n`;
      };
      const what = step.endsWith('preview') ? `preview (${(json['rows'] as unknown[]).length} rows shown)` : `import: ${String(json['stored'])} rows stored, ${String(json['rejected'])} rejected, ${String(json['inserted'])} records new (${Math.round(rows / seconds).toLocaleString('en-US')} rows/s)`;
      process.stdout.write(`${step} ${seconds.toFixed(1)} s, ${what}; ${failed} requests failed meanwhile\n${line('GET /healthz', reads)}${line('POST /v1/track (a write)', writes)}`);
    }
    await app.close();
    await store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
