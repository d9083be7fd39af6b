import { sql } from 'kysely';
import type { Store } from './db.js';
import type { Database } from './schema.js';

/**
 * After an erasure has committed: make the database files stop holding the erased rows.
 *
 * SQLite: every connection runs with `secure_delete` (store/db.ts), so the erasure's own writes
 * zeroed the deleted cells and freed pages; but in WAL mode the log still holds the page images
 * from before, and it is only ever overwritten, not emptied. A TRUNCATE checkpoint copies the
 * newest pages into the database file and cuts the log to zero bytes. It waits (busy_timeout)
 * for readers of older snapshots; if one holds on, the log is left for the next checkpoint and
 * the report says so.
 *
 * PostgreSQL: deleted rows stay in their pages as dead tuples until VACUUM prunes them, so the
 * tables the erasure wrote are vacuumed now (outside a transaction, as VACUUM requires). What
 * it cannot reach is said in `limits`: the write-ahead log until its segments are recycled,
 * WAL archives, replicas and backups.
 */
export interface Reclaimed {
  actions: string[];
  /** What this could not make forget, in words. */
  limits: string[];
}

export async function reclaimErased(store: Store, tables: readonly (keyof Database)[]): Promise<Reclaimed> {
  return store.dialect === 'sqlite' ? checkpointLog(store) : vacuumTables(store, tables);
}

async function checkpointLog(store: Store): Promise<Reclaimed> {
  const limits = ['copies made before the erasure (rapport backup files, file-system snapshots) still hold the erased data: delete or replace them'];
  if (store.target.kind !== 'sqlite' || store.target.file === ':memory:') return { actions: ['in-memory database: no files to clean'], limits };
  const rows = await sql<{ busy: number; log: number; checkpointed: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
  const r = rows.rows[0];
  const actions = ['deleted rows and freed pages overwritten with zeros (secure_delete)'];
  if (r && r.busy === 0) actions.push('write-ahead log checkpointed into the database file and truncated to zero bytes (wal_checkpoint(TRUNCATE))');
  else limits.push('the write-ahead log could not be emptied (another connection was reading an older snapshot): its old pages are overwritten as the log restarts; run rapport erase again to retry');
  return { actions, limits };
}

async function vacuumTables(store: Store, tables: readonly (keyof Database)[]): Promise<Reclaimed> {
  const names = [...new Set(tables)];
  await sql`vacuum ${sql.join(names.map((t) => sql.table(t)))}`.execute(store.db);
  return {
    actions: [`dead row versions removed from ${names.join(', ')} (VACUUM)`],
    limits: [
      "PostgreSQL's write-ahead log keeps the erased rows until its segments are recycled (after the next checkpoints); WAL archives, streaming replicas' logs and backups (pg_dump files, base backups) keep them until they are rotated or deleted",
      'VACUUM frees the space inside the table files for reuse; the bytes are overwritten when PostgreSQL reuses it (VACUUM FULL rewrites the tables, under an exclusive lock)',
    ],
  };
}
