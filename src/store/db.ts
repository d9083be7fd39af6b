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
import { diskFull, RapportError, storageError } from '../core/errors.js';
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
import { relationships } from './migrations/011_relationships.js';
import { stageHistory } from './migrations/012_stage_history.js';
import { visits } from './migrations/013_visits.js';
import { panels } from './migrations/014_panels.js';
import { actions } from './migrations/015_actions.js';
import { accountList } from './migrations/016_account_list.js';
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
  /**
   * Whether this process cannot write the database: a SQLite file it lacks permission to
   * write (or on a read-only file system), a PostgreSQL standby or read-only default. Only
   * an open with `allowReadOnly` (or `queryOnly`) returns such a store.
   */
  readonly readOnly: boolean;
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
  /**
   * Open a database this process cannot write (`store.readOnly`), for a command that only
   * reads (`rapport search`). Without it (or `queryOnly`) such a database is refused at once
   * with `read_only` naming it, before anything is done that would fail at its first write.
   */
  allowReadOnly?: boolean;
}

/** Opens (creating when needed) the database and applies pending migrations. */
export async function openStore(target: DatabaseTarget, options: OpenOptions = {}): Promise<Store> {
  const store = target.kind === 'sqlite' ? openSqlite(target, options) : await openPostgres(target);
  if (store.readOnly && !options.allowReadOnly && !options.queryOnly) {
    await store.close();
    throw readOnlyDatabase(target, store.dialect === 'sqlite' ? 'this user cannot write the file' : 'its transactions are read-only (a standby, or default_transaction_read_only)');
  }
  if (options.migrate !== false) await migrate(store);
  return store;
}

/** Where the database is, as messages name it: the SQLite file, or PostgreSQL's host and database (never the password). */
export function databaseName(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return target.file;
  try {
    const u = new URL(target.url);
    return `PostgreSQL ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/** The `read_only` error (exit 11, HTTP 503) for a database this process cannot write, naming it and why. */
export function readOnlyDatabase(target: DatabaseTarget, why: string): RapportError {
  return new RapportError('read_only', `the database at ${databaseName(target)} is read-only: ${why}; make it writable by the user Rapport runs as (uid ${process.getuid?.() ?? '?'}), or set DATABASE_URL to one that is`);
}

/** Whether this process may write the SQLite file (a file yet to be created counts as writable). */
function sqliteWritable(file: string): boolean {
  if (file === ':memory:' || !fs.existsSync(file)) return true;
  try {
    // The kernel's own check, for this process's user: EACCES, or EROFS on a read-only mount (even for root).
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Free space below this, an I/O error from SQLite is taken to be the full disk it most likely is. */
const NEARLY_FULL_BYTES = 64 * 1024;

/**
 * A failure to set up a SQLite connection as what the user must do about it: a directory it
 * cannot create the write-ahead log in (SQLite cannot read a WAL database without it), or a
 * full disk (creating the shared-memory file then fails as an I/O error, which loses why).
 */
function sqliteOpenFailure(e: unknown, target: Extract<DatabaseTarget, { kind: 'sqlite' }>): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  if (code.startsWith('SQLITE_READONLY')) {
    return readOnlyDatabase(target, `SQLite cannot create ${path.basename(target.file)}-wal and -shm beside it, which it needs even to read it (the directory ${path.dirname(target.file)} is not writable)`);
  }
  if (code.startsWith('SQLITE_IOERR') && target.file !== ':memory:') {
    const st = fs.statfsSync(path.dirname(target.file));
    // root may write into the blocks reserved for it; anyone else only into those available.
    const free = (process.getuid?.() === 0 ? st.bfree : st.bavail) * st.bsize;
    if (free < NEARLY_FULL_BYTES) return diskFull();
  }
  return storageError(e) ?? e;
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
  try {
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
  } catch (e) {
    sqlite.close();
    throw sqliteOpenFailure(e, target);
  }
  sqlite.function('rapport_source_key', { deterministic: true }, (source: unknown, id: unknown) => sourceKey(String(source), String(id)));
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  const checkpointer = options.checkpointer && target.file !== ':memory:' ? startCheckpointer(sqlite, target.file) : undefined;
  return {
    db,
    dialect: 'sqlite',
    target,
    sqlite,
    readOnly: !sqliteWritable(target.file),
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
  readonly #sqlite: SQLiteTypes.Database;
  constructor(config: { database: SQLiteTypes.Database }) {
    super(config);
    this.#sqlite = config.database;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * After some errors (a full disk, SQLITE_FULL; an I/O error) SQLite has already rolled the
   * transaction back itself: a second rollback would fail ("no transaction is active") and
   * that failure, not the full disk, would be what the caller sees.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.#sqlite.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: { database: SQLiteTypes.Database };
  constructor(config: { database: SQLiteTypes.Database }) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

async function openPostgres(target: Extract<DatabaseTarget, { kind: 'postgres' }>): Promise<Store> {
  const pool = new pg.Pool({ connectionString: target.url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let readOnly: boolean;
  try {
    // A standby, or a role or database with default_transaction_read_only.
    readOnly = (await sql<{ ro: string }>`select current_setting('transaction_read_only') as ro`.execute(db)).rows[0]?.ro === 'on';
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return {
    db,
    dialect: 'postgres',
    target,
    sqlite: undefined,
    readOnly,
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
    '011_relationships': relationships(dialect),
    '012_stage_history': stageHistory(dialect),
    '013_visits': visits(dialect),
    '014_panels': panels(dialect),
    '015_actions': actions(dialect),
    '016_account_list': accountList(dialect),
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
  // Migrations are independent of one another: one that lands after a later-numbered one (work
  // merged in another order) still applies, instead of refusing to open the database.
  const migrator = new Migrator({ db: store.db, provider, allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = options.to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(options.to);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const storage = storageError(error);
    if (storage) throw storage;
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
