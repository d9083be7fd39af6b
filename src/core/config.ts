import path from 'node:path';
import { z } from 'zod';
import { RapportError } from './errors.js';
import { DEFAULT_FUTURE_DAYS, MAX_FUTURE_DAYS } from './limits.js';

/**
 * Configuration is read and validated once, at start-up, into a frozen object. Nothing else
 * in the code base reads `process.env`.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().optional(),
  RAPPORT_DATA_DIR: z.string().optional(),
  RAPPORT_PUBLIC_URL: z.string().optional(),
  RAPPORT_DEMO_CUSTOMERS: z.coerce.number().int().min(0).default(2000),
  RAPPORT_CLV_EVERY_HOURS: z.coerce.number().min(0).default(24),
  RAPPORT_JOB_MEMORY_MB: z.coerce.number().int().min(64).optional(),
  RAPPORT_JOB_DEADLINE_MINUTES: z.coerce.number().min(1).max(24 * 60).default(30),
  RAPPORT_SIGNIN_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(10),
  RAPPORT_SEARCH_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(120),
  RAPPORT_INGEST_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  RAPPORT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(20),
  RAPPORT_SEARCH_CONCURRENCY: z.coerce.number().int().min(1).max(32).optional(),
  RAPPORT_SEARCH_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(600).default(5),
  RAPPORT_SHED_PER_CALLER: z.coerce.number().int().min(0).max(100_000).default(16),
  RAPPORT_SHED_MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(1_000_000).default(512),
  RAPPORT_SHED_QUEUE_MS: z.coerce.number().int().min(0).max(600_000).default(250),
  RAPPORT_SHED_LAG_MS: z.coerce.number().int().min(0).max(600_000).default(100),
  RAPPORT_FUTURE_DAYS: z.coerce.number().min(0).max(MAX_FUTURE_DAYS).default(DEFAULT_FUTURE_DAYS),
  RAPPORT_IMPORT_MAX_MB: z.coerce.number().min(1).max(10_240).default(50),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  /** `sqlite:<file>` or a `postgres://` URL. */
  readonly database: DatabaseTarget;
  readonly publicUrl: string | undefined;
  readonly demoCustomers: number;
  /** The server recomputes customer value at least this often, and soon after new orders; 0 turns that off. */
  readonly clvEveryHours: number;
  /** The JavaScript heap a server job's thread may use (MB); undefined: V8's default. */
  readonly jobMemoryMb: number | undefined;
  /** Request-rate limits of the server (http/rate-limits.ts); 0 turns one off. */
  readonly rateLimits: { signinPerMinute: number; searchPerMinute: number; ingestPerSecond: number; authFailuresPerMinute: number };
  /** How long a server job may run before it is stopped and its run recorded as failed, in minutes. */
  readonly jobDeadlineMinutes: number;
  /** Searches at once (threads on SQLite, connections on PostgreSQL; undefined: cores − 1, 1 to 2) and each one's time limit (search/search.pool.ts). */
  readonly search: { concurrency: number | undefined; timeoutMs: number };
  /** Load shedding (http/shedding.ts); each 0 turns one check off. */
  readonly shedding: { perCaller: number; maxInFlight: number; queueMs: number; lagMs: number };
  /** How far past the receiving clock a time that enters may lie, in days (core/limits.ts). */
  readonly futureDays: number;
  /** The largest file the import API takes (MB). */
  readonly importMaxMb: number;
  readonly logLevel: string;
}

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** Resolves where the database lives: `DATABASE_URL` wins, else `./data/rapport.db` under cwd. */
export function databaseTarget(url: string | undefined, cwd: string, dataDir?: string): DatabaseTarget {
  if (url && /^postgres(ql)?:\/\//.test(url)) return Object.freeze({ kind: 'postgres', url });
  if (url && url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    return Object.freeze({ kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(cwd, file) });
  }
  if (url) throw new RapportError('config', `DATABASE_URL: expected postgres://… or sqlite:<file>, got "${url}"`);
  return Object.freeze({ kind: 'sqlite', file: path.resolve(cwd, dataDir ?? 'data', 'rapport.db') });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new RapportError('config', `${first?.path.join('.') ?? 'env'}: ${first?.message ?? 'invalid'}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    database: databaseTarget(e.DATABASE_URL, cwd, e.RAPPORT_DATA_DIR),
    publicUrl: e.RAPPORT_PUBLIC_URL === '' ? undefined : e.RAPPORT_PUBLIC_URL,
    demoCustomers: e.RAPPORT_DEMO_CUSTOMERS,
    clvEveryHours: e.RAPPORT_CLV_EVERY_HOURS,
    jobMemoryMb: e.RAPPORT_JOB_MEMORY_MB,
    futureDays: e.RAPPORT_FUTURE_DAYS,
    jobDeadlineMinutes: e.RAPPORT_JOB_DEADLINE_MINUTES,
    rateLimits: Object.freeze({ signinPerMinute: e.RAPPORT_SIGNIN_PER_MINUTE, searchPerMinute: e.RAPPORT_SEARCH_PER_MINUTE, ingestPerSecond: e.RAPPORT_INGEST_PER_SECOND, authFailuresPerMinute: e.RAPPORT_AUTH_FAILURES_PER_MINUTE }),
    importMaxMb: e.RAPPORT_IMPORT_MAX_MB,
    search: Object.freeze({ concurrency: e.RAPPORT_SEARCH_CONCURRENCY, timeoutMs: Math.round(e.RAPPORT_SEARCH_TIMEOUT_SECONDS * 1000) }),
    shedding: Object.freeze({ perCaller: e.RAPPORT_SHED_PER_CALLER, maxInFlight: e.RAPPORT_SHED_MAX_IN_FLIGHT, queueMs: e.RAPPORT_SHED_QUEUE_MS, lagMs: e.RAPPORT_SHED_LAG_MS }),
    logLevel: e.LOG_LEVEL,
  });
}
