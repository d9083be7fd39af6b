import { createHash, randomBytes } from 'node:crypto';
import type { Conn } from '../store/db.js';
import type { Serialize } from '../core/serial.js';
import type { KeyScope } from '../core/vocabulary.js';
import { scopesOf, type Principal } from '../http/principal.js';
import { invalid, notFound } from '../core/errors.js';
import { MINUTE_MS } from '../core/time.js';
import * as repo from './keys.repository.js';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface CreatedKey {
  id: number;
  name: string;
  scope: KeyScope;
  prefix: string;
  /** Shown once; only its SHA-256 is stored. */
  secret: string;
}

/**
 * Creates an API key. The secret is 32 random bytes (base64url) behind a readable prefix
 * that tells its scope, e.g. `rk_read_…`; it is returned once and stored hashed.
 */
export async function createKey(db: Conn, name: string, scope: KeyScope, now: number): Promise<CreatedKey> {
  if (name.trim().length === 0) throw invalid('name', 'a key needs a name');
  const secret = `rk_${scope}_${randomBytes(32).toString('base64url')}`;
  const prefix = secret.slice(0, scope.length + 8);
  const id = await repo.insertKey(db, { name: name.trim(), scope, prefix, hash: sha256(secret), at: now });
  return { id, name: name.trim(), scope, prefix, secret };
}

export const listKeys = repo.listKeys;

export async function revokeKey(db: Conn, id: number, now: number): Promise<void> {
  if ((await repo.revokeKey(db, id, now)) === 0) throw notFound(`active key ${id}`);
}

/**
 * Finds the active key behind a secret; records its use at most once a minute. With `write`
 * (the server's write queue) the use is recorded in its turn, unawaited: a request does not
 * wait for the writes ahead of it (a job's results), nor for SQLite's lock on the server's thread.
 */
export async function verifyKey(db: Conn, secret: string, now: number, write?: Serialize): Promise<Principal | null> {
  const row = await repo.activeKeyByHash(db, sha256(secret));
  if (!row) return null;
  if (row.last_used_at === null || now - row.last_used_at > MINUTE_MS) {
    const touch = () => repo.touchKey(db, row.id, now);
    // Best effort: a use not recorded (the server closing) is recorded at the next.
    if (write) void write(touch).catch(() => undefined);
    else await touch();
  }
  return { kind: 'key', id: row.id, name: row.name, scopes: scopesOf(row.scope) };
}
