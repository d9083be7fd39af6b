import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { RapportError, forbidden, isRapportError } from '../core/errors.js';
import { parseOrThrow } from '../core/validation.js';
import { knownError } from './framework-errors.js';
import { authorize, type Principal } from './principal.js';
import type { RouteDef } from './route.js';

/** Resolves a request's credentials to a principal (auth/), or null without any. */
export type Authenticate = (req: FastifyRequest) => Promise<Principal | null>;

function parseWith<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'body' | 'query' | 'params'): T {
  if (!schema) return value as T;
  return parseOrThrow(schema, value ?? {}, where === 'body' ? { root: 'body' } : { prefix: where });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery: a state-changing request that a browser sends with the staff
 * session cookie must come from the web app itself. Browsers say where a request comes from
 * in `Sec-Fetch-Site` (only `same-origin` is the app: `same-site` is another port or subdomain
 * of the same host, which the SameSite=Lax cookie does not keep out) and, where that header is
 * missing (older browsers), in `Origin`, which must then be the host the request was sent to.
 * A request with an API key in `Authorization` carries no ambient credential and is not
 * checked; nor is a client that sends neither header (not a browser).
 */
export function checkSameOrigin(req: FastifyRequest, cookieName: string): void {
  if (SAFE_METHODS.has(req.method) || req.headers.authorization) return;
  if ((req.cookies as Record<string, string | undefined> | undefined)?.[cookieName] === undefined) return;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') {
    if (site === 'same-origin') return;
    throw forbidden(`cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 20)}): a signed-in session acts only from Rapport's own pages`);
  }
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== req.headers.host) {
      throw forbidden(`cross-site request refused (Origin: ${origin.slice(0, 60)}): a signed-in session acts only from Rapport's own pages`);
    }
  }
}

/**
 * Where JSON is meant, only JSON: a state-changing request to the API with a body must say
 * `application/json`. (A plain HTML form can send `text/plain` or form data across sites
 * without a preflight; it cannot send JSON.) The tracking API takes what Segment's clients send.
 */
export function checkJsonBody(req: FastifyRequest, accepted: readonly string[] = ['application/json']): void {
  if (SAFE_METHODS.has(req.method)) return;
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0) && req.headers['transfer-encoding'] === undefined) return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!accepted.includes(type)) {
    const expected = accepted.join(' or ');
    throw new RapportError('unsupported_media_type', `content-type: expected ${expected}, got ${type === '' ? 'none' : type.slice(0, 60)}`, [
      { field: 'content-type', message: `expected ${expected}` },
    ]);
  }
}

/**
 * Mounts route definitions: each request is authenticated and checked against the route's
 * policy, then its params, query and body are parsed by the route's schemas, then the handler
 * runs. Public routes still see who is calling when the credentials are good.
 */
export function mountRoutes(
  app: FastifyInstance,
  routes: readonly RouteDef<unknown, unknown, unknown>[],
  authenticate: Authenticate,
  options: { sessionCookie: string; rateLimit?: (name: RouteDef['rateLimit']) => object | undefined },
): void {
  for (const r of routes) {
    // The tracking API (Segment's clients) takes its own content types and no cookie.
    const tracking = r.url.startsWith('/v1/');
    app.route({
      method: r.method,
      url: r.url,
      ...(r.bodyLimit ? { bodyLimit: r.bodyLimit } : {}),
      ...(options.rateLimit?.(r.rateLimit) ? { config: { rateLimit: options.rateLimit(r.rateLimit) } } : {}),
      // Checked before the body is parsed: a refused request costs no parsing.
      ...(tracking
        ? {}
        : {
            onRequest: async (req: FastifyRequest) => {
              checkSameOrigin(req, options.sessionCookie);
              checkJsonBody(req, r.fileBody?.contentTypes);
            },
          }),
      handler: async (req, reply) => {
        const principal = r.auth === 'none' ? await authenticate(req).catch(() => null) : await authenticate(req);
        authorize(r.auth, principal);
        const params = parseWith(r.params, req.params, 'params');
        const query = parseWith(r.query, req.query, 'query');
        const body = r.documentOnlyBody || r.fileBody ? req.body : parseWith(r.body, req.body, 'body');
        const result = await r.handler({ body, query, params, principal, req, reply });
        if (reply.sent) return reply;
        return result;
      },
    });
  }
}

/** Every error as `{ error: { code, message, issues? } }` with the code's HTTP status. */
export function sendError(error: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isRapportError(error)) {
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
    return reply.status(error.httpStatus).send(error.toJSON());
  }
  // Fastify's own refusals and a full or read-only database, as Rapport's errors (framework-errors.ts).
  const known = knownError(error);
  if (known) {
    if (known.httpStatus >= 500) req.log.error(error);
    return sendError(known, req, reply);
  }
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = req.routeOptions.bodyLimit ?? 1024 * 1024;
    return reply.status(400).send(new RapportError('payload_too_large', `body: larger than the ${Math.round(limit / 1024)} KB limit of ${req.url}`).toJSON());
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply.status(400).send(new RapportError('invalid_input', `body: ${e.message ?? 'bad request'}`).toJSON());
  }
  if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED') {
    // Another process holds the database (a large import in load mode): try again shortly.
    // Segment's clients retry a 503 with back-off, so nothing is lost.
    return reply.status(503).header('retry-after', '5').send(new RapportError('busy', 'the database is busy with another writer (an import?); retry shortly').toJSON());
  }
  req.log.error(error);
  return reply.status(500).send(new RapportError('internal', 'internal error').toJSON());
}

/** The 404 body for a method and path no route serves. */
export function notFoundBody(req: FastifyRequest): ReturnType<RapportError['toJSON']> {
  return new RapportError('not_found', `${req.method} ${req.url.split('?')[0]} not found`).toJSON();
}
