import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RapportError } from '../core/errors.js';

/**
 * Load shedding: under overload the server refuses early, with 503 and `Retry-After` (which
 * Segment's libraries retry with back-off), instead of queuing every request until all of
 * them are late.
 *
 * Decided in the first request hook, before the body is read, keyed as the rate limits are
 * (the credentials, hashed, and the address):
 * - A caller holds at most `perCaller` requests in flight; beyond, each new one is refused.
 * - The server is overloaded when its event loop is busy more than `busy` of the time (it has
 *   no time left for more), lags more than `lagMs`, or its oldest write in flight has waited
 *   more than `queueMs` (it sits behind the write queue), or more than `maxInFlight` are in
 *   flight. Then writes (the tracking API among them) from a caller holding at least its fair
 *   share of the requests in flight (and at least `minShare`) are refused, so a flood is shed
 *   while the company's own senders, holding a few each, go on; at twice a threshold of time,
 *   reads too. At `maxInFlight` every new request is refused.
 * - `/healthz` is never shed and touches nothing.
 * A refusal is answered after `delayMs` (a timer, no work): a client that sends again at once
 * waits that long each time, so a flood costs the server little while its refusals are due.
 * The same holds for the rate limits' 429s.
 */
export interface SheddingOptions {
  /** Requests in flight at once per caller (0: no limit). */
  perCaller: number;
  /** Requests in flight at once in all past which the server counts as overloaded (0: no limit). */
  maxInFlight: number;
  /** How long the oldest request in flight may have waited, ms, before the server counts as overloaded (0: not checked). */
  queueMs: number;
  /** How far the event loop may lag, ms, before the server counts as overloaded (0: not checked). */
  lagMs: number;
  /** The share of time the event loop may be busy (0–1) before the server counts as overloaded (0: not checked). */
  busy: number;
  /** Requests in flight a caller may always hold, whatever its fair share. */
  minShare: number;
  /** How long a refusal waits before it is sent, ms. */
  delayMs: number;
}

export const DEFAULT_SHEDDING: SheddingOptions = { perCaller: 16, maxInFlight: 512, queueMs: 250, lagMs: 100, busy: 0.9, minShare: 4, delayMs: 500 };

/** Refusals waiting for their delay at most; past it, refusals are sent at once. */
const MAX_HELD = 4_096;

type Kind = 'write' | 'read';

interface Caller {
  inFlight: number;
}

/** What the shedder sees, for tests and the log. */
export interface SheddingState {
  inFlight: number;
  callers: number;
  oldestMs: number;
  lagMs: number;
  /** The share of the last quarter second the event loop was busy. */
  busy: number;
  shed: number;
}

export function registerShedding(app: FastifyInstance, options: Partial<SheddingOptions> = {}): () => SheddingState {
  const o = { ...DEFAULT_SHEDDING, ...options };
  const callers = new Map<string, Caller>();
  /** Start times of the writes in flight, oldest first (a Map keeps insertion order). */
  const started = new Map<FastifyRequest, number>();
  let inFlight = 0;
  const loop = loopSampler();
  let held = 0;
  let shed = 0;

  const state = (): SheddingState => {
    const oldest = started.values().next();
    return { inFlight, callers: callers.size, oldestMs: oldest.done ? 0 : performance.now() - oldest.value, lagMs: loop.lag(), busy: loop.busy(), shed };
  };

  /** How far past its thresholds the server is: 1 at a threshold. */
  const load = (): number => {
    const s = state();
    return Math.max(o.maxInFlight > 0 ? s.inFlight / o.maxInFlight : 0, o.queueMs > 0 ? s.oldestMs / o.queueMs : 0, o.lagMs > 0 ? s.lagMs / o.lagMs : 0, o.busy > 0 ? s.busy / o.busy : 0);
  };

  const refuse = (reply: FastifyReply, why: string): void => {
    shed++;
    const e = new RapportError('busy', `the server is overloaded (${why}); retry after the time in Retry-After`);
    const send = () => {
      if (!reply.sent && !reply.raw.destroyed) void reply.status(503).header('retry-after', '1').send(e.toJSON());
    };
    if (o.delayMs <= 0 || held >= MAX_HELD) return send();
    held++;
    setTimeout(() => {
      held--;
      send();
    }, o.delayMs);
  };

  app.addHook('onRequest', (req, reply, done) => {
    if (req.url === '/healthz' || req.url.startsWith('/healthz?')) return done();
    const kind: Kind = req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
    const id = callerOf(req);
    const caller = callers.get(id) ?? { inFlight: 0 };
    if (o.perCaller > 0 && caller.inFlight >= o.perCaller) {
      refuse(reply, `at most ${o.perCaller} requests in flight per caller`);
      return;
    }
    const level = load();
    if (level >= (kind === 'write' ? 1 : 2)) {
      // A caller's fair share of what is in flight; the company's senders hold a few, a flood many.
      const share = Math.max(o.minShare, 1, Math.floor(inFlight / Math.max(1, callers.size)));
      if (caller.inFlight >= share || (o.maxInFlight > 0 && inFlight >= o.maxInFlight)) {
        refuse(reply, kind === 'write' ? 'writes are waiting' : 'requests are waiting');
        return;
      }
    }
    caller.inFlight++;
    inFlight++;
    callers.set(id, caller);
    // Reads wait on their own bounds (searches take turns); the queue that overloads is the writes'.
    if (kind === 'write') started.set(req, performance.now());
    reply.raw.once('close', () => {
      started.delete(req);
      inFlight--;
      if (--caller.inFlight <= 0) callers.delete(id);
    });
    done();
  });
  // A 429 (a rate limit or a guessing address) waits as a refusal does.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode !== 429 || o.delayMs <= 0 || held >= MAX_HELD) return payload;
    held++;
    await new Promise((resolve) => setTimeout(resolve, o.delayMs));
    held--;
    return payload;
  });
  app.addHook('onClose', async () => loop.stop());
  app.decorate('sheddingState', state);
  return state;
}

/** The caller as the rate limits count it: its credentials, hashed, and its address. */
function callerOf(req: FastifyRequest): string {
  const credential = req.headers.authorization ?? req.headers.cookie ?? '';
  return `${createHash('sha256').update(credential).digest('base64url').slice(0, 16)}:${req.ip}`;
}

/**
 * The event loop's lag and load. A timer due every 20 ms notes how late it fires; the lag is
 * the largest lateness of the last half second (one long stall counts for a while, not
 * forever). Every quarter second it also notes the share of time the loop was busy
 * (`performance.eventLoopUtilization`).
 */
function loopSampler(): { lag(): number; busy(): number; stop(): void } {
  const everyMs = 20;
  const window: number[] = [];
  let last = performance.now();
  let ticks = 0;
  let mark = performance.eventLoopUtilization();
  let busy = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    window.push(Math.max(0, now - last - everyMs));
    if (window.length > 25) window.shift();
    last = now;
    if (++ticks % 12 === 0) {
      const next = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(next, mark).utilization;
      mark = next;
    }
  }, everyMs);
  timer.unref();
  return {
    // A stall still under way shows as the time since the timer last fired.
    lag: () => Math.max(Math.max(0, performance.now() - last - everyMs), ...window),
    busy: () => busy,
    stop: () => clearInterval(timer),
  };
}
