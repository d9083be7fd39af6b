/**
 * The composition root: builds the HTTP server from every capability's routes and the job
 * registry (jobs.ts). Nothing imports this module but the CLI, tests and benchmarks, so the
 * capabilities never depend on each other through it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { serialQueue } from '../core/serial.js';
import { VERSION } from '../core/version.js';
import type { Store } from '../store/db.js';
import { inlineJobs, threadJobs } from '../jobs/runner.js';
import { startSchedule, type ScheduleOptions } from '../jobs/scheduler.js';
import type { HttpContext } from '../http/context.js';
import { acceptTrackingBodies } from '../http/bodies.js';
import { acceptFileBodies } from '../http/upload.js';
import { mountRoutes, notFoundBody, sendError } from '../http/mount.js';
import { openApiDocument } from '../http/openapi.js';
import type { RouteDef } from '../http/route.js';
import { authenticator } from '../auth/authenticate.js';
import { authRoutes } from '../auth/auth.routes.js';
import { IngestWriter } from '../ingest/writer/writer.js';
import { GroupCommit } from '../ingest/group.js';
import { segmentRoutes } from '../ingest/segment/segment.routes.js';
import { importRoutes } from '../ingest/files/import.routes.js';
import { customerRoutes } from '../customers/customer.routes.js';
import { valueRoutes } from '../value/value.routes.js';
import { listeningRoutes } from '../listening/listening.routes.js';
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
    jobs: opts.jobThreads ? threadJobs(store, { now: clock, memoryMb: opts.jobMemoryMb }) : inlineJobs(store, { now: clock, serialize: serialWrite }),
  };
  const app = Fastify({ logger: opts.logLevel && opts.logLevel !== 'silent' ? { level: opts.logLevel } : false, bodyLimit: 1024 * 1024 });
  await app.register(fastifyCookie);
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

  app.setErrorHandler((error: unknown, req, reply) => sendError(error, req, reply));
  const routes: RouteDef<unknown, unknown, unknown>[] = [
    ...segmentRoutes(ctx, new GroupCommit(writer, serialWrite)),
    ...importRoutes(ctx, writer, { maxBytes: opts.importMaxBytes }),
    ...customerRoutes(ctx, writer),
    ...valueRoutes(ctx),
    ...listeningRoutes(ctx),
    ...searchRoutes(ctx),
    ...authRoutes(ctx),
  ];
  mountRoutes(app, routes, authenticator(store, clock));
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
