import type { Conn } from '../../store/db.js';
import { chunks } from '../../store/sql.js';
import { deleteInteractions, interactionsByKeys, sharedSourceKeys } from './load.repository.js';

/**
 * Re-sending a record with the same (source, source id) stores nothing new. Row by row the
 * unique indexes decide (an insert that conflicts does nothing, RETURNING names the new
 * rows); a load, which writes without them, finds its duplicates at the end.
 */

/** A (source, source id) pair as a map key. */
export function sourcePair(source: string, sourceId: string): string {
  return `${source}\u0000${sourceId}`;
}

/** The first record of each (source, source id) pair: what a returned row was inserted from. */
export function firstBySource<R extends { source: string; sourceId: string }>(records: readonly R[]): Map<string, R> {
  const bySource = new Map<string, R>();
  for (const r of records) {
    const pair = sourcePair(r.source, r.sourceId);
    if (!bySource.has(pair)) bySource.set(pair, r);
  }
  return bySource;
}

/**
 * Deletes the interactions a load wrote (ids above `startId`) that were stored before it or
 * earlier in it, and returns how many. Keys held by more than one row, one of them loaded;
 * then the pairs themselves decide (keys may collide). The first row of a pair stays: the
 * one stored before, or loaded first.
 */
export async function dropLoadedDuplicates(db: Conn, startId: number): Promise<number> {
  const keys = await sharedSourceKeys(db, startId);
  const drop: number[] = [];
  const seen = new Set<string>();
  for (const part of chunks(keys, 500)) {
    for (const r of await interactionsByKeys(db, part)) {
      const pair = sourcePair(r.source, r.source_id);
      if (!seen.has(pair)) seen.add(pair);
      else if (r.id > startId) drop.push(r.id);
    }
  }
  for (const part of chunks(drop, 500)) await deleteInteractions(db, part);
  return drop.length;
}
