/**
 * One errors module: every failure a user can see has a stable code, an HTTP status and a
 * CLI exit code. Messages name the field, the row and what was expected.
 */

export type ErrorCode =
  | 'invalid_input'
  | 'payload_too_large'
  | 'uri_too_long'
  | 'headers_too_large'
  | 'request_timeout'
  | 'unsupported_media_type'
  | 'file_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unreadable_file'
  | 'config'
  | 'busy'
  | 'disk_full'
  | 'read_only'
  | 'rate_limited'
  | 'too_costly'
  | 'job_died'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  payload_too_large: 400,
  uri_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  unsupported_media_type: 415,
  file_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unreadable_file: 400,
  config: 500,
  busy: 503,
  disk_full: 503,
  read_only: 503,
  rate_limited: 429,
  too_costly: 400,
  job_died: 500,
  internal: 500,
};

const EXIT_CODE: Record<ErrorCode, number> = {
  invalid_input: 2,
  payload_too_large: 2,
  uri_too_long: 2,
  headers_too_large: 2,
  request_timeout: 8,
  unsupported_media_type: 2,
  file_too_large: 2,
  unauthorized: 3,
  forbidden: 3,
  not_found: 4,
  conflict: 5,
  unreadable_file: 6,
  config: 7,
  busy: 8,
  disk_full: 10,
  read_only: 11,
  rate_limited: 8,
  too_costly: 2,
  job_died: 1,
  internal: 1,
};

/** One problem with one field of one input record. `row` is 1-based where files are concerned. */
export interface FieldIssue {
  field: string;
  message: string;
  row?: number;
}

export class RapportError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[];
  /** For `busy`, `rate_limited` and `disk_full`: when to try again, in seconds (the `Retry-After` header). */
  retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, issues: FieldIssue[] = []) {
    super(message);
    this.name = 'RapportError';
    this.code = code;
    this.issues = issues;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  get exitCode(): number {
    return EXIT_CODE[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; issues?: FieldIssue[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.issues.length > 0 ? { issues: this.issues } : {}),
      },
    };
  }
}

/** Builds an invalid-input error whose message names the field (and row, when given). */
export function invalid(field: string, message: string, row?: number): RapportError {
  const where = row === undefined ? field : `row ${row}, field ${field}`;
  return new RapportError('invalid_input', `${where}: ${message}`, [
    row === undefined ? { field, message } : { field, message, row },
  ]);
}

export const notFound = (what: string): RapportError => new RapportError('not_found', `${what} not found`);
export const unauthorized = (message = 'missing or invalid credentials'): RapportError =>
  new RapportError('unauthorized', message);
export const forbidden = (message: string): RapportError => new RapportError('forbidden', message);

export function isRapportError(e: unknown): e is RapportError {
  return e instanceof RapportError;
}

/** What a full disk is answered with: nothing was written, and the same request can be sent again. */
export const DISK_FULL_MESSAGE = 'the disk is full: free space and retry';
/** How long a client is asked to wait after a full disk, in seconds (`Retry-After`). */
export const DISK_FULL_RETRY_SECONDS = 60;

/** The `disk_full` error: 503 with Retry-After, exit 10. */
export function diskFull(): RapportError {
  const full = new RapportError('disk_full', DISK_FULL_MESSAGE);
  full.retryAfterSeconds = DISK_FULL_RETRY_SECONDS;
  return full;
}

/** Error codes that mean the disk is full: SQLite's, the file system's, PostgreSQL's SQLSTATE `53100`. */
const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', '53100']);

/**
 * A failure of the storage underneath rather than of the input, as the error users see: a
 * full disk (`disk_full`, 503 with Retry-After, exit 10) or a database that cannot be written
 * (`read_only`, 503, exit 11: SQLite's SQLITE_READONLY and its extended codes, a read-only
 * file system, PostgreSQL's read-only transactions, SQLSTATE `25006`). Undefined for anything
 * else. Nothing of the failed write was kept (SQLite and PostgreSQL undo the transaction), so
 * once there is space again the same request succeeds.
 */
export function storageError(e: unknown): RapportError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (DISK_FULL_CODES.has(code)) return diskFull();
  if (code.startsWith('SQLITE_READONLY') || code === '25006') {
    return new RapportError('read_only', `the database is read-only (${(e as Error).message}): make it writable by the user Rapport runs as`);
  }
  if (code === 'EROFS') return new RapportError('read_only', `the file system is read-only (${(e as Error).message})`);
  return undefined;
}
