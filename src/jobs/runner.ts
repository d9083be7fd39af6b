import { Worker } from 'node:worker_threads';
import { RapportError, isRapportError } from '../core/errors.js';
import { serialQueue, type Serialize } from '../core/serial.js';
import { fromThreadError, workerScript, type ThreadError } from '../core/threads.js';
import type { DatabaseTarget } from '../core/config.js';
import type { Store } from '../store/db.js';
import type { Job } from './job.js';
import { failRunningAfter, insertRun, markRunFailed, newestRunId, runsAfter } from './runs.repository.js';

/**
 * Where long jobs run (job.ts): customer value, the listening run, theme splits, and whatever
 * a capability registers next.
 *
 * Each is seconds to minutes of computation (fitting models, clustering tens of thousands of
 * texts) and, on SQLite, of synchronous database work. Run on the server's own thread it stops
 * every request for as long (20 s for a listening run at 20,000 customers). `threadJobs` runs
 * each job on a worker thread with a database connection of its own, so the server keeps
 * answering on the other core. On SQLite the job's writes (`ctx.serialize`) take their turn
 * on the server's write queue: the thread asks for a turn, writes on its own connection, and
 * says when it is done. Otherwise a write of the server's would wait for the job's write lock
 * inside SQLite's busy handler, which sleeps on the server's thread: a job writing a million
 * rows for five seconds stopped every request for as long (/healthz took 4.9 s), and a write
 * waiting past the busy timeout failed. In the queue, the server's writes wait their turn
 * without holding its thread, and reads go on; a long write is made of several turns
 * (store/table-swap.ts), so the writes waiting go between them. (PostgreSQL's lock waits hold
 * no thread: there a job writes at once.) `inlineJobs` runs jobs here, for an in-memory
 * database (which another connection cannot see) and for tests.
 *
 * Both run one job at a time, in the order asked: a split waits for a listening run and the
 * other way round, so that neither overwrites the themes model the other loaded.
 */
export interface JobRunner {
  /** 'thread': on a worker thread of their own; 'inline': on the caller's thread. */
  readonly where: 'thread' | 'inline';
  run<O, R>(job: Job<O, R>, options: O): Promise<R>;
  /**
   * Stops the job running now, if it runs on a thread (the server's shutdown never waits on
   * one): its run is recorded as failed, "stopped: the server shut down".
   */
  stop(): Promise<void>;
}

/** How long a job may run on a thread before it is stopped and its run recorded as failed. */
export const DEFAULT_JOB_DEADLINE_MS = 30 * 60_000;

/** What a job thread is asked to do; structured-cloned to it. */
export interface JobData {
  target: DatabaseTarget;
  job: { name: string; module: string };
  options: unknown;
  /** The caller's clock minus the system clock: the thread keeps the caller's time. */
  clockOffsetMs: number;
  /** Whether the thread's writes take turns of the caller's write queue (`WriteTurn`). */
  turns: boolean;
}

export type JobReply = { ok: true; result: unknown } | { ok: false; error: ThreadError };

/**
 * A job thread's write turns on the caller's write queue: `ask` a turn, then `done` when the
 * writes of turn `id` are over (committed or failed). The caller answers an `ask` with
 * `{ granted: id }` once the turn is the thread's.
 */
export type WriteTurn = { turn: 'ask' | 'done'; id: number };

function isWriteTurn(m: unknown): m is WriteTurn {
  return typeof m === 'object' && m !== null && 'turn' in m;
}

/** Jobs on the caller's thread, their writes through the caller's write queue. */
export function inlineJobs(store: Store, options: { now?: () => number; serialize?: Serialize } = {}): JobRunner {
  const now = options.now ?? Date.now;
  const serialize: Serialize = options.serialize ?? ((fn) => fn());
  const one = serialQueue();
  return {
    where: 'inline',
    run: (job, o) => one(() => job.run({ store, now, serialize }, o)),
    stop: async () => {},
  };
}


/**
 * Jobs on a worker thread each, with a connection of their own. An in-memory SQLite database
 * exists only on its own connection, so its jobs run inline.
 */
export function threadJobs(
  store: Store,
  options: { now?: () => number; serialize?: Serialize; memoryMb?: number | undefined; deadlineMs?: number | undefined } = {},
): JobRunner {
  const target = store.target;
  if (target.kind === 'sqlite' && target.file === ':memory:') return inlineJobs(store, options);
  const now = options.now ?? Date.now;
  const one = serialQueue();
  const running = new Set<ThreadRun>();
  return {
    where: 'thread',
    stop: async () => {
      await Promise.all([...running].map((r) => r.stop('stopped: the server shut down')));
    },
    run: <O, R>(job: Job<O, R>, o: O) =>
      one(async () => {
        // The runs a thread records from here on: if it dies (out of memory) before it can say
        // how its run ended, the run is recorded as failed here rather than left "running", and
        // a job that records its runs gets a failed one even when its thread died first.
        const since = await newestRunId(store.db);
        const seen = job.records ? JSON.stringify(await job.records.seen(store)) : null;
        try {
          const deadlineMs = job.deadlineMs ?? options.deadlineMs ?? DEFAULT_JOB_DEADLINE_MS;
          // PostgreSQL waits for its locks without holding the thread: its jobs write at once.
          const serialize = target.kind === 'sqlite' && job.threadWrites !== 'lock' ? options.serialize : undefined;
          const data: JobData = { target, job: { name: job.name, module: job.module }, options: o, clockOffsetMs: now() - Date.now(), turns: serialize !== undefined };
          const thread = inThread(data, options.memoryMb, deadlineMs, serialize);
          running.add(thread);
          try {
            return (await thread.result) as R;
          } finally {
            running.delete(thread);
          }
        } catch (e) {
          if (isRapportError(e) && e.code === 'job_died') {
            const write = options.serialize ?? ((fn) => fn());
            await write(() => recordDeath(store, since, job.records ? job.name : undefined, triggerOf(o), e.message, seen, now()));
          }
          throw e;
        }
      }),
  };
}

/** The run of a thread that died: its own "running" rows marked failed, or one failed row of `job`. */
async function recordDeath(store: Store, since: number, job: string | undefined, trigger: string, error: string, seen: string | null, at: number): Promise<void> {
  await failRunningAfter(store.db, since, error, at, seen);
  if (job !== undefined && (await runsAfter(store.db, since, job)) === 0) {
    const id = await insertRun(store.db, job, trigger, at);
    await markRunFailed(store.db, id, error, at, seen);
  }
}

/** The `trigger` a job's options name, as the runs table records it. */
function triggerOf(options: unknown): string {
  const t = (options as { trigger?: unknown } | null)?.trigger;
  return typeof t === 'string' ? t : 'api';
}

/** A job's thread: its result, and a way to stop it before it ends. */
interface ThreadRun {
  readonly result: Promise<unknown>;
  stop(why: string): Promise<void>;
}

function inThread(data: JobData, memoryMb: number | undefined, deadlineMs: number, serialize: Serialize | undefined): ThreadRun {
  const { script, eval: evaluated } = workerScript(import.meta.url, 'job.worker');
  const worker = new Worker(script, { eval: evaluated, workerData: data, ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}) });
  // The thread's write turns on `serialize`: each ends when the thread says so, or when it ends.
  const turns = new Map<number, () => void>();
  let ended = false;
  const endTurns = (): void => {
    ended = true;
    for (const end of turns.values()) end();
    turns.clear();
  };
  const onTurn = (m: WriteTurn): void => {
    if (m.turn === 'done') {
      turns.get(m.id)?.();
      turns.delete(m.id);
      return;
    }
    void serialize!(
      () =>
        new Promise<void>((resolve) => {
          if (ended) return resolve();
          turns.set(m.id, resolve);
          worker.postMessage({ granted: m.id });
        }),
    );
  };
  let stopped: string | undefined;
  const stop = async (why: string): Promise<void> => {
    stopped ??= why;
    await worker.terminate();
  };
  // Past its deadline the thread is terminated wherever it is (a loop that never ends
  // included): the run fails with the reason and the queue moves on.
  const minutes = deadlineMs / 60_000;
  const timer = setTimeout(() => void stop(`ran past its deadline of ${minutes >= 1 ? `${Math.round(minutes)} minute${Math.round(minutes) === 1 ? '' : 's'}` : `${Math.round(deadlineMs / 1000)} s`} and was stopped`), deadlineMs);
  timer.unref();
  const result = new Promise((resolve, reject) => {
    let reply: JobReply | undefined;
    worker.on('message', (m: JobReply | WriteTurn) => {
      if (isWriteTurn(m)) onTurn(m);
      else reply = m;
    });
    let died: Error | undefined;
    worker.once('error', (e: Error) => (died = e));
    worker.once('exit', (code) => {
      clearTimeout(timer);
      endTurns();
      if (reply?.ok) resolve(reply.result);
      else if (reply) {
        reject(fromThreadError(reply.error));
      } else if (stopped !== undefined) {
        reject(new RapportError('job_died', `the job ${stopped}`));
      } else {
        const why = (died as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory${memoryMb ? ` (RAPPORT_JOB_MEMORY_MB=${memoryMb})` : ''}` : (died?.message ?? `exit code ${code}`);
        reject(new RapportError('job_died', `the job's thread stopped before it finished: ${why}`));
      }
    });
  });
  return { result, stop };
}
