/** Number, money and date formatting in the browser's locale, in one place. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const monthHeading = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long' });
const dayTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const monthShort = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatInt = (n: number): string => integer.format(n);

/** "1 order", "2 orders", "1,204 repeats": a count with its noun in the right number. */
export const countOf = (n: number, one: string, many = `${one}s`): string => `${integer.format(n)} ${n === 1 ? one : many}`;

/** Large counts as "12.3K" in tiles; the exact figure goes in the title. */
export const formatCompact = (n: number): string => (Math.abs(n) < 10_000 ? integer.format(n) : compact.format(n));

/** An amount without a currency (e.g. a sum across currencies). */
export const formatAmount = (n: number): string => decimal.format(n);

const moneyFormats = new Map<string, Intl.NumberFormat | null>();

function moneyFormat(currency: string, compactForm: boolean): Intl.NumberFormat | null {
  const key = `${currency}|${compactForm ? 'c' : ''}`;
  let f = moneyFormats.get(key);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat(undefined, compactForm ? { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 } : { style: 'currency', currency });
    } catch {
      // Not a currency Intl knows: the code after the number.
      f = null;
    }
    moneyFormats.set(key, f);
  }
  return f;
}

/**
 * An amount with its currency, the browser's way ("$1,234.56", "€1.234,56"); `compact` for
 * tiles and axes ("$52.9K"; exact below 10,000). Without a currency (no orders yet) the bare
 * amount. Every money figure of the app goes through here.
 */
export function formatMoney(n: number, currency: string | null | undefined, opts: { compact?: boolean } = {}): string {
  const compactForm = opts.compact === true && Math.abs(n) >= 10_000;
  if (!currency) return compactForm ? compact.format(n) : decimal.format(n);
  const f = moneyFormat(currency, compactForm);
  if (f) return f.format(n);
  return `${compactForm ? compact.format(n) : decimal.format(n)} ${currency}`;
}

export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
export const formatDate = (iso: string): string => dateOnly.format(new Date(iso));
/** "June 2025", in the browser's time zone (timeline headings). */
export const formatMonthHeading = (iso: string): string => monthHeading.format(new Date(iso));
/** "Sat, Jun 28, 8:36 PM". */
export const formatDayTime = (iso: string): string => dayTime.format(new Date(iso));

/** "2025-01" → "Jan 2025". */
export function formatMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  if (!y || !m) return month;
  return monthShort.format(new Date(Date.UTC(y, m - 1, 1)));
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "3 days ago"; `now` is a parameter so that one render uses one clock reading. */
export function formatRelative(iso: string, now: number): string {
  const diff = new Date(iso).getTime() - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relative.format(Math.round(diff / ms), unit);
  }
  return 'just now';
}

/** A local calendar month key, for grouping a timeline by month. */
export function monthKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}`;
}

/** "survey (7)" → "Survey (7)"; the rest is left as it is. */
export const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** "visit_note" → "Visit note". */
export function humanize(s: string): string {
  const t = s.replace(/[_-]+/g, ' ').trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** A trait or property value as text: strings as they are, everything else as JSON. */
export function displayValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export function initials(name: string): string {
  const parts = name.split(/[\s@._-]+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const second = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/**
 * A probability of being alive as the API's own `pAliveText` shows it: never 0% nor 100% (the
 * models cannot support certainty), "over 99%" and "under 1%" at the ends.
 */
export function formatPAlive(p: number): string {
  if (p > 0.99) return 'over 99%';
  if (p < 0.01) return 'under 1%';
  return `${Math.min(99, Math.max(1, Math.round(p * 100)))}%`;
}
