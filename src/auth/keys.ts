import { createHash, randomBytes } from 'node:crypto';
import type { Conn } from '../store/db.js';
import type { KeyScope } from '../store/schema.js';
import { invalid, notFound } from '../core/errors.js';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** What a request is allowed to do, once its credentials are checked. */
export interface Principal {
  kind: 'key' | 'staff';
  id: number;
  name: string;
  scopes: ReadonlySet<KeyScope>;
}

/** An admin key can do everything; read and ingest keys only their own scope. */
export function scopesOf(scope: KeyScope): ReadonlySet<KeyScope> {
  return new Set<KeyScope>(scope === 'admin' ? ['admin', 'read', 'ingest'] : [scope]);
}

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
  const row = await db
    .insertInto('api_keys')
    .values({ name: name.trim(), scope, prefix, hash: sha256(secret), created_at: now, last_used_at: null, revoked_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, name: name.trim(), scope, prefix, secret };
}

export async function listKeys(db: Conn) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'scope', 'prefix', 'created_at', 'last_used_at', 'revoked_at'])
    .orderBy('id')
    .execute();
}

export async function revokeKey(db: Conn, id: number, now: number): Promise<void> {
  const r = await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound(`active key ${id}`);
}

/** Finds the active key behind a secret; records its use at most once a minute. */
export async function verifyKey(db: Conn, secret: string, now: number): Promise<Principal | null> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'scope', 'last_used_at'])
    .where('hash', '=', sha256(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  if (row.last_used_at === null || now - row.last_used_at > 60_000) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { kind: 'key', id: row.id, name: row.name, scopes: scopesOf(row.scope) };
}
