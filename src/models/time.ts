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

/**
 * The calendar month (UTC) an instant falls in, as year × 12 + month (0–11): integer
 * arithmetic (Hinnant's civil-from-days), no Date, for scans of millions of rows.
 */
export function monthOfMs(ms: number): number {
  const z = Math.floor(ms / DAY_MS) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 2 : mp - 10;
  const year = yoe + era * 400 + (month <= 1 ? 1 : 0);
  return year * 12 + month;
}
