import { timeWindow } from '../../core/limits.js';
import fsp from 'node:fs/promises';
import { invalid } from '../../core/errors.js';
import type { Store } from '../../store/db.js';
import { IngestWriter, lastInteractionId } from '../writer/writer.js';
import type { RowContext } from './columns.js';
import { readCsv } from './csv.js';
import { readNdjson } from './ndjson.js';
import { checkImport, type ImportMode, type ImportOptions, type ImportPlan, type ImportSummary } from './plan.js';
import { RejectReport } from './reject-report.js';
import { Sink } from './sink.js';

/**
 * Bulk import of customers, orders, events and feedback from CSV or NDJSON files of any size.
 * The file is streamed (read stream → lines or CSV records → validated rows → batches →
 * IngestWriter) in constant memory: reading waits while a batch is written. Every row is
 * validated whole into records before it joins a batch, so a rejected row leaves nothing
 * behind; it goes to the report (row, field, reason) instead.
 */

export { checkImport, IMPORT_FORMATS } from './plan.js';
export type { ImportFormat, ImportMode, ImportOptions, ImportPlan, ImportProgress, ImportSummary } from './plan.js';

const BATCH_RECORDS = 5000;

/**
 * Imports one file into the store and returns what happened. Re-importing the same file
 * stores nothing new: every record has a source id (its own, or a hash of the row).
 *
 * @example
 * const s = await importFile(store, { file: 'customers.csv', kind: 'customers' });
 * console.log(`${s.inserted} new, ${s.rejected} rejected (see ${s.report})`);
 *
 * `checked` is what {@link checkImport} made of these options, when the caller checked them
 * already (the CLI does, before it opens the database): the file is then not checked twice.
 */
export async function importFile(store: Store, options: ImportOptions, checked?: ImportPlan): Promise<ImportSummary> {
  const plan = checked ?? (await checkImport(options));
  const clock = options.clock ?? Date.now;
  const started = performance.now();
  const report = new RejectReport(plan.report, options.report === undefined ? plan.file : undefined);
  const now = clock();
  const ctx: RowContext = { source: plan.source, now, window: timeWindow(now, options.futureDays), feedbackKind: plan.feedbackKind, feedbackKindAsked: plan.feedbackKindAsked };
  const writer = new IngestWriter(store, clock);
  const sink = new Sink(writer, report, options.batchSize ?? BATCH_RECORDS, plan.bytes, options.onProgress);
  const mode = await chooseMode(store, plan, options.mode ?? 'auto');
  const read = async (): Promise<void> => {
    if (plan.format === 'csv') await readCsv(plan, ctx, sink);
    else await readNdjson(plan, ctx, sink);
    await sink.flush();
  };
  try {
    if (mode === 'load') {
      const { duplicates } = await writer.load(read);
      sink.counts.inserted -= duplicates;
      sink.counts.duplicates += duplicates;
    } else {
      // Batches are savepoints committed together about once a second (see IngestWriter.bulk).
      await writer.bulk(read);
    }
    sink.progress();
  } finally {
    await report.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    file: plan.file,
    kind: plan.kind,
    format: plan.format,
    source: plan.source,
    rows: sink.rows,
    inserted: sink.counts.inserted,
    updated: sink.counts.updated,
    duplicates: sink.counts.duplicates,
    rejected: report.count,
    seconds,
    rowsPerSecond: seconds > 0 ? sink.rows / seconds : 0,
    report: report.count > 0 ? report.path : null,
    mode,
  };
}

/** Rows below which a load is never worth its all-or-nothing transaction. */
const LOAD_MIN_ROWS = 100_000;

async function chooseMode(store: Store, plan: ImportPlan, asked: ImportMode | 'auto'): Promise<ImportMode> {
  if (asked === 'load' && !IngestWriter.canLoad(store)) throw invalid('--mode', 'load mode is for SQLite; on PostgreSQL imports are incremental');
  if (asked !== 'auto') return asked;
  if (!IngestWriter.canLoad(store) || plan.kind !== 'events') return 'incremental';
  const rows = await estimateRows(plan.file, plan.bytes);
  if (rows < LOAD_MIN_ROWS) return 'incremental';
  // The largest id: the row count, near enough, without counting.
  return rows >= 4 * (await lastInteractionId(store.db)) ? 'load' : 'incremental';
}

/** Lines in a file, from the length of those in its first 256 KB. */
async function estimateRows(file: string, bytes: number): Promise<number> {
  const handle = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(bytes, 256 * 1024));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let lines = 0;
    for (let i = buf.indexOf(10); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) lines++;
    return lines === 0 ? 1 : Math.round((bytes / bytesRead) * lines);
  } finally {
    await handle.close();
  }
}
