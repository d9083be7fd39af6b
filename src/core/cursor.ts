import { invalid } from './errors.js';

/**
 * Paging cursors: an opaque base64url string around a small JSON value (the last row's sort
 * key), so that clients never build one and the server can change what is inside.
 */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Reads a cursor back, checking its shape; a cursor that is not one of ours is invalid input. */
export function decodeCursor<T>(cursor: string, check: (v: unknown) => v is T, message = 'not a cursor this endpoint returned'): T {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor', message);
  }
  if (!check(v)) throw invalid('cursor', message);
  return v;
}
