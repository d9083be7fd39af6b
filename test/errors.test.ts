import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { importFile } from '../src/ingest/files/import.js';
import { firstInvalidUtf8, jsonProblem } from '../src/core/json.js';
import { failure } from '../src/cli/context.js';
import { openStore } from '../src/store/db.js';
import { SQLite } from '../src/store/sqlite-driver.js';
import { DIALECTS, type TestStore } from './support/stores.js';

/**
 * Errors a client can cause are clear answers in Rapport's shape, `{ error: { code, message,
 * issues? } }`, naming the field (and row): never a 500, a stack trace or Fastify's own format.
 */

const NOW = Date.parse('2026-06-01T12:00:00Z');
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-errors-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Answer {
  statusCode: number;
  json(): unknown;
}
const errorOf = (r: Answer) => (r.json() as { error: { code: string; message: string; issues?: { field: string; message: string }[] } }).error;

/** Asserts a 400 invalid_input whose first issue names `field` and whose message matches. */
function assertRefused(r: Answer, field: string, message: RegExp, label = field): void {
  assert.equal(r.statusCode, 400, `${label}: ${JSON.stringify(r.json())}`);
  const e = errorOf(r);
  assert.equal(e.code, 'invalid_input', label);
  assert.equal(e.issues?.[0]?.field, field, label);
  assert.match(e.message, message, label);
  assert.ok(e.message.startsWith(`${field}: `), `${label}: the message names the field: ${e.message}`);
}

describe('UTF-8 offsets', () => {
  it('finds the first byte that does not begin well-formed UTF-8', () => {
    const cases: [number[], number][] = [
      [[0x61, 0x62], -1],
      [[0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1],
      [[0x61, 0xff], 1],
      [[0x61, 0x80], 1],
      [[0x61, 0xc0, 0xaf], 1], // overlong '/'
      [[0x61, 0x62, 0xe0, 0x80, 0xaf], 2], // overlong, three bytes
      [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
      [[0x61, 0x62, 0x63, 0xe2, 0x82], 3], // truncated at the end
      [[0xc3, 0x28], 0],
    ];
    for (const [bytes, at] of cases) assert.equal(firstInvalidUtf8(Uint8Array.from(bytes)), at, Buffer.from(bytes).toString('hex'));
  });
});

for (const d of DIALECTS) {
  describe(`bodies refused naming the field, on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let ingest = '';
    let editor = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      app = await buildServer({ store: t.store, clock: () => NOW });
      ingest = (await createKey(t.store.db, 'site', 'ingest', NOW)).secret;
      editor = (await createKey(t.store.db, 'staff', 'admin', NOW)).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });
    const send = (url: string, payload: string | Buffer, headers: Record<string, string> = {}, key = ingest, method: 'POST' | 'PATCH' = 'POST') =>
      app.inject({ method, url, headers: { authorization: basic(key), 'content-type': 'application/json', ...headers }, payload });
    const stored = async () => ({
      customers: (await t.store.db.selectFrom('customers').select('id').execute()).length,
      interactions: (await t.store.db.selectFrom('interactions').select('id').execute()).length,
    });

    it('a __proto__ key (or constructor.prototype) anywhere is a 400 naming where it is, on every content type the tracking API takes', { skip }, async () => {
      const proto = '{"userId":"u1","event":"Clicked","properties":{"__proto__":{"admin":true}}}';
      assertRefused(await send('/v1/track', proto), 'properties.__proto__', /keys named __proto__ are not accepted/);
      assertRefused(await send('/v1/track', proto, { 'content-type': 'text/plain' }), 'properties.__proto__', /not accepted/, 'text/plain');
      assertRefused(await send('/v1/track', `data=${encodeURIComponent(proto)}`, { 'content-type': 'application/x-www-form-urlencoded' }), 'properties.__proto__', /not accepted/, 'form');
      assertRefused(await send('/v1/track', gzipSync(proto), { 'content-encoding': 'gzip' }), 'properties.__proto__', /not accepted/, 'gzip');
      assertRefused(
        await send('/v1/identify', '{"userId":"u1","traits":{"plan":"pro","constructor":{"prototype":{"x":1}}}}'),
        'traits.constructor',
        /a constructor key holding prototype is not accepted/,
      );
      assertRefused(
        await send('/v1/batch', JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'A' }] }).replace('"event"', '"__proto__":1,"event"')),
        'batch[0].__proto__',
        /not accepted/,
      );
      assertRefused(await send('/api/themes/1', '{"name":"x","__proto__":{}}', {}, editor, 'PATCH'), '__proto__', /not accepted/, 'API route');
      assert.deepEqual(await stored(), { customers: 0, interactions: 0 });
      // The word itself is ordinary data.
      assert.equal(jsonProblem({ properties: { constructor: 'Lego', nested: { constructor: { name: 'x' } } } }, ''), undefined);
    });

    it('a body that is not UTF-8 is a 400 that says so and at which byte', { skip }, async () => {
      const body = Buffer.concat([Buffer.from('{"userId":"u'), Buffer.from([0xff, 0xfe]), Buffer.from('","event":"e"}')]);
      for (const [label, r] of [
        ['json', await send('/v1/track', body)],
        ['text/plain', await send('/v1/track', body, { 'content-type': 'text/plain' })],
        ['gzip', await send('/v1/track', gzipSync(body), { 'content-encoding': 'gzip' })],
      ] as const) {
        assertRefused(r, 'body', /^body: not valid UTF-8 at byte 12 \(bytes ff fe 22 2c\)/, label);
      }
      const bad = await send('/v1/track', '{"userId":');
      assertRefused(bad, 'body', /^body: expected JSON \(sent as application\/json\): /, 'not JSON');
      assert.deepEqual(await stored(), { customers: 0, interactions: 0 });
    });

    it('a NUL character in any string is a 400 naming the field, and nothing is stored', { skip }, async () => {
      const cases: [string, string, unknown][] = [
        ['/v1/track', 'userId', { userId: 'u\u0000', event: 'Clicked' }],
        ['/v1/track', 'properties.note', { userId: 'u1', event: 'Clicked', properties: { note: 'a\u0000b' } }],
        ['/v1/identify', 'traits.name', { userId: 'u1', traits: { name: 'Ada\u0000' } }],
        ['/v1/page', 'name', { userId: 'u1', name: '\u0000' }],
        ['/v1/batch', 'batch[1].event', { batch: [{ type: 'track', userId: 'u1', event: 'A' }, { type: 'track', userId: 'u1', event: 'B\u0000' }] }],
      ];
      for (const [url, field, body] of cases) assertRefused(await send(url, JSON.stringify(body)), field, /NUL character \(\\u0000\), which cannot be stored/, `${url} ${field}`);
      assertRefused(await send('/v1/track', '{"userId":"u1","event":"A","properties":{"a\\u0000b":1}}'), 'properties', /a key that contains a NUL/, 'a key');
      assertRefused(await send('/api/themes/1', JSON.stringify({ name: 'x\u0000' }), {}, editor, 'PATCH'), 'name', /NUL character/, 'API body');
      const search = await app.inject({ method: 'GET', url: '/api/search?q=a%00b', headers: { authorization: basic(editor) } });
      assertRefused(search, 'query.q', /NUL character/, 'query string');
      const customer = await app.inject({ method: 'GET', url: '/api/customers/a%00b', headers: { authorization: basic(editor) } });
      assertRefused(customer, 'params.userId', /NUL character/, 'path parameter');
      assert.deepEqual(await stored(), { customers: 0, interactions: 0 });
    });

    it('a NUL in an imported file rejects its row naming the column (CSV) or field (NDJSON); the other rows are stored', { skip }, async () => {
      const csv = path.join(dir, `nul-${d.name}.csv`);
      fs.writeFileSync(csv, 'user_id,email,name\nc1,c1@example.com,Ada\nc2,c2@example.com,Bo\u0000b\n');
      const report = path.join(dir, `nul-${d.name}.rejects.csv`);
      const s = await importFile(t.store, { file: csv, kind: 'customers', report, clock: () => NOW });
      assert.equal(s.rejected, 1);
      assert.match(fs.readFileSync(report, 'utf8'), /2,name,.*NUL character/);
      const ndjson = path.join(dir, `nul-${d.name}.ndjson`);
      fs.writeFileSync(ndjson, `${JSON.stringify({ type: 'track', userId: 'c1', event: 'Opened', timestamp: '2026-05-01T00:00:00Z' })}\n${JSON.stringify({ type: 'track', userId: 'c1', event: 'Opened', timestamp: '2026-05-01T00:00:00Z', properties: { via: '\u0000' } })}\n`);
      const n = await importFile(t.store, { file: ndjson, kind: 'events', report, clock: () => NOW });
      assert.equal(n.rejected, 1);
      assert.match(fs.readFileSync(report, 'utf8'), /2,properties\.via,.*NUL character/);
      assert.deepEqual(await stored(), { customers: 1, interactions: 1 });
    });
  });
}

/** Sends raw bytes to a listening server and reads what comes back until it closes the connection. */
function rawRequest(port: number, request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), headers: head, body });
    });
  });
}

describe("Fastify's and Node's own refusals in Rapport's shape", () => {
  let t: TestStore;
  let app: FastifyInstance;
  let port = 0;
  let admin = '';
  before(async () => {
    t = await DIALECTS[0]!.open();
    app = await buildServer({ store: t.store, clock: () => NOW });
    admin = (await createKey(t.store.db, 'staff', 'admin', NOW)).secret;
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await app.close();
    await t.cleanup();
  });
  /** The answer is `{ error: { code, message } }` with this status and code, and the message matches. */
  const assertShape = (status: number, body: unknown, expected: number, code: string, message: RegExp, label: string): void => {
    assert.equal(status, expected, `${label}: ${JSON.stringify(body)}`);
    const e = (body as { error?: { code?: unknown; message?: unknown } }).error;
    assert.equal(typeof e, 'object', `${label}: ${JSON.stringify(body)}`);
    assert.equal(e?.code, code, label);
    assert.match(String(e?.message), message, label);
    assert.deepEqual(Object.keys(body as object), ['error'], label);
  };

  it('answers 414, a bad URL, 404, an unrouted method, 415 and a body too large as Rapport errors', async () => {
    const auth = { authorization: basic(admin) };
    const cases: [string, InjectOptions, number, string, RegExp][] = [
      ['414', { method: 'GET', url: `/api/customers/${'x'.repeat(101)}`, headers: auth }, 414, 'uri_too_long', /^url: a part of the path \/api\/customers\/x+… is longer than 100 characters/],
      ['bad %-escape', { method: 'GET', url: '/api/customers/%E0%A4%A', headers: auth }, 400, 'invalid_input', /^url: .* is not a valid URL/],
      ['404', { method: 'GET', url: '/api/nothing-here', headers: auth }, 404, 'not_found', /^GET \/api\/nothing-here not found/],
      ['405', { method: 'PATCH', url: '/v1/track', headers: auth, payload: '{}' }, 404, 'not_found', /^PATCH \/v1\/track not found/],
      ['415 tracking', { method: 'POST', url: '/v1/track', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<a/>' }, 415, 'unsupported_media_type', /^content-type: /],
      ['415 API', { method: 'POST', url: '/api/themes/merge', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<a/>' }, 415, 'unsupported_media_type', /^content-type: expected application\/json, got application\/xml/],
      ['body too large', { method: 'POST', url: '/v1/track', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"a":"${'x'.repeat(40_000)}"}` }, 400, 'payload_too_large', /^body: larger than the 32 KB limit/],
    ];
    for (const [label, request, status, code, message] of cases) {
      const r = await app.inject(request);
      assertShape(r.statusCode, r.json(), status, code, message, label);
    }
  });

  it("answers what Node refuses before a route runs (headers past 16 KB, a URL that long, not HTTP) in Rapport's shape", async () => {
    const cases: [string, string, number, string, RegExp][] = [
      ['431 header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large', /^headers: .*larger than this server reads/],
      ['long URL', `GET /api/search?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'headers_too_large', /^headers: /],
      ['not HTTP', 'HELLO\r\n\r\n', 400, 'invalid_input', /^request: not a valid HTTP request/],
    ];
    for (const [label, request, status, code, message] of cases) {
      const r = await rawRequest(port, request);
      assert.match(r.headers, /content-type: application\/json/i, label);
      assertShape(r.status, JSON.parse(r.body), status, code, message, label);
    }
  });
});

describe('a full disk is a 503 disk_full with Retry-After, and ingestion recovers when space returns; a read-only database is a 503 read_only', () => {
  let t: TestStore;
  let app: FastifyInstance;
  let ingest = '';
  before(async () => {
    t = await DIALECTS[0]!.open();
    app = await buildServer({ store: t.store, clock: () => NOW });
    ingest = (await createKey(t.store.db, 'site', 'ingest', NOW)).secret;
  });
  after(async () => {
    await app.close();
    await t.cleanup();
  });
  /** A batch large enough to need new database pages: 100 events with 2 KB of properties each. */
  const batch = (tag: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basic(ingest), 'content-type': 'application/json' },
      payload: JSON.stringify({
        batch: Array.from({ length: 100 }, (_, i) => ({ type: 'track', userId: `u-${tag}-${i % 5}`, event: 'Viewed', messageId: `${tag}-${i}`, timestamp: '2026-05-01T00:00:00Z', properties: { note: `${tag} ${i} ${'x'.repeat(2000)}` } })),
      }),
    });
  const interactions = async () => (await t.store.db.selectFrom('interactions').select('id').execute()).length;

  it('SQLite out of pages (a real SQLITE_FULL from PRAGMA max_page_count) answers 503 disk_full; raising the limit lets the same batch in', async () => {
    const sqlite = t.store.sqlite!;
    const pages = Number(sqlite.pragma('page_count', { simple: true }));
    const before = await interactions();
    sqlite.pragma(`max_page_count = ${pages}`);
    const full = await batch('a');
    assert.equal(full.statusCode, 503, full.body);
    assert.deepEqual(full.json(), { error: { code: 'disk_full', message: 'the disk is full: free space and retry' } });
    assert.equal(full.headers['retry-after'], '60');
    assert.equal(await interactions(), before, 'nothing of the refused batch is stored');
    // Batches that arrive together share one transaction (ingest/group.ts), which SQLite gives
    // up whole on a full disk: none of them may be answered as stored.
    const together = await Promise.all(['b', 'c', 'd'].map(batch));
    assert.deepEqual(together.map((r) => [r.statusCode, r.json<{ error: { code: string } }>().error.code]), [[503, 'disk_full'], [503, 'disk_full'], [503, 'disk_full']]);
    assert.equal(await interactions(), before);
    sqlite.pragma('max_page_count = 1073741823');
    const again = await batch('a');
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(await interactions(), before + 100);
  });

  it('a database that stops taking writes while serving (a real SQLITE_READONLY, from PRAGMA query_only) answers 503 read_only', async () => {
    const sqlite = t.store.sqlite!;
    sqlite.pragma('query_only = ON');
    const refused = await batch('e');
    sqlite.pragma('query_only = OFF');
    assert.equal(refused.statusCode, 503, refused.body);
    const e = errorOf(refused);
    assert.equal(e.code, 'read_only');
    assert.match(e.message, /^the database is read-only \(attempt to write a readonly database\): make it writable by the user Rapport runs as$/);
    assert.equal((await batch('e')).statusCode, 200);
  });
});

const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');
const CI = process.env['CI'] === 'true';

/** A reason to skip, or false; under CI=true what is missing fails the test instead. */
function skipUnless(available: boolean, why: string): string | false {
  if (available) return false;
  if (CI) throw new Error(`required under CI: ${why}`);
  return why;
}

/**
 * Runs `rapport …` in a child process on `databaseUrl`, as the unprivileged user `nobody` when
 * `asNobody` (through runuser: root writes any file, whatever its mode, as users do not).
 */
function rapportOn(databaseUrl: string, args: string[], asNobody = false): { code: number | null; out: string; err: string } {
  const env = { DATABASE_URL: databaseUrl, DOTENV_CONFIG_QUIET: 'true', TZ: 'UTC', HOME: os.tmpdir(), PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const node = [process.execPath, '--import', TSX, MAIN, ...args];
  const r = asNobody
    ? spawnSync('runuser', ['-u', 'nobody', '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...node], { encoding: 'utf8', timeout: 60_000 })
    : spawnSync(node[0]!, node.slice(1), { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** No stack trace: the error is one line (plus notes), never `    at …` frames. */
function assertNoStack(stderr: string, label: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `${label}: ${stderr}`);
}

describe('the CLI on a full disk: one line "the disk is full", exit 10', () => {
  it('formats a real SQLITE_FULL from better-sqlite3 as one line and exit 10', () => {
    const sqlite = new SQLite(':memory:');
    sqlite.exec('create table t (b blob)');
    sqlite.pragma(`max_page_count = ${Number(sqlite.pragma('page_count', { simple: true })) + 2}`);
    let full: unknown;
    try {
      for (let i = 0; i < 100; i++) sqlite.prepare('insert into t values (?)').run(Buffer.alloc(4096));
    } catch (e) {
      full = e;
    }
    sqlite.close();
    assert.equal((full as { code?: string }).code, 'SQLITE_FULL');
    assert.deepEqual(failure(full), { text: 'error: the disk is full: free space and retry\n', exitCode: 10 });
  });

  const devFull = fs.existsSync('/dev/full');
  it('rapport import whose report lands on a full disk (/dev/full: a real ENOSPC) says so and exits 10', { skip: skipUnless(devFull, '/dev/full is missing') }, () => {
    const csv = path.join(dir, 'bad-email.csv');
    fs.writeFileSync(csv, 'user_id,email,name\nc1,not-an-email,Ada\n');
    const r = rapportOn(`sqlite:${path.join(dir, 'devfull.db')}`, ['import', csv, '--kind', 'customers', '--report', '/dev/full']);
    assert.equal(r.code, 10, r.err);
    assert.match(r.err, /^error: the disk is full: free space and retry$/m);
    assertNoStack(r.err, 'import');
  });

  // A small file system of its own that really fills up (mounting one needs root).
  const root = process.getuid?.() === 0;
  const disk = path.join(dir, 'disk');
  let mounted = false;
  if (root) {
    fs.mkdirSync(disk);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]).status === 0;
  }
  after(() => {
    if (mounted) spawnSync('umount', [disk]);
  });
  it('rapport import onto a disk that is full exits 10 with one line, and imports once space is freed', { skip: skipUnless(mounted, 'mounting a small tmpfs needs root (and CAP_SYS_ADMIN)'), timeout: 120_000 }, async () => {
    const url = `sqlite:${path.join(disk, 'rapport.db')}`;
    const first = await openStore({ kind: 'sqlite', file: path.join(disk, 'rapport.db') });
    await first.close();
    const csv = path.join(dir, 'many.csv');
    const rows = Array.from({ length: 4000 }, (_, i) => `c${i},c${i}@example.com,Customer ${i} ${'with a long name '.repeat(3)}`);
    fs.writeFileSync(csv, `user_id,email,name\n${rows.join('\n')}\n`);
    const filler = path.join(disk, 'filler');
    const fill = (leave: number) => {
      const st = fs.statfsSync(disk);
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - leave)));
    };
    // No room at all: SQLite cannot even create its shared-memory file (an I/O error to it).
    fill(0);
    const none = rapportOn(url, ['keys', 'list']);
    assert.equal(none.code, 10, none.err);
    assert.match(none.err, /^error: the disk is full: free space and retry$/m);
    assertNoStack(none.err, 'no room');
    fs.rmSync(filler);
    // Room to open the database, not to import the file.
    fill(200 * 1024);
    const full = rapportOn(url, ['import', csv, '--kind', 'customers']);
    assert.equal(full.code, 10, full.err);
    assert.match(full.err, /^error: the disk is full: free space and retry$/m);
    assertNoStack(full.err, 'full');
    fs.rmSync(filler);
    const again = rapportOn(url, ['import', csv, '--kind', 'customers']);
    assert.equal(again.code, 0, again.err);
    const store = await openStore({ kind: 'sqlite', file: path.join(disk, 'rapport.db') });
    assert.equal((await store.db.selectFrom('customers').select('id').execute()).length, 4000);
    await store.close();
  });
});

/**
 * What serve, import and search do on a database this user cannot write: serve and import
 * refuse at once with one line naming it (exit 11), serve before it says it is running;
 * search, which only reads, searches the index as it is and says so.
 */
function assertReadOnlyCommands(url: string, named: RegExp, asNobody: boolean, csv: string): void {
  const serve = rapportOn(url, ['serve', '--port', '0', '--no-demo'], asNobody);
  assert.equal(serve.code, 11, `serve: ${serve.out}${serve.err}`);
  assert.doesNotMatch(serve.out, /running/);
  assert.match(serve.err, new RegExp(`^error: the database at ${named.source} is read-only: `, 'm'));
  assertNoStack(serve.err, 'serve');
  const imported = rapportOn(url, ['import', csv, '--kind', 'feedback'], asNobody);
  assert.equal(imported.code, 11, `import: ${imported.err}`);
  assert.match(imported.err, new RegExp(`^error: the database at ${named.source} is read-only: `, 'm'));
  assertNoStack(imported.err, 'import');
  const found = rapportOn(url, ['search', 'checkout'], asNobody);
  assert.equal(found.code, 0, `search: ${found.err}`);
  assert.match(found.out, /^1 match for checkout/);
  assert.match(found.err, /^note: the database at .* is read-only: searching the index as it is/m);
  assertNoStack(found.err, 'search');
  // The other commands that only read work too.
  for (const args of [['keys', 'list'], ['themes', 'list'], ['tags', 'list'], ['defects']]) {
    const r = rapportOn(url, args, asNobody);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  }
}

describe('a read-only database: serve and import refuse in one line (exit 11), search and listings still read', () => {
  const feedback = (at: string) => {
    const csv = path.join(at, 'feedback.csv');
    fs.writeFileSync(csv, 'id,text,created_at\nf1,the checkout page crashes when I pay,2026-01-02\n');
    fs.chmodSync(csv, 0o644);
    return csv;
  };
  /** Imports and indexes one feedback item, as the database's owner. */
  const prepare = (url: string, csv: string) => {
    for (const args of [['import', csv, '--kind', 'feedback', '--no-listen'], ['search', 'checkout']]) {
      const r = rapportOn(url, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    }
  };

  // Root writes a file whatever its mode: the commands then run as an ordinary user would.
  const root = process.getuid?.() === 0;
  const runuser = spawnSync('runuser', ['--help']).status === 0;
  it('SQLite: a file this user cannot write (chmod 444)', { skip: skipUnless(!root || runuser, 'tests run as root and runuser is missing'), timeout: 180_000 }, () => {
    const at = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-readonly-'));
    try {
      // The directory stays writable (SQLite keeps its -wal and -shm files there), the file is not.
      fs.chmodSync(at, 0o777);
      const file = path.join(at, 'rapport.db');
      const csv = feedback(at);
      prepare(`sqlite:${file}`, csv);
      fs.chmodSync(file, 0o444);
      assertReadOnlyCommands(`sqlite:${file}`, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), root, csv);
      // A directory it cannot write either: SQLite cannot even read without its -shm file there.
      fs.chmodSync(at, 0o755);
      for (const f of fs.readdirSync(at).filter((n) => n.includes('.db-'))) fs.rmSync(path.join(at, f));
      const r = rapportOn(`sqlite:${file}`, ['search', 'checkout'], root);
      assert.equal(r.code, 11, r.err);
      assert.match(r.err, /^error: the database at .* is read-only: SQLite cannot create rapport\.db-wal and -shm beside it, which it needs even to read it \(the directory .* is not writable\)/m);
      assertNoStack(r.err, 'search, read-only directory');
    } finally {
      fs.rmSync(at, { recursive: true, force: true });
    }
  });

  it('PostgreSQL: a database whose transactions are read-only (default_transaction_read_only)', { skip: false, timeout: 180_000 }, async (ctx) => {
    const why = await DIALECTS[1]!.skip();
    if (why) return ctx.skip(why);
    const t = await DIALECTS[1]!.open();
    const at = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-readonly-'));
    try {
      const csv = feedback(at);
      prepare(t.url, csv);
      const readOnly = t.url.replace('options=', `options=${encodeURIComponent('-c default_transaction_read_only=on ')}`);
      assertReadOnlyCommands(readOnly, /PostgreSQL [^ ]+/, false, csv);
    } finally {
      fs.rmSync(at, { recursive: true, force: true });
      await t.cleanup();
    }
  });
});
