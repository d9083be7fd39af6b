import { randomBytes } from 'node:crypto';
import type { Conn } from '../store/db.js';
import { scopesOf, sha256, type Principal } from './keys.js';

export const SESSION_COOKIE = 'rapport_session';
const SESSION_MS = 30 * 24 * 3600_000;
const LINK_MS = 24 * 3600_000;

/**
 * Staff sign in to the web app with a session cookie. The first admin has no password to
 * type: on a first start Rapport prints a one-time link (as Jupyter prints its token URL).
 */
export async function staffCount(db: Conn): Promise<number> {
  const r = await db.selectFrom('staff_users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Creates a one-time admin sign-in token, valid for 24 hours; returns the secret. */
export async function createSignInToken(db: Conn, now: number): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await db.insertInto('sign_in_tokens').values({ hash: sha256(token), role: 'admin', created_at: now, expires_at: now + LINK_MS, used_at: null }).execute();
  return token;
}

export function signInUrl(base: string, token: string): string {
  return `${base.replace(/\/$/, '')}/auth/signin?token=${encodeURIComponent(token)}`;
}

/**
 * Spends a sign-in token and opens a session. The first token spent creates the first admin;
 * later tokens sign in as that admin. Returns the session secret, or null for a bad token.
 */
export async function redeemSignInToken(db: Conn, token: string, now: number): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    const t = await trx.selectFrom('sign_in_tokens').selectAll().where('hash', '=', sha256(token)).executeTakeFirst();
    if (!t || t.used_at !== null || t.expires_at < now) return null;
    await trx.updateTable('sign_in_tokens').set({ used_at: now }).where('hash', '=', t.hash).execute();
    let staff = await trx.selectFrom('staff_users').select('id').where('role', '=', 'admin').orderBy('id').executeTakeFirst();
    staff ??= await trx
      .insertInto('staff_users')
      .values({ email: 'admin@localhost', name: 'Administrator', role: 'admin', created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const session = randomBytes(32).toString('base64url');
    await trx.insertInto('staff_sessions').values({ hash: sha256(session), staff_id: staff.id, created_at: now, expires_at: now + SESSION_MS }).execute();
    return session;
  });
}

export interface StaffUser {
  id: number;
  email: string;
  name: string;
  role: 'admin' | 'member';
}

export async function sessionUser(db: Conn, session: string, now: number): Promise<StaffUser | null> {
  const row = await db
    .selectFrom('staff_sessions')
    .innerJoin('staff_users', 'staff_users.id', 'staff_sessions.staff_id')
    .select(['staff_users.id', 'staff_users.email', 'staff_users.name', 'staff_users.role', 'staff_sessions.expires_at'])
    .where('staff_sessions.hash', '=', sha256(session))
    .executeTakeFirst();
  if (!row || row.expires_at < now) return null;
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export function staffPrincipal(user: StaffUser): Principal {
  return { kind: 'staff', id: user.id, name: user.name, scopes: scopesOf(user.role === 'admin' ? 'admin' : 'read') };
}

export async function endSession(db: Conn, session: string): Promise<void> {
  await db.deleteFrom('staff_sessions').where('hash', '=', sha256(session)).execute();
}
