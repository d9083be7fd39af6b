import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.js';

/**
 * Every database test runs on SQLite and on a real PostgreSQL. PostgreSQL comes from
 * RAPPORT_TEST_PG_URL (default postgres://root:rapport@127.0.0.1:5432/rapport_test); each store gets
 * a schema of its own. Without a server the PostgreSQL half is skipped with a message, except
 * under CI=true where a missing server is a failure.
 */
export const PG_URL = process.env['RAPPORT_TEST_PG_URL'] ?? 'postgres://root:rapport@127.0.0.1:5432/rapport_test';
const CI = process.env['CI'] === 'true';

let pgAvailable: Promise<string | null> | undefined;

/** Returns null when PostgreSQL is reachable, else the reason it is not. */
export function postgresUnavailable(): Promise<string | null> {
  const attempt = async (): Promise<string | null> => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 10000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  // A suite busy computing on the event loop (a demo load) can hold up the connection past
  // its timeout although the server is up: a timeout is tried again before giving up.
  pgAvailable ??= (async () => {
    for (let i = 0; i < 3; i++) {
      const why = await attempt();
      if (why === null || !/timeout/i.test(why)) return why;
    }
    return 'connection timeout (3 attempts)';
  })();
  return pgAvailable;
}

export interface TestStore {
  store: Store;
  /** The DATABASE_URL that opens this same store from another process. */
  url: string;
  cleanup(): Promise<void>;
}

export async function sqliteStore(): Promise<TestStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-test-'));
  const file = path.join(dir, 'rapport.db');
  const store = await openStore({ kind: 'sqlite', file });
  return {
    store,
    url: `sqlite:${file}`,
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresStore(): Promise<TestStore> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const sep = PG_URL.includes('?') ? '&' : '?';
  const url = `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const store = await openStore({ kind: 'postgres', url });
  return {
    store,
    url,
    async cleanup() {
      await store.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export interface DialectCase {
  name: 'sqlite' | 'postgres';
  open: () => Promise<TestStore>;
  /** A reason to skip, or false. Under CI a missing PostgreSQL fails instead of skipping. */
  skip: () => Promise<string | false>;
}

export const DIALECTS: DialectCase[] = [
  { name: 'sqlite', open: sqliteStore, skip: async () => false },
  {
    name: 'postgres',
    open: postgresStore,
    skip: async () => {
      const why = await postgresUnavailable();
      if (why === null) return false;
      if (CI) throw new Error(`PostgreSQL is required under CI but ${PG_URL} is unreachable: ${why}`);
      return `PostgreSQL not reachable at ${PG_URL} (${why}); start it (pg_ctlcluster 15 main start) or set RAPPORT_TEST_PG_URL to run these`;
    },
  },
];

/** Where the shared public datasets are; RAPPORT_SHARED_DATA overrides. */
export const SHARED_DATA = process.env['RAPPORT_SHARED_DATA'] ?? path.resolve(import.meta.dirname, '../../../shared/data');
