import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DAY_MS } from '../src/models/time.js';
import { Rng } from '../src/demo/random.js';
import { openStore } from '../src/store/db.js';
import { runReport } from '../src/jobs/runs.repository.js';
import type { StagesRunReport } from '../src/relationships/stages.job.js';
import type { HistoryRunReport } from '../src/relationships/history.job.js';
import { createKey } from '../src/auth/keys.js';
import { maxId, setHighWater } from '../src/search/index.repository.js';
import { searchLag } from '../src/search/search.indexer.js';
import { cliArgs, percentile, startServer } from './_server.js';

/**
 * `rapport stages run` on a SQLite database of N customers (default 1,000,000) with M
 * interactions (default 20,000,000) over two years, plus orders and feedback, stored in time
 * order as they arrive; then `rapport stages show` for single customers (the explanation).
 * Targets: the run under 30 s, one explanation under 20 ms. The database is built once and kept
 * in the temp directory (`--fresh` rebuilds it; `--file` names another).
 *
 * Then (`--no-serve` skips it, `--serve-only` runs only it) `rapport serve` on the same file:
 * the stages run and the stage history run asked for through the API while a client asks
 * `/healthz`, the ladder (`/api/stages/summary`) and a page of customers, each every 100 ms,
 * against `--baseline` seconds of the same requests before. Target: `/healthz` p99 under 100 ms
 * while the runs run.
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
  const { values } = parseArgs({
    args: argv,
    options: {
      customers: { type: 'string', default: '1000000' },
      interactions: { type: 'string', default: '20000000' },
      runs: { type: 'string', default: '3' },
      fresh: { type: 'boolean', default: false },
      'no-serve': { type: 'boolean', default: false },
      'serve-only': { type: 'boolean', default: false },
      baseline: { type: 'string', default: '5' },
      file: { type: 'string' },
    },
  });
  const customers = Number(values.customers);
  const interactions = Number(values.interactions);
  const file = values.file ?? path.join(os.tmpdir(), `rapport-bench-stages-${customers}-${interactions}.sqlite`);
  if (values.fresh || !fs.existsSync(file)) {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    await buildFixture(file, customers, interactions);
  }
  if (!values['serve-only']) await cliRuns(file, customers, interactions, Number(values.runs));
  if (!values['no-serve']) await serveWhileRunning(file, customers, interactions, Number(values.baseline));
}

/** `rapport stages run` and `rapport stages history` as their own processes, then one customer's explanation. */
async function cliRuns(file: string, customers: number, interactions: number, runs: number): Promise<void> {
  const env = { ...process.env, DATABASE_URL: `sqlite:${file}` };
  const walls: number[] = [];
  let last: StagesRunReport | undefined;
  for (let i = 0; i < runs; i++) {
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
  for (let i = 0; i < Math.min(2, runs); i++) {
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

/** One answer: when the request started (performance.now), how long it took, whether it was a 2xx. */
interface Sample {
  at: number;
  ms: number;
  ok: boolean;
}

/** A request over `agent`: status 0 for a network error or a timeout. */
function send(agent: http.Agent, base: URL, method: string, url: string, headers: Record<string, string>, body?: string, timeoutMs = 60_000): Promise<{ status: number; ms: number; text: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ agent, host: base.hostname, port: base.port, method, path: url, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, text: '' }));
    req.setTimeout(timeoutMs, () => req.destroy());
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Latencies of the samples that started in [from, to) (`overlap`: that were under way in it at
 * any time): count, failures, p50, p99, max.
 */
function window(samples: readonly Sample[], from: number, to: number, overlap = false): { n: number; failed: number; p50: number; p99: number; max: number } {
  const inside = samples.filter((s) => (overlap ? s.at + s.ms >= from : s.at >= from) && s.at < to);
  const ms = inside.map((s) => s.ms).sort((a, b) => a - b);
  return { n: ms.length, failed: inside.filter((s) => !s.ok).length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? Number.NaN };
}

/**
 * `rapport serve` on the benchmark's file (jobs on a worker thread, the schedule off so that
 * only the runs asked for run), with an admin and an ingest key made for it; then `baselineS`
 * seconds of requests alone, a stages run and a full stage history run through the API, each
 * with the same requests beside it: one client asks, one request at a time and 100 ms apart,
 * `/healthz` between each of the reads (the ladder, a page of customers, one customer's stage),
 * so that `/healthz` waits only for what else holds the server's thread; another sends a
 * tracking event every 100 ms (the server keeps ingesting, and its writes meet the job's).
 */
async function serveWhileRunning(file: string, customers: number, interactions: number, baselineS: number): Promise<void> {
  const store = await openStore({ kind: 'sqlite', file });
  let admin: string;
  let ingest: string;
  try {
    // The server keeps its search index current in the background: on this file, never
    // searched, it would spend the measurement (and an hour at a million customers) indexing
    // rows that have no text. The index is marked up to date instead.
    const lag = await searchLag(store.db);
    for (const source of ['feedback', 'customer', 'interaction'] as const) await setHighWater(store.db, source, await maxId(store.db, source));
    if (lag.rows > 0) process.stdout.write(`  search index marked up to date (${lag.rows.toLocaleString('en-US')} rows not indexed: nothing here is searched)\n`);
    admin = (await createKey(store.db, 'bench-serve', 'admin', Date.now())).secret;
    ingest = (await createKey(store.db, 'bench-serve-ingest', 'ingest', Date.now())).secret;
  } finally {
    await store.close();
  }
  const port = 4800 + Math.floor(Math.random() * 500);
  const server = await startServer({ DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'silent', RAPPORT_CLV_EVERY_HOURS: '0' }, port);
  const base = new URL(server.url);
  const auth = { authorization: `Bearer ${admin}` };
  let n = 0;
  const probes: { name: string; kind: 'health' | 'read' | 'write' }[] = [
    { name: 'GET /healthz', kind: 'health' },
    { name: 'GET /api/stages/summary', kind: 'read' },
    { name: 'GET /api/customers?limit=20', kind: 'read' },
    { name: 'GET /api/customers/:id/stage', kind: 'read' },
    { name: 'POST /v1/track', kind: 'write' },
  ];
  const samples = probes.map(() => [] as Sample[]);
  let probing = true;
  const agents: http.Agent[] = [];
  const agent = () => {
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(a);
    return a;
  };
  /** Asks `ask(k)` for probe k, one request at a time on its own connection, 100 ms after each answer. */
  const loop = async (ks: number[], ask: (k: number, a: http.Agent) => Promise<{ status: number; ms: number }>) => {
    const a = agent();
    for (let turn = 0; probing; turn++) {
      const k = ks[turn % ks.length]!;
      const at = performance.now();
      const r = await ask(k, a);
      samples[k]!.push({ at, ms: r.ms, ok: r.status >= 200 && r.status < 300 });
      await sleep(100);
    }
  };
  try {
    const read = (k: number, a: http.Agent) => {
      if (k === 0) return send(a, base, 'GET', '/healthz', {});
      return send(a, base, 'GET', k === 1 ? '/api/stages/summary' : k === 2 ? '/api/customers?limit=20' : `/api/customers/u${1 + ((n++ * 7919) % customers)}/stage`, auth);
    };
    const loops = [
      // One request at a time, /healthz between the reads: it never waits for a read of this
      // client's, only for what else holds the server's thread (the job, its writes, tracking).
      loop([0, 1, 0, 2, 0, 3], read),
      loop([4], (_, a) =>
        send(a, base, 'POST', '/v1/track', { authorization: `Bearer ${ingest}` }, JSON.stringify({ userId: `u${1 + ((n++ * 104729) % customers)}`, event: 'Page Viewed', messageId: `bench-serve-${Date.now()}-${n}`, timestamp: new Date().toISOString() })),
      ),
    ];
    // A second of warming up (the first requests compile their routes), not counted.
    await sleep(1000);
    const b0 = performance.now();
    await sleep(baselineS * 1000);
    const runAgent = new http.Agent({ keepAlive: false });
    agents.push(runAgent);
    const phases: { name: string; from: number; to: number; line: string; runId?: number; overlap?: boolean }[] = [{ name: 'before', from: b0, to: performance.now(), line: `${baselineS} s of requests alone` }];
    for (const [what, url, body] of [
      ['stages run', '/api/stages/run', {}],
      ['stage history run', '/api/stages/history/run', { full: true }],
    ] as const) {
      const from = performance.now();
      const a = await send(runAgent, base, 'POST', url, auth, JSON.stringify(body), 30 * 60_000);
      const to = performance.now();
      if (a.status !== 200) throw new Error(`POST ${url}: ${a.status} ${a.text}`);
      const r = JSON.parse(a.text) as { runId: number; seconds: number; mode?: string; read?: number };
      phases.push({ name: what, from, to, runId: r.runId, line: `POST ${url} answered in ${((to - from) / 1000).toFixed(1)} s (the job ${r.seconds.toFixed(1)} s${r.mode ? `, ${r.mode}: ${r.read!.toLocaleString('en-US')} customers read` : ''})` });
      await sleep(1000);
    }
    probing = false;
    await Promise.all(loops);
    // Each run's write (its results replacing the last run's): the last `writeMs` before its answer.
    const reports = await openStore({ kind: 'sqlite', file }, { migrate: false });
    try {
      for (const ph of phases.slice(1)) {
        const report = JSON.parse((await runReport(reports.db, ph.runId!)) ?? '{}') as { timings?: { writeMs: number } };
        const writeMs = report.timings?.writeMs ?? 0;
        phases.push({ name: `  its write`, from: ph.to - writeMs - 100, to: ph.to, overlap: true, line: `the last ${(writeMs / 1000).toFixed(1)} s of the ${ph.name}, its results written (the requests under way then)` });
      }
    } finally {
      await reports.close();
    }
    phases.sort((a, b) => a.from - b.from);
    const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
    const lines = [`rapport serve on ${customers.toLocaleString('en-US')} customers and ${interactions.toLocaleString('en-US')} interactions (SQLite, jobs on a worker thread):`];
    for (const ph of phases) {
      lines.push(`  ${ph.name}: ${ph.line}`);
      for (const [k, p] of probes.entries()) {
        const w = window(samples[k]!, ph.from, ph.to, ph.overlap);
        lines.push(`    ${p.name.padEnd(30)} ${String(w.n).padStart(5)} requests, ${w.failed} failed; p50 ${ms(w.p50)}, p99 ${ms(w.p99)}, max ${ms(w.max)}`);
      }
    }
    // The target: over both runs, /healthz and the reads.
    const runs = phases.filter((ph) => ph.runId !== undefined);
    const during = (k: number) => runs.flatMap((ph) => samples[k]!.filter((s) => s.at >= ph.from && s.at < ph.to));
    const p99 = (xs: Sample[]) => percentile(xs.map((s) => s.ms).sort((a, b) => a - b), 99);
    const of = (kind: string) => probes.flatMap((p, k) => (p.kind === kind ? during(k) : []));
    const health = p99(of('health'));
    const failed = probes.reduce((a, _, k) => a + during(k).filter((s) => !s.ok).length, 0);
    lines.push(`server answers while stages run: /healthz p99 ${ms(health)} (target < 100 ms), reads p99 ${ms(p99(of('read')))}, tracking p99 ${ms(p99(of('write')))}; ${failed} requests failed  ${health < 100 && failed === 0 ? 'PASS' : 'FAIL'}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    probing = false;
    for (const a of agents) a.destroy();
    await server.stop();
  }
}
