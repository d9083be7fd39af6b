import fsp from 'node:fs/promises';
import path from 'node:path';
import { invalid, isRapportError, RapportError } from '../../core/errors.js';
import { FEEDBACK_KINDS, type FeedbackKind } from '../../core/vocabulary.js';
import { IMPORT_KINDS, type ImportKind } from '../records.js';
import { unreadable } from './reading.js';
import { DATE_ORDERS, fieldNamed, fieldNames, type DateOrder } from './columns.js';

/** An import's options and summary, and the check of the options into a plan before anything is opened or written. */

export type ImportFormat = 'csv' | 'ndjson';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['csv', 'ndjson'];

export interface ImportProgress {
  /** Data rows read so far (CSV records after the header, or non-empty NDJSON lines). */
  rows: number;
  rejected: number;
  /** Bytes of the file consumed so far, against `totalBytes`, for an ETA. */
  bytes: number;
  totalBytes: number;
}

export interface ImportOptions {
  file: string;
  /** customers, orders, events or feedback (checked: the CLI passes what the user typed). */
  kind: string;
  /** csv or ndjson; by default from the file extension. */
  format?: string | undefined;
  /** Source name stored with every record; default `segment` for events, `import` otherwise. */
  source?: string | undefined;
  /** Where rejected rows go; default `<file>.rejected.csv` (in the working directory when the file's own is read-only). */
  report?: string | undefined;
  /** Feedback kind for rows that name none; default `other`. */
  feedbackKind?: string | undefined;
  /** Records per write (one transaction each); default 5000. */
  batchSize?: number | undefined;
  /** Called after every batch and once at the end. */
  onProgress?: ((p: ImportProgress) => void) | undefined;
  /** The time of the import (records without a date of their own get it). */
  clock?: (() => number) | undefined;
  /** How far past the import's time a row's date may lie, in days (default core/limits.ts's). */
  futureDays?: number | undefined;
  /**
   * How events are written: `incremental` (committed about once a second, indexes kept up to
   * date row by row), `load` (SQLite: one transaction, interaction indexes rebuilt at the end;
   * see IngestWriter.load), or `auto` (default): `load` for an events file estimated at four
   * times or more the interactions already stored (and at least 100,000 rows).
   */
  mode?: ImportMode | 'auto' | undefined;
  /** `--map field=column`: which column holds a field, over the accepted column names; `field=`: none does. */
  map?: Readonly<Record<string, string>> | readonly string[] | undefined;
  /** `--date-order dmy|mdy`: how dates like 1/2/2011 are read; by default the date column decides. */
  dateOrder?: string | undefined;
}

export type ImportMode = 'incremental' | 'load';

export interface ImportSummary {
  file: string;
  kind: ImportKind;
  format: ImportFormat;
  source: string;
  /** Data rows read. */
  rows: number;
  /** Records stored for the first time (an order of three lines is one record). */
  inserted: number;
  /** Records that changed something already stored (customer traits, merges). */
  updated: number;
  /** Records already stored under the same (source, source id): skipped. */
  duplicates: number;
  /** Rows rejected (each has a line in the report). */
  rejected: number;
  seconds: number;
  rowsPerSecond: number;
  /** The report file, or null when no row was rejected. */
  report: string | null;
  mode: ImportMode;
}

/** What {@link checkImport} resolves: the import's settings, validated. */
export interface ImportPlan {
  file: string;
  kind: ImportKind;
  format: ImportFormat;
  source: string;
  feedbackKind: FeedbackKind;
  report: string;
  bytes: number;
  /** Field → column, from `--map`. */
  map: Readonly<Record<string, string>>;
  dateOrder: DateOrder | undefined;
  feedbackKindAsked: boolean;
}

const EXTENSIONS: Record<string, ImportFormat> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.ldjson': 'ndjson',
  '.json': 'ndjson',
};

/**
 * Validates the options and that the file can be read, before anything is opened or written:
 * an unknown kind or format is `invalid_input`, a missing or unreadable file `unreadable_file`.
 *
 * @example await checkImport({ file: 'orders.csv', kind: 'orders' }) // → { format: 'csv', source: 'import', … }
 */
export async function checkImport(options: ImportOptions): Promise<ImportPlan> {
  const kind = options.kind;
  if (!(IMPORT_KINDS as readonly string[]).includes(kind)) {
    throw invalid('--kind', `expected one of ${IMPORT_KINDS.join(', ')}, got "${kind}"`);
  }
  let format: ImportFormat;
  if (options.format !== undefined) {
    if (!(IMPORT_FORMATS as readonly string[]).includes(options.format)) {
      throw invalid('--format', `expected csv or ndjson, got "${options.format}"`);
    }
    format = options.format as ImportFormat;
  } else {
    const ext = path.extname(options.file).toLowerCase();
    const known = EXTENSIONS[ext];
    if (!known) {
      throw invalid('--format', `cannot tell the format of ${path.basename(options.file)} from its extension (.csv, .ndjson, .jsonl, .json are known); pass --format csv or --format ndjson`);
    }
    format = known;
  }
  if (options.mode !== undefined && !['auto', 'incremental', 'load'].includes(options.mode)) {
    throw invalid('--mode', `expected auto, incremental or load, got "${String(options.mode)}"`);
  }
  const feedbackKind = options.feedbackKind ?? 'other';
  if (!(FEEDBACK_KINDS as readonly string[]).includes(feedbackKind)) {
    throw invalid('--kind-default', `expected one of ${FEEDBACK_KINDS.join(', ')}, got "${feedbackKind}"`);
  }
  const map: Record<string, string> = {};
  const pairs = Array.isArray(options.map) ? (options.map as readonly string[]).map((m) => {
    const eq = m.indexOf('=');
    if (eq <= 0) throw invalid('--map', `expected field=column (or field= for a field the file does not have), got "${m.slice(0, 80)}"`);
    return [m.slice(0, eq).trim(), m.slice(eq + 1).trim()] as const;
  }) : Object.entries(options.map ?? {});
  for (const [field, column] of pairs) {
    if (fieldNamed(kind as ImportKind, field) === undefined) throw invalid('--map', `${kind} have no field "${field}"; the fields are ${fieldNames(kind as ImportKind).join(', ')}`);
    // An empty column name says the file has no column for the field (columns.ts MapOptions).
    map[field] = column;
  }
  if (options.dateOrder !== undefined && !(DATE_ORDERS as readonly string[]).includes(options.dateOrder)) {
    throw invalid('--date-order', `expected dmy (day/month/year) or mdy (month/day/year), got "${options.dateOrder}"`);
  }
  const source = options.source ?? (kind === 'events' ? 'segment' : 'import');
  if (source.trim().length === 0 || source.length > 200) throw invalid('--source', 'expected a name of 1 to 200 characters');
  const file = path.resolve(options.file);
  let bytes: number;
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) throw new RapportError('unreadable_file', `${options.file}: not a file`);
    const handle = await fsp.open(file, 'r');
    await handle.close();
    bytes = stat.size;
  } catch (e) {
    if (isRapportError(e)) throw e;
    throw unreadable(options.file, e);
  }
  return {
    file,
    kind: kind as ImportKind,
    format,
    source,
    feedbackKind: feedbackKind as FeedbackKind,
    report: path.resolve(options.report ?? `${file}.rejected.csv`),
    bytes,
    map,
    dateOrder: options.dateOrder as DateOrder | undefined,
    feedbackKindAsked: options.feedbackKind !== undefined,
  };
}
