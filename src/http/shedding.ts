import { createHash } from 'node:crypto';
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
 * - The server is overloaded when its event loop lags more than `lagMs`, or its oldest request
 *   in flight has waited more than `queueMs` (it sits behind the write queue), or more than
 *   `maxInFlight` are in flight. Then writes (the tracking API first among them) from a caller
 *   holding at least its fair share of the requests in flight are refused, so one flood is
 *   shed before the company's own senders; at twice the threshold, reads too.
 * - `/healthz` is never shed and touches nothing.
 * A refusal is answered after `delayMs` (a timer, no work): a client that sends again at once
 * waits that long each time, so a flood costs the server little while its refusals are due.
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
  /** How long a refusal waits before it is sent, ms. */
  delayMs: number;
}

export const DEFAULT_SHEDDING: SheddingOptions = { perCaller: 32, maxInFlight: 512, queueMs: 1_000, lagMs: 200, delayMs: 500 };

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
  shed: number;
}

export function registerShedding(app: FastifyInstance, options: Partial<SheddingOptions> = {}): () => SheddingState {
  const o = { ...DEFAULT_SHEDDING, ...options };
  const callers = new Map<string, Caller>();
  /** Start times of the requests in flight, oldest first (a Map keeps insertion order). */
  const started = new Map<FastifyRequest, number>();
  const lag = lagSampler();
  let held = 0;
  let shed = 0;

  const state = (): SheddingState => {
    const oldest = started.values().next();
    return { inFlight: started.size, callers: callers.size, oldestMs: oldest.done ? 0 : performance.now() - oldest.value, lagMs: lag.current(), shed };
  };

  /** How far past its thresholds the server is: 1 at a threshold. */
  const load = (): number => {
    const s = state();
    return Math.max(o.maxInFlight > 0 ? s.inFlight / o.maxInFlight : 0, o.queueMs > 0 ? s.oldestMs / o.queueMs : 0, o.lagMs > 0 ? s.lagMs / o.lagMs : 0);
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
      const share = Math.max(1, Math.floor(started.size / Math.max(1, callers.size)));
      if (caller.inFlight >= share || level >= 4) {
        refuse(reply, kind === 'write' ? 'writes are waiting' : 'requests are waiting');
        return;
      }
    }
    caller.inFlight++;
    callers.set(id, caller);
    started.set(req, performance.now());
    reply.raw.once('close', () => {
      started.delete(req);
      if (--caller.inFlight <= 0) callers.delete(id);
    });
    done();
  });
  app.addHook('onClose', async () => lag.stop());
  app.decorate('sheddingState', state);
  return state;
}

/** The caller as the rate limits count it: its credentials, hashed, and its address. */
function callerOf(req: FastifyRequest): string {
  const credential = req.headers.authorization ?? req.headers.cookie ?? '';
  return `${createHash('sha256').update(credential).digest('base64url').slice(0, 16)}:${req.ip}`;
}

/**
 * The event loop's lag: a timer due every 20 ms notes how late it fires; the figure is the
 * largest lateness of the last half second, so one long stall counts for a while, not forever.
 */
function lagSampler(): { current(): number; stop(): void } {
  const everyMs = 20;
  const window: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    window.push(Math.max(0, now - last - everyMs));
    if (window.length > 25) window.shift();
    last = now;
  }, everyMs);
  timer.unref();
  return {
    current: () => {
      // A stall still under way shows as the time since the timer last fired.
      const running = Math.max(0, performance.now() - last - everyMs);
      return Math.max(running, ...window);
    },
    stop: () => clearInterval(timer),
  };
}
