/**
 * The server's schedule for recomputing jobs.
 *
 * CLV runs
 *  - when there are orders and no successful run yet,
 *  - when orders arrived since the last run (from any path: imports, the tracking API) and
 *    have settled for `settleMs` (a burst of orders makes one run, not one per order),
 *  - and at least every `everyMs` as a safety net.
 * A run that failed is not retried for the same orders before `everyMs`; new orders retry it.
 *
 * Listening (signals, themes, tags) runs after CLV, so the defect ledger and the themes board
 * weigh feedback by fresh values: when there is feedback and no run yet, when feedback arrived
 * since the last run and has settled, or when a tag set's examples changed (a correction
 * retrains its model).
 */
import type { Store } from '../store/db.js';
import { lastOrderRef } from '../value/value.job.js';
import { lastFeedbackRef } from '../listening/listen.job.js';
import { inlineJobs, type JobRunner } from './runner.js';
import { modelStale, readTagModelMeta } from '../listening/tags.service.js';

export interface ScheduleOptions {
  /** How often to look (default 60 s). */
  checkMs?: number;
  /** How long new orders must have been quiet before a run (default 10 min). */
  settleMs?: number;
  /** Run at least this often (default 24 h). */
  everyMs?: number;
  now?: () => number;
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Where the runs run (the server: a worker thread each); default here, through `serialize`. */
  jobs?: JobRunner;
  log?: (message: string) => void;
}

export interface Schedule {
  /** Looks now (tests, and after an import the server itself ran). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export type Due = { due: true; why: string } | { due: false };

/** Whether CLV should run now. */
export async function clvDue(store: Store, now: number, o: { settleMs: number; everyMs: number }): Promise<Due> {
  const ref = await lastOrderRef(store);
  if (ref === 0) return { due: false };
  const last = await store.db
    .selectFrom('clv_runs')
    .select(['status', 'finished_at', 'started_at', 'report', 'error'])
    .where('status', '!=', 'running')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return { due: true, why: 'no run yet' };
  const at = Number(last.finished_at ?? last.started_at);
  if (now - at >= o.everyMs) return { due: true, why: 'scheduled' };
  // The orders the last run saw (a failed run too: it is retried once others arrive).
  const seen = last.report ? (JSON.parse(last.report) as { lastOrderRef?: number }).lastOrderRef : undefined;
  if (seen !== ref && now - at >= o.settleMs) return { due: true, why: last.status === 'failed' ? 'new orders since the failed run' : 'new orders' };
  return { due: false };
}

/** Whether the listening run should run now. */
export async function listenDue(store: Store, now: number, o: { settleMs: number; everyMs: number }): Promise<Due> {
  const ref = await lastFeedbackRef(store);
  if (ref === 0) return { due: false };
  const last = await store.db
    .selectFrom('text_runs')
    .select(['status', 'finished_at', 'started_at', 'report'])
    .where('kind', '=', 'listen')
    .where('status', '!=', 'running')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return { due: true, why: 'no run yet' };
  const at = Number(last.finished_at ?? last.started_at);
  if (now - at < o.settleMs) return { due: false };
  // The safety net, as for customer value: a failed run is retried, stale numbers refreshed.
  if (now - at >= o.everyMs) return { due: true, why: last.status === 'failed' ? 'retrying the failed run' : 'scheduled' };
  const seen = last.report ? (JSON.parse(last.report) as { lastFeedbackRef?: number }).lastFeedbackRef : undefined;
  if (seen !== ref) return { due: true, why: last.status === 'failed' ? 'new feedback since the failed run' : 'new feedback' };
  const sets = await store.db.selectFrom('tags').select('tag_set').distinct().execute();
  for (const { tag_set: set } of sets) {
    const meta = await readTagModelMeta(store.db, set);
    if (meta && (await modelStale(store.db, set, meta))) return { due: true, why: `tag examples of "${set}" changed` };
  }
  return { due: false };
}

export function scheduleClv(store: Store, options: ScheduleOptions = {}): Schedule {
  const checkMs = options.checkMs ?? 60_000;
  const settleMs = options.settleMs ?? 10 * 60_000;
  const everyMs = options.everyMs ?? 24 * 3_600_000;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const jobs = options.jobs ?? inlineJobs(store, { now, ...(options.serialize ? { serialize: options.serialize } : {}) });
  let busy: Promise<void> | undefined;
  let stopped = false;
  const check = async (): Promise<void> => {
    if (busy) return busy;
    busy = (async () => {
      try {
        const d = await clvDue(store, now(), { settleMs, everyMs });
        if (d.due && !stopped) {
          try {
            const { report } = await jobs.clv({ trigger: 'schedule' });
            log(`customer value recomputed (${d.why}): ${report.customers} customers in ${(report.timings.totalMs / 1000).toFixed(1)} s`);
          } catch (e) {
            log(`customer value run failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        const l = await listenDue(store, now(), { settleMs, everyMs });
        if (l.due && !stopped) {
          const t0 = performance.now();
          const { report } = await jobs.listen({ trigger: 'schedule' });
          log(`feedback analysed (${l.why}): ${report.analysed} items, ${report.themes.count} themes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
      } catch (e) {
        log(`listening run failed: ${e instanceof Error ? e.message : String(e)}`);
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
