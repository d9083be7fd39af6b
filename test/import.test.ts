import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { RapportError } from '../src/core/errors.js';
import { columnKey, mapColumns, parseDate, parseNumber } from '../src/ingest/files/columns.js';
import { importFile } from '../src/ingest/files/import.js';
import { normalizeMessage } from '../src/ingest/segment/segment.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { INTERACTION_INDEXES } from '../src/store/indexes.js';
import type { Store } from '../src/store/db.js';
import { DIALECTS } from './support/stores.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const clock = (): number => NOW;
const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-import-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let seq = 0;

/** Writes a fixture file into its own directory (so that reports do not collide). */
function fixture(name: string, content: string | Buffer): string {
  const d = path.join(dir, String(seq++));
  fs.mkdirSync(d);
  const file = path.join(d, name);
  fs.writeFileSync(file, content);
  return file;
}

function readReport(file: string): { row: number; field: string; reason: string }[] {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'row,field,reason');
  return lines.slice(1).map((l) => {
    const m = /^(\d+),("(?:[^"]|"")*"|[^,]*),(.*)$/.exec(l);
    assert.ok(m, `report line: ${l}`);
    const unq = (s: string): string => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
    return { row: Number(m[1]), field: unq(m[2]!), reason: unq(m[3]!) };
  });
}

async function count(store: Store, table: 'customers' | 'orders' | 'order_lines' | 'interactions' | 'feedback' | 'products'): Promise<number> {
  const r = await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

const CUSTOMERS = `User ID,Email,First Name,Last Name,Signup Date,Plan
u1,ann@example.com,Ann,Lee,2024-01-05,pro
u2,Bob@Example.com,Bob,Ray,2024-02-10 09:30:00,free
u3,,Cy,,,team
`;

// Shopify-style: one row per line, order-level cells only on an order's first row.
const ORDERS = `Order ID,Customer ID,Email,Created at,Total,Currency,Lineitem sku,Lineitem name,Category,Lineitem quantity,Lineitem price,Financial Status
1001,u1,,2024-03-01T10:00:00Z,30,usd,p1,Blue,Jazz,2,10,paid
1001,,,,,,p2,Red,Rock,1,10,
1002,,bob@example.com,2024-03-02,"$1,015.00",EUR,p3,Green,Jazz,1,"1,015",paid
1003,u9,,2024-03-03,,,p1,Blue,Jazz,3,5,pending
`;

for (const d of DIALECTS) {
  describe(`bulk import on ${d.name}`, async () => {
    const skip = await d.skip();

    it('imports customers and orders from CSV, and a re-import stores nothing new', { skip }, async () => {
      const t = await d.open();
      try {
        const customers = fixture('customers.csv', CUSTOMERS);
        const orders = fixture('orders.csv', ORDERS);
        const c1 = await importFile(t.store, { file: customers, kind: 'customers', clock });
        assert.deepEqual([c1.rows, c1.inserted, c1.updated, c1.duplicates, c1.rejected, c1.report], [3, 3, 0, 0, 0, null]);
        const o1 = await importFile(t.store, { file: orders, kind: 'orders', clock });
        assert.deepEqual([o1.rows, o1.inserted, o1.duplicates, o1.rejected], [4, 3, 0, 0]);
        assert.equal(o1.source, 'import');

        const ann = await t.store.db.selectFrom('customers').selectAll().where('user_id', '=', 'u1').executeTakeFirstOrThrow();
        assert.equal(ann.name, 'Ann Lee');
        assert.equal(ann.email, 'ann@example.com');
        assert.equal(ann.first_seen, Date.parse('2024-01-05T00:00:00Z'));
        assert.deepEqual(JSON.parse(ann.traits), { Plan: 'pro', email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', createdAt: '2024-01-05T00:00:00.000Z' });
        assert.equal(ann.order_count, 1);
        assert.equal(ann.revenue, 30);
        // The order that named only an e-mail went to the customer who has it.
        const bob = await t.store.db.selectFrom('customers').selectAll().where('user_id', '=', 'u2').executeTakeFirstOrThrow();
        assert.equal(bob.order_count, 1);
        assert.equal(bob.revenue, 1015);
        assert.equal(bob.first_seen, Date.parse('2024-02-10T09:30:00Z'));

        const stored = await t.store.db.selectFrom('orders').selectAll().orderBy('order_id').execute();
        assert.deepEqual(stored.map((o) => [o.order_id, o.total, o.currency, JSON.parse(o.properties) as unknown]), [
          ['1001', 30, 'USD', { 'Financial Status': 'paid' }],
          ['1002', 1015, 'EUR', { 'Financial Status': 'paid' }],
          ['1003', 15, 'USD', { 'Financial Status': 'pending' }],
        ]);
        const lines = await t.store.db.selectFrom('order_lines').selectAll().orderBy('order_ref').orderBy('line_no').execute();
        assert.deepEqual(lines.map((l) => [l.product_id, l.name, l.category, l.quantity, l.price]), [
          ['p1', 'Blue', 'Jazz', 2, 10],
          ['p2', 'Red', 'Rock', 1, 10],
          ['p3', 'Green', 'Jazz', 1, 1015],
          ['p1', 'Blue', 'Jazz', 3, 5],
        ]);
        assert.equal(await count(t.store, 'products'), 3);
        const before = { customers: await count(t.store, 'customers'), orders: await count(t.store, 'orders'), lines: await count(t.store, 'order_lines') };
        assert.deepEqual(before, { customers: 4, orders: 3, lines: 4 });

        const c2 = await importFile(t.store, { file: customers, kind: 'customers', clock });
        assert.deepEqual([c2.inserted, c2.updated, c2.rejected], [0, 3, 0]);
        const o2 = await importFile(t.store, { file: orders, kind: 'orders', clock });
        assert.deepEqual([o2.inserted, o2.duplicates, o2.rejected], [0, 3, 0]);
        const afterwards = { customers: await count(t.store, 'customers'), orders: await count(t.store, 'orders'), lines: await count(t.store, 'order_lines') };
        assert.deepEqual(afterwards, before);
        const again = await t.store.db.selectFrom('customers').selectAll().where('user_id', '=', 'u1').executeTakeFirstOrThrow();
        assert.equal(again.revenue, 30);
      } finally {
        await t.cleanup();
      }
    });

    it('rejects bad rows into the report with row and field and stores nothing of them', { skip }, async () => {
      const t = await d.open();
      try {
        const csv = Buffer.concat([
          Buffer.from(
            [
              'order_id,user_id,date,product_id,product_name,quantity,price',
              'A1,good1,2024-01-01,p1,Blue,1,10', // row 1: good
              'A2,bad-date,someday,p1,Blue,1,10', // row 2: unparseable date
              'A3,bad-qty,2024-01-02,p1,Blue,1,10', // row 3: fine, but its order has a bad line
              'A3,,,p2,Red,lots,10', // row 4: a quantity that is not a number
              ',no-id,2024-01-03,p1,Blue,1,10', // row 5: missing order id
              'A5,bad-utf8,2024-01-04,p9,',
            ].join('\n'),
          ),
          Buffer.from([0xc3, 0x28, 0xff]), // row 6: invalid UTF-8 in product_name
          Buffer.from(',1,10\nA6,good2,2024-01-05,p1,Blue,2,10\n'), // row 7: good
        ]);
        const file = fixture('orders.csv', csv);
        const s = await importFile(t.store, { file, kind: 'orders', clock });
        assert.deepEqual([s.rows, s.inserted, s.rejected], [7, 2, 5]);
        assert.equal(s.report, `${file}.rejected.csv`);
        // An order's other rows are reported when the order ends, so sort by row.
        const report = readReport(s.report).sort((a, b) => a.row - b.row);
        assert.deepEqual(report.map((r) => [r.row, r.field]), [
          [2, 'date'],
          [3, '(row)'],
          [4, 'quantity'],
          [5, 'order_id'],
          [6, 'product_name'],
        ]);
        assert.match(report[0]!.reason, /expected a date/);
        assert.match(report[1]!.reason, /order A3 has a rejected row \(row 4\)/);
        assert.match(report[2]!.reason, /expected a number, got "lots"/);
        assert.match(report[4]!.reason, /not valid UTF-8/);
        const orders = await t.store.db.selectFrom('orders').select('order_id').orderBy('order_id').execute();
        assert.deepEqual(orders.map((o) => o.order_id), ['A1', 'A6']);
        const customers = await t.store.db.selectFrom('customers').select('user_id').orderBy('user_id').execute();
        assert.deepEqual(customers.map((c) => c.user_id), ['good1', 'good2']);
        assert.equal(await count(t.store, 'order_lines'), 2);
        assert.deepEqual((await t.store.db.selectFrom('products').select('product_id').execute()).map((p) => p.product_id), ['p1']);
      } finally {
        await t.cleanup();
      }
    });

    it('rejects only the rows the database refuses when a batch write fails', { skip }, async () => {
      const t = await d.open();
      try {
        // A trigger stands in for any constraint the database enforces on one row.
        if (d.name === 'sqlite') {
          await sql`create trigger no_boom before insert on feedback when new.text = 'boom' begin select raise(abort, 'boom is not allowed'); end`.execute(t.store.db);
        } else {
          await sql`create function no_boom() returns trigger language plpgsql as $$ begin if new.text = 'boom' then raise exception 'boom is not allowed' using errcode = '23514'; end if; return new; end $$`.execute(t.store.db);
          await sql`create trigger no_boom before insert on feedback for each row execute function no_boom()`.execute(t.store.db);
        }
        const file = fixture('tickets.csv', 'ticket_id,email,subject,body,type,score,created_at\nT1,ann@example.com,Login,cannot log in,ticket,,2024-05-01\nT2,bob@example.com,Hi,boom,review,4,2024-05-02\nT3,,Great,love it,incident,5,2024-05-03\n');
        const s = await importFile(t.store, { file, kind: 'feedback', clock });
        assert.deepEqual([s.rows, s.inserted, s.rejected], [3, 2, 1]);
        const report = readReport(s.report!);
        assert.deepEqual(report.map((r) => [r.row, r.field]), [[2, '(row)']]);
        assert.match(report[0]!.reason, /boom is not allowed/);
        const rows = await t.store.db.selectFrom('feedback').selectAll().orderBy('source_id').execute();
        assert.deepEqual(rows.map((f) => [f.source_id, f.kind, f.text, f.rating, f.status, f.created_at, JSON.parse(f.properties) as unknown]), [
          ['T1', 'ticket', 'cannot log in', null, 'open', Date.parse('2024-05-01'), { subject: 'Login' }],
          // A file with a ticket id column holds tickets: a kind it does not know stays a property.
          ['T3', 'ticket', 'love it', 5, 'open', Date.parse('2024-05-03'), { subject: 'Great', type: 'incident' }],
        ]);
        assert.equal(rows[1]!.customer_id, null);
        // Nothing of the refused row: bob was never created.
        assert.deepEqual((await t.store.db.selectFrom('customers').select('user_id').execute()).map((c) => c.user_id), ['ann@example.com']);
      } finally {
        await t.cleanup();
      }
    });

    it('imports a Segment NDJSON export that dedupes against the same messages received live', { skip }, async () => {
      const t = await d.open();
      try {
        const live = { userId: 'u1', event: 'Signed Up', messageId: 'm-1', timestamp: '2025-05-01T10:00:00Z' };
        await new IngestWriter(t.store, clock).write(normalizeMessage('track', live, { source: 'segment', receivedAt: NOW }));
        const lines = [
          JSON.stringify({ ...live, type: 'track' }),
          JSON.stringify({ userId: 'u1', event: 'Plan Upgraded', messageId: 'm-2', timestamp: '2025-05-02T10:00:00Z', properties: { plan: 'pro' } }),
          '',
          JSON.stringify({ type: 'identify', userId: 'u1', traits: { email: 'ann@example.com', name: 'Ann' }, timestamp: '2025-05-01T09:00:00Z' }),
          JSON.stringify({ type: 'page', anonymousId: 'a1', name: 'Pricing', timestamp: '2025-05-03T10:00:00Z' }),
          '{"type":"track","userId":',
          JSON.stringify({ type: 'shout', userId: 'u1' }),
          JSON.stringify({ userId: 'u1', event: 'No Time' }),
          JSON.stringify({ userId: 'u2', event: 'Order Completed', messageId: 'm-3', timestamp: '2025-05-04T10:00:00Z', properties: { order_id: 'o1', products: [{ product_id: 'p1', quantity: -1 }] } }),
        ].join('\n');
        const file = fixture('export.jsonl', Buffer.concat([Buffer.from(`${lines}\n`), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(`${JSON.stringify({ userId: 'u3', event: 'Last', messageId: 'm-4', timestamp: 1746500000000 })}\r\n`)]));
        const s = await importFile(t.store, { file, kind: 'events', clock });
        assert.equal(s.source, 'segment');
        assert.equal(s.format, 'ndjson');
        assert.deepEqual([s.rows, s.inserted, s.updated, s.duplicates, s.rejected], [10, 3, 1, 1, 5]);
        assert.deepEqual(readReport(s.report!).map((r) => [r.row, r.field]), [
          [6, '(line)'],
          [7, 'type'],
          [8, 'timestamp'],
          [9, 'properties.products[0].quantity'],
          [10, '(line)'],
        ]);
        const names = await t.store.db.selectFrom('interactions').select(['name', 'source_id']).orderBy('occurred_at').execute();
        assert.deepEqual(names.map((n) => n.name), ['Signed Up', 'Plan Upgraded', 'Pricing', 'Last']);
        const u1 = await t.store.db.selectFrom('customers').selectAll().where('user_id', '=', 'u1').executeTakeFirstOrThrow();
        assert.equal(u1.email, 'ann@example.com');
        assert.equal(u1.interaction_count, 2);
        assert.equal(await count(t.store, 'orders'), 0);

        const again = await importFile(t.store, { file, kind: 'events', clock });
        assert.deepEqual([again.inserted, again.duplicates, again.rejected], [0, 4, 5]);
        assert.equal(await count(t.store, 'interactions'), 4);
      } finally {
        await t.cleanup();
      }
    });

    it('gives CSV events without ids a stable id, so a re-import finds them again', { skip }, async () => {
      const t = await d.open();
      try {
        const file = fixture('touches.csv', 'user_id,name,timestamp,channel,direction,campaign\nu1,Email Sent,2024-06-01T08:00:00Z,Email,,spring\nu1,Call Completed,2024-06-02T08:00:00Z,phone,mutual,\nu2,Visited,2024-06-03T08:00:00Z,,sideways,\n');
        const s = await importFile(t.store, { file, kind: 'events', clock });
        assert.deepEqual([s.source, s.inserted, s.rejected], ['segment', 2, 1]);
        assert.deepEqual(readReport(s.report!).map((r) => [r.row, r.field]), [[3, 'direction']]);
        const rows = await t.store.db.selectFrom('interactions').selectAll().orderBy('occurred_at').execute();
        assert.deepEqual(rows.map((r) => [r.name, r.channel, r.direction, JSON.parse(r.properties) as unknown]), [
          ['Email Sent', 'email', 'outbound', { campaign: 'spring', channel: 'Email' }],
          ['Call Completed', 'phone', 'mutual', { channel: 'phone', direction: 'mutual' }],
        ]);
        const again = await importFile(t.store, { file, kind: 'events', clock: () => NOW + 86_400_000 });
        assert.deepEqual([again.inserted, again.duplicates], [0, 2]);
      } finally {
        await t.cleanup();
      }
    });

    it('writes in batches with backpressure and counts every row', { skip }, async () => {
      const t = await d.open();
      try {
        const n = 2500;
        const lines: string[] = [];
        for (let i = 0; i < n; i++) lines.push(JSON.stringify({ type: 'track', userId: `u${i % 97}`, event: 'Viewed', messageId: `m${i}`, timestamp: 1_700_000_000_000 + i }));
        const file = fixture('many.ndjson', `${lines.join('\n')}\n`);
        const progress: number[] = [];
        const s = await importFile(t.store, { file, kind: 'events', batchSize: 300, clock, onProgress: (p) => progress.push(p.rows) });
        assert.deepEqual([s.rows, s.inserted, s.rejected], [n, n, 0]);
        assert.ok(progress.length >= 8, `progress reported per batch, got ${progress.length}`);
        assert.equal(progress.at(-1), n);
        assert.equal(await count(t.store, 'interactions'), n);
        const total = await t.store.db.selectFrom('customers').select((eb) => eb.fn.sum<number>('interaction_count').as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(total.n), n);
      } finally {
        await t.cleanup();
      }
    });
  });
}

describe('import errors', () => {
  const store = {} as Store; // never reached: the options are checked before the store is used
  it('rejects an unknown kind naming the option', async () => {
    const file = fixture('x.csv', 'a\n1\n');
    await assert.rejects(importFile(store, { file, kind: 'invoices' }), (e: unknown) => e instanceof RapportError && e.code === 'invalid_input' && /--kind: expected one of customers, orders, events, feedback, got "invoices"/.test(e.message));
  });
  it('rejects a missing file as unreadable', async () => {
    await assert.rejects(importFile(store, { file: path.join(dir, 'nope.csv'), kind: 'orders' }), (e: unknown) => e instanceof RapportError && e.code === 'unreadable_file' && /nope\.csv: cannot read the file \(no such file\)/.test(e.message));
  });
  it('asks for --format when the extension does not tell', async () => {
    const file = fixture('x.txt', 'a\n');
    await assert.rejects(importFile(store, { file, kind: 'events' }), /pass --format csv or --format ndjson/);
  });
});

describe('column mapping', () => {
  it('matches aliases regardless of case, spaces and underscores, first alias first', () => {
    assert.equal(columnKey('User ID'), columnKey('user_id'));
    assert.equal(columnKey('userId'), 'userid');
    const m = mapColumns('customers', ['ID', 'E-mail', 'Customer ID', 'Full Name', 'signed_up_at', 'Plan']);
    assert.deepEqual(m.fields, { userId: 2, email: 1, name: 3, createdAt: 4 });
    assert.deepEqual(m.extras.map((i) => m.names[i]), ['ID', 'Plan']);
  });
  it('leaves a field mapped to an empty column name without a column, keeping that column as an extra', () => {
    const m = mapColumns('customers', ['ID', 'E-mail', 'Customer ID', 'Full Name'], { map: { email: '', user_id: 'ID' } });
    assert.deepEqual(m.fields, { userId: 0, name: 3 });
    assert.deepEqual(m.extras.map((i) => m.names[i]), ['E-mail', 'Customer ID']);
  });
  it('reads numbers with currency signs and thousands commas, and rejects others', () => {
    assert.equal(parseNumber('$1,234.50'), 1234.5);
    assert.equal(parseNumber(' 12 '), 12);
    assert.equal(parseNumber(''), undefined);
    assert.ok(Number.isNaN(parseNumber('12abc')));
    assert.ok(Number.isNaN(parseNumber('0x10')));
  });
  it('reads ISO dates (zone-less as UTC) and epoch seconds or milliseconds', () => {
    assert.equal(parseDate('2024-01-05 10:00:00'), Date.parse('2024-01-05T10:00:00Z'));
    assert.equal(parseDate('1714000000'), 1714000000000);
    assert.equal(parseDate('1714000000123'), 1714000000123);
    assert.ok(Number.isNaN(parseDate('foo 1')));
    assert.ok(Number.isNaN(parseDate('17')));
  });
});

describe('the rapport import command', () => {
  const run = (args: string[], db: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'import', ...args], { env: { ...process.env, DATABASE_URL: `sqlite:${db}` }, encoding: 'utf8' });

  it('prints a summary and exits 0; a missing file or unknown kind exits non-zero without creating a database', () => {
    const file = fixture('customers.csv', CUSTOMERS);
    const db = path.join(path.dirname(file), 'rapport.db');
    const r = run([file, '--kind', 'customers'], db);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Imported customers\.csv \(customers, csv, source import\): 3 rows/);
    assert.match(r.stdout, /inserted\s+3\n/);
    assert.match(r.stdout, /rejected\s+0\n/);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    const j = run([file, '--kind', 'customers', '--json'], db);
    assert.equal(j.status, 0, j.stderr);
    const summary = JSON.parse(j.stdout) as { inserted: number; updated: number; rejected: number };
    assert.deepEqual([summary.inserted, summary.updated, summary.rejected], [0, 3, 0]);

    // Rows rejected: the valid ones are stored, the summary and report say so, and the exit code
    // lets a script notice (9, not 0).
    const partial = fixture('partial.csv', 'user_id,email,name\nok-1,ok1@example.com,Ann\n,,Nobody\nok-2,ok2@example.com,Bob\n');
    const p = run([partial, '--kind', 'customers', '--json'], db);
    assert.equal(p.status, 9, p.stderr);
    const ps = JSON.parse(p.stdout) as { inserted: number; rejected: number; report: string };
    assert.deepEqual([ps.inserted, ps.rejected], [2, 1]);
    assert.match(p.stderr, new RegExp(`1 row was rejected and not stored: rows, fields and reasons in ${ps.report.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(fs.readFileSync(ps.report, 'utf8'), /^row,field,reason\n2,/);

    const other = path.join(dir, 'never.db');
    const missing = run([path.join(dir, 'missing.csv'), '--kind', 'customers'], other);
    assert.equal(missing.status, 6);
    assert.match(missing.stderr, /error: .*missing\.csv: cannot read the file \(no such file\)/);
    const kind = run([file, '--kind', 'invoices'], other);
    assert.equal(kind.status, 2);
    assert.match(kind.stderr, /--kind: expected one of customers, orders, events, feedback/);
    assert.ok(!fs.existsSync(other));
  });
});

describe('load mode (SQLite)', async () => {
  const pgSkip = await DIALECTS[1]!.skip();
  /** A Segment export with everything a load must settle at its end. */
  function exportFile(): string {
    const lines: object[] = [];
    const at = (s: number): string => new Date(Date.parse('2025-03-01T00:00:00Z') + s * 1000).toISOString();
    for (let i = 0; i < 400; i++) {
      const user = `u${i % 37}`;
      lines.push({ type: i % 7 === 0 ? 'page' : 'track', event: 'Viewed', name: 'Home', messageId: `m${i}`, userId: user, anonymousId: `a-${user}`, timestamp: at(i), properties: { i } });
    }
    // Twice in the file, and already stored before the import (see `before`).
    lines.push({ type: 'track', event: 'Viewed', messageId: 'm5', userId: 'u5', timestamp: at(5) });
    lines.push({ type: 'track', event: 'Clicked', messageId: 'pre-1', userId: 'u1', timestamp: at(1) });
    // Anonymous visits, then the visitor signs in: the visits merge into u3's history.
    for (let i = 0; i < 5; i++) lines.push({ type: 'page', name: 'Pricing', messageId: `anon-${i}`, anonymousId: 'visitor-9', timestamp: at(500 + i) });
    lines.push({ type: 'identify', messageId: 'id-1', userId: 'u3', anonymousId: 'visitor-9', traits: { email: 'u3@example.com' }, timestamp: at(510) });
    lines.push({ type: 'track', event: 'Signed In', messageId: 'si-1', userId: 'u3', timestamp: at(511) });
    // An alias: the anonymous history of visitor-10 becomes u4's.
    lines.push({ type: 'page', name: 'Blog', messageId: 'anon-10', anonymousId: 'visitor-10', timestamp: at(520) });
    lines.push({ type: 'alias', messageId: 'al-1', userId: 'u4', previousId: 'visitor-10', timestamp: at(521) });
    lines.push({ type: 'track', event: 'Order Completed', messageId: 'o-1', userId: 'u4', timestamp: at(522), properties: { order_id: 'A1', total: 20, currency: 'EUR', products: [{ product_id: 'p1', price: 10, quantity: 2 }] } });
    lines.push({ type: 'track', event: 'Viewed', messageId: 'bad', timestamp: at(530) });
    return fixture('export.ndjson', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  }

  async function before(store: Store): Promise<void> {
    const writer = new IngestWriter(store, clock);
    await writer.write([
      ...normalizeMessage('track', { event: 'Clicked', messageId: 'pre-1', userId: 'u1', timestamp: '2025-03-01T00:00:01Z' }, { source: 'segment', receivedAt: NOW }),
      ...normalizeMessage('track', { event: 'Earlier', messageId: 'pre-2', userId: 'u3', timestamp: '2025-02-01T00:00:00Z' }, { source: 'segment', receivedAt: NOW }),
      ...normalizeMessage('page', { name: 'Docs', messageId: 'pre-3', anonymousId: 'visitor-9', timestamp: '2025-02-02T00:00:00Z' }, { source: 'segment', receivedAt: NOW }),
    ]);
  }

  async function snapshot(store: Store): Promise<unknown> {
    const customers = await sql<Record<string, unknown>>`select coalesce(user_id, '-') as who, email, interaction_count, order_count, revenue, first_seen, last_seen
      from customers order by who, first_seen`.execute(store.db);
    const mix = await sql<Record<string, unknown>>`select coalesce(c.user_id, '-') as who, m.channel, m.direction, m.count
      from customer_channels m join customers c on c.id = m.customer_id order by 1, 2, 3`.execute(store.db);
    const interactions = await sql<Record<string, unknown>>`select coalesce(c.user_id, '-') as who, i.source_id, i.name, i.occurred_at
      from interactions i join customers c on c.id = i.customer_id order by i.source_id`.execute(store.db);
    const identities = await sql<Record<string, unknown>>`select i.value, coalesce(c.user_id, '-') as who from identities i join customers c on c.id = i.customer_id order by 1`.execute(store.db);
    return { customers: customers.rows, mix: mix.rows, interactions: interactions.rows, identities: identities.rows };
  }

  it('stores what an incremental import stores: duplicates, merges, aliases and counters settled at the end', async () => {
    const file = exportFile();
    const results = [];
    for (const mode of ['incremental', 'load'] as const) {
      const t = await DIALECTS[0]!.open();
      try {
        await before(t.store);
        const s = await importFile(t.store, { file, kind: 'events', clock, mode });
        assert.equal(s.mode, mode);
        results.push({ counts: [s.rows, s.inserted, s.updated, s.duplicates, s.rejected], data: await snapshot(t.store) });
        // The indexes are back, as the migration made them.
        const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'interactions' order by name`.execute(t.store.db);
        assert.deepEqual(indexes.rows.map((r) => r.name), ['interactions_customer_time', 'interactions_source_key']);
      } finally {
        await t.cleanup();
      }
    }
    const [incremental, load] = results;
    assert.equal(incremental!.counts[3], 2, 'the in-file twin of m5 and the stored pre-1 are duplicates');
    assert.equal(incremental!.counts[4], 1, 'the message with neither id is rejected');
    assert.deepEqual(load, incremental);
  });

  it('leaves the database as it was when the load fails', async () => {
    const t = await DIALECTS[0]!.open();
    try {
      await before(t.store);
      const was = await snapshot(t.store);
      const file = exportFile();
      let calls = 0;
      await assert.rejects(
        importFile(t.store, { file, kind: 'events', clock, mode: 'load', batchSize: 50, onProgress: () => { if (++calls === 3) throw new Error('stopped'); } }),
        /stopped/,
      );
      assert.deepEqual(await snapshot(t.store), was);
      const indexes = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'index' and tbl_name = 'interactions'`.execute(t.store.db);
      assert.equal(Number(indexes.rows[0]!.n), 2);
      // And it still works afterwards.
      const s = await importFile(t.store, { file, kind: 'events', clock, mode: 'load' });
      assert.equal(s.inserted + s.updated + s.duplicates + s.rejected > 0, true);
    } finally {
      await t.cleanup();
    }
  });

  it('builds the indexes the migrations made', async () => {
    const t = await DIALECTS[0]!.open();
    try {
      const norm = (s: string): string => s.toLowerCase().replace(/["`]/g, '').replace(/\s+/g, ' ').trim();
      for (const index of INTERACTION_INDEXES) {
        const row = await sql<{ sql: string }>`select sql from sqlite_master where name = ${index.name}`.execute(t.store.db);
        assert.equal(norm(row.rows[0]!.sql), norm(index.sql));
      }
    } finally {
      await t.cleanup();
    }
  });

  it('is not picked for a small file, and is refused on PostgreSQL', { skip: pgSkip }, async () => {
    const s = await DIALECTS[0]!.open();
    try {
      assert.equal((await importFile(s.store, { file: exportFile(), kind: 'events', clock })).mode, 'incremental');
    } finally {
      await s.cleanup();
    }
    const t = await DIALECTS[1]!.open();
    try {
      await assert.rejects(importFile(t.store, { file: exportFile(), kind: 'events', clock, mode: 'load' }), /--mode: load mode is for SQLite/);
    } finally {
      await t.cleanup();
    }
  });
});
