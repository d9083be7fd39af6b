import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../core/errors.js';
import { SECOND_MS } from '../core/time.js';
import type { Principal } from '../http/principal.js';
import type { Serialize } from '../core/serial.js';
import type { FailureLimiter } from '../http/rate-limits.js';
import type { Store } from '../store/db.js';
import { verifyKey } from './keys.js';
import { SESSION_COOKIE, sessionUser, staffPrincipal } from './staff.js';

/** How long a verified key is trusted without a look-up: a revoked key stops working within this. */
const KEY_CACHE_MS = 5 * SECOND_MS;

/**
 * The server's credential check: an `Authorization` header (Bearer, or Basic with the key as
 * user name, as Segment's clients send it) names an API key; else the staff session cookie.
 * Verified keys are kept a few seconds, so a busy tracking client costs no key look-up per request.
 */
export function authenticator(store: Store, clock: () => number, write?: Serialize, failures?: FailureLimiter): (req: FastifyRequest) => Promise<Principal | null> {
  const keyCache = new Map<string, { principal: Principal; until: number }>();
  return async (req) => {
    const header = req.headers.authorization;
    const now = clock();
    if (header) {
      // An address that failed too often waits, whatever it sends now (key guessing).
      failures?.check(req.ip);
      const [scheme, value = ''] = header.split(/\s+/, 2);
      let secret: string | undefined;
      if (scheme?.toLowerCase() === 'bearer') secret = value.trim();
      else if (scheme?.toLowerCase() === 'basic') secret = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
      if (!secret) throw unauthorized('Authorization header: expected "Bearer <key>" or Basic with the write key as user name');
      const cached = keyCache.get(secret);
      if (cached && cached.until > now) return cached.principal;
      const p = await verifyKey(store.db, secret, now, write);
      if (!p) {
        failures?.failed(req.ip);
        throw unauthorized('the key is unknown or revoked');
      }
      if (keyCache.size > 1000) keyCache.clear();
      keyCache.set(secret, { principal: p, until: now + KEY_CACHE_MS });
      return p;
    }
    const cookie = (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE];
    if (cookie) {
      const user = await sessionUser(store.db, cookie, now, write);
      if (user) return staffPrincipal(user);
    }
    return null;
  };
}
