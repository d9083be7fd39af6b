import type { Serialize } from '../core/serial.js';
import type { Conn, Store } from '../store/db.js';
import type { SearchSource } from '../store/schema.js';
import { customerDoc, docIdOf, feedbackDoc, interactionDoc, type DocRow } from './documents.js';
import * as index from './index.repository.js';

/**
 * The incremental indexer: turns records stored since the last pass into search documents.
 *
 * Why not insert triggers: the ingestion writer appends millions of interactions, most of
 * them page views without text; a trigger would run (and parse JSON) for each. Instead each
 * source keeps a high-water mark (the largest id indexed, `search_state`) and a pass reads
 * the rows above it in id ranges, in one transaction per range. Deletes and customer moves
 * are rare and handled by triggers (migration 006). Searches catch up with a small backlog
 * first (search.service.ts), so what was just stored is found.
 */

/** Source rows read per transaction. */
const RANGE = 10_000;

/** How far the index is behind: source ids above each high-water mark, and customers to redo. */
export async function searchLag(db: Conn): Promise<{ rows: number; dirty: number }> {
  let rows = 0;
  for (const source of ['feedback', 'customer', 'interaction'] as const) rows += Math.max(0, (await index.maxId(db, source)) - (await index.highWater(db, source)));
  return { rows, dirty: await index.dirtyCount(db) };
}

/** Inserts documents, giving each a free id; sorted by id, as FTS5 appends fastest. */
async function insertDocs(store: Store, db: Conn, docs: Omit<DocRow, 'id'>[]): Promise<void> {
  if (docs.length === 0) return;
  const rows: DocRow[] = docs.map((d) => ({ ...d, id: docIdOf(d.at, d.source, d.source_id) }));
  rows.sort((a, b) => a.id - b.id);
  // Free ids: unique within the batch, then against the stored ones.
  const taken = new Set<number>();
  for (const r of rows) {
    while (taken.has(r.id)) r.id++;
    taken.add(r.id);
  }
  for (;;) {
    const clash = new Set<number>();
    for (let i = 0; i < rows.length; i += 500) {
      for (const id of await index.takenDocIds(db, rows.slice(i, i + 500).map((r) => r.id))) clash.add(id);
    }
    if (clash.size === 0) break;
    for (const r of rows) {
      if (!clash.has(r.id)) continue;
      taken.delete(r.id);
      do r.id++;
      while (taken.has(r.id));
      taken.add(r.id);
    }
    rows.sort((a, b) => a.id - b.id);
  }
  await index.insertDocs(store, db, rows);
}

export interface SyncResult {
  indexed: number;
  /** Source rows read (documents are made only from those with text). */
  scanned: number;
  /** Customers re-indexed because their name, e-mail or traits changed. */
  refreshed: number;
  /** Whether rows are left above the high-water marks (the pass stopped at `maxRows`). */
  behind: boolean;
  ms: number;
}

export interface SyncOptions {
  /** Stop after reading about this many source rows (the rest waits for the next pass). */
  maxRows?: number;
  /** Source rows per transaction (default 10,000). */
  range?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Indexes what was stored since the last pass: feedback, customers and interactions above
 * their high-water marks, then customers whose details changed. One transaction per range of
 * up to 10,000 source rows, so a long first pass keeps its progress and lets other writers in.
 *
 * @example await syncSearch(store); // after an import
 */
export async function syncSearch(store: Store, options: SyncOptions = {}): Promise<SyncResult> {
  const started = performance.now();
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  const range = Math.max(1, Math.min(options.range ?? RANGE, maxRows));
  const result: SyncResult = { indexed: 0, scanned: 0, refreshed: 0, behind: false, ms: 0 };
  const lag = options.onProgress ? (await searchLag(store.db)).rows : 0;
  for (const source of ['feedback', 'customer', 'interaction'] as const) {
    const top = await index.maxId(store.db, source);
    for (;;) {
      if (result.scanned >= maxRows) {
        result.behind = (await index.highWater(store.db, source)) < top;
        break;
      }
      const done = await store.db.transaction().execute(async (trx) => {
        const from = await index.highWater(trx, source);
        if (from >= top) return true;
        const to = Math.min(top, from + range);
        const docs = await readRange(trx, source, from, to);
        await insertDocs(store, trx, docs);
        await index.setHighWater(trx, source, to);
        result.indexed += docs.length;
        result.scanned += to - from;
        return false;
      });
      options.onProgress?.(result.scanned, lag);
      if (done) break;
    }
  }
  result.refreshed = await refreshDirty(store);
  if (!result.behind) result.behind = (await searchLag(store.db)).rows > 0;
  if (result.indexed > 0) await index.tidyFullText(store, result.indexed);
  result.ms = performance.now() - started;
  return result;
}

const isDoc = (d: Omit<DocRow, 'id'> | null): d is Omit<DocRow, 'id'> => d !== null;

/** The documents of a source's rows with ids in (from, to]. */
async function readRange(db: Conn, source: SearchSource, from: number, to: number): Promise<Omit<DocRow, 'id'>[]> {
  if (source === 'feedback') return (await index.feedbackIn(db, from, to)).map(feedbackDoc);
  if (source === 'customer') return (await index.customersIn(db, from, to)).map(customerDoc).filter(isDoc);
  return (await index.interactionsWithTextIn(db, from, to)).map(interactionDoc).filter(isDoc);
}

/** Re-makes the documents of customers whose details changed (search_dirty). */
async function refreshDirty(store: Store): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await store.db.transaction().execute(async (trx) => {
      const ids = await index.dirtyCustomers(trx, 5000);
      if (ids.length === 0) return 0;
      const hw = await index.highWater(trx, 'customer');
      // Customers above the high-water mark are indexed by the next pass anyway.
      const due = ids.filter((id) => id <= hw);
      if (due.length > 0) {
        await index.deleteCustomerDocs(trx, due);
        await insertDocs(store, trx, (await index.customersById(trx, due)).map(customerDoc).filter(isDoc));
      }
      await index.clearDirty(trx, ids);
      return ids.length;
    });
    if (n === 0) return total;
    total += n;
  }
}

/**
 * Rebuilds the index from scratch (`rapport search --reindex`): empties it, resets the
 * high-water marks and indexes everything again. On SQLite the documents are written first
 * and FTS5 then reads them in one sorted pass ('rebuild'), which beats row-by-row inserts.
 */
export async function rebuildSearch(store: Store, options: Pick<SyncOptions, 'onProgress'> = {}): Promise<SyncResult> {
  const started = performance.now();
  await store.db.transaction().execute((trx) => index.clearIndex(store, trx));
  try {
    const r = await syncSearch(store, options);
    return { ...r, ms: performance.now() - started };
  } finally {
    // Also after a failure: the index then matches whatever documents were written.
    await index.rebuildFullText(store);
  }
}

/** Source rows per slice when indexing beside the server's other work: about 25 ms of work. */
export const SLICE_ROWS = 500;

/**
 * Indexes in slices of `SLICE_ROWS` source rows, each its own turn on the server's write queue
 * with the event loop free between them, until caught up or `budgetMs` is spent; true when a
 * backlog remains. better-sqlite3 holds the thread for as long as a statement runs, so one long
 * pass would hold every request (even `/healthz`) and every write for its whole length.
 */
export async function syncInSlices(store: Store, serialize: Serialize, budgetMs: number): Promise<boolean> {
  const started = performance.now();
  for (;;) {
    const r = await serialize(() => syncSearch(store, { maxRows: SLICE_ROWS, range: SLICE_ROWS }));
    if (!r.behind) return false;
    if (performance.now() - started >= budgetMs) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
