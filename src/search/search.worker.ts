/**
 * A search thread (see search.pool.ts): opens a connection of its own that only reads, then
 * answers the searches it is sent, one at a time, until it is told to close or is stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseTarget } from '../core/config.js';
import { lowerThreadPriority, toThreadError } from '../core/threads.js';
import { openStore } from '../store/db.js';
import type { SearchAsk, SearchReply } from './search.pool.js';
import { search } from './search.service.js';

// Searches give way to the server's thread (ingestion, every answer) when both want the CPU.
lowerThreadPriority();
const store = await openStore((workerData as { target: DatabaseTarget }).target, { migrate: false, queryOnly: true });
const port = parentPort!;
port.on('message', (m: SearchAsk | 'close') => {
  if (m === 'close') {
    void store.close().finally(() => port.close());
    return;
  }
  void (async () => {
    let reply: SearchReply;
    try {
      reply = { id: m.id, ok: true, page: await search(store, m.params, { catchUp: false }) };
    } catch (e) {
      reply = { id: m.id, ok: false, error: toThreadError(e) };
    }
    port.postMessage(reply);
  })();
});
port.postMessage('ready');
