import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DAY_MS } from '../src/models/time.js';
import { Rng } from '../src/demo/random.js';
import { openStore } from '../src/store/db.js';
import type { StagesRunReport } from '../src/relationships/stages.job.js';
import type { HistoryRunReport } from '../src/relationships/history.job.js';
import { cliArgs } from './_server.js';

/**
 * `rapport stages run` on a SQLite database of N customers (default 1,000,000) with M
 * interactions (default 20,000,000) over two years, plus orders and feedback, stored in time
 * order as they arrive; then `rapport stages show` for single customers (the explanation).
 * Targets: the run under 30 s, one explanation under 20 ms. The database is built once and kept
 * in the temp directory (`--fresh` rebuilds it).
 */
const NAMES: [string, string, number][] = [
  // name, direction, weight
  ['Page Viewed', 'inbound', 40],
  ['Product Viewed', 'inbound', 25],
  ['App Opened', 'inbound', 10],
  ['Newsletter Sent', 'outbound', 10],
  ['Push Notification Sent', 'outbound', 6],
  ['Support Chat Completed', 'mutual', 2],
  ['Question Answered', 'outbound', 1.5],
  ['Product Reviewed', 'inbound', 1.5],
  ['Invite Sent', 'inbound', 1],
  ['Idea Voted', 'inbound', 1],
  ['Interview Completed', 'mutual', 0.2],
  ['Panel Joined', 'inbound', 0.2],
];

async function buildFixture(file: string, customers: number, interactions: number): Promise<void> {
  const t0 = performance.now();
  const store = await openStore({ kind: 'sqlite', file });
  const db = store.sqlite!;
  db.pragma('synchronous = OFF');
  const indexes = db.prepare(`select name, sql from sqlite_master where type = 'index' and tbl_name in ('interactions', 'orders', 'feedback') and sql is not null`).all() as { name: string; sql: string }[];
  for (const i of indexes) db.exec(`drop index ${i.name}`);
  const rng = Rng.from(7, 'bench-stages');
  const end = Date.UTC(2026, 9, 31);
  const start = end - 730 * DAY_MS;
  // Customers are active at heavy-tailed rates: a few do most.
  const weight = new Float64Array(customers);
  let total = 0;
  for (let c = 0; c < customers; c++) total += weight[c] = rng.gamma(0.6, 1);
  const cum = new Float64Array(customers);
  let acc = 0;
  for (let c = 0; c < customers; c++) cum[c] = acc += weight[c]! / total;
  const pick = (): number => {
    const u = rng.float();
    let lo = 0;
    let hi = customers - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const nameWeights = NAMES.map((n) => n[2]);
  const insertCustomer = db.prepare(`insert into customers (id, user_id, traits, first_seen, last_seen, created_at, updated_at) values (?, ?, '{}', ?, ?, 0, 0)`);
  db.exec('begin');
  for (let c = 1; c <= customers; c++) insertCustomer.run(c, `u${c}`, start, end);
  db.exec('commit');
  const insert = db.prepare(`insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, source_key) values (?, 'track', ?, 'web', ?, ?, '{}', 'bench', ?, ?, ?)`);
  const insertOrder = db.prepare(`insert into orders (customer_id, order_id, occurred_at, total, currency, properties, source, source_id, received_at) values (?, ?, ?, ?, 'USD', '{}', 'bench', ?, ?)`);
  const insertFeedback = db.prepare(`insert into feedback (customer_id, kind, text, rating, status, created_at, properties, source, source_id, received_at) values (?, ?, 'text', ?, 'received', ?, '{}', 'bench', ?, ?)`);
  const step = (end - start) / interactions;
  db.exec('begin');
  let orders = 0;
  let feedback = 0;
  for (let k = 0; k < interactions; k++) {
    const at = Math.round(start + k * step);
    const [name, direction] = NAMES[rng.weighted(nameWeights)]!;
    const c = pick();
    insert.run(c, name, direction, at, `e${k}`, at, k);
    if (k % 7 === 0) {
      insertOrder.run(c, `o${orders}`, at, 10 + 90 * rng.float(), `o${orders}`, at);
      orders++;
    }
    if (k % 20 === 0) {
      const survey = rng.chance(0.4);
      insertFeedback.run(c, survey ? 'survey' : rng.chance(0.5) ? 'review' : 'ticket', survey ? rng.int(11) : null, at, `f${feedback}`, at);
      feedback++;
    }
    if (k % 500_000 === 499_999) db.exec('commit; begin');
  }
  db.exec('commit');
  for (const i of indexes) db.exec(i.sql);
  await store.close();
  process.stdout.write(`  built ${file}: ${customers.toLocaleString('en-US')} customers, ${interactions.toLocaleString('en-US')} interactions, ${orders.toLocaleString('en-US')} orders, ${feedback.toLocaleString('en-US')} feedback items in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { customers: { type: 'string', default: '1000000' }, interactions: { type: 'string', default: '20000000' }, runs: { type: 'string', default: '3' }, fresh: { type: 'boolean', default: false } } });
  const customers = Number(values.customers);
  const interactions = Number(values.interactions);
  const file = path.join(os.tmpdir(), `rapport-bench-stages-${customers}-${interactions}.sqlite`);
  if (values.fresh || !fs.existsSync(file)) {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    await buildFixture(file, customers, interactions);
  }
  const env = { ...process.env, DATABASE_URL: `sqlite:${file}` };
  const walls: number[] = [];
  let last: StagesRunReport | undefined;
  for (let i = 0; i < Number(values.runs); i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...cliArgs(), 'stages', 'run', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`stages run failed: ${r.stderr}`);
    walls.push((performance.now() - t0) / 1000);
    last = JSON.parse(r.stdout) as StagesRunReport;
    process.stdout.write(`  run ${i + 1}: ${walls.at(-1)!.toFixed(1)} s wall (read ${(last.timings.readMs / 1000).toFixed(1)} s, place ${(last.timings.placeMs / 1000).toFixed(1)} s, write ${(last.timings.writeMs / 1000).toFixed(1)} s)\n`);
  }
  walls.sort((a, b) => a - b);
  process.stdout.write(`stages run, ${customers.toLocaleString('en-US')} customers and ${interactions.toLocaleString('en-US')} interactions: ${walls[0]!.toFixed(1)} s best, ${walls[Math.floor(walls.length / 2)]!.toFixed(1)} s median (target < 30 s)\n`);
  process.stdout.write(`  stages: ${last!.stages.map((s) => `${s.name} ${s.customers.toLocaleString('en-US')}`).join(', ')}\n`);
  // The monthly history: a full run, then an incremental one after a day of new rows.
  const fulls: number[] = [];
  let history: HistoryRunReport | undefined;
  for (let i = 0; i < Math.min(2, Number(values.runs)); i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...cliArgs(), 'stages', 'history', '--full', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`stages history failed: ${r.stderr}`);
    fulls.push((performance.now() - t0) / 1000);
    history = JSON.parse(r.stdout) as HistoryRunReport;
    const tm = history.timings;
    process.stdout.write(`  history ${i + 1}: ${fulls.at(-1)!.toFixed(1)} s wall (read ${(tm.readMs / 1000).toFixed(1)} s, place ${(tm.placeMs / 1000).toFixed(1)} s, summary ${(tm.summaryMs / 1000).toFixed(1)} s, write ${(tm.writeMs / 1000).toFixed(1)} s; ${history.placements.toLocaleString('en-US')} placements)\n`);
  }
  fulls.sort((a, b) => a - b);
  process.stdout.write(`stage history, ${history!.months.count} month ends (${history!.months.first} to ${history!.months.last}) of ${customers.toLocaleString('en-US')} customers: ${fulls[0]!.toFixed(1)} s best (target < 60 s)\n`);
  {
    // A day of new rows for 2,000 customers (an import), then the incremental run.
    const s = await openStore({ kind: 'sqlite', file });
    const at = Date.parse(history!.asOf) - DAY_MS;
    const ins = s.sqlite!.prepare(`insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, source_key) values (?, 'track', 'Support Chat Completed', 'support', 'mutual', ?, '{}', 'bench-more', ?, ?, ?)`);
    const base = Date.now();
    s.sqlite!.transaction(() => {
      for (let k = 0; k < 2000; k++) ins.run(1 + ((k * 4999) % customers), at, `m${base}-${k}`, at, k);
    })();
    await s.close();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...cliArgs(), 'stages', 'history', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`stages history failed: ${r.stderr}`);
    const inc = JSON.parse(r.stdout) as HistoryRunReport;
    process.stdout.write(`stage history after new rows for ${inc.read.toLocaleString('en-US')} customers: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${inc.mode} (${inc.why})\n`);
  }
  // One customer's explanation, in process (the store open once), for the busiest and for typical customers.
  const { customerStageOf } = await import('../src/relationships/stages.service.js');
  const store = await openStore({ kind: 'sqlite', file });
  try {
    const busiest = store.sqlite!.prepare('select customer_id from interactions group by customer_id order by count(*) desc limit 1').pluck().get() as number;
    const ids = [busiest, ...Array.from({ length: 200 }, (_, i) => 1 + ((i * 7919) % customers))];
    await customerStageOf(store, `u${ids[1]}`);
    const times: number[] = [];
    for (const id of ids) {
      const t0 = performance.now();
      await customerStageOf(store, `u${id}`);
      times.push(performance.now() - t0);
    }
    const busy = times[0]!;
    const rest = times.slice(1).sort((a, b) => a - b);
    const rows = store.sqlite!.prepare('select count(*) from interactions where customer_id = ?').pluck().get(busiest) as number;
    process.stdout.write(`one customer's explanation: p50 ${rest[Math.floor(rest.length / 2)]!.toFixed(1)} ms, p99 ${rest[Math.floor(rest.length * 0.99)]!.toFixed(1)} ms over ${rest.length} customers; the busiest (${rows.toLocaleString('en-US')} interactions) ${busy.toFixed(1)} ms (target < 20 ms)\n`);
  } finally {
    await store.close();
  }
}
