import type { Serialize } from '../core/serial.js';
import type { Store } from '../store/db.js';

/**
 * A job: seconds to minutes of work over the stored data (fitting customer value, listening to
 * feedback, splitting a theme), run by the runner (runner.ts) on the caller's thread or on a
 * worker thread, one at a time, and, when it declares `schedule`, by the server's schedule.
 *
 * A capability adds a job by defining it in its own folder (`value/value.job.ts`) and adding
 * one line to the server's registry (`server/jobs.ts`). Options and results cross threads, so
 * they are plain data (structured-cloneable).
 */
export interface Job<O, R> {
  /** The job's name, unique; also the `job` of its rows in the runs table. */
  readonly name: string;
  /** The module that exports this definition (`import.meta.url`): a worker thread loads it from there. */
  readonly module: string;
  run(ctx: JobContext, options: O): Promise<R>;
  readonly schedule?: JobSchedule<O, R>;
  /**
   * For a job that records its runs in the runs table (runs.ts `recordRun`): what a run that
   * starts now has seen (`{ lastOrderRef }`), kept as the report of a failed run so that the
   * schedule retries it once new data arrives rather than at once. The runner records a run
   * whose thread died (out of memory) with it, even when the thread died before it could
   * record the run itself.
   */
  readonly records?: { seen(store: Store): Promise<unknown> };
  /** How long a run may take on a thread before it is stopped (default: the runner's, 30 minutes). */
  readonly deadlineMs?: number;
  /**
   * On a thread over SQLite, `ctx.serialize` takes a turn of the server's write queue
   * (runner.ts), so that the server's writes wait for the job's in that queue rather than for
   * SQLite's lock on the server's thread. A job whose `serialize` wraps a long run of commits
   * (an import) would hold the queue, and every tracking request with it, for its whole
   * length: `'lock'` leaves its writes to meet the server's at the database instead.
   */
  readonly threadWrites?: 'queue' | 'lock';
}

/** What a job may use; the same on every thread. */
export interface JobContext {
  readonly store: Store;
  readonly now: () => number;
  /**
   * Runs the job's writes (its run record, the results) one at a time with the caller's other
   * writes: the server passes its write queue, so that no write transaction is open around them
   * (on a job's thread, a turn of that queue: runner.ts).
   */
  readonly serialize: Serialize;
}

/** How the schedule runs a job: when it is due, with which options, and the line it logs. */
export interface JobSchedule<O, R> {
  /** What the job does, for the log ("customer value", "listening"). */
  readonly title: string;
  due(store: Store, now: number, policy: DuePolicy): Promise<Due>;
  readonly options: O;
  /** The log line of a scheduled run that succeeded. */
  done(result: R, why: string, seconds: number): string;
}

export type Due = { due: true; why: string } | { due: false };

export interface DuePolicy {
  /** How long new data must have been quiet before a run. */
  settleMs: number;
  /** Run at least this often. */
  everyMs: number;
}

/** Defines a job (an identity function that keeps the option and result types). */
export function defineJob<O, R>(job: Job<O, R>): Job<O, R> {
  return job;
}

/** A job of any options and result, as registries hold them. */
export type AnyJob = Job<unknown, unknown>;

/** A context on `store` with the system clock and no write queue (the CLI, tests). */
export function directContext(store: Store, options: { now?: () => number; serialize?: Serialize } = {}): JobContext {
  return { store, now: options.now ?? Date.now, serialize: options.serialize ?? ((fn) => fn()) };
}
