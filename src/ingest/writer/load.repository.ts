import type SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { Conn, Store } from '../../store/db.js';
import { INTERACTION_INDEXES } from '../../store/indexes.js';

/** The statements of load mode (SQLite only): the interactions table without its indexes, then set-based. */

/** The SQLite handle a load sets its pragmas on; undefined on PostgreSQL, which has no load mode. */
export function loadHandle(store: Store): SQLite.Database | undefined {
  return store.sqlite;
}

/** Makes sorts spill to disk (temp_store = MEMORY would hold the index builds' sort); returns the previous setting. */
export function tempStoreOnDisk(raw: SQLite.Database): number {
  const previous = raw.pragma('temp_store', { simple: true }) as number;
  raw.pragma('temp_store = FILE');
  return previous;
}

/** Puts back the setting {@link tempStoreOnDisk} returned. */
export function restoreTempStore(raw: SQLite.Database, previous: number): void {
  raw.pragma(`temp_store = ${previous}`);
}

/**
 * Copies the log into the database and gives the space back (a reader still on an older
 * snapshot makes this a partial copy; a later checkpoint ends it).
 */
export function checkpointLog(raw: SQLite.Database): void {
  try {
    raw.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Busy: the checkpoint thread or the next writer will do it.
  }
}

/** Drops the interactions indexes, so that a load appends without keeping them. */
export async function dropInteractionIndexes(db: Conn): Promise<void> {
  for (const index of INTERACTION_INDEXES) await sql.raw(`drop index if exists ${index.name}`).execute(db);
}

/** Builds the interactions indexes again, each in one sorted pass. */
export async function createInteractionIndexes(db: Conn): Promise<void> {
  for (const index of INTERACTION_INDEXES) await sql.raw(index.sql).execute(db);
}

/** Source keys held by more than one interaction, one of them newer than `startId`. */
export async function sharedSourceKeys(db: Conn, startId: number): Promise<number[]> {
  const keys = await sql<{ k: number }>`select source_key as k from interactions
    group by source_key having count(*) > 1 and max(id) > ${startId}`.execute(db);
  return keys.rows.map((r) => r.k);
}

/** The interactions holding these source keys, oldest first. */
export async function interactionsByKeys(db: Conn, keys: readonly number[]): Promise<{ id: number; source: string; source_id: string }[]> {
  const { rows } = await sql<{ id: number; source: string; source_id: string }>`select id, source, source_id from interactions
      where source_key in (${sql.join(keys)}) order by id`.execute(db);
  return rows;
}

/** Deletes interactions by id. */
export async function deleteInteractions(db: Conn, ids: readonly number[]): Promise<void> {
  await db.deleteFrom('interactions').where('id', 'in', ids).execute();
}

/** Adds the interactions newer than `startId` to their customers' counters and channel mix. */
export async function addLoadedCounters(db: Conn, startId: number, now: number): Promise<void> {
  await sql`update customers set interaction_count = interaction_count + s.n,
      first_seen = min(coalesce(first_seen, s.f), s.f), last_seen = max(coalesce(last_seen, s.l), s.l), updated_at = ${now}
    from (select customer_id, count(*) as n, min(occurred_at) as f, max(occurred_at) as l
          from interactions where id > ${startId} group by customer_id) as s
    where customers.id = s.customer_id`.execute(db);
  await sql`insert into customer_channels (customer_id, channel, direction, count)
    select customer_id, channel, direction, count(*) from interactions where id > ${startId}
    group by customer_id, channel, direction
    on conflict (customer_id, channel, direction) do update set count = customer_channels.count + excluded.count`.execute(db);
}
