/**
 * One errors module: every failure a user can see has a stable code, an HTTP status and a
 * CLI exit code. Messages name the field, the row and what was expected.
 */

export type ErrorCode =
  | 'invalid_input'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'file_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unreadable_file'
  | 'config'
  | 'busy'
  | 'rate_limited'
  | 'too_costly'
  | 'job_died'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  payload_too_large: 400,
  unsupported_media_type: 415,
  file_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unreadable_file: 400,
  config: 500,
  busy: 503,
  rate_limited: 429,
  too_costly: 400,
  job_died: 500,
  internal: 500,
};

const EXIT_CODE: Record<ErrorCode, number> = {
  invalid_input: 2,
  payload_too_large: 2,
  unsupported_media_type: 2,
  file_too_large: 2,
  unauthorized: 3,
  forbidden: 3,
  not_found: 4,
  conflict: 5,
  unreadable_file: 6,
  config: 7,
  busy: 8,
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
  /** For `busy` and `rate_limited`: when to try again, in seconds (the `Retry-After` header). */
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
