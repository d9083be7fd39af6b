import type { Conn } from '../../store/db.js';
import { dropLoadedDuplicates } from './dedupe.js';
import { addLoadedCounters, createInteractionIndexes, dropInteractionIndexes } from './load.repository.js';
import { deleteCustomer, lastInteractionId, moveCustomerRows } from './writer.repository.js';

/**
 * Load mode (SQLite): interactions are appended without their two indexes, which are built
 * once at the end, sorted. What the indexes did row by row is done then, set-based:
 * duplicates are found and dropped, merges of customers are applied to the loaded rows, and
 * the per-customer counters are added up.
 */
export interface Load {
  /** Interactions with a larger id were written by this load. */
  readonly startId: number;
  /** Customer merges, in order, whose interactions are moved (and the merged customer deleted) at the end. */
  readonly merges: [number, number][];
}

export interface LoadResult<T> {
  result: T;
  /** Interactions the load wrote, found at the end to be already stored (or twice in the load), and dropped. */
  duplicates: number;
}

/** The start of a load, inside its transaction: where its rows begin, and the indexes gone. */
export async function startLoad(db: Conn): Promise<Load> {
  const load: Load = { startId: await lastInteractionId(db), merges: [] };
  await dropInteractionIndexes(db);
  return load;
}

/**
 * The end of a load: builds the interactions indexes, then does set-based what the writer does
 * row by row otherwise. Returns how many loaded interactions were duplicates.
 */
export async function finishLoad(db: Conn, load: Load, now: number): Promise<number> {
  await createInteractionIndexes(db);
  const duplicates = await dropLoadedDuplicates(db, load.startId);
  for (const [from, into] of load.merges) {
    await moveCustomerRows(db, 'interactions', from, into);
    await deleteCustomer(db, from);
  }
  // The counters, as BatchWrite.interactions keeps them, over the loaded rows.
  await addLoadedCounters(db, load.startId, now);
  return duplicates;
}
