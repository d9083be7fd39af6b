/**
 * The composition root: builds the HTTP server from every capability's routes and the job
 * registry (jobs.ts). Nothing imports this module but the CLI, tests and benchmarks, so the
 * capabilities never depend on each other through it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyHelmet from '@fastify/helmet';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { serialQueue } from '../core/serial.js';
import { VERSION } from '../core/version.js';
import type { Store } from '../store/db.js';
import { inlineJobs, threadJobs } from '../jobs/runner.js';
import { startSchedule, type ScheduleOptions } from '../jobs/scheduler.js';
import type { HttpContext } from '../http/context.js';
import { acceptJsonBodies, acceptTrackingBodies } from '../http/bodies.js';
import { acceptFileBodies } from '../http/upload.js';
import { mountRoutes, notFoundBody, sendError } from '../http/mount.js';
import { frameworkErrorOptions } from '../http/framework-errors.js';
import { openApiDocument } from '../http/openapi.js';
import { registerShedding, type SheddingOptions } from '../http/shedding.js';
import { DEFAULT_RATE_LIMITS, FailureLimiter, registerRateLimits, type RateLimits } from '../http/rate-limits.js';
import type { RouteDef } from '../http/route.js';
import { authenticator } from '../auth/authenticate.js';
import { authRoutes } from '../auth/auth.routes.js';
import { SESSION_COOKIE } from '../auth/staff.js';
import { IngestWriter } from '../ingest/writer/writer.js';
import { GroupCommit } from '../ingest/group.js';
import { segmentRoutes } from '../ingest/segment/segment.routes.js';
import { importRoutes } from '../ingest/files/import.routes.js';
import { customerRoutes } from '../customers/customer.routes.js';
import { valueRoutes } from '../value/value.routes.js';
import { listeningRoutes } from '../listening/listening.routes.js';
import { stagesRoutes } from '../relationships/stages.routes.js';
import { panelsRoutes } from '../relationships/panels.routes.js';
import { actionsRoutes } from '../relationships/actions.routes.js';
import { visitsRoutes } from '../relationships/visits.routes.js';
import { coverageRoutes } from '../relationships/coverage.routes.js';
import { accountsRoutes } from '../relationships/accounts.routes.js';
import { searchRunner, type SearchRunnerOptions } from '../search/search.pool.js';
import { searchRoutes } from '../search/search.routes.js';
import { startBackgroundIndexing } from '../search/background.js';
import { JOBS } from './jobs.js';

export { VERSION };

export interface ServerOptions {
  store: Store;
  clock?: () => number;
  /** Directory of the built web app (web/dist); the API works without it. */
  webRoot?: string | undefined;
  logLevel?: string;
  /** Run the registered jobs on a schedule (`rapport serve` does; tests mostly don't). */
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
  /** With `jobThreads`: how long a job may run before it is stopped and its run recorded as failed (default 30 minutes). */
  jobDeadlineMs?: number | undefined;
  /** Where searches run (search/search.pool.ts): how many at once, each one's time limit, and `threads: false` to keep them on this thread. */
  search?: SearchRunnerOptions | undefined;
  /** Load shedding (http/shedding.ts): when the server refuses early with 503. */
  shedding?: Partial<SheddingOptions> | undefined;
  /** Request-rate limits (http/rate-limits.ts); each 0 turns one off. */
  rateLimits?: Partial<RateLimits> | undefined;
  /** The address users reach Rapport at (`RAPPORT_PUBLIC_URL`): over HTTPS, cookies are `Secure` and HSTS is sent. */
  publicUrl?: string | undefined;
  /** How far past the server's clock a tracked time may lie, in days (`RAPPORT_FUTURE_DAYS`; core/limits.ts). */
  futureDays?: number | undefined;
  /** The largest file the import API takes, in bytes (default 50 MB; `RAPPORT_IMPORT_MAX_MB`). */
  importMaxBytes?: number | undefined;
}

/** Builds the HTTP server (not listening). Tests call `app.inject(...)` on it directly. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const store = opts.store;
  const clock = opts.clock ?? Date.now;
  const serialWrite = serialQueue();
  const writer = new IngestWriter(store, clock);
  const ctx: HttpContext = {
    store,
    clock,
    serialWrite,
    jobs: opts.jobThreads ? threadJobs(store, { now: clock, serialize: serialWrite, memoryMb: opts.jobMemoryMb, deadlineMs: opts.jobDeadlineMs }) : inlineJobs(store, { now: clock, serialize: serialWrite }),
  };
  const app = Fastify({
    logger: opts.logLevel && opts.logLevel !== 'silent' ? { level: opts.logLevel } : false,
    bodyLimit: 1024 * 1024,
    // Fastify's and Node's own refusals (a bad URL, 414, 431) in Rapport's error shape.
    ...frameworkErrorOptions(),
  });
  // First of all hooks: an overloaded server refuses before it reads or checks anything.
  registerShedding(app, opts.shedding);
  await app.register(fastifyCookie);
  // Security headers on every answer: a content security policy that lets the web app load only
  // its own scripts, styles, images and API (user text can never run as script), no framing,
  // no MIME sniffing, no referrer across origins; HSTS only when Rapport is served over HTTPS.
  const https = opts.publicUrl?.startsWith('https://') ?? false;
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: https ? { maxAge: 15_552_000 } : false,
    crossOriginEmbedderPolicy: false,
  });
  // Shutting down never waits on a job: a running job's thread is stopped (its run recorded as
  // failed) before the server waits for the requests in flight, such as the one that asked for it.
  app.addHook('preClose', async () => ctx.jobs.stop());
  // JSON bodies that name the field they refuse (a `__proto__` key, a NUL), the byte where UTF-8 breaks.
  acceptJsonBodies(app);
  // The tracking routes take gzip'd bodies and the content types Segment's libraries send.
  acceptTrackingBodies(app, '/v1/');
  // The import routes stream uploaded files (CSV, NDJSON) to a temporary file themselves.
  acceptFileBodies(app);

  if (opts.schedule) {
    const schedule = startSchedule(store, JOBS, { now: clock, jobs: ctx.jobs, log: (m) => app.log.info(m), ...opts.schedule });
    app.addHook('onClose', () => schedule.stop());
    // A first look soon after start-up (once listening): the demo's data, or orders that came
    // while the server was down.
    app.addHook('onReady', async () => {
      setTimeout(() => void schedule.check(), 1000).unref();
    });
  }
  if (opts.indexSearch) {
    const indexing = startBackgroundIndexing(store, serialWrite, (m) => app.log.warn(m));
    app.addHook('onClose', async () => indexing.stop());
  }

  // Searches run where they cannot hold the write path (search/search.pool.ts).
  const searches = searchRunner(store, { ...opts.search, catchUp: serialWrite });
  app.addHook('onClose', async () => searches.stop());

  app.setErrorHandler((error: unknown, req, reply) => sendError(error, req, reply));
  const routes: RouteDef<unknown, unknown, unknown>[] = [
    ...segmentRoutes(ctx, new GroupCommit(writer, serialWrite), { futureDays: opts.futureDays }),
    ...importRoutes(ctx, writer, { maxBytes: opts.importMaxBytes }),
    ...customerRoutes(ctx, writer),
    ...valueRoutes(ctx),
    ...listeningRoutes(ctx),
    ...stagesRoutes(ctx),
    ...panelsRoutes(ctx, writer),
    ...actionsRoutes(ctx, writer),
    ...visitsRoutes(ctx, writer),
    ...coverageRoutes(ctx),
    ...accountsRoutes(ctx),
    ...searchRoutes(ctx, searches),
    ...authRoutes(ctx, { secureCookies: https }),
  ];
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  const rateLimit = await registerRateLimits(app, limits);
  mountRoutes(app, routes, authenticator(store, clock, serialWrite, new FailureLimiter(limits.authFailuresPerMinute, clock)), { sessionCookie: SESSION_COOKIE, rateLimit });
  const doc = openApiDocument(routes, VERSION);
  app.get('/api/openapi.json', async () => doc);
  app.get('/healthz', async () => ({ ok: true }));

  const webRoot = opts.webRoot;
  if (webRoot && fs.existsSync(path.join(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: ['index.html'] });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/v1/')) return reply.type('text/html').sendFile('index.html');
      return reply.status(404).send(notFoundBody(req));
    });
  } else {
    app.setNotFoundHandler((req, reply) => reply.status(404).send(notFoundBody(req)));
  }
  return app;
}
