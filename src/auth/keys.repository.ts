import type { Conn } from '../store/db.js';
import type { KeyScope } from '../core/vocabulary.js';

/** API keys (`api_keys`): hashed secrets with a scope and a readable prefix. */

export async function insertKey(db: Conn, k: { name: string; scope: KeyScope; prefix: string; hash: string; at: number }): Promise<number> {
  const row = await db
    .insertInto('api_keys')
    .values({ name: k.name, scope: k.scope, prefix: k.prefix, hash: k.hash, created_at: k.at, last_used_at: null, revoked_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function listKeys(db: Conn) {
  return db.selectFrom('api_keys').select(['id', 'name', 'scope', 'prefix', 'created_at', 'last_used_at', 'revoked_at']).orderBy('id').execute();
}

/** Revokes an active key; returns how many rows changed (0: no such active key). */
export async function revokeKey(db: Conn, id: number, at: number): Promise<number> {
  const r = await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function activeKeyByHash(db: Conn, hash: string) {
  return db.selectFrom('api_keys').select(['id', 'name', 'scope', 'last_used_at']).where('hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function touchKey(db: Conn, id: number, at: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}
