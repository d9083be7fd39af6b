import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv, type CsvError, type Info } from 'csv-parse';
import { invalid, isRapportError, RapportError } from '../core/errors.js';
import type { Store } from '../store/db.js';
import type { FeedbackKind } from '../store/schema.js';
import {
  customerRow,
  eventRow,
  feedbackRow,
  IMPORT_KINDS,
  mapColumns,
  OrderGroup,
  orderRow,
  type ColumnMap,
  type Converted,
  type ImportKind,
  type RowContext,
} from './columns.js';
import { FEEDBACK_KINDS, type IngestRecord, type Who, type WriteCounts } from './records.js';
import { MESSAGE_TYPES, normalizeMessage, type MessageType } from './segment.js';
import { IngestWriter, lastInteractionId } from './writer.js';

/**
 * Bulk import of customers, orders, events and feedback from CSV or NDJSON files of any size.
 * The file is streamed (read stream → lines or CSV records → validated rows → batches →
 * IngestWriter) in constant memory: reading waits while a batch is written. Every row is
 * validated whole into records before it joins a batch, so a rejected row leaves nothing
 * behind; it goes to the report (row, field, reason) instead.
 */

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
  /**
   * How events are written: `incremental` (committed about once a second, indexes kept up to
   * date row by row), `load` (SQLite: one transaction, interaction indexes rebuilt at the end;
   * see IngestWriter.load), or `auto` (default): `load` for an events file estimated at four
   * times or more the interactions already stored (and at least 100,000 rows).
   */
  mode?: ImportMode | 'auto' | undefined;
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
}

const BATCH_RECORDS = 5000;
/** The longest line or CSV record read; longer ones are rejected so memory stays bounded. */
const MAX_ROW_BYTES = 4 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;

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
  };
}

function unreadable(file: string, e: unknown): RapportError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
  return new RapportError('unreadable_file', `${file}: cannot read the file (${why})`);
}

/**
 * Imports one file into the store and returns what happened. Re-importing the same file
 * stores nothing new: every record has a source id (its own, or a hash of the row).
 *
 * @example
 * const s = await importFile(store, { file: 'customers.csv', kind: 'customers' });
 * console.log(`${s.inserted} new, ${s.rejected} rejected (see ${s.report})`);
 */
export async function importFile(store: Store, options: ImportOptions): Promise<ImportSummary> {
  const plan = await checkImport(options);
  const clock = options.clock ?? Date.now;
  const started = performance.now();
  const report = new RejectReport(plan.report, options.report === undefined ? plan.file : undefined);
  const ctx: RowContext = { source: plan.source, now: clock(), feedbackKind: plan.feedbackKind };
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
  if (asked === 'load' && !store.sqlite) throw invalid('--mode', 'load mode is for SQLite; on PostgreSQL imports are incremental');
  if (asked !== 'auto') return asked;
  if (!store.sqlite || plan.kind !== 'events') return 'incremental';
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

// ---------------------------------------------------------------------------------------
// The report of rejected rows: CSV with row,field,reason, opened at the first rejection.

class RejectReport {
  count = 0;
  private stream: fs.WriteStream | undefined;
  private failure: Error | undefined;

  /** `input`: the imported file, when the report may move to the working directory (default path only). */
  constructor(
    public path: string,
    private readonly input: string | undefined,
  ) {}

  async add(row: number, field: string, reason: string): Promise<void> {
    this.count++;
    if (!this.stream) await this.open();
    if (this.failure) throw this.failure;
    const line = `${row},${csvCell(field)},${csvCell(reason)}\n`;
    if (!this.stream!.write(line)) await once(this.stream!, 'drain');
  }

  private async open(): Promise<void> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.path, 'w');
    } catch (e) {
      // Next to the input when that directory is writable, else in the working directory.
      const code = (e as NodeJS.ErrnoException).code;
      const fallback = this.input === undefined ? undefined : path.resolve(`${path.basename(this.input)}.rejected.csv`);
      if (fallback === undefined || !['EACCES', 'EPERM', 'EROFS'].includes(code ?? '') || fallback === this.path) {
        throw new RapportError('unreadable_file', `cannot write the report ${this.path}: ${(e as Error).message}`);
      }
      this.path = fallback;
      handle = await fsp.open(this.path, 'w');
    }
    this.stream = handle.createWriteStream();
    this.stream.on('error', (e) => (this.failure = e));
    this.stream.write('row,field,reason\n');
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    const s = this.stream;
    await new Promise<void>((resolve) => s.end(resolve));
    if (this.failure) throw this.failure;
  }
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// ---------------------------------------------------------------------------------------
// Batching: whole rows in, one transaction per batch out.

interface Unit {
  /** The file row (or, for an order, rows) the records came from. */
  rows: number | readonly number[];
  records: IngestRecord[];
  byEmail: Who | undefined;
}

class Sink {
  rows = 0;
  bytes = 0;
  readonly counts: WriteCounts = { inserted: 0, updated: 0, duplicates: 0 };
  private units: Unit[] = [];
  private records: IngestRecord[] = [];
  /** e-mail → user id of the customer who has it (or the e-mail itself when none does). */
  private readonly emails = new Map<string, string>();

  constructor(
    private readonly writer: IngestWriter,
    private readonly report: RejectReport,
    private readonly batchSize: number,
    private readonly totalBytes: number,
    private readonly onProgress: ((p: ImportProgress) => void) | undefined,
  ) {}

  /** Takes a validated row; returns a promise only when a batch had to be written. */
  accept(rows: number | readonly number[], converted: Converted): Promise<void> | undefined {
    const rs = converted.records;
    this.units.push({ rows, records: rs, byEmail: converted.byEmail });
    for (let i = 0; i < rs.length; i++) this.records.push(rs[i]!);
    return this.records.length >= this.batchSize ? this.flush() : undefined;
  }

  reject(row: number, field: string, reason: string): Promise<void> {
    return this.report.add(row, field, reason);
  }

  /** Rejects a row for the error a converter threw (a RapportError names the field). */
  rejectError(row: number, e: unknown): Promise<void> {
    if (isRapportError(e) && e.code === 'invalid_input') {
      const issue = e.issues[0];
      return this.reject(issue?.row ?? row, issue?.field ?? '(row)', issue?.message ?? e.message);
    }
    throw e;
  }

  progress(): void {
    this.onProgress?.({ rows: this.rows, rejected: this.report.count, bytes: this.bytes, totalBytes: this.totalBytes });
  }

  async flush(): Promise<void> {
    if (this.units.length === 0) return;
    const units = this.units;
    const records = this.records;
    this.units = [];
    this.records = [];
    await this.resolveEmails(units);
    try {
      add(this.counts, await this.writer.write(records));
    } catch (e) {
      if (!isRowError(e)) throw e;
      // Something in the batch was refused: write its rows one by one to find which.
      for (const u of units) {
        try {
          add(this.counts, await this.writer.write(u.records));
        } catch (err) {
          if (!isRowError(err)) throw err;
          const reason = `the database refused it: ${(err as Error).message}`;
          for (const r of typeof u.rows === 'number' ? [u.rows] : u.rows) await this.reject(r, '(row)', reason);
        }
      }
    }
    this.progress();
  }

  /** Customers named only by an e-mail: the customer who has that e-mail, else the e-mail as user id. */
  private async resolveEmails(units: readonly Unit[]): Promise<void> {
    const pending: Who[] = [];
    for (const u of units) if (u.byEmail) pending.push(u.byEmail);
    if (pending.length === 0) return;
    if (this.emails.size > 100_000) this.emails.clear();
    const unknown = [...new Set(pending.map((w) => w.userId!).filter((e) => !this.emails.has(e)))];
    for (let i = 0; i < unknown.length; i += 500) {
      const part = unknown.slice(i, i + 500);
      const rows = await this.writer.conn
        .selectFrom('customers')
        .select(['user_id', 'email'])
        .where('email', 'in', part)
        .where('user_id', 'is not', null)
        .orderBy('id')
        .execute();
      for (const r of rows) if (r.email !== null && !this.emails.has(r.email)) this.emails.set(r.email, r.user_id!);
      for (const e of part) if (!this.emails.has(e)) this.emails.set(e, e);
    }
    for (const w of pending) w.userId = this.emails.get(w.userId!) ?? w.userId;
  }
}

function add(into: WriteCounts, c: WriteCounts): void {
  into.inserted += c.inserted;
  into.updated += c.updated;
  into.duplicates += c.duplicates;
}

const SYSTEMIC_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOMEM|NOTADB|PERM|AUTH|INTERRUPT)/;
const SYSTEMIC_NODE = /^E[A-Z]+$/;

/**
 * Whether a failed write is the fault of the rows in it (constraint, data type) rather than
 * of the database (connection lost, disk full, locked); only the former falls back to
 * writing row by row, the latter stops the import.
 */
function isRowError(e: unknown): boolean {
  if (isRapportError(e)) return false;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  if (SYSTEMIC_SQLITE.test(code) || SYSTEMIC_NODE.test(code)) return false;
  // PostgreSQL SQLSTATE classes 08 connection, 53 resources, 57 operator intervention, 58 system.
  if (/^(08|53|57|58|XX)/.test(code)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------
// NDJSON: split on newline bytes, check UTF-8 per chunk (per line only when a chunk fails).

/** Called per non-empty line; returns a promise only when it had to wait (a batch write). */
type LineHandler = (text: string, line: number) => Promise<void> | undefined;
/** Called for a line that could not be read as text. */
type BadLineHandler = (line: number, field: string, reason: string) => Promise<void>;

async function readLines(file: string, sink: Sink, onLine: LineHandler, onBad: BadLineHandler): Promise<void> {
  let line = 0;
  let carry: Buffer | undefined;
  /** Inside a line longer than MAX_ROW_BYTES: drop bytes up to the next newline. */
  let skipping = false;
  const handle = (text: string, start: number, end: number, n: number): Promise<void> | undefined => {
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    let s = start === 0 && end === text.length ? text : text.slice(start, end);
    if (n === 1 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    if (s.length === 0 || (s.charCodeAt(0) <= 32 && s.trim().length === 0)) return undefined;
    sink.rows++;
    return onLine(s, n);
  };
  /** `buf` holds whole lines: it ends just before a newline (or at the end of the file). */
  const emit = async (buf: Buffer): Promise<void> => {
    if (isUtf8(buf)) {
      const text = buf.toString('utf8');
      let start = 0;
      while (start <= text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        line++;
        const p = handle(text, start, end, line);
        if (p) await p;
        start = end + 1;
      }
      return;
    }
    let start = 0;
    while (start <= buf.length) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      line++;
      const part = buf.subarray(start, end);
      if (isUtf8(part)) {
        const text = part.toString('utf8');
        const p = handle(text, 0, text.length, line);
        if (p) await p;
      } else {
        sink.rows++;
        await onBad(line, '(line)', 'not valid UTF-8 (the file must be UTF-8 encoded)');
      }
      start = end + 1;
    }
  };

  const stream = fs.createReadStream(file, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      sink.bytes += chunk.length;
      let buf = chunk;
      if (skipping) {
        const nl = buf.indexOf(10);
        if (nl < 0) continue;
        skipping = false;
        buf = buf.subarray(nl + 1);
      }
      if (carry) buf = Buffer.concat([carry, buf]);
      carry = undefined;
      const last = buf.lastIndexOf(10);
      if (last < 0) {
        if (buf.length > MAX_ROW_BYTES) {
          line++;
          sink.rows++;
          await onBad(line, '(line)', `longer than ${MAX_ROW_BYTES / 1024 / 1024} MB`);
          skipping = true;
        } else {
          carry = Buffer.from(buf);
        }
        continue;
      }
      // Copy the tail so that it does not keep the whole chunk alive.
      if (last + 1 < buf.length) carry = Buffer.from(buf.subarray(last + 1));
      await emit(buf.subarray(0, last));
    }
  } catch (e) {
    throw ioError(file, e);
  }
  if (carry && carry.length > 0) await emit(carry);
}

/** A read error of the file becomes `unreadable_file`; everything else passes unchanged. */
function ioError(file: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return !isRapportError(e) && typeof code === 'string' && /^E[A-Z]+$/.test(code) ? unreadable(file, e) : e;
}

/** One JSON value per line; a file that holds a JSON array is not NDJSON and stops the import. */
function parseLine(text: string, line: number, file: string): { value: unknown } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (line === 1 && text.trimStart().startsWith('[')) throw notNdjson(file);
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
  if (line === 1 && Array.isArray(value)) throw notNdjson(file);
  return { value };
}

function notNdjson(file: string): RapportError {
  return invalid('--format', `${path.basename(file)} holds a JSON array; ndjson means one JSON object per line`);
}

async function readNdjson(plan: ImportPlan, ctx: RowContext, sink: Sink): Promise<void> {
  if (plan.kind === 'events') {
    await readLines(plan.file, sink, segmentLines(plan.file, ctx, sink), (line, field, reason) => sink.reject(line, field, reason));
    return;
  }
  // Other kinds: each line is an object whose keys are matched like CSV column names.
  const maps = new Map<string, ColumnMap>();
  const rows = rowHandler(plan.kind, ctx, sink);
  const onBad: BadLineHandler = async (line, field, reason) => {
    await sink.reject(line, field, reason);
    await rows.rejected(line, undefined, undefined);
  };
  await readLines(
    plan.file,
    sink,
    (text, line) => {
      const parsed = parseLine(text, line, plan.file);
      if ('error' in parsed) return onBad(line, '(line)', parsed.error);
      const value = parsed.value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return onBad(line, '(line)', 'expected a JSON object');
      const keys = Object.keys(value);
      const signature = keys.join('\u0000');
      let map = maps.get(signature);
      if (!map) {
        if (maps.size > 1000) maps.clear();
        map = mapColumns(plan.kind, keys);
        maps.set(signature, map);
      }
      return rows.row(map, Object.values(value), line);
    },
    onBad,
  );
  await rows.end();
}

/** events NDJSON: every line is a Segment message, validated as the tracking API does. */
function segmentLines(file: string, ctx: RowContext, sink: Sink): LineHandler {
  const types = MESSAGE_TYPES as readonly string[];
  return (text, line) => {
    const parsed = parseLine(text, line, file);
    if ('error' in parsed) return sink.reject(line, '(line)', parsed.error);
    const raw = parsed.value;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return sink.reject(line, '(line)', 'expected a JSON object (one Segment message per line)');
    }
    const msg = raw as Record<string, unknown>;
    const t = msg['type'] ?? (msg['event'] !== undefined ? 'track' : undefined);
    if (typeof t !== 'string' || !types.includes(t)) {
      return sink.reject(
        line,
        'type',
        t === undefined ? 'expected a type (track, page, screen, identify, group, alias) or an event' : `expected one of ${MESSAGE_TYPES.join(', ')}, got ${JSON.stringify(t).slice(0, 40)}`,
      );
    }
    const type = t as MessageType;
    let receivedAt = ctx.now;
    if (msg['timestamp'] === undefined && msg['originalTimestamp'] === undefined) {
      // The message's own receipt or send time stands in. A track, page or screen with no time
      // and no messageId could not be found again on re-import: its hash would hold today.
      const fallback = msg['receivedAt'] ?? msg['sentAt'];
      if (fallback !== undefined) {
        const at = typeof fallback === 'string' ? Date.parse(fallback) : typeof fallback === 'number' ? fallback : Number.NaN;
        if (Number.isNaN(at)) return sink.reject(line, msg['receivedAt'] !== undefined ? 'receivedAt' : 'sentAt', 'expected an ISO-8601 date');
        receivedAt = at;
      } else if ((type === 'track' || type === 'page' || type === 'screen') && msg['messageId'] === undefined) {
        return sink.reject(line, 'timestamp', 'a message without messageId needs a timestamp');
      }
    }
    let records: IngestRecord[];
    try {
      records = normalizeMessage(type, raw, { source: ctx.source, receivedAt, origin: { prefix: '', row: line } });
    } catch (e) {
      return sink.rejectError(line, e);
    }
    return sink.accept(line, { records });
  };
}

/** Rows of the column-mapped kinds (customers, orders, feedback, CSV events) → the sink. */
interface RowHandler {
  row(map: ColumnMap, values: readonly unknown[], row: number): Promise<void> | undefined;
  /**
   * A row the reader already rejected (unparseable, invalid UTF-8); `values` holds the cells
   * that could be read, if any. Orders need to know, to reject the rest of that order.
   */
  rejected(row: number, map: ColumnMap | undefined, values: readonly unknown[] | undefined): Promise<void>;
  end(): Promise<void>;
}

function rowHandler(kind: ImportKind, ctx: RowContext, sink: Sink): RowHandler {
  if (kind === 'orders') return new OrderAssembler(ctx, sink);
  const convert =
    kind === 'customers'
      ? (m: ColumnMap, v: readonly unknown[], r: number) => customerRow(m as ColumnMap<'customers'>, v, r, ctx)
      : kind === 'feedback'
        ? (m: ColumnMap, v: readonly unknown[], r: number) => feedbackRow(m as ColumnMap<'feedback'>, v, r, ctx)
        : (m: ColumnMap, v: readonly unknown[], r: number) => eventRow(m as ColumnMap<'events'>, v, r, ctx);
  return {
    row(map, values, row) {
      let converted: Converted;
      try {
        converted = convert(map, values, row);
      } catch (e) {
        return sink.rejectError(row, e);
      }
      return sink.accept(row, converted);
    },
    rejected: async () => undefined,
    end: async () => undefined,
  };
}

interface OpenOrder {
  orderId: string;
  /** Rows not rejected yet (a rejected order rejects them at its end). */
  rows: number[];
  group: OrderGroup | undefined;
  first: number;
  last: number;
  /** Why the order is rejected, once one of its rows was. */
  poisoned: string | undefined;
}

/**
 * Orders arrive one row per line; consecutive rows with the same order id are one order.
 * A rejected row rejects its whole order (an order without one of its lines would be wrong),
 * and an order id that reappears after other orders is rejected: its lines must be adjacent.
 */
class OrderAssembler implements RowHandler {
  private open: OpenOrder | undefined;
  private readonly finished = new Set<string>();
  /** Rows rejected before their order id could be read: they may have been a line of any order around them. */
  private readonly anonymous: number[] = [];

  constructor(
    private readonly ctx: RowContext,
    private readonly sink: Sink,
  ) {}

  async row(map: ColumnMap, values: readonly unknown[], row: number): Promise<void> {
    const orderId = orderIdOf(map, values);
    if (orderId === undefined) {
      // No order id: orderRow says so. Between two rows of one order, it may have been a line of it.
      try {
        orderRow(map as ColumnMap<'orders'>, values, row);
      } catch (e) {
        await this.sink.rejectError(row, e);
      }
      this.anonymous.push(row);
      return;
    }
    const order = await this.enter(orderId, row);
    try {
      const parsed = orderRow(map as ColumnMap<'orders'>, values, row);
      if (order.group) order.group.add(parsed);
      else order.group = new OrderGroup(parsed);
      order.rows.push(row);
    } catch (e) {
      await this.sink.rejectError(row, e);
      order.poisoned ??= `order ${orderId} has a rejected row (row ${row})`;
    }
  }

  async rejected(row: number, map: ColumnMap | undefined, values: readonly unknown[] | undefined): Promise<void> {
    const orderId = map && values ? orderIdOf(map, values) : undefined;
    if (orderId === undefined) {
      this.anonymous.push(row);
      return;
    }
    const order = await this.enter(orderId, row);
    order.poisoned ??= `order ${orderId} has a rejected row (row ${row})`;
  }

  /** The open order for `orderId`, finishing the previous one when this row starts another. */
  private async enter(orderId: string, row: number): Promise<OpenOrder> {
    if (this.open?.orderId !== orderId) {
      await this.finish();
      this.open = {
        orderId,
        rows: [],
        group: undefined,
        first: row,
        last: row,
        poisoned: this.finished.has(orderId) ? `order ${orderId} already appeared on earlier rows: the rows of one order must be consecutive` : undefined,
      };
    }
    this.open.last = row;
    return this.open;
  }

  private async finish(): Promise<void> {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    this.finished.add(o.orderId);
    const gap = this.anonymous.find((r) => r > o.first && r < o.last);
    while (this.anonymous.length > 0 && this.anonymous[0]! < o.last) this.anonymous.shift();
    let reason = o.poisoned ?? (gap === undefined ? undefined : `order ${o.orderId} has an unreadable row (row ${gap})`);
    let converted: Converted | undefined;
    if (reason === undefined && o.group) {
      try {
        converted = o.group.finish(this.ctx);
      } catch (e) {
        if (!isRapportError(e) || e.code !== 'invalid_input') throw e;
        const at = e.issues[0]?.row ?? o.rows[0]!;
        await this.sink.rejectError(at, e);
        o.rows = o.rows.filter((r) => r !== at);
        reason = `order ${o.orderId} was rejected (row ${at})`;
      }
    }
    if (reason !== undefined || !converted) {
      for (const r of o.rows) await this.sink.reject(r, '(row)', reason ?? `order ${o.orderId} was rejected`);
      return;
    }
    const p = this.sink.accept(o.rows.length === 1 ? o.rows[0]! : o.rows, converted);
    if (p) await p;
  }

  async end(): Promise<void> {
    await this.finish();
  }
}

function orderIdOf(map: ColumnMap, values: readonly unknown[]): string | undefined {
  const i = (map as ColumnMap<'orders'>).fields.orderId;
  const v = i === undefined ? undefined : values[i];
  const id = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
  return id === '' ? undefined : id;
}

// ---------------------------------------------------------------------------------------
// CSV: csv-parse with Buffer cells, so that invalid UTF-8 is caught per cell and reported.

interface CsvRecord {
  record: Buffer[];
  info: Info;
}

async function readCsv(plan: ImportPlan, ctx: RowContext, sink: Sink): Promise<void> {
  const parser = parseCsv({
    encoding: null,
    bom: true,
    info: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_ROW_BYTES,
  });
  // Records the parser skipped, in file order, with the number of records parsed before each.
  const skipped: { before: number; error: CsvError }[] = [];
  let skips = 0;
  parser.on('skip', (error: CsvError) => {
    skipped.push({ before: Number(error['records'] ?? 0), error });
  });
  const handler = rowHandler(plan.kind, ctx, sink);
  let map: ColumnMap | undefined;
  /** Reports the skipped records that came before parsed record number `upTo`. */
  const drainSkips = async (upTo: number): Promise<void> => {
    while (skipped.length > 0 && skipped[0]!.before < upTo) {
      const { before, error } = skipped.shift()!;
      if (before === 0) throw invalid('header', `the header row could not be read: ${error.message}`);
      skips++;
      const row = before - 1 + skips;
      sink.rows++;
      const message =
        error.code === 'CSV_QUOTE_NOT_CLOSED' ? `a quote opened in this row is never closed, so the rest of the file could not be read (${error.message})` : error.message;
      await sink.reject(row, '(row)', message);
      await handler.rejected(row, undefined, undefined);
    }
  };
  const input = fs.createReadStream(plan.file, { highWaterMark: READ_CHUNK });
  try {
    await pipeline(input, parser, async (source: AsyncIterable<CsvRecord>) => {
      for await (const { record, info } of source) {
        sink.bytes = info.bytes;
        if (skipped.length > 0) await drainSkips(info.records);
        if (!map) {
          const header = record.map((cell, i) => {
            if (!isUtf8(cell)) throw invalid('header', `column ${i + 1} is not valid UTF-8 (the file must be UTF-8 encoded)`);
            return cell.toString('utf8');
          });
          map = mapColumns(plan.kind, header);
          continue;
        }
        const row = info.records - 1 + skips;
        sink.rows++;
        const values: (string | undefined)[] = new Array<string | undefined>(record.length);
        let bad = -1;
        for (let i = 0; i < record.length; i++) {
          const cell = record[i]!;
          if (isUtf8(cell)) values[i] = cell.toString('utf8');
          else if (bad < 0) bad = i;
        }
        if (bad >= 0) {
          await sink.reject(row, map.names[bad] || `column ${bad + 1}`, 'not valid UTF-8 (the file must be UTF-8 encoded)');
          await handler.rejected(row, map, values);
          continue;
        }
        if (record.length > map.names.length) {
          await sink.reject(row, '(row)', `expected ${map.names.length} columns as in the header, found ${record.length}`);
          await handler.rejected(row, map, values);
          continue;
        }
        const p = handler.row(map, values, row);
        if (p) await p;
      }
      await drainSkips(Number.POSITIVE_INFINITY);
      await handler.end();
    });
  } catch (e) {
    throw ioError(plan.file, e);
  }
}
