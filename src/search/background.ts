import type { Serialize } from '../core/serial.js';
import { SECOND_MS } from '../core/time.js';
import type { Store } from '../store/db.js';

/**
 * Keeps the search index up to date in `rapport serve`: every 2 s, what the tracking API,
 * imports and other processes stored since is indexed, a slice of about a second at a time,
 * in turn with the other writes, so that ingestion itself never waits for the index.
 */
export function startBackgroundIndexing(store: Store, serialWrite: Serialize, warn: (message: string) => void): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const { searchLag, syncSearch } = await import('./search.indexer.js');
        const lag = await searchLag(store.db);
        // A slice of about a second, so that the tracking API never waits long behind it.
        if (lag.rows > 0 || lag.dirty > 0) await serialWrite(() => syncSearch(store, { maxRows: 10_000 }));
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
