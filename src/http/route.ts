import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Policy, Principal } from './principal.js';

/**
 * One route, described once: the schemas that validate it are the schemas the OpenAPI
 * document is generated from. Handlers get parsed, typed input and return the response body.
 */
export interface RouteDef<B = unknown, Q = unknown, P = unknown> {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT';
  url: string;
  summary: string;
  tags: string[];
  /** Who may call it (principal.ts); `ingest` routes take HTTP Basic (Segment) or Bearer. */
  auth: Policy;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  response?: z.ZodType;
  /** Largest accepted body in bytes (Fastify's default is 1 MiB). */
  bodyLimit?: number;
  /** The body schema only documents; the handler validates `req.body` itself (field paths of its own). */
  documentOnlyBody?: boolean;
  /**
   * The body is a file's bytes, not JSON: the handler reads `req.body` as a stream (upload.ts
   * `receiveFile`), which counts it against `maxBytes` (413 past it). The OpenAPI document
   * lists the content types.
   */
  fileBody?: { contentTypes: readonly string[]; description: string; maxBytes: number };
  /** The handler streams this media type (a CSV download) rather than returning JSON. */
  produces?: 'text/csv';
  /** Keep the route out of the OpenAPI document (HTML pages, redirects). */
  hidden?: boolean;
  /**
   * Which request-rate limit applies (server/limits via @fastify/rate-limit): `signin` per
   * address, `search` per caller, `ingest` per key and address. 429 with Retry-After beyond it.
   */
  rateLimit?: RateLimitName;
  handler: (input: RouteInput<B, Q, P>) => Promise<unknown>;
}

export type RateLimitName = 'signin' | 'search' | 'ingest';

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: Principal | null;
  req: FastifyRequest;
  reply: FastifyReply;
}

/** Preserves the generic parameters of a route definition (inference helper). */
export function route<B, Q, P>(def: RouteDef<B, Q, P>): RouteDef<B, Q, P> {
  return def;
}

/** Common schema pieces shared by routes. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ field: z.string(), message: z.string(), row: z.number().optional() })).optional(),
    }),
  })
  .meta({ id: 'Error' });
