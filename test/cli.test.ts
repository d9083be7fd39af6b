import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SQLite } from '../src/store/sqlite-driver.js';

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

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Starts `rapport serve` in `cwd`, waits until it has said how to sign in, returns what it printed and a stop. */
async function serve(cwd: string, env: NodeJS.ProcessEnv): Promise<{ out: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--no-demo'], { cwd, env: { ...process.env, DATABASE_URL: '', RAPPORT_CLV_EVERY_HOURS: '0', ...env } });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rapport serve said no way in within 60 s:\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/sign in|signin/i.test(out) && out.endsWith('\n\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`rapport serve exited ${code}:\n${out}\n${err}`)));
  });
  return {
    out,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const linkIn = (text: string): string => text.match(/https?:\/\/\S+\/auth\/signin\?token=\S+/)![0];

describe('signing in to rapport serve', () => {
  it('says how to sign in on every start, and rapport staff link prints the address the server listens at', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-serve-'));
    const port = await freePort();
    const env = { PORT: String(port), RAPPORT_PUBLIC_URL: '' };
    try {
      // First start: the first admin's link.
      let s = await serve(dir, env);
      const first = linkIn(s.out);
      assert.ok(first.startsWith(`http://localhost:${port}/auth/signin?token=`), s.out);
      const signedIn = await fetch(first, { redirect: 'manual' });
      assert.equal(signedIn.status, 302);
      // The staff link made while it runs points at the same server, and signs in there.
      const link = rapport(['staff', 'link'], { cwd: dir, env });
      assert.equal(link.code, 0, link.err);
      assert.ok(link.out.startsWith(`http://localhost:${port}/auth/signin?token=`), link.out);
      assert.equal((await fetch(linkIn(link.out), { redirect: 'manual' })).status, 302);
      assert.ok(rapport(['staff', 'link', '--port', '4123'], { cwd: dir, env }).out.startsWith('http://localhost:4123/'));
      assert.ok(rapport(['staff', 'link'], { cwd: dir, env: { ...env, RAPPORT_PUBLIC_URL: 'https://rapport.example' } }).out.startsWith('https://rapport.example/auth/signin?token='));
      assert.ok(rapport(['staff', 'link', '--url', 'https://other.example'], { cwd: dir, env: { ...env, RAPPORT_PUBLIC_URL: 'https://rapport.example' } }).out.startsWith('https://other.example/'));
      assert.equal(rapport(['staff', 'link', '--port', 'x'], { cwd: dir, env }).code, 2);
      await s.stop();
      // A restart with a signed-in browser: the command that makes a link.
      s = await serve(dir, env);
      await s.stop();
      assert.match(s.out, /rapport staff link/);
      // A restart when every session has expired: a fresh link that works.
      const db = new SQLite(path.join(dir, 'data', 'rapport.db'));
      db.prepare('update staff_sessions set expires_at = 0').run();
      db.close();
      s = await serve(dir, env);
      try {
        const fresh = linkIn(s.out);
        assert.equal((await fetch(fresh, { redirect: 'manual' })).status, 302);
      } finally {
        await s.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

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
      // Again to the same path: the older copy is replaced by a complete, checked new one.
      assert.equal(rapport(['keys', 'create', '--name', 'b', '--scope', 'read'], { cwd: dir }).code, 0);
      const again = rapport(['backup', 'copy.db'], { cwd: dir });
      assert.equal(again.code, 0, again.err);
      assert.match(again.out, /checked; the older copy there was replaced/);
      const second = new SQLite(path.join(dir, 'copy.db'), { readonly: true });
      const m = second.prepare('select count(*) as n from api_keys').get() as { n: number };
      second.close();
      assert.equal(m.n, 2);
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('partial')), [], 'no partial file left');
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

describe('the installed command and signals', () => {
  const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'rapport.mjs');
  const built = fs.existsSync(path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js'));
  const skip = built || process.env['CI'] === 'true' ? false : 'dist/ is not built (npm run build): the launcher test is skipped';
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const childrenOf = (pid: number): number[] =>
    spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`stops an import when its process id gets ${signal}, the work with it`, { skip, timeout: 90_000 }, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-kill-'));
      try {
        const file = path.join(dir, 'events.ndjson');
        const lines: string[] = [];
        for (let i = 0; i < 200_000; i++) lines.push(JSON.stringify({ type: 'track', userId: `u${i % 3000}`, event: 'Viewed', messageId: `k${i}`, timestamp: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString() }));
        fs.writeFileSync(file, lines.join('\n'));
        const launcher = spawn(process.execPath, [BIN, 'import', file, '--kind', 'events', '--mode', 'incremental', '--no-listen'], { cwd: dir, stdio: 'ignore' });
        let work: number[] = [];
        for (let i = 0; i < 100 && work.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
          work = childrenOf(launcher.pid!);
        }
        assert.equal(work.length, 1, 'the launcher runs the import in one child');
        await new Promise((r) => setTimeout(r, 1500));
        launcher.kill(signal);
        const asked = Date.now();
        while (alive(work[0]!) && Date.now() - asked < 10_000) await new Promise((r) => setTimeout(r, 100));
        assert.equal(alive(work[0]!), false, `the import's work stopped after ${signal} to the launcher`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('output into a pipe that closes early', () => {
  it('ends quietly with exit 0 when the reader stops (rapport … | head)', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-epipe-'));
    try {
      const file = path.join(dir, 'texts.csv');
      fs.writeFileSync(file, ['text', ...Array.from({ length: 20_000 }, (_, i) => `"the parcel ${i} never arrived, still waiting"`)].join('\n'));
      const r = spawnSync('sh', ['-c', `"${process.execPath}" --import "${import.meta.resolve('tsx')}" "${path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts')}" text sentiment --input "${file}" | head -n 2 > /dev/null`], { encoding: 'utf8' });
      assert.doesNotMatch(r.stderr, /EPIPE|Error/, r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
