/**
 * Time constants and day arithmetic in milliseconds (Rapport's times are epoch milliseconds,
 * UTC). Pure, so that models can use them; everything else imports them through core/time.ts.
 */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** The day (days since 1970-01-01, UTC) an instant falls on; days before 1970 are negative (floored). */
export function dayOfMs(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** Days since 1970-01-01 (UTC) of a `YYYY-MM-DD` date, or NaN when it is not one. */
export function dayOfIso(iso: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return Number.NaN;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(t);
  if (back.getUTCMonth() !== Number(m[2]) - 1 || back.getUTCDate() !== Number(m[3])) return Number.NaN;
  return t / DAY_MS;
}

/** `YYYY-MM-DD` of a day number. */
export function isoOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
