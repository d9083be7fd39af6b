import { defineJob } from '../../jobs/job.js';
import { importFile, type ImportSummary } from './import.js';

/** What the import API asks a job to import: a file already checked (preview.ts `checkMapping`). */
export interface ImportJobOptions {
  file: string;
  kind: string;
  format: string;
  /** `field=column` pairs, as `--map` takes them (`field=`: not in this file). */
  map: string[];
  dateOrder: string | undefined;
  /** Where the rejected rows go (beside the uploaded file, removed with it). */
  report: string;
  trigger: 'api';
}

/**
 * An uploaded file's import, as a job of the runner: on `rapport serve` it runs on a worker
 * thread with a connection of its own, so that requests are answered meanwhile and its bulk
 * transaction (committed about once a second) is not shared with the server's other writes;
 * inline (an in-memory database, tests) it runs through the server's write queue for the same
 * reason. On a thread its commits meet the server's writes at the database rather than in the
 * server's write queue (`threadWrites: 'lock'`), which the whole import would otherwise hold.
 * Always incremental: load mode would drop the interaction indexes under a running server.
 */
export const importJob = defineJob<ImportJobOptions, ImportSummary>({
  name: 'import',
  module: import.meta.url,
  threadWrites: 'lock',
  run: (ctx, o) =>
    ctx.serialize(() => importFile(ctx.store, { file: o.file, kind: o.kind, format: o.format, map: o.map, dateOrder: o.dateOrder, report: o.report, mode: 'incremental', clock: ctx.now })),
});
