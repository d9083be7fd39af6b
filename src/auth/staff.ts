import { randomBytes } from 'node:crypto';
import type { Conn } from '../store/db.js';
import { sha256 } from './keys.js';
import { scopesOf, type Principal } from '../http/principal.js';
import type { StaffRole } from '../core/vocabulary.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import * as repo from './staff.repository.js';

export const SESSION_COOKIE = 'rapport_session';
/** A session ends after this long whatever happens (then a new sign-in link is needed)... */
export const SESSION_MS = 30 * DAY_MS;
/** ...and sooner when unused this long: each use moves its end to this far ahead (idle expiry). */
export const SESSION_IDLE_MS = 7 * DAY_MS;
/** A session's end is moved at most this often, so that reading pages costs no write per request. */
const EXTEND_EVERY_MS = HOUR_MS;
const LINK_MS = DAY_MS;

/**
 * Staff sign in to the web app with a session cookie. The first admin has no password to
 * type: on a first start Rapport prints a one-time link (as Jupyter prints its token URL).
 */
export const staffCount = (db: Conn): Promise<number> => repo.countStaff(db);

/** Whether a browser may still be signed in (an unexpired staff session exists). */
export const hasOpenSession = (db: Conn, now: number): Promise<boolean> => repo.anyOpenSession(db, now);

/** Creates a one-time admin sign-in token, valid for 24 hours; returns the secret. */
export async function createSignInToken(db: Conn, now: number): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await repo.insertSignInToken(db, { hash: sha256(token), role: 'admin', at: now, expiresAt: now + LINK_MS });
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
    const t = await repo.signInToken(trx, sha256(token));
    if (!t || t.used_at !== null || t.expires_at < now) return null;
    await repo.spendSignInToken(trx, t.hash, now);
    const staffId = (await repo.firstAdminId(trx)) ?? (await repo.insertStaff(trx, { email: 'admin@localhost', name: 'Administrator', role: 'admin', at: now }));
    const session = randomBytes(32).toString('base64url');
    await repo.insertSession(trx, { hash: sha256(session), staffId, at: now, expiresAt: now + Math.min(SESSION_IDLE_MS, SESSION_MS) });
    return session;
  });
}

export interface StaffUser {
  id: number;
  email: string;
  name: string;
  role: StaffRole;
}

/**
 * The user of a session, or null when it is unknown or has ended. A session in use has its end
 * moved to SESSION_IDLE_MS ahead (at most once an hour, through `write`, the server's write
 * queue), never past SESSION_MS after it began.
 */
export async function sessionUser(db: Conn, session: string, now: number, write?: <T>(fn: () => Promise<T>) => Promise<T>): Promise<StaffUser | null> {
  const hash = sha256(session);
  const row = await repo.sessionByHash(db, hash);
  if (!row || row.expires_at < now) return null;
  const end = Math.min(Number(row.created_at) + SESSION_MS, now + SESSION_IDLE_MS);
  if (write && end - Number(row.expires_at) >= EXTEND_EVERY_MS) await write(() => repo.extendSession(db, hash, end));
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export function staffPrincipal(user: StaffUser): Principal {
  return { kind: 'staff', id: user.id, name: user.name, role: user.role, scopes: scopesOf(user.role === 'admin' ? 'admin' : 'read') };
}

export async function endSession(db: Conn, session: string): Promise<void> {
  await repo.deleteSession(db, sha256(session));
}
