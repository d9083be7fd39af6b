import { DAY_MS } from './time.js';

/**
 * The plausible range of every time and amount that enters Rapport (the tracking API, file
 * imports, the demo). A value outside it is refused where it enters, naming its field (an
 * import rejects the row), because a value the models and pages cannot hold breaks them long
 * after it was accepted: an order dated in the year 275760 kept the customer-value job
 * computing for minutes, a timestamp of 1e16 made every customer list fail on "Invalid time
 * value", and a total of 1e308 turned revenue into null.
 */

/** The earliest time accepted: 1900-01-01T00:00:00Z (older records are typos or placeholders). */
export const EARLIEST_TIME_MS = Date.UTC(1900, 0, 1);
/** How far past the receiving clock a time may lie by default (clocks that run ahead, time zones). */
export const DEFAULT_FUTURE_DAYS = 2;
/** The largest future margin a configuration may set. */
export const MAX_FUTURE_DAYS = 366;
/** The largest money amount accepted for one order, line or price (in its currency's units). */
export const MAX_AMOUNT = 1e12;
/** The largest quantity of one order line. */
export const MAX_QUANTITY = 1e7;
/** How deeply properties and traits may nest (objects and arrays). */
export const MAX_DEPTH = 32;

/** Accepted times, in epoch milliseconds, both ends included. */
export interface TimeWindow {
  readonly earliest: number;
  readonly latest: number;
  /** The future margin the window was made with, for messages. */
  readonly futureDays: number;
}

/** The window of times accepted when the receiving clock reads `now`. */
export function timeWindow(now: number, futureDays: number = DEFAULT_FUTURE_DAYS): TimeWindow {
  if (!Number.isFinite(now)) throw new RangeError('timeWindow: now must be finite');
  if (!(futureDays >= 0 && futureDays <= MAX_FUTURE_DAYS)) throw new RangeError(`timeWindow: futureDays must be 0–${MAX_FUTURE_DAYS}`);
  return { earliest: EARLIEST_TIME_MS, latest: now + futureDays * DAY_MS, futureDays };
}

/** What is wrong with time `t` (epoch ms), or undefined when it lies in the window. */
export function timeProblem(t: number, w: TimeWindow): string | undefined {
  if (!Number.isFinite(t)) return 'expected a date';
  if (t >= w.earliest && t <= w.latest) return undefined;
  const shown = Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : String(t);
  const latest = new Date(w.latest).toISOString().slice(0, 10);
  return `must lie between 1900-01-01 and ${latest} (${w.futureDays} day${w.futureDays === 1 ? '' : 's'} past the time received), got ${shown}`;
}

/** What is wrong with amount `n`, or undefined: finite and within ±max. */
export function amountProblem(n: number, max: number = MAX_AMOUNT): string | undefined {
  if (!Number.isFinite(n)) return 'expected a finite number';
  if (Math.abs(n) > max) return `must lie within ±${max.toExponential(0).replace('e+', 'e')}, got ${n}`;
  return undefined;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `s` is well-formed UTF-16 (no lone surrogate), so that it can be stored as text. */
export function isText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * Why a string with a NUL character (U+0000) is refused: PostgreSQL's text and jsonb cannot
 * hold one, so it is refused on SQLite too: the same input gets the same answer on both.
 */
export const NUL_PROBLEM = 'contains a NUL character (\\u0000), which cannot be stored';

/**
 * The first value inside `root` (properties, traits) that JSON cannot keep or that nests too
 * deeply: a number that parsed to ±Infinity (`1e309`), which would be stored as null; nesting
 * deeper than MAX_DEPTH; a string with a lone UTF-16 surrogate, which is not text, or with a
 * NUL character ({@link NUL_PROBLEM}). Iterative,
 * so that a value nested thousands deep cannot overflow the stack that checks it.
 */
export function valueProblem(root: unknown, path: string): { field: string; message: string } | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: root, path, depth: 0 }];
  while (stack.length > 0) {
    const { v, path: at, depth } = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { field: at, message: 'a number too large to store (JSON has no Infinity)' };
    } else if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return { field: at, message: 'not valid text (a lone UTF-16 surrogate)' };
      if (v.includes('\u0000')) return { field: at, message: NUL_PROBLEM };
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= MAX_DEPTH) return { field: at, message: `nested more than ${MAX_DEPTH} levels deep` };
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${at}[${i}]`, depth: depth + 1 });
      } else {
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          if (LONE_SURROGATE.test(k)) return { field: at, message: 'a key that is not valid text (a lone UTF-16 surrogate)' };
          if (k.includes('\u0000')) return { field: at, message: `a key that ${NUL_PROBLEM}` };
          stack.push({ v: x, path: `${at}.${k}`, depth: depth + 1 });
        }
      }
    }
  }
  return undefined;
}
