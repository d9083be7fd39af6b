import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrate, openStore } from '../src/store/db.js';
import { sourceKey } from '../src/store/source-key.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { normalizeMessage } from '../src/ingest/segment/segment.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const opts = { source: 'segment', receivedAt: NOW };

describe('SQLite interaction keys', () => {
  it('spreads keys over 53 bits and tells near-identical ids apart', () => {
    const keys = new Set<number>();
    for (let i = 0; i < 200_000; i++) {
      const k = sourceKey('segment', `msg-${i}`);
      assert.ok(Number.isSafeInteger(k) && k >= 0, `key ${k} is a safe non-negative integer`);
      keys.add(k);
    }
    assert.equal(keys.size, 200_000);
    assert.notEqual(sourceKey('a', 'bc'), sourceKey('ab', 'c'));
    assert.equal(sourceKey('segment', 'x'), sourceKey('segment', 'x'));
  });

  it('keeps the interactions of a database made before keys, and still finds their duplicates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-migrate-'));
    try {
      const target = { kind: 'sqlite' as const, file: path.join(dir, 'r.db') };
      const old = await openStore(target, { migrate: false });
      await migrate(old, { to: '001_foundation' });
      // As the writer of that schema stored it.
      await sql`insert into customers (id, user_id, traits, interaction_count, created_at, updated_at) values (1, 'u1', '{}', 1, ${NOW}, ${NOW})`.execute(old.db);
      await sql`insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at)
        values (1, 'track', 'Old', 'web', 'inbound', ${Date.parse('2025-01-01T00:00:00Z')}, '{}', 'segment', 'm-old', ${NOW})`.execute(old.db);
      await old.close();

      const store = await openStore(target);
      try {
        const rows = await sql<{ source_id: string; source_key: number }>`select source_id, source_key from interactions`.execute(store.db);
        assert.deepEqual(rows.rows, [{ source_id: 'm-old', source_key: sourceKey('segment', 'm-old') }]);
        const w = new IngestWriter(store, () => NOW);
        const again = await w.write(normalizeMessage('track', { userId: 'u1', event: 'Old', messageId: 'm-old', timestamp: '2025-01-01T00:00:00Z' }, opts));
        assert.deepEqual(again, { inserted: 0, updated: 0, duplicates: 1 });
        const c = await store.db.selectFrom('customers').select('interaction_count').executeTakeFirstOrThrow();
        assert.equal(c.interaction_count, 1);
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats a key shared by two different records as two records', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-keys-'));
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'r.db') });
    try {
      const w = new IngestWriter(store, () => NOW);
      await w.write(normalizeMessage('track', { userId: 'u1', event: 'A', messageId: 'm-a', timestamp: '2025-01-01T00:00:00Z' }, opts));
      // Give the stored row the key that m-b will have: a collision, as 53-bit keys allow.
      await sql`update interactions set source_key = ${sourceKey('segment', 'm-b')}`.execute(store.db);
      const b = await w.write(normalizeMessage('track', { userId: 'u1', event: 'B', messageId: 'm-b', timestamp: '2025-01-02T00:00:00Z' }, opts));
      assert.deepEqual(b, { inserted: 1, updated: 0, duplicates: 0 });
      const bAgain = await w.write(normalizeMessage('track', { userId: 'u1', event: 'B', messageId: 'm-b', timestamp: '2025-01-02T00:00:00Z' }, opts));
      assert.deepEqual(bAgain, { inserted: 0, updated: 0, duplicates: 1 });
      const names = (await store.db.selectFrom('interactions').select('name').orderBy('id').execute()).map((r) => r.name);
      assert.deepEqual(names, ['A', 'B']);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite checkpointer', () => {
  it('copies committed pages into the database file from its own thread, and stops cleanly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-ckpt-'));
    try {
      const file = path.join(dir, 'r.db');
      const store = await openStore({ kind: 'sqlite', file }, { checkpointer: true });
      const before = fs.statSync(file).size;
      const writer = new IngestWriter(store, () => NOW);
      const msgs = Array.from({ length: 2000 }, (_, i) =>
        normalizeMessage('track', { userId: `u${i % 50}`, event: 'Viewed', messageId: `m${i}`, timestamp: '2025-06-01T00:00:00Z', properties: { n: i } }, opts),
      ).flat();
      await writer.write(msgs);
      // The writer's own checkpoints start only past 16,384 log pages: growth of the file is the thread's doing.
      const deadline = Date.now() + 5000;
      while (fs.statSync(file).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(fs.statSync(file).size > before, `database file grew from ${before} bytes`);
      await store.close();
      const again = await openStore({ kind: 'sqlite', file });
      const n = await again.db.selectFrom('interactions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 2000);
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('backup under load', () => {
  it('finishes a checked copy while another process keeps writing, replaces an older copy, and leaves nothing half-written', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-backup-'));
    const file = path.join(dir, 'r.db');
    const store = await openStore({ kind: 'sqlite', file });
    const { spawn } = await import('node:child_process');
    const { backup } = await import('../src/store/db.js');
    // Another process writes events through the real writer, without pause, the whole time.
    const script = path.join(dir, 'writer.mts');
    fs.writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(path.resolve('src/store/db.ts'))};
import { IngestWriter } from ${JSON.stringify(path.resolve('src/ingest/writer/writer.ts'))};
const s = await openStore({ kind: 'sqlite', file: ${JSON.stringify(file)} }, { migrate: false });
const w = new IngestWriter(s, () => ${NOW});
let n = 0;
process.stdout.write('ready\\n');
for (;;) {
  const batch = Array.from({ length: 200 }, () => ({ kind: 'interaction', who: { userId: 'u' + (n % 500) }, type: 'track', name: 'Viewed', channel: 'web', direction: 'inbound', at: ${NOW} - n, properties: { pad: 'x'.repeat(200) }, source: 'load', sourceId: 'e' + n++ }));
  await w.write(batch);
}
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the writer exited with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 1500));
      const dest = path.join(dir, 'copy.db');
      const counts: number[] = [];
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        const r = await backup(store, dest);
        assert.ok(Date.now() - started < 30_000, 'finished while the writes went on');
        assert.equal(r.replaced, i === 1);
        assert.ok(r.tables >= 10);
        const { SQLite } = await import('../src/store/sqlite-driver.js');
        const copy = new SQLite(dest, { readonly: true });
        assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
        counts.push((copy.prepare('select count(*) as n from interactions').get() as { n: number }).n);
        copy.close();
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(counts[0]! > 0 && counts[1]! > counts[0]!, `the second copy holds the later writes (${counts.join(' → ')})`);
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('partial')), []);
      await assert.rejects(backup(store, file), /is the database itself/);
    } finally {
      child.kill('SIGKILL');
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
