import { isRapportError, RapportError, storageError } from '../../core/errors.js';

/** What the CSV and NDJSON readers share: how they read, and read errors as `unreadable_file`. */

/** The longest line or CSV record read; longer ones are rejected so memory stays bounded. */
export const MAX_ROW_BYTES = 4 * 1024 * 1024;
export const READ_CHUNK = 256 * 1024;

/** A file that cannot be opened or read, as `unreadable_file` naming why. */
export function unreadable(file: string, e: unknown): RapportError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
  return new RapportError('unreadable_file', `${file}: cannot read the file (${why})`);
}

/**
 * A read error of the file becomes `unreadable_file`; a full disk or read-only file system
 * (where the rejected rows' report is written) becomes what it is; everything else passes unchanged.
 */
export function ioError(file: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (isRapportError(e) || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  return storageError(e) ?? unreadable(file, e);
}
