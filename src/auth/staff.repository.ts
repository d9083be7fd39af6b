import type { Conn } from '../store/db.js';
import type { StaffRole } from '../core/vocabulary.js';

/** Staff users, their sessions and one-time sign-in tokens (hashes only; never the secrets). */

export async function countStaff(db: Conn): Promise<number> {
  const r = await db.selectFrom('staff_users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertSignInToken(db: Conn, t: { hash: string; role: StaffRole; at: number; expiresAt: number }): Promise<void> {
  await db.insertInto('sign_in_tokens').values({ hash: t.hash, role: t.role, created_at: t.at, expires_at: t.expiresAt, used_at: null }).execute();
}

export async function signInToken(db: Conn, hash: string) {
  return db.selectFrom('sign_in_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
}

export async function spendSignInToken(db: Conn, hash: string, at: number): Promise<void> {
  await db.updateTable('sign_in_tokens').set({ used_at: at }).where('hash', '=', hash).execute();
}

/** The first admin's id, or undefined before there is one. */
export async function firstAdminId(db: Conn): Promise<number | undefined> {
  const r = await db.selectFrom('staff_users').select('id').where('role', '=', 'admin').orderBy('id').executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

export async function insertStaff(db: Conn, u: { email: string; name: string; role: StaffRole; at: number }): Promise<number> {
  const r = await db.insertInto('staff_users').values({ email: u.email, name: u.name, role: u.role, created_at: u.at }).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function insertSession(db: Conn, s: { hash: string; staffId: number; at: number; expiresAt: number }): Promise<void> {
  await db.insertInto('staff_sessions').values({ hash: s.hash, staff_id: s.staffId, created_at: s.at, expires_at: s.expiresAt }).execute();
}

export async function sessionByHash(db: Conn, hash: string) {
  return db
    .selectFrom('staff_sessions')
    .innerJoin('staff_users', 'staff_users.id', 'staff_sessions.staff_id')
    .select(['staff_users.id', 'staff_users.email', 'staff_users.name', 'staff_users.role', 'staff_sessions.expires_at', 'staff_sessions.created_at'])
    .where('staff_sessions.hash', '=', hash)
    .executeTakeFirst();
}

/** Whether any staff session is still open at `now`. */
export async function anyOpenSession(db: Conn, now: number): Promise<boolean> {
  return (await db.selectFrom('staff_sessions').select('hash').where('expires_at', '>', now).limit(1).execute()).length > 0;
}

/** Moves a session's expiry (its idle expiry, as it is used). */
export async function extendSession(db: Conn, hash: string, expiresAt: number): Promise<void> {
  await db.updateTable('staff_sessions').set({ expires_at: expiresAt }).where('hash', '=', hash).execute();
}

export async function deleteSession(db: Conn, hash: string): Promise<void> {
  await db.deleteFrom('staff_sessions').where('hash', '=', hash).execute();
}
