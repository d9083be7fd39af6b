import fs from 'node:fs';
import path from 'node:path';
import type SQLiteTypes from 'better-sqlite3';
import { SQLite } from './sqlite-driver.js';
import pg from 'pg';
import {
  Kysely,
  sql,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import type { DatabaseTarget } from '../core/config.js';
import { RapportError } from '../core/errors.js';
import type { Database } from './schema.js';
import { foundation } from './migrations/001_foundation.js';
import { interactionKeys } from './migrations/002_interaction_keys.js';
import { customerValue } from './migrations/003_customer_value.js';
import { customerSegments } from './migrations/004_customer_segments.js';
import { listening } from './migrations/005_listening.js';
import { search } from './migrations/006_search.js';
import { searchFilterTerms } from './migrations/007_search_filter_terms.js';
import { searchTimeTerms } from './migrations/008_search_time_terms.js';
import { jobRuns } from './migrations/009_job_runs.js';
import { themeEdits } from './migrations/010_theme_edits.js';
import { sourceKey } from './source-key.js';
import { startCheckpointer } from './checkpointer.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
/** A handle usable by repository functions: the database or a transaction on it. */
export type Conn = Kysely<Database>;

/** An open store: the Kysely handle plus what a few operations (backup) need underneath. */
export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  readonly target: DatabaseTarget;
  /** The raw SQLite connection (for online backup); undefined on PostgreSQL. */
  readonly sqlite: SQLiteTypes.Database | undefined;
  close(): Promise<void>;
}

// PostgreSQL returns int8 (bigint) and numeric as strings; every such value here fits a double.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface OpenOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /**
   * SQLite file: checkpoint the write-ahead log from a thread of its own (see
   * store/checkpointer.ts), for long-running writers (the server, imports).
   */
  checkpointer?: boolean;
  /** SQLite: a connection that only reads (`PRAGMA query_only`), such as a search thread's. */
  queryOnly?: boolean;
}

/** Opens (creating when needed) the database and applies pending migrations. */
export async function openStore(target: DatabaseTarget, options: OpenOptions = {}): Promise<Store> {
  const store = target.kind === 'sqlite' ? openSqlite(target, options) : openPostgres(target);
  if (options.migrate !== false) await migrate(store);
  return store;
}

function openSqlite(target: Extract<DatabaseTarget, { kind: 'sqlite' }>, options: OpenOptions): Store {
  if (target.file !== ':memory:') {
    try {
      fs.mkdirSync(path.dirname(target.file), { recursive: true });
    } catch (e) {
      throw new RapportError('config', `cannot create the data directory for ${target.file}: ${(e as Error).message}`);
    }
  }
  const sqlite = new SQLite(target.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Deleted rows and freed pages are overwritten with zeros, so that an erased customer's data
  // does not linger in the file's free space (see store/reclaim.ts).
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  if (options.queryOnly) sqlite.pragma('query_only = ON');
  sqlite.function('rapport_source_key', { deterministic: true }, (source: unknown, id: unknown) => sourceKey(String(source), String(id)));
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  const checkpointer = options.checkpointer && target.file !== ':memory:' ? startCheckpointer(sqlite, target.file) : undefined;
  return {
    db,
    dialect: 'sqlite',
    target,
    sqlite,
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * Transactions take the write lock when they begin (`begin immediate`). Other connections write
 * to the same file (a job's thread, `rapport import` beside the server): a transaction begun
 * deferred that read before another connection committed could not upgrade to a writer and
 * would fail at once, where an immediate one waits its turn (busy_timeout).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

function openPostgres(target: Extract<DatabaseTarget, { kind: 'postgres' }>): Store {
  const pool = new pg.Pool({ connectionString: target.url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    target,
    sqlite: undefined,
    async close() {
      await db.destroy();
    },
  };
}

/** Versioned migrations, in order. Names sort; never rename or edit one that has shipped. */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '001_foundation': foundation(dialect),
    '002_interaction_keys': interactionKeys(dialect),
    '003_customer_value': customerValue(dialect),
    '004_customer_segments': customerSegments(),
    '005_listening': listening(dialect),
    '006_search': search(dialect),
    '007_search_filter_terms': searchFilterTerms(dialect),
    '008_search_time_terms': searchTimeTerms(dialect),
    '009_job_runs': jobRuns(dialect),
    '010_theme_edits': themeEdits(dialect),
  };
}

/** Applies pending migrations; `to` stops at that one (tests of a migration start below it). */
export async function migrate(store: Store, options: { to?: string } = {}): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(store.dialect) };
  // On PostgreSQL keep Kysely's bookkeeping in the schema we migrate, so that several Rapport
  // schemas (or other applications) can share one database.
  const schema =
    store.dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({ db: store.db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = options.to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(options.to);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new RapportError(
      'internal',
      `migration ${failed?.migrationName ?? '?'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
    );
  }
}

/**
 * A consistent copy of the database while it is in use. SQLite: `VACUUM INTO` a temporary file
 * beside the destination, which copies one snapshot in a single read transaction: writers
 * (the server, an import) keep going in WAL mode and cannot make it start over, as the online
 * backup API does at every change another connection makes (under steady ingestion it never
 * finished). The copy is then checked (`quick_check`, and the tables are there) and renamed
 * over the destination only when complete, so an older backup at that path is replaced whole
 * or not at all, and a failed or interrupted backup leaves no half-written file behind.
 * PostgreSQL: pg_dump is the tool; this says so rather than pretending.
 */
export async function backup(store: Store, file: string): Promise<{ bytes: number; tables: number; replaced: boolean }> {
  if (!store.sqlite) {
    throw new RapportError('invalid_input', 'backup: this database is PostgreSQL; back it up with pg_dump (for example pg_dump -Fc "$DATABASE_URL" > rapport.dump), and restore with pg_restore. rapport backup copies SQLite databases');
  }
  const dest = path.resolve(file);
  if (store.target.kind === 'sqlite' && path.resolve(store.target.file) === dest) throw new RapportError('invalid_input', `backup: ${dest} is the database itself; choose another file`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (fs.existsSync(dest) && !fs.statSync(dest).isFile()) throw new RapportError('conflict', `backup: ${dest} exists and is not a file`);
  const replaced = fs.existsSync(dest);
  const partial = `${dest}.partial-${process.pid}`;
  fs.rmSync(partial, { force: true });
  try {
    store.sqlite.prepare('vacuum into ?').run(partial);
    const tables = verifyCopy(partial);
    fs.renameSync(partial, dest);
    return { bytes: fs.statSync(dest).size, tables, replaced };
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/** Opens a copy read-only and checks it: structurally sound, and it holds Rapport's tables. */
function verifyCopy(file: string): number {
  const copy = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new RapportError('internal', `backup: the copy failed its check (${String(check)}); nothing was replaced`);
    const tables = (copy.prepare("select count(*) as n from sqlite_master where type = 'table' and name in ('customers', 'orders', 'interactions', 'feedback')").get() as { n: number }).n;
    if (tables < 4) throw new RapportError('internal', 'backup: the copy lacks the database\'s tables; nothing was replaced');
    return (copy.prepare("select count(*) as n from sqlite_master where type = 'table'").get() as { n: number }).n;
  } finally {
    copy.close();
  }
}
