import { isRapportError } from '../../core/errors.js';
import type { IngestRecord, Who, WriteCounts } from '../records.js';
import type { IngestWriter } from '../writer/writer.js';
import type { Converted } from './columns.js';
import { EmailIdentities } from './emails.js';
import type { ImportProgress } from './plan.js';
import type { RejectReport } from './reject-report.js';

/** Batching: whole rows in, one transaction per batch out. */

export interface Unit {
  /** The file row (or, for an order, rows) the records came from. */
  rows: number | readonly number[];
  records: IngestRecord[];
  byEmail: Who | undefined;
}

/**
 * Collects validated rows into batches of about `batchSize` records and writes each (after
 * resolving customers named by e-mail); a batch the database refuses is written row by row
 * so that only the rows at fault are rejected.
 */
export class Sink {
  rows = 0;
  bytes = 0;
  readonly counts: WriteCounts = { inserted: 0, updated: 0, duplicates: 0 };
  private units: Unit[] = [];
  private records: IngestRecord[] = [];
  private readonly emails = new EmailIdentities();

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
    await this.emails.resolve(this.writer.conn, units);
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
