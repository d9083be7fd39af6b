/** The stored runs as readers see them: the latest successful run and its report. */
import type { Store } from '../store/db.js';
import type { ClvTrigger } from '../store/schema.js';
import type { ClvRunReport } from './run-report.js';
import { latestOkRun, runReport } from './runs.repository.js';

/** Per store (a process may open several): the latest run's parsed report. */
const cachedReports = new WeakMap<Store, { id: number; report: ClvRunReport }>();

/** The latest successful run's report, or undefined before the first (parsed once per run). */
export async function latestClvRun(store: Store): Promise<{ id: number; finishedAt: number; trigger: ClvTrigger; report: ClvRunReport } | undefined> {
  const r = await latestOkRun(store.db);
  if (!r) return undefined;
  let cached = cachedReports.get(store);
  if (cached?.id !== r.id) {
    const report = await runReport(store.db, r.id);
    if (!report) return undefined;
    cached = { id: r.id, report: JSON.parse(report) as ClvRunReport };
    cachedReports.set(store, cached);
  }
  return { id: r.id, finishedAt: r.finishedAt, trigger: r.trigger, report: cached.report };
}
