import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { RapportError, isRapportError } from '../core/errors.js';
import { parseOrThrow } from '../core/validation.js';
import { authorize, type Principal } from './principal.js';
import type { RouteDef } from './route.js';

/** Resolves a request's credentials to a principal (auth/), or null without any. */
export type Authenticate = (req: FastifyRequest) => Promise<Principal | null>;

function parseWith<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'body' | 'query' | 'params'): T {
  if (!schema) return value as T;
  return parseOrThrow(schema, value ?? {}, where === 'body' ? { root: 'body' } : { prefix: where });
}

/**
 * Mounts route definitions: each request is authenticated and checked against the route's
 * policy, then its params, query and body are parsed by the route's schemas, then the handler
 * runs. Public routes still see who is calling when the credentials are good.
 */
export function mountRoutes(app: FastifyInstance, routes: readonly RouteDef<unknown, unknown, unknown>[], authenticate: Authenticate): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      ...(r.bodyLimit ? { bodyLimit: r.bodyLimit } : {}),
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
  if (isRapportError(error)) return reply.status(error.httpStatus).send(error.toJSON());
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
