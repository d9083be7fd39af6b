import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import SQLite from 'better-sqlite3';

const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
// Resolved here, so that the command can run from any working directory.
const TSX = import.meta.resolve('tsx');

function rapport(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, DATABASE_URL: '', ...opts.env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the rapport command', () => {
  it('uses ./data/rapport.db in the working directory and prints a new key alone on its last line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-cli-'));
    try {
      const r = rapport(['keys', 'create', '--name', 'website', '--scope', 'ingest'], { cwd: dir });
      assert.equal(r.code, 0, r.err);
      const last = r.out.trim().split('\n').pop()!;
      assert.match(last, /^rk_ingest_[A-Za-z0-9_-]{40,}$/);
      assert.ok(fs.existsSync(path.join(dir, 'data', 'rapport.db')));
      const list = rapport(['keys', 'list', '--json'], { cwd: dir });
      const keys = JSON.parse(list.out) as { name: string; scope: string }[];
      assert.deepEqual(keys.map((k) => [k.name, k.scope]), [['website', 'ingest']]);
      assert.ok(!list.out.includes(last), 'listing must never show a secret');
      // Stored hashed: the secret appears nowhere in the database file.
      const db = new SQLite(path.join(dir, 'data', 'rapport.db'), { readonly: true });
      const hashes = db.prepare('select hash from api_keys').all() as { hash: string }[];
      db.close();
      assert.equal(hashes.length, 1);
      assert.notEqual(hashes[0]!.hash, last);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown scope with a message naming the option and a non-zero exit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-cli-'));
    try {
      const r = rapport(['keys', 'create', '--name', 'x', '--scope', 'root'], { cwd: dir });
      assert.notEqual(r.code, 0);
      assert.match(r.err, /--scope: expected one of ingest, read, admin/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('backs up the database to a consistent copy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-cli-'));
    try {
      assert.equal(rapport(['keys', 'create', '--name', 'a', '--scope', 'read'], { cwd: dir }).code, 0);
      const r = rapport(['backup', 'copy.db'], { cwd: dir });
      assert.equal(r.code, 0, r.err);
      const copy = new SQLite(path.join(dir, 'copy.db'), { readonly: true });
      const n = copy.prepare('select count(*) as n from api_keys').get() as { n: number };
      copy.close();
      assert.equal(n.n, 1);
      const again = rapport(['backup', 'copy.db'], { cwd: dir });
      assert.notEqual(again.code, 0);
      assert.match(again.err, /already exists/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has --help on every subcommand', () => {
    for (const cmd of [[], ['serve'], ['import'], ['demo'], ['keys'], ['keys', 'create'], ['backup'], ['staff', 'link']]) {
      const r = rapport([...cmd, '--help']);
      assert.equal(r.code, 0, `${cmd.join(' ')} --help: ${r.err}`);
      assert.match(r.out, /Usage: rapport/);
    }
  });

  it('exits 2 on every usage error, 0 on help and version', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-cli-'));
    try {
      fs.writeFileSync(path.join(dir, 'c.csv'), 'user_id\nu1\n');
      const usage: [string[], RegExp][] = [
        [['import', 'c.csv'], /--kind/],
        [['import', '--kind', 'customers'], /missing required argument/],
        [['keys', 'create', '--name', 'x', '--scope', 'read', '--nope'], /unknown option '--nope'/],
        [['nope'], /unknown command 'nope'/],
        [['clv', 'fit', '--transactions'], /argument missing/],
        [[], /Usage: rapport/],
      ];
      for (const [args, message] of usage) {
        const r = rapport(args, { cwd: dir });
        assert.equal(r.code, 2, `rapport ${args.join(' ')}: ${r.err}`);
        assert.match(r.err, message);
      }
      assert.equal(rapport(['--version'], { cwd: dir }).code, 0);
      assert.equal(rapport(['import', '--help'], { cwd: dir }).code, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a bad DATABASE_URL as a configuration error', () => {
    const r = rapport(['keys', 'list'], { env: { DATABASE_URL: 'mysql://nope' } });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /DATABASE_URL: expected postgres/);
  });
});
