import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { RapportError } from '../core/errors.js';
import type { RateLimitName } from './route.js';

/**
 * Request-rate limits, so that no caller can guess sign-in links or keys at speed, or flood the
 * search or the tracking API: a route names its limit (route.ts `rateLimit`), counted per
 * caller in a fixed window by @fastify/rate-limit; beyond it, 429 with `Retry-After`
 * (Segment's clients retry a 429 with back-off). Failed key checks are counted apart, per
 * address, by `FailureLimiter`. A limit of 0 turns it off.
 */
export interface RateLimits {
  /** Sign-in link attempts per address and minute. */
  signinPerMinute: number;
  /** Searches per caller (key or session, else address) and minute. */
  searchPerMinute: number;
  /** Tracking requests per ingest key and address and second. */
  ingestPerSecond: number;
  /** Requests with an unknown or revoked key per address and minute, before every request of that address waits. */
  authFailuresPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { signinPerMinute: 10, searchPerMinute: 120, ingestPerSecond: 1000, authFailuresPerMinute: 20 };

/** A caller's credentials, hashed (the secrets are not kept as keys in memory), else the address. */
function caller(req: FastifyRequest): string {
  const credential = req.headers.authorization ?? req.headers.cookie;
  return credential ? createHash('sha256').update(credential).digest('base64url').slice(0, 22) : `ip:${req.ip}`;
}

/** Registers the plugin (before any route) and returns each named limit as a route's `config.rateLimit`. */
export async function registerRateLimits(app: FastifyInstance, limits: RateLimits): Promise<(name: RateLimitName | undefined) => object | undefined> {
  await app.register(fastifyRateLimit, {
    global: false,
    // The error handler words it as every other error: `{ error: { code: "rate_limited", … } }`.
    errorResponseBuilder: (_req, context) => {
      const e = new RapportError('rate_limited', `too many requests: at most ${context.max} per ${context.after === '1 second' ? 'second' : 'window'}; retry in ${context.after}`);
      e.retryAfterSeconds = Math.ceil(context.ttl / 1000);
      return e;
    },
  });
  const configs: Record<RateLimitName, object | undefined> = {
    signin: limits.signinPerMinute > 0 ? { max: limits.signinPerMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `signin:${req.ip}` } : undefined,
    search: limits.searchPerMinute > 0 ? { max: limits.searchPerMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `search:${caller(req)}` } : undefined,
    ingest: limits.ingestPerSecond > 0 ? { max: limits.ingestPerSecond, timeWindow: 1000, keyGenerator: (req: FastifyRequest) => `ingest:${caller(req)}:${req.ip}` } : undefined,
  };
  return (name) => (name === undefined ? undefined : configs[name]);
}

/**
 * Failed credential checks per address in a fixed one-minute window: past the limit, that
 * address gets 429 until the window ends, whatever it sends, so guessing keys costs minutes
 * per handful of guesses. Bounded memory: at most `maxAddresses` windows are kept.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly clock: () => number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Throws rate_limited when `address` has failed too often in the current window. */
  check(address: string): void {
    if (this.perMinute <= 0) return;
    const w = this.windows.get(address);
    const now = this.clock();
    if (w && w.until > now && w.count >= this.perMinute) {
      const e = new RapportError('rate_limited', `too many failed sign-ins with a key from this address: at most ${this.perMinute} a minute; retry in ${Math.ceil((w.until - now) / 1000)} s`);
      e.retryAfterSeconds = (w.until - now) / 1000;
      throw e;
    }
  }

  /** Counts a failed check of `address`. */
  failed(address: string): void {
    if (this.perMinute <= 0) return;
    const now = this.clock();
    const w = this.windows.get(address);
    if (w && w.until > now) {
      w.count++;
      return;
    }
    if (this.windows.size >= this.maxAddresses) {
      for (const [k, v] of this.windows) if (v.until <= now) this.windows.delete(k);
      if (this.windows.size >= this.maxAddresses) this.windows.clear();
    }
    this.windows.set(address, { count: 1, until: now + 60_000 });
  }
}
