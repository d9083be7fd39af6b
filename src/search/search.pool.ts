import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { RapportError } from '../core/errors.js';
import { coalesced, type Serialize } from '../core/serial.js';
import { fromThreadError, workerScript, type ThreadError } from '../core/threads.js';
import { Turns } from '../core/turns.js';
import type { Store } from '../store/db.js';
import { parseQuery } from './query.js';
import { readOnlyWithTimeout } from './search.repository.js';
import { catchUpIndex, search, type SearchPage, type SearchParams } from './search.service.js';

/**
 * Where the server's searches run, so that no query mix can hold the write path.
 *
 * better-sqlite3 is synchronous: a search on the server's own thread stops ingestion and
 * `/healthz` for as long as it reads (4 clients looping on a 16-phrase OR query took ingestion
 * from 5,900 to under 100 events/s). On a SQLite file each search runs on a search thread with a
 * connection of its own that only reads (WAL lets it read while the server writes). On
 * PostgreSQL the query already runs in the database; there each search is a read-only
 * transaction with a statement timeout, and only `concurrency` of them hold pool connections.
 *
 * Both: at most `concurrency` searches at once and `queue` waiting (then 503 busy with
 * Retry-After); each has `timeoutMs`, after which it is stopped (the thread terminated, the
 * statement cancelled) and answered with a 400 `too_costly` naming the query. A stopped thread
 * frees its turn only once it has exited, so the threads alive never outnumber the turns.
 * Catching the index up with what was just stored stays on the write queue, one pass shared by
 * the searches that arrive meanwhile.
 */
export interface SearchRunner {
  /** 'thread': search threads (SQLite file); 'inline': this thread's connection (PostgreSQL, in-memory SQLite). */
  readonly where: 'thread' | 'inline';
  search(p: SearchParams): Promise<SearchPage>;
  /** Ends the search threads (searches after this are refused). */
  stop(): Promise<void>;
}

export interface SearchRunnerOptions {
  /** Searches at once (threads on SQLite, connections on PostgreSQL). Default: cores − 1, 1 to 2. */
  concurrency?: number | undefined;
  /** Searches waiting beyond those before more are refused. Default 16. */
  queue?: number | undefined;
  /** How long one search may run, ms. Default 5,000. */
  timeoutMs?: number | undefined;
  /** The server's write queue, for catching the index up first; false: search the index as it is. */
  catchUp?: Serialize | false;
  /** false: run on this thread even on a SQLite file. */
  threads?: boolean;
}

export const SEARCH_RUNNER_DEFAULTS = { queue: 16, timeoutMs: 5_000 } as const;

/** What a search thread is asked, and its answer. */
export interface SearchAsk {
  id: number;
  params: SearchParams;
}
export type SearchReply = { id: number; ok: true; page: SearchPage } | { id: number; ok: false; error: ThreadError };

/**
 * How long a search may wait for a turn at least: a stopped thread gives its turn back only when
 * the statement it was in has ended (SQLite finishes it), which can outlast a short time limit.
 */
const MIN_WAIT_MS = 1_000;

const defaultConcurrency = (): number => Math.min(2, Math.max(1, os.availableParallelism() - 1));

/** The 400 for a search stopped at its time limit. */
function tooCostly(timeoutMs: number): RapportError {
  const message = `the search took longer than ${Math.round(timeoutMs / 100) / 10} s and was stopped: narrow it (fewer OR alternatives, phrases or prefixes; a kind, date or customer filter)`;
  return new RapportError('too_costly', `q: ${message}`, [{ field: 'q', message }]);
}

export function searchRunner(store: Store, options: SearchRunnerOptions = {}): SearchRunner {
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  const timeoutMs = options.timeoutMs ?? SEARCH_RUNNER_DEFAULTS.timeoutMs;
  const turns = new Turns(concurrency, options.queue ?? SEARCH_RUNNER_DEFAULTS.queue, 'search');
  const serialize = options.catchUp;
  const catchUp = serialize === false ? async () => false : coalesced(() => catchUpIndex(store, serialize));
  const file = store.target.kind === 'sqlite' && store.target.file !== ':memory:';
  const threads = file && options.threads !== false ? new SearchThreads(store, timeoutMs) : undefined;
  let stopped = false;

  /** A search on this thread's connection. */
  const inline = async (p: SearchParams): Promise<SearchPage> => {
    if (store.dialect !== 'postgres') return search(store, p, { catchUp: false });
    try {
      return await readOnlyWithTimeout(store.db, timeoutMs, (trx) => search({ ...store, db: trx }, p, { catchUp: false }));
    } catch (e) {
      if ((e as { code?: string }).code === '57014') throw tooCostly(timeoutMs);
      throw e;
    }
  };

  return {
    where: threads ? 'thread' : 'inline',
    async search(p) {
      // What cannot be read or is past the budget is refused here, before it takes a turn.
      parseQuery(p.q, 'q');
      if (stopped) throw Object.assign(new RapportError('busy', 'search: the server is shutting down'), { retryAfterSeconds: 5 });
      const release = await turns.take(Math.max(timeoutMs, MIN_WAIT_MS));
      let handedOver = false;
      try {
        const behind = await catchUp();
        if (threads) {
          handedOver = true;
          return await new Promise<SearchPage>((resolve, reject) => threads.run(p, resolve, reject, release)).then((page) => ({ ...page, indexBehind: page.indexBehind || behind }));
        }
        const page = await inline(p);
        return { ...page, indexBehind: page.indexBehind || behind };
      } finally {
        if (!handedOver) release();
      }
    },
    async stop() {
      stopped = true;
      await threads?.stop();
    },
  };
}

/** The search threads: started when first needed, kept while they answer, replaced when stopped. */
class SearchThreads {
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  readonly #store: Store;
  readonly #timeoutMs: number;
  #next = 1;

  constructor(store: Store, timeoutMs: number) {
    this.#store = store;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Runs one search on an idle thread (or a new one). `release` is called once the thread is
   * idle again or has exited: the caller's turn covers the thread's whole life in this search.
   */
  run(p: SearchParams, resolve: (page: SearchPage) => void, reject: (e: Error) => void, release: () => void = () => {}): void {
    void (async () => {
      let worker: Worker;
      try {
        worker = this.#idle.pop() ?? (await this.#start());
      } catch (e) {
        release();
        reject(e as Error);
        return;
      }
      const id = this.#next++;
      let settled = false;
      // A thread keeps the process alive only while it has a search to answer.
      worker.ref();
      const done = (): void => {
        settled = true;
        worker.unref();
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      const onMessage = (m: SearchReply): void => {
        if (typeof m !== 'object' || m.id !== id) return;
        done();
        this.#idle.push(worker);
        release();
        if (m.ok) resolve(m.page);
        else reject(fromThreadError(m.error));
      };
      const onExit = (code: number): void => {
        if (settled) return;
        done();
        release();
        reject(new RapportError('internal', `the search thread stopped before it answered (exit code ${code})`));
      };
      // Past the time limit the thread is terminated wherever it is; its turn comes back when it
      // has exited (a statement inside SQLite ends first).
      const timer = setTimeout(() => {
        if (settled) return;
        done();
        worker.once('exit', () => release());
        void worker.terminate();
        reject(tooCostly(this.#timeoutMs));
      }, this.#timeoutMs);
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.postMessage({ id, params: p } satisfies SearchAsk);
    })();
  }

  async stop(): Promise<void> {
    const all = [...this.#all];
    this.#idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  /** A new thread, once it has opened its connection. */
  #start(): Promise<Worker> {
    const { script, eval: evaluated } = workerScript(import.meta.url, 'search.worker');
    const worker = new Worker(script, { eval: evaluated, workerData: { target: this.#store.target } });
    worker.unref();
    // A thread's uncaught error ends it; its exit is what the search waiting on it handles.
    worker.on('error', () => {});
    this.#all.add(worker);
    worker.once('exit', () => {
      this.#all.delete(worker);
      const i = this.#idle.indexOf(worker);
      if (i >= 0) this.#idle.splice(i, 1);
    });
    return new Promise((resolve, reject) => {
      const onReady = (m: unknown): void => {
        if (m !== 'ready') return;
        worker.off('message', onReady);
        worker.off('error', onError);
        resolve(worker);
      };
      const onError = (e: Error): void => {
        worker.off('message', onReady);
        reject(new RapportError('internal', `a search thread could not start: ${e.message}`));
      };
      worker.on('message', onReady);
      worker.once('error', onError);
      worker.once('exit', (code) => reject(new RapportError('internal', `a search thread exited as it started (exit code ${code})`)));
    });
  }
}
