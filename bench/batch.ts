import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile, rapport, startServer } from './_server.js';

/**
 * `/v1/batch` throughput over loopback: the real server in its own process, N clients each
 * sending 100-event batches back to back for a fixed time. Target: ≥30,000 events/s, p99 < 50 ms.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string', default: '20' }, clients: { type: 'string', default: '8' }, size: { type: 'string', default: '100' }, users: { type: 'string', default: '20000' } },
  });
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  const size = Number(values.size);
  const users = Number(values.users);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-batch-'));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'rapport.db')}`, LOG_LEVEL: 'silent' };
  const key = rapport(['keys', 'create', '--name', 'bench', '--scope', 'ingest'], env).trim().split('\n').pop()!;
  const port = 4300 + Math.floor(Math.random() * 500);
  const server = await startServer(env, port);
  const auth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  let seq = 0;
  const makeBatch = (): string => {
    const batch = [];
    for (let i = 0; i < size; i++) {
      const n = seq++;
      batch.push({
        type: 'track',
        messageId: `bench-${n}`,
        userId: `user-${(n * 7919) % users}`,
        event: n % 5 === 0 ? 'Product Viewed' : n % 5 === 1 ? 'Added to Cart' : 'Page Scrolled',
        timestamp: new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString(),
        properties: { product_id: `p${n % 300}`, price: (n % 50) + 0.99, category: `c${n % 12}` },
        context: { library: { name: 'bench', version: '1' } },
      });
    }
    return JSON.stringify({ batch, sentAt: new Date().toISOString() });
  };
  const latencies: number[] = [];
  let events = 0;
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const body = makeBatch();
        const s = performance.now();
        const res = await fetch(`${server.url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        latencies.push(performance.now() - s);
        if (res.status === 200) events += size;
        else failures++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await server.stop();
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    [
      `batch: ${clients} clients × ${size}-event batches for ${elapsed.toFixed(1)} s over loopback (SQLite, server in its own process)`,
      `  events stored/s: ${Math.round(events / elapsed).toLocaleString('en-US')}   (target ≥ 30,000)`,
      `  requests: ${latencies.length}, failed: ${failures}`,
      `  latency ms: p50 ${percentile(latencies, 50).toFixed(1)}  p95 ${percentile(latencies, 95).toFixed(1)}  p99 ${percentile(latencies, 99).toFixed(1)}   (target p99 < 50)`,
    ].join('\n') + '\n',
  );
  fs.rmSync(dir, { recursive: true, force: true });
}
