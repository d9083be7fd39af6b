import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Serialize } from '../core/serial.js';
import type { Conn, Store } from './db.js';

/** Replacing all of a table's rows at once: what to write, and what else commits with it. */
export interface TableRefill {
  /** The table whose rows are all replaced. */
  table: string;
  /** The columns written, in the order `row` gives their values. */
  columns: readonly string[];
  /** How many rows there are. */
  count: number;
  /**
   * The i-th row's values in `columns` order. The same array may be returned each time, filled
   * anew: it is read before the next call.
   */
  row: (i: number) => readonly unknown[];
  /**
   * The row each new row belongs to (a foreign key): rows whose parent was deleted since they
   * were computed (a customer erased or merged away meanwhile) are left out.
   */
  parent: { column: string; table: string; key: string };
  /** Other writes that commit with the new rows (recording the run that made them), in the same transaction. */
  alongside?: (db: Conn) => Promise<void>;
  /** Rows per write turn, filling in turns (default `REFILL_TURN_ROWS`). */
  turnRows?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Rows per insert statement on PostgreSQL, within its 65,535 parameters per statement. */
const MAX_PARAMETERS = 60_000;
const MAX_CHUNK = 2000;

/** Rows per write turn when a SQLite table is filled in turns (about 50 ms of inserts). */
export const REFILL_TURN_ROWS = 20_000;

/**
 * Replaces every row of a table, so that readers see the old rows or the new ones, never a mix.
 *
 * On SQLite a fresh table is filled without secondary indexes, indexed once, then swapped in:
 * 3× faster than deleting and re-inserting 1M rows under two indexes. The table's and its
 * indexes' definitions are read from the schema, so the migration stays their only source.
 * On PostgreSQL the rows are deleted and inserted in chunks, each chunk without the rows whose
 * parent is gone (the parents are locked for share until commit), in one transaction.
 *
 * With `serialize` (the caller's write queue: a job's `ctx.serialize`), a SQLite table is
 * filled in turns of it, `REFILL_TURN_ROWS` rows each committed on their own, and swapped in
 * in a last turn: SQLite has one writer at a time, and the writes waiting in the queue (the
 * tracking API's) go between the turns rather than after the whole table (seconds at a
 * million rows). Without it, or on PostgreSQL, everything runs in one transaction (in one turn).
 */
export async function refillTable(store: Store, refill: TableRefill, serialize?: Serialize): Promise<void> {
  for (const name of [refill.table, refill.parent.table, refill.parent.column, refill.parent.key, ...refill.columns]) {
    if (!IDENTIFIER.test(name)) throw new Error(`refillTable: not a plain identifier: ${name}`);
  }
  if (store.sqlite && serialize) await refillSqliteInTurns(store, store.sqlite, refill, serialize);
  else if (store.sqlite) await refillSqlite(store, store.sqlite, refill);
  else await (serialize ?? ((fn) => fn()))(() => refillPostgres(store, refill));
}

/**
 * SQLite, in turns: the rows go into a staging table of this refill's own (no reader sees
 * it), a turn at a time, each turn without the rows whose parent is gone by then (a parent
 * deleted later takes its rows along: the staging table has the foreign key, cascading). The
 * last turn drops the old table, renames the staging one, indexes it and commits `alongside`.
 * A refill of the same table elsewhere (`rapport stages run` beside the server) drops the
 * other's staging table there: that one then fails rather than mix the two runs' rows; and
 * what a stopped refill left is dropped with it.
 */
async function refillSqliteInTurns(store: Store, db: NonNullable<Store['sqlite']>, r: TableRefill, serialize: Serialize): Promise<void> {
  const prefix = `${r.table}_next_`;
  const next = `${prefix}${randomBytes(4).toString('hex')}`;
  const { indexes } = await serialize(() =>
    store.db.transaction().execute(async () => {
      const { table, indexes } = tableSchema(db, r.table);
      db.exec(table.replace(r.table, next));
      return { indexes };
    }),
  );
  try {
    const insert = db.prepare(`insert into ${next} (${r.columns.join(', ')}) values (${r.columns.map(() => '?').join(', ')})`);
    const p = r.parent;
    const orphans = db.prepare(`delete from ${next} where rowid > ? and not exists (select 1 from ${p.table} p where p.${p.key} = ${next}.${p.column})`);
    const lastRowid = db.prepare(`select coalesce(max(rowid), 0) from ${next}`).pluck();
    const per = Math.max(1, r.turnRows ?? REFILL_TURN_ROWS);
    for (let s0 = 0; s0 < r.count; s0 += per) {
      await serialize(() =>
        store.db.transaction().execute(async () => {
          const before = lastRowid.get() as number;
          db.pragma('defer_foreign_keys = ON');
          for (let i = s0; i < Math.min(r.count, s0 + per); i++) insert.run(r.row(i));
          orphans.run(before);
        }),
      );
    }
    await serialize(() =>
      store.db.transaction().execute(async (trx) => {
        for (const stale of stagingTables(db, prefix)) if (stale !== next) db.exec(`drop table ${stale}`);
        db.exec(`drop table ${r.table}`);
        db.exec(`alter table ${next} rename to ${r.table}`);
        for (const ddl of indexes) db.exec(ddl);
        await r.alongside?.(trx);
      }),
    );
  } catch (e) {
    // Best effort: a staging table left behind is dropped by the next refill.
    await serialize(async () => db.exec(`drop table if exists ${next}`)).catch(() => undefined);
    throw e;
  }
}

/** A table's definition and its indexes' (those with SQL: not the automatic ones). */
function tableSchema(db: NonNullable<Store['sqlite']>, name: string): { table: string; indexes: string[] } {
  const schema = db.prepare(`select type, sql from sqlite_master where tbl_name = ? and sql is not null`).all(name) as { type: string; sql: string }[];
  const table = schema.find((s) => s.type === 'table');
  if (!table) throw new Error(`refillTable: no table ${name}`);
  return { table: table.sql, indexes: schema.filter((s) => s.type === 'index').map((s) => s.sql) };
}

/** The staging tables of refills of one table (named `prefix` and a suffix). */
function stagingTables(db: NonNullable<Store['sqlite']>, prefix: string): string[] {
  const names = db.prepare(`select name from sqlite_master where type = 'table'`).pluck().all() as string[];
  return names.filter((n) => n.startsWith(prefix));
}

async function refillSqlite(store: Store, db: NonNullable<Store['sqlite']>, r: TableRefill): Promise<void> {
  const next = `${r.table}_next`;
  // One transaction on the store's connection: the raw statements below run inside it.
  await store.db.transaction().execute(async (trx) => {
    const { table, indexes } = tableSchema(db, r.table);
    db.exec(`drop table if exists ${next}`);
    db.exec(table.replace(r.table, next));
    // Parents deleted since the rows were computed: foreign keys are checked at commit, and
    // their rows are dropped with one anti-join before it.
    db.pragma('defer_foreign_keys = ON');
    const insert = db.prepare(`insert into ${next} (${r.columns.join(', ')}) values (${r.columns.map(() => '?').join(', ')})`);
    for (let i = 0; i < r.count; i++) insert.run(r.row(i));
    const p = r.parent;
    db.exec(`delete from ${next} where not exists (select 1 from ${p.table} p where p.${p.key} = ${next}.${p.column})`);
    db.exec(`drop table ${r.table}`);
    db.exec(`alter table ${next} rename to ${r.table}`);
    for (const ddl of indexes) db.exec(ddl);
    await r.alongside?.(trx);
  });
}

async function refillPostgres(store: Store, r: TableRefill): Promise<void> {
  const p = r.parent;
  const at = r.columns.indexOf(p.column);
  if (at < 0) throw new Error(`refillTable: ${p.column} is not among the columns written`);
  const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(MAX_PARAMETERS / r.columns.length)));
  const columns = sql.join(r.columns.map((c) => sql.ref(c)));
  await store.db.transaction().execute(async (trx) => {
    await sql`delete from ${sql.table(r.table)}`.execute(trx);
    for (let s0 = 0; s0 < r.count; s0 += chunk) {
      const rows: unknown[][] = [];
      for (let i = s0; i < Math.min(r.count, s0 + chunk); i++) rows.push([...r.row(i)]);
      // Rows whose parent was deleted since they were computed are skipped.
      const ids = rows.map((row) => row[at]);
      const alive = await sql<{ k: number }>`select ${sql.ref(p.key)} as k from ${sql.table(p.table)} where ${sql.ref(p.key)} in (${sql.join(ids)}) for share`.execute(trx);
      const kept = new Set(alive.rows.map((a) => Number(a.k)));
      const values = rows.filter((row) => kept.has(Number(row[at])));
      if (values.length > 0) await sql`insert into ${sql.table(r.table)} (${columns}) values ${sql.join(values.map((row) => sql`(${sql.join(row)})`))}`.execute(trx);
    }
    await r.alongside?.(trx);
  });
}
