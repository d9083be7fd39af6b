import { SECOND_MS } from '../../core/time.js';
import type { Conn, Store } from '../../store/db.js';
import type { IngestRecord, WriteCounts } from '../records.js';
import { BatchWrite } from './batch.js';
import { commitBulk, newBulk, writeInBulk, type Bulk, type BulkHost } from './bulk.js';
import { finishLoad, startLoad, type Load, type LoadResult } from './load.js';
import { checkpointLog, loadHandle, restoreTempStore, tempStoreOnDisk } from './load.repository.js';
import { sqliteStatements, type SqliteStatements } from './sqlite.repository.js';

export type { LoadResult } from './load.js';
export { lastInteractionId } from './writer.repository.js';

const CACHE_LIMIT = 200_000;

/**
 * The only writer of raw records. A batch is written in one transaction: every record or
 * none. Re-sending a record with the same (source, source id) stores nothing new.
 *
 * Identity resolution: a user id names one customer; anonymous ids are identities that
 * point at a customer. A message carrying both links them, merging an anonymous history
 * into the user's (as Segment's identify and alias do).
 *
 * The id caches only speed up look-ups; they are dropped after any failed batch and after
 * merges or erasures, so a stale entry never outlives the transaction that made it.
 */
export class IngestWriter {
  private readonly users = new Map<string, number>();
  private readonly anons = new Map<string, number>();
  private statements: SqliteStatements | undefined;
  private bulkState: Bulk | undefined;
  private loadState: Load | undefined;
  private readonly host: BulkHost;

  constructor(
    /** @internal */
    readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {
    this.host = { writer: this, clock, begin: () => store.db.startTransaction().execute(), forget: () => this.forget() };
  }

  /** Whether a store can take {@link load} (SQLite); elsewhere imports are incremental. */
  static canLoad(store: Store): boolean {
    return loadHandle(store) !== undefined;
  }

  /** Forgets cached ids (after an erasure, or when another process may have merged customers). */
  forget(): void {
    this.users.clear();
    this.anons.clear();
  }

  async write(records: readonly IngestRecord[]): Promise<WriteCounts> {
    if (records.length === 0) return { inserted: 0, updated: 0, duplicates: 0 };
    if (this.users.size > CACHE_LIMIT || this.anons.size > CACHE_LIMIT) this.forget();
    if (this.bulkState) return writeInBulk(this.host, this.bulkState, records);
    try {
      return await this.store.db.transaction().execute((trx) => new BatchWrite(trx, this, this.clock()).run(records));
    } catch (e) {
      this.forget();
      throw e;
    }
  }

  /**
   * Writes `records` and runs `alongside` in the same transaction: both are stored or neither.
   * For a change that a record witnesses, such as a panel member's new status and the
   * interaction that records it. Not in bulk or load mode.
   *
   * @example await writer.writeAlongside([invited], (trx) => setMemberStatus(trx, …));
   */
  async writeAlongside(records: readonly IngestRecord[], alongside: (trx: Conn) => Promise<void>): Promise<WriteCounts> {
    return this.within(async (trx, write) => {
      const counts = await write(records);
      await alongside(trx);
      return counts;
    });
  }

  /**
   * Runs `fn` in one transaction in which it may both write records (`write`, as
   * {@link write} does) and run statements of its own on `trx`: for a capability that keeps a
   * row of its own beside the raw records it causes (a visit and the interaction it is
   * recorded as), so that both are stored or neither. Not in bulk or load mode.
   *
   * @example await writer.within(async (trx, write) => { const id = await insertVisit(trx, v); await write([interactionOf(id, v)]); });
   */
  async within<T>(fn: (trx: Conn, write: (records: readonly IngestRecord[]) => Promise<WriteCounts>) => Promise<T>): Promise<T> {
    if (this.bulkState) throw new Error('IngestWriter.within: not in bulk mode');
    if (this.users.size > CACHE_LIMIT || this.anons.size > CACHE_LIMIT) this.forget();
    try {
      return await this.store.db.transaction().execute((trx) =>
        fn(trx, (records) => (records.length === 0 ? Promise.resolve({ inserted: 0, updated: 0, duplicates: 0 }) : new BatchWrite(trx, this, this.clock()).run(records))),
      );
    } catch (e) {
      this.forget();
      throw e;
    }
  }

  /**
   * Runs `fn` in bulk mode, for imports: every `write()` is still all-or-nothing (a savepoint),
   * but writes are committed together about every `commitEveryMs`. A commit rewrites every
   * index page the batch touched, so with random message ids committing 5000 records at a
   * time costs more than writing them; grouping them divides that by the group's size.
   * The price: a crash loses the writes since the last commit (an import is idempotent, so
   * running it again completes it), and other writers wait up to that long for the lock.
   * When `fn` throws, what was written before is committed, as it would have been without
   * bulk mode. Inside, read with {@link conn}, which sees the uncommitted writes.
   *
   * @example await writer.bulk(async () => { for (const b of batches) await writer.write(b); });
   */
  async bulk<T>(fn: () => Promise<T>, options: { commitEveryMs?: number } = {}): Promise<T> {
    if (this.bulkState) throw new Error('IngestWriter.bulk: already in bulk mode');
    const bulk = newBulk(options.commitEveryMs ?? SECOND_MS);
    this.bulkState = bulk;
    try {
      const result = await fn();
      await commitBulk(this.host, bulk);
      return result;
    } catch (e) {
      await commitBulk(this.host, bulk).catch(async () => {
        this.forget();
        await bulk.trx?.rollback().execute().catch(() => undefined);
        bulk.trx = undefined;
      });
      throw e;
    } finally {
      this.bulkState = undefined;
    }
  }

  /**
   * Runs `fn` in load mode, for a large import into SQLite: one transaction for everything,
   * in which the interactions table is written without its indexes (each row a plain append)
   * and the indexes are then built in one sorted pass. That is several times faster than
   * keeping two random-access indexes up to date row by row, once the data outgrows memory.
   *
   * The price: the import is all or nothing (a failure, or a crash, leaves the database as
   * it was, indexes included), other writers wait for it (readers keep reading the data as it
   * was before), and the log holds the whole load until it is checkpointed. Worth it when the
   * import is large next to what is stored; the importer decides (see ingest/files/import.ts).
   * Counts returned by `write()` inside count every interaction as inserted; the duplicates
   * found at the end are in the result.
   */
  async load<T>(fn: () => Promise<T>): Promise<LoadResult<T>> {
    const raw = loadHandle(this.store);
    if (!raw) throw new Error('IngestWriter.load: SQLite only');
    if (this.bulkState) throw new Error('IngestWriter.load: already in bulk mode');
    // The index builds sort on disk, not in memory (temp_store = MEMORY would hold the sort).
    const tempStore = tempStoreOnDisk(raw);
    const trx = await this.store.db.startTransaction().execute();
    const bulk = newBulk(Number.POSITIVE_INFINITY, trx);
    this.bulkState = bulk;
    try {
      const load = await startLoad(trx);
      this.loadState = load;
      const result = await fn();
      const duplicates = await finishLoad(trx, load, this.clock());
      await commitBulk(this.host, bulk);
      // The log holds the whole load: copy it into the database now and give the space back.
      checkpointLog(raw);
      return { result, duplicates };
    } catch (e) {
      this.forget();
      await trx.rollback().execute().catch(() => undefined);
      throw e;
    } finally {
      this.loadState = undefined;
      this.bulkState = undefined;
      restoreTempStore(raw, tempStore);
    }
  }

  /** @internal the open load, when in load mode. */
  get loading(): Load | undefined {
    return this.loadState;
  }

  /** The connection to read through: the open bulk transaction, else the store. */
  get conn(): Conn {
    return this.bulkState?.trx ?? this.store.db;
  }

  /** @internal used by BatchWrite */
  get caches(): { users: Map<string, number>; anons: Map<string, number> } {
    return { users: this.users, anons: this.anons };
  }

  /** @internal the SQLite hot path (statements prepared once per writer); undefined on PostgreSQL. */
  get fastPath(): SqliteStatements | undefined {
    this.statements ??= sqliteStatements(this.store);
    return this.statements;
  }
}
