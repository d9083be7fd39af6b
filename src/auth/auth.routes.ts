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
export function authRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
  const db = ctx.store.db;
  return [
    route({
      method: 'GET',
      url: '/auth/signin',
      summary: 'Spend a one-time sign-in link and open a session',
      tags: ['Staff'],
      auth: 'none',
      hidden: true,
      query: z.object({ token: z.string().min(1).max(200) }),
      handler: async ({ req, query, reply }) => {
        const session = await redeemSignInToken(db, query.token, ctx.clock());
        if (!session) {
          // A link opened again in the browser it signed in goes on to the app; anywhere else
          // the web app's sign-in page says the link is spent and how to get another.
          const current = req.cookies[SESSION_COOKIE];
          const signedIn = current ? (await sessionUser(db, current, ctx.clock())) !== null : false;
          return reply.redirect(signedIn ? '/' : `/?signin=${USED_LINK}`, 303);
        }
        return reply
          .setCookie(SESSION_COOKIE, session, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: SESSION_MS / 1000 })
          .redirect('/');
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
        if (s) await endSession(db, s);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
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
