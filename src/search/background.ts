import type { Serialize } from '../core/serial.js';
import { SECOND_MS } from '../core/time.js';
import type { Store } from '../store/db.js';

/**
 * Keeps the search index up to date in `rapport serve`: every 2 s, what the tracking API,
 * imports and other processes stored since is indexed, a slice of about a second at a time,
 * in turn with the other writes, so that ingestion itself never waits for the index.
 * (search.indexer.ts `syncInSlices`).
 */
export function startBackgroundIndexing(store: Store, serialWrite: Serialize, warn: (message: string) => void): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const { searchLag, syncInSlices } = await import('./search.indexer.js');
        const lag = await searchLag(store.db);
        // Small slices for at most a second per tick, in turn with the other writes, so that
        // neither the tracking API nor any other request waits long behind the index.
        if (lag.rows > 0 || lag.dirty > 0) await syncInSlices(store, serialWrite, SECOND_MS);
      } catch (e) {
        warn(`search indexing: ${(e as Error).message}`);
      } finally {
        busy = false;
      }
    })();
  }, 2 * SECOND_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
