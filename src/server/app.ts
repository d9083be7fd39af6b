import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { z } from 'zod';
import { RapportError, forbidden, isRapportError, unauthorized, type FieldIssue } from '../core/errors.js';
import { verifyKey, type Principal } from '../auth/keys.js';
import { SESSION_COOKIE, sessionUser, staffPrincipal } from '../auth/staff.js';
import type { Store } from '../store/db.js';
import { IngestWriter } from '../ingest/writer/writer.js';
import { GroupCommit } from '../ingest/group.js';
import { openApiDocument } from '../http/openapi.js';
import type { RouteDef } from '../http/route.js';
import { segmentRoutes } from '../ingest/segment/segment.routes.js';
import { customerRoutes } from '../customers/customer.routes.js';
import { authRoutes } from '../auth/auth.routes.js';
import { valueRoutes } from '../value/value.routes.js';
import { listeningRoutes } from '../listening/listening.routes.js';
import { searchRoutes } from '../search/search.routes.js';
import { scheduleClv, type Schedule, type ScheduleOptions } from '../jobs/scheduler.js';
import { inlineJobs, threadJobs, type JobRunner } from '../jobs/runner.js';
import { serialQueue } from '../core/serial.js';

export const VERSION = '0.1.0';
/** How long a verified key is trusted without a look-up: a revoked key stops working within this. */
const KEY_CACHE_MS = 5_000;

/** Everything a request handler may need; built once per server. */
export interface AppContext {
  store: Store;
  writer: IngestWriter;
  clock: () => number;
  /** Verified keys for a few seconds, so a busy tracking client costs no key look-up per request. */
  keyCache: Map<string, { principal: Principal; until: number }>;
  /** Serializes writes: one at a time per process. */
  serialWrite<T>(fn: () => Promise<T>): Promise<T>;
  /** The tracking API's writes, group-committed (inside serialWrite). */
  ingest: GroupCommit;
  /** The recompute schedule, when the server runs one. */
  schedule: Schedule | undefined;
  /** Customer value, listening runs and theme splits, one at a time (see jobs/runner.ts). */
  jobs: JobRunner;
}

export interface ServerOptions {
  store: Store;
  clock?: () => number;
  /** Directory of the built web app (web/dist); the API works without it. */
  webRoot?: string | undefined;
  logLevel?: string;
  /** Recompute customer value on a schedule and after new orders (`rapport serve` does; tests mostly don't). */
  schedule?: ScheduleOptions | false;
  /** Keep the search index up to date in the background (`rapport serve` does). */
  indexSearch?: boolean;
  /**
   * Run long jobs (customer value, listening, theme splits) on worker threads, so that requests
   * are answered meanwhile (`rapport serve` does; an in-memory database runs them inline).
   */
  jobThreads?: boolean;
  /** With `jobThreads`: the heap each job's thread may use, in MB (default: V8's). */
  jobMemoryMb?: number | undefined;
}

function zodIssues(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || prefix, message: i.message }));
}

function parseWith<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issues = zodIssues(r.error, where === 'body' ? '' : where);
  const first = issues[0];
  throw new RapportError('invalid_input', `${first!.field || where}: ${first!.message}`, issues);
}

async function authenticate(ctx: AppContext, req: FastifyRequest): Promise<Principal | null> {
  const header = req.headers.authorization;
  const now = ctx.clock();
  if (header) {
    const [scheme, value = ''] = header.split(/\s+/, 2);
    let secret: string | undefined;
    if (scheme?.toLowerCase() === 'bearer') secret = value.trim();
    else if (scheme?.toLowerCase() === 'basic') secret = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
    if (!secret) throw unauthorized('Authorization header: expected "Bearer <key>" or Basic with the write key as user name');
    const cached = ctx.keyCache.get(secret);
    if (cached && cached.until > now) return cached.principal;
    const p = await verifyKey(ctx.store.db, secret, now);
    if (!p) throw unauthorized('the key is unknown or revoked');
    if (ctx.keyCache.size > 1000) ctx.keyCache.clear();
    ctx.keyCache.set(secret, { principal: p, until: now + KEY_CACHE_MS });
    return p;
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (cookie) {
    const user = await sessionUser(ctx.store.db, cookie, now);
    if (user) return staffPrincipal(user);
  }
  return null;
}

/** Builds the HTTP server (not listening). Tests call `app.inject(...)` on it directly. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const clock = opts.clock ?? Date.now;
  const serialWrite = serialQueue();
  const writer = new IngestWriter(opts.store, clock);
  const ctx: AppContext = {
    store: opts.store,
    writer,
    clock,
    keyCache: new Map(),
    serialWrite,
    ingest: new GroupCommit(writer, serialWrite),
    schedule: undefined,
    jobs: opts.jobThreads ? threadJobs(opts.store, { now: clock, memoryMb: opts.jobMemoryMb }) : inlineJobs(opts.store, { now: clock, serialize: serialWrite }),
  };
  const app = Fastify({ logger: opts.logLevel && opts.logLevel !== 'silent' ? { level: opts.logLevel } : false, bodyLimit: 1024 * 1024 });
  await app.register(fastifyCookie);
  if (opts.schedule) {
    const schedule = scheduleClv(opts.store, { now: clock, jobs: ctx.jobs, log: (m) => app.log.info(m), ...opts.schedule });
    ctx.schedule = schedule;
    app.addHook('onClose', () => schedule.stop());
    // A first look soon after start-up (once listening): the demo's data, or orders that came
    // while the server was down.
    app.addHook('onReady', async () => {
      setTimeout(() => void schedule.check(), 1000).unref();
    });
  }

  if (opts.indexSearch) {
    // Search: index what the tracking API, imports and other processes stored, a slice at a
    // time with the other writes, so that ingestion itself never waits for the index.
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        try {
          const { searchLag, syncSearch } = await import('../search/search.indexer.js');
          const lag = await searchLag(opts.store.db);
          // A slice of about a second, so that the tracking API never waits long behind it.
          if (lag.rows > 0 || lag.dirty > 0) await serialWrite(() => syncSearch(opts.store, { maxRows: 10_000 }));
        } catch (e) {
          app.log.warn(`search indexing: ${(e as Error).message}`);
        } finally {
          busy = false;
        }
      })();
    }, 2000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  app.setErrorHandler((error: unknown, req, reply) => {
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
  });

  const routes: RouteDef<unknown, unknown, unknown>[] = [
    ...segmentRoutes(ctx),
    ...customerRoutes(ctx),
    ...valueRoutes(ctx),
    ...listeningRoutes(ctx),
    ...searchRoutes(ctx),
    ...authRoutes(ctx),
  ];
  const doc = openApiDocument(routes, VERSION);
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      ...(r.bodyLimit ? { bodyLimit: r.bodyLimit } : {}),
      handler: async (req, reply) => {
        const principal: Principal | null =
          r.auth === 'none' ? await authenticate(ctx, req).catch(() => null) : await authenticate(ctx, req);
        if (r.auth !== 'none') {
          if (!principal) throw unauthorized();
          if (!principal.scopes.has(r.auth)) throw forbidden(`this endpoint needs a key of scope "${r.auth}"`);
        }
        const params = parseWith(r.params, req.params, 'params');
        const query = parseWith(r.query, req.query, 'query');
        const body = r.documentOnlyBody ? req.body : parseWith(r.body, req.body, 'body');
        const result = await r.handler({ body, query, params, principal, req, reply });
        if (reply.sent) return reply;
        return result;
      },
    });
  }
  app.get('/api/openapi.json', async () => doc);
  app.get('/healthz', async () => ({ ok: true }));

  const webRoot = opts.webRoot;
  if (webRoot && fs.existsSync(path.join(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: ['index.html'] });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/v1/')) {
        return reply.type('text/html').sendFile('index.html');
      }
      return reply.status(404).send(new RapportError('not_found', `${req.method} ${req.url.split('?')[0]} not found`).toJSON());
    });
  } else {
    app.setNotFoundHandler((req, reply) =>
      reply.status(404).send(new RapportError('not_found', `${req.method} ${req.url.split('?')[0]} not found`).toJSON()),
    );
  }
  return app;
}
