import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './_server.js';
import { seededRandom } from '../src/models/random.js';

/**
 * `rapport import` end to end: N Segment track events as NDJSON (deterministic, ~50k users),
 * imported by the real CLI in a child process into a fresh SQLite database. Reports wall
 * time, events/s and the child's peak RSS (VmHWM). Target: ≥150,000 events/s, < 300 MB.
 *
 *   npm run bench -- import [--events 5000000] [--users 50000] [--file existing.ndjson] [--keep]
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '5000000' },
      users: { type: 'string', default: '50000' },
      file: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events);
  const users = Number(values.users);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-import-'));
  try {
    let file = values.file;
    if (!file) {
      file = path.join(dir, 'events.ndjson');
      const g0 = performance.now();
      await generate(file, events, users);
      process.stdout.write(`generated ${events.toLocaleString('en-US')} events (${(fs.statSync(file).size / 1e6).toFixed(0)} MB) in ${((performance.now() - g0) / 1000).toFixed(1)} s: ${file}\n`);
    }
    const db = path.join(dir, 'rapport.db');
    const t0 = performance.now();
    const child = spawn(process.execPath, [...(process.env['RAPPORT_BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['RAPPORT_BENCH_PROFILE']] : []), path.join(ROOT, 'bin', 'rapport.mjs'), 'import', file, '--kind', 'events', '--json'], {
      env: { ...process.env, DATABASE_URL: `sqlite:${db}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    // `rapport import` runs in a process of its own under the launcher (bin/rapport.mjs sets
    // its heap limit): the peak of each process in the tree is kept.
    const peaks = new Map<number, number>();
    const poll = setInterval(() => {
      for (const pid of tree(child.pid)) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, statusKb(pid, 'VmHWM')));
    }, 50);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearInterval(poll);
    const peakKb = Math.max(0, ...peaks.values());
    const treeKb = [...peaks.values()].reduce((a, b) => a + b, 0);
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`rapport import exited with ${code}: ${out}`);
    const summary = JSON.parse(out) as { rows: number; inserted: number; duplicates: number; rejected: number; seconds: number };
    const cpus = os.cpus();
    process.stdout.write(
      [
        `import: ${summary.rows.toLocaleString('en-US')} NDJSON track events through \`rapport import --kind events\` (child process, SQLite)`,
        `  inserted ${summary.inserted.toLocaleString('en-US')}, duplicates ${summary.duplicates}, rejected ${summary.rejected}`,
        `  wall ${seconds.toFixed(1)} s (import itself ${summary.seconds.toFixed(1)} s)`,
        `  events/s end to end: ${Math.round(summary.rows / seconds).toLocaleString('en-US')}   (target ≥ 150,000)`,
        `  peak RSS of the importing process: ${peakKb > 0 ? `${(peakKb / 1024).toFixed(0)} MB` : 'n/a (no /proc)'}   (target < 300 MB; with its launcher ${(treeKb / 1024).toFixed(0)} MB)`,
        `  machine: ${cpus[0]?.model ?? 'unknown cpu'}, ${cpus.length} cores`,
      ].join('\n') + '\n',
    );
  } finally {
    if (values.keep) process.stdout.write(`kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `pid` and its descendants (Linux /proc). */
function tree(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  let children: number[];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    children = [];
  }
  return [pid, ...children.flatMap((c) => tree(c))];
}

function statusKb(pid: number | undefined, field: string): number {
  if (pid === undefined) return 0;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const EVENTS = ['Product Viewed', 'Product Added', 'Checkout Started', 'Page Scrolled', 'Search Performed', 'Video Played', 'Email Opened', 'Feature Used'];
const CATEGORIES = ['Jazz', 'Rock', 'Classical', 'Soul', 'Electronic', 'Folk'];

/** Writes `n` Segment track messages, as analytics.js sends them, one per line. */
async function generate(file: string, n: number, users: number): Promise<void> {
  const random = seededRandom(42); // every run imports the same file
  const hex = (): string => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 });
  const start = Date.UTC(2024, 0, 1);
  // One browser (anonymous id) per user, as analytics.js keeps it in a cookie.
  const anonymous = Array.from({ length: users }, () => `${hex()}-${hex().slice(0, 4)}-4${hex().slice(0, 3)}-${hex()}${hex().slice(0, 4)}`);
  let buf = '';
  for (let i = 0; i < n; i++) {
    const u = Math.floor(random() * users);
    const event = EVENTS[Math.floor(random() * EVENTS.length)]!;
    const t = new Date(start + Math.floor((i / n) * 365 * 86_400_000) + Math.floor(random() * 60_000)).toISOString();
    const msg = {
      type: 'track',
      messageId: `ajs-next-${hex()}${hex()}-${hex()}-${hex()}`,
      timestamp: t,
      userId: `user-${u}`,
      anonymousId: anonymous[u]!,
      event,
      properties: {
        product_id: `sku-${Math.floor(random() * 3000)}`,
        category: CATEGORIES[Math.floor(random() * CATEGORIES.length)]!,
        price: Math.round(random() * 5000) / 100,
        path: `/catalogue/${Math.floor(random() * 300)}`,
      },
      context: { library: { name: 'analytics.js', version: 'next-1.70.0' }, locale: 'en-GB' },
      sentAt: t,
    };
    buf += `${JSON.stringify(msg)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}
