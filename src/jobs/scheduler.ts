/**
 * The server's schedule: every job that declares `schedule` (job.ts) is asked, in the order of
 * the registry, whether it is due, and run when it is. Customer value comes before listening,
 * so that the defect ledger and the themes board weigh feedback by fresh values.
 *
 * Each job decides for itself when it is due (new data that has settled for `settleMs`, at least
 * every `everyMs`, a failed run retried once new data arrives); a failure of one job is logged
 * under its own name and does not keep the next one from running.
 */
import type { Store } from '../store/db.js';
import type { Serialize } from '../core/serial.js';
import { HOUR_MS, MINUTE_MS } from '../core/time.js';
import type { AnyJob } from './job.js';
import { inlineJobs, type JobRunner } from './runner.js';

export interface ScheduleOptions {
  /** How often to look (default 60 s). */
  checkMs?: number;
  /** How long new data must have been quiet before a run (default 10 min). */
  settleMs?: number;
  /** Run at least this often (default 24 h). */
  everyMs?: number;
  now?: () => number;
  serialize?: Serialize;
  /** Where the runs run (the server: a worker thread each); default here, through `serialize`. */
  jobs?: JobRunner;
  log?: (message: string) => void;
}

export interface Schedule {
  /** Looks now (tests, and after an import the server itself ran). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export function startSchedule(store: Store, registry: readonly AnyJob[], options: ScheduleOptions = {}): Schedule {
  const checkMs = options.checkMs ?? MINUTE_MS;
  const policy = { settleMs: options.settleMs ?? 10 * MINUTE_MS, everyMs: options.everyMs ?? 24 * HOUR_MS };
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const jobs = options.jobs ?? inlineJobs(store, { now, ...(options.serialize ? { serialize: options.serialize } : {}) });
  const scheduled = registry.filter((j) => j.schedule !== undefined);
  let busy: Promise<void> | undefined;
  let stopped = false;
  const check = async (): Promise<void> => {
    if (busy) return busy;
    busy = (async () => {
      try {
        for (const job of scheduled) {
          if (stopped) break;
          const s = job.schedule!;
          try {
            const d = await s.due(store, now(), policy);
            if (!d.due || stopped) continue;
            const t0 = performance.now();
            const result = await jobs.run(job, s.options);
            log(s.done(result, d.why, (performance.now() - t0) / 1000));
          } catch (e) {
            log(`${s.title} run failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
      } finally {
        busy = undefined;
      }
    })();
    return busy;
  };
  const timer = setInterval(() => void check(), checkMs);
  timer.unref();
  return {
    check,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await busy;
    },
  };
}
