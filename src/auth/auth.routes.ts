import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import { unauthorized } from '../core/errors.js';
import { STAFF_ROLES } from '../core/vocabulary.js';
import { endSession, redeemSignInToken, sessionUser, SESSION_COOKIE, SESSION_MS } from './staff.js';

const Session = z.object({ user: z.object({ name: z.string(), email: z.string(), role: z.enum(STAFF_ROLES) }) });

/** The web app's sign-in page explains a used, expired or unknown link when it is opened with `?signin=` this. */
export const USED_LINK = 'link-used';

/** Staff sign-in for the web app: one-time links open a cookie session. */
export function authRoutes(ctx: HttpContext, options: { secureCookies?: boolean } = {}): RouteDef<unknown, unknown, unknown>[] {
  // Over HTTPS the cookie is `Secure`; SameSite=Lax keeps it off cross-site subrequests and the
  // same-origin check (http/mount.ts) off same-site ones.
  const cookie = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: options.secureCookies ?? false, maxAge: SESSION_MS / 1000 };
  const db = ctx.store.db;
  return [
    route({
      method: 'GET',
      url: '/auth/signin',
      summary: 'Spend a one-time sign-in link and open a session',
      tags: ['Staff'],
      auth: 'none',
      rateLimit: 'signin',
      hidden: true,
      query: z.object({ token: z.string().min(1).max(200) }),
      handler: async ({ req, query, reply }) => {
        const session = await ctx.serialWrite(() => redeemSignInToken(db, query.token, ctx.clock()));
        if (!session) {
          // A link opened again in the browser it signed in goes on to the app; anywhere else
          // the web app's sign-in page says the link is spent and how to get another.
          const current = req.cookies[SESSION_COOKIE];
          const signedIn = current ? (await sessionUser(db, current, ctx.clock())) !== null : false;
          return reply.redirect(signedIn ? '/' : `/?signin=${USED_LINK}`, 303);
        }
        // A new session on every sign-in, and the browser's previous one ends (no fixation).
        const previous = req.cookies[SESSION_COOKIE];
        if (previous) await ctx.serialWrite(() => endSession(db, previous));
        return reply.setCookie(SESSION_COOKIE, session, cookie).redirect('/');
      },
    }),
    route({
      method: 'POST',
      url: '/auth/signout',
      summary: 'End the staff session',
      tags: ['Staff'],
      auth: 'none',
      handler: async ({ req, reply }) => {
        const s = req.cookies[SESSION_COOKIE];
        if (s) await ctx.serialWrite(() => endSession(db, s));
        reply.clearCookie(SESSION_COOKIE, { path: '/', secure: cookie.secure, sameSite: 'lax', httpOnly: true });
        return { ok: true };
      },
    }),
    route({
      method: 'GET',
      url: '/api/session',
      summary: 'The signed-in staff user',
      tags: ['Staff'],
      auth: 'none',
      response: Session,
      handler: async ({ req }) => {
        const s = req.cookies[SESSION_COOKIE];
        const user = s ? await sessionUser(db, s, ctx.clock()) : null;
        if (!user) throw unauthorized('not signed in');
        return { user: { name: user.name, email: user.email, role: user.role } };
      },
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
