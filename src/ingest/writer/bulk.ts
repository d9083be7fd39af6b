import type { ControlledTransaction } from 'kysely';
import { RapportError, storageError } from '../../core/errors.js';
import type { Database } from '../../store/schema.js';
import type { IngestRecord, WriteCounts } from '../records.js';
import { BatchWrite } from './batch.js';
import { Counters } from './counters.js';
import type { IngestWriter } from './writer.js';

/** Bulk mode: the outer transaction that groups savepoint-batches, and when it began. */
export interface Bulk {
  readonly commitEveryMs: number;
  trx: ControlledTransaction<Database> | undefined;
  since: number;
  /** Counter changes of the batches written since the last commit, written just before it. */
  readonly counters: Counters;
  /**
   * Why the open transaction was lost (SQLite rolls it back itself on a full disk), if it was:
   * the batches written in it since the last commit are gone, so every later write and the
   * commit fail with this error rather than report them stored.
   */
  lost?: RapportError;
}

/** A bulk session; with `trx`, already inside that transaction (load mode). */
export function newBulk(commitEveryMs: number, trx?: ControlledTransaction<Database>): Bulk {
  return { commitEveryMs, trx, since: trx ? performance.now() : 0, counters: new Counters() };
}

/** What bulk mode needs of its writer. */
export interface BulkHost {
  readonly writer: IngestWriter;
  readonly clock: () => number;
  begin(): Promise<ControlledTransaction<Database>>;
  forget(): void;
}

/**
 * One write in bulk mode: a savepoint in the open transaction (begun if none is), undone
 * alone when it fails; the transaction is committed once it is `commitEveryMs` old.
 */
export async function writeInBulk(host: BulkHost, bulk: Bulk, records: readonly IngestRecord[]): Promise<WriteCounts> {
  if (bulk.lost !== undefined) throw bulk.lost;
  if (!bulk.trx) {
    bulk.trx = await host.begin();
    bulk.since = performance.now();
  }
  const sp = await bulk.trx.savepoint('batch').execute();
  let counts: WriteCounts;
  const batch = new BatchWrite(sp, host.writer, host.clock(), true);
  try {
    counts = await batch.run(records);
  } catch (e) {
    host.forget();
    try {
      await sp.rollbackToSavepoint('batch').execute();
      await sp.releaseSavepoint('batch').execute();
    } catch (rollback) {
      // The outer transaction is unusable: stop here, bulk() rolls it back. A full disk or a
      // read-only database is what the user must hear of, not the rollback that followed it.
      bulk.lost = storageError(e) ?? new RapportError('internal', `bulk write failed (${(e as Error).message}) and could not be undone: ${(rollback as Error).message}`);
      throw bulk.lost;
    }
    throw e;
  }
  await sp.releaseSavepoint('batch').execute();
  // The batch is in: its counter changes join the pending ones (re-aimed by its merges first).
  for (const [from, into] of batch.merges) bulk.counters.move(from, into);
  bulk.counters.absorb(batch.counters);
  if (performance.now() - bulk.since >= bulk.commitEveryMs) await commitBulk(host, bulk);
  return counts;
}

/** Writes the pending counter changes and commits; on failure the transaction stays open, for the caller to roll back. */
export async function commitBulk(host: BulkHost, bulk: Bulk): Promise<void> {
  if (bulk.lost !== undefined) throw bulk.lost;
  const trx = bulk.trx;
  if (!trx) return;
  bulk.trx = undefined;
  try {
    if (!bulk.counters.empty) {
      await bulk.counters.flush(trx, host.writer, host.clock());
      bulk.counters.clear();
    }
    await trx.commit().execute();
  } catch (e) {
    bulk.trx = trx;
    throw e;
  }
}
