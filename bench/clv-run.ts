import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { drawOrderHistory } from '../src/demo/clv-cohort.js';
import { dayOf } from '../src/models/clv/summary.js';
import { openStore } from '../src/store/db.js';
import type { ClvRunReport } from '../src/value/value.job.js';
import { cliArgs } from './_server.js';

/**
 * `rapport clv run` on a SQLite database holding N order rows (default 10,000,000), drawn
 * from known BG/NBD and Gamma-Gamma parameters over two years and stored in time order, as
 * a shop's orders arrive. Reports the per-customer summary the database computes (target:
 * under 15 s for 10M rows) and the rest of the run: fit, holdout validation, scoring and
 * the swap of every customer's results. The database is built once and kept in the temp
 * directory (`--fresh` rebuilds it).
 */
const TRUTH = { bgnbd: { r: 1, alpha: 4, a: 0.8, b: 8 }, gammaGamma: { p: 6, q: 4, v: 15 } };

async function buildFixture(file: string, orders: number): Promise<void> {
  const t0 = performance.now();
  const store = await openStore({ kind: 'sqlite', file });
  const db = store.sqlite!;
  db.pragma('synchronous = OFF');
  // Load without the customer/time index and build it once at the end (as `rapport import` does in load mode).
  const index = (db.prepare(`select sql from sqlite_master where name = 'orders_customer_time'`).get() as { sql: string }).sql;
  db.exec('drop index orders_customer_time');
  const customer = new Int32Array(orders);
  const at = new Float64Array(orders);
  const amount = new Float64Array(orders);
  let n = 0;
  let customers = 0;
  const start = dayOf('2024-11-01');
  for (const o of drawOrderHistory({ seed: 1, customers: 50_000_000, maxOrders: orders, ...TRUTH, startDay: start, endDay: start + 729 })) {
    customer[n] = o.customer + 1;
    at[n] = o.at;
    amount[n] = o.amount;
    n++;
    customers = o.customer + 1;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((i, j) => at[i]! - at[j]!);
  const insertCustomer = db.prepare(`insert into customers (id, user_id, traits, created_at, updated_at, order_count) values (?, ?, '{}', 0, 0, 0)`);
  const insertOrder = db.prepare(`insert into orders (customer_id, order_id, occurred_at, total, currency, properties, source, source_id, received_at) values (?, ?, ?, ?, 'USD', '{}', 'bench', ?, ?)`);
  db.exec('begin');
  for (let c = 1; c <= customers; c++) insertCustomer.run(c, `u${c}`);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const id = `o${k + 1}`;
    insertOrder.run(customer[i], id, at[i], amount[i], id, at[i]);
    if (k % 500_000 === 499_999) db.exec('commit; begin');
  }
  db.exec('commit');
  db.exec(index);
  await store.close();
  process.stdout.write(`  built ${file}: ${n.toLocaleString('en-US')} orders of ${customers.toLocaleString('en-US')} customers in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { orders: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '3' }, fresh: { type: 'boolean', default: false } } });
  const orders = Number(values.orders);
  const runs = Number(values.runs);
  const file = path.join(os.tmpdir(), `rapport-bench-clv-run-${orders}.sqlite`);
  if (values.fresh || !fs.existsSync(file)) {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    await buildFixture(file, orders);
  }
  const reports: (ClvRunReport & { wall: number })[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...cliArgs(), 'clv', 'run', '--json'], { env: { ...process.env, DATABASE_URL: `sqlite:${file}` }, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`clv run failed: ${r.stderr}`);
    reports.push({ ...(JSON.parse(r.stdout) as ClvRunReport), wall: (performance.now() - t0) / 1000 });
  }
  const med = (f: (r: ClvRunReport & { wall: number }) => number): string => {
    const xs = reports.map(f).sort((a, b) => a - b);
    return `${xs[0]!.toFixed(1)} s best, ${xs[Math.floor(xs.length / 2)]!.toFixed(1)} s median`;
  };
  const last = reports[reports.length - 1]!;
  const b = last.fit.bgnbd!;
  const g = last.fit.gammaGamma!;
  const rel = (got: number, want: number): string => `${got.toPrecision(4)} (truth ${want}, ${(((got - want) / want) * 100).toFixed(1)}%)`;
  const v = last.validation;
  process.stdout.write(
    [
      `clv run: ${last.orders.toLocaleString('en-US')} stored orders (SQLite), ${last.customers.toLocaleString('en-US')} customers, ${runs} runs`,
      `  per-customer summary in SQL: ${med((r) => r.timings.summaryMs / 1000)}   (target < 15 s for 10M order rows)`,
      `  fit BG/NBD + MBG/NBD + Gamma-Gamma and score with the chosen model: ${med((r) => r.timings.fitMs / 1000)}; holdout validation of both (sample): ${med((r) => r.timings.validationMs / 1000)}`,
      `  scored with ${last.scoring ? `${last.scoring.model} (${last.scoring.reason})` : 'bgnbd'}`,
      `  RFM: ${med((r) => r.timings.scoreMs / 1000)}; micro-segments: ${med((r) => r.timings.segmentMs / 1000)}; write every customer's results (table swap): ${med((r) => r.timings.writeMs / 1000)}`,
      `  whole run: ${med((r) => r.timings.totalMs / 1000)}; whole process: ${med((r) => r.wall)}`,
      `  recovered: r ${rel(b.r, TRUTH.bgnbd.r)}, alpha ${rel(b.alpha, TRUTH.bgnbd.alpha)}, a ${rel(b.a, TRUTH.bgnbd.a)}, b ${rel(b.b, TRUTH.bgnbd.b)}`,
      `             p ${rel(g.p, TRUTH.gammaGamma.p)}, q ${rel(g.q, TRUTH.gammaGamma.q)}, v ${rel(g.v, TRUTH.gammaGamma.v)} (amounts rounded to cents)`,
      'skipped' in v ? `  validation skipped: ${v.skipped}` : `  holdout: predicted ${v.predictedRepeatPurchases.toFixed(0)} repeat purchases, actual ${v.actualRepeatPurchases} (${v.customers.toLocaleString('en-US')} sampled customers)`,
    ].join('\n') + '\n',
  );
}
