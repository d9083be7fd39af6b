/**
 * Reading CLV inputs from CSV files (no database needed): a per-customer summary
 * (`customer_id,frequency,recency,T[,monetary_value]`, the lifetimes convention) or raw
 * transactions (customer, date, amount).
 *
 * A summary of a million customers must be read in a fraction of a second, so plain numeric
 * files (no quotes after the header) are scanned byte by byte; a file with quoted fields is
 * read by csv-parse instead, with the same checks. Errors name the row (1 = the first row
 * after the header) and the column.
 */
import fs from 'node:fs';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { invalid, RapportError } from '../core/errors.js';
import { DAY_MS } from '../core/time.js';
import type { RfmSummary } from '../models/clv/triples.js';
import { dayOf, type Transactions } from '../models/clv/summary.js';

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new RapportError('unreadable_file', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const NL = 10;
const CR = 13;
const QUOTE = 34;

/** Byte offset just after the header line, and the header's cells. */
function header(buf: Buffer, file: string): { cells: string[]; end: number } {
  let end = buf.indexOf(NL);
  if (end < 0) end = buf.length;
  let text = buf.toString('utf8', 0, end);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new RapportError('invalid_input', `${file}: empty file (expected a header row)`);
  const rows = parseCsvSync(text, { relax_column_count: true });
  return { cells: (rows[0] ?? []).map((c) => c.trim()), end: Math.min(buf.length, end + 1) };
}

function columnIndex(cells: readonly string[], name: string, file: string, flag: string): number {
  const i = cells.findIndex((c) => c === name);
  if (i < 0) {
    const lower = cells.findIndex((c) => c.toLowerCase() === name.toLowerCase());
    if (lower >= 0) return lower;
    throw invalid(flag, `${file} has no column "${name}" (columns: ${cells.join(', ')})`);
  }
  return i;
}

/**
 * Calls `row(cells, n)` for every data row. Cells are [start, end) byte ranges into `buf`
 * (`starts`, `ends`), valid only during the call. Quoted files go through csv-parse.
 */
function eachRow(buf: Buffer, from: number, width: number, row: (get: (i: number) => string, num: (i: number) => number, n: number) => void): number {
  const starts = new Int32Array(width);
  const ends = new Int32Array(width);
  if (buf.indexOf(QUOTE, from) >= 0) {
    const records = parseCsvSync(buf.subarray(from), { relax_column_count: true, skip_empty_lines: true });
    let n = 0;
    for (const cells of records) {
      n++;
      row(
        (i) => (cells[i] ?? '').trim(),
        (i) => numberOf((cells[i] ?? '').trim()),
        n,
      );
    }
    return n;
  }
  const get = (i: number): string => (i < width && ends[i]! > starts[i]! ? buf.toString('utf8', starts[i], ends[i]).trim() : '');
  const num = (i: number): number => (i < width ? parseNumber(buf, starts[i]!, ends[i]!) : Number.NaN);
  let n = 0;
  let pos = from;
  const len = buf.length;
  while (pos < len) {
    let lineEnd = buf.indexOf(NL, pos);
    if (lineEnd < 0) lineEnd = len;
    let stop = lineEnd;
    if (stop > pos && buf[stop - 1] === CR) stop--;
    if (stop > pos) {
      let c = 0;
      let s = pos;
      for (let k = pos; k < stop && c < width; k++) {
        if (buf[k] === 44) {
          starts[c] = s;
          ends[c] = k;
          c++;
          s = k + 1;
        }
      }
      if (c < width) {
        starts[c] = s;
        ends[c] = stop;
        c++;
      }
      for (; c < width; c++) {
        starts[c] = stop;
        ends[c] = stop;
      }
      n++;
      row(get, num, n);
    }
    pos = lineEnd + 1;
  }
  return n;
}

function numberOf(text: string): number {
  return text === '' ? Number.NaN : Number(text);
}

/** A decimal number from bytes [start, end): the common `-12.345` shape directly, anything else via Number(). */
function parseNumber(buf: Buffer, start: number, end: number): number {
  while (start < end && buf[start] === 32) start++;
  while (end > start && buf[end - 1] === 32) end--;
  if (start === end) return Number.NaN;
  let i = start;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  let int = 0;
  let digits = 0;
  while (i < end) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
    digits++;
    i++;
  }
  let frac = 0;
  let scale = 1;
  if (i < end && buf[i] === 46) {
    i++;
    while (i < end) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      frac = frac * 10 + c;
      scale *= 10;
      digits++;
      i++;
    }
  }
  if (i !== end || digits === 0 || digits > 15) return Number(buf.toString('latin1', start, end));
  const v = int + frac / scale;
  return neg ? -v : v;
}

export interface SummaryColumns {
  frequency: string;
  recency: string;
  T: string;
  monetary: string;
}

export const SUMMARY_COLUMNS: SummaryColumns = { frequency: 'frequency', recency: 'recency', T: 'T', monetary: 'monetary_value' };

/**
 * Reads a per-customer summary. `monetary_value` is optional (without it no spend model is
 * fitted). Checks: frequency a whole number ≥ 0; 0 ≤ recency ≤ T; recency 0 when frequency is
 * 0; T > 0; monetary value ≥ 0.
 */
export function readSummaryCsv(file: string, columns: SummaryColumns = SUMMARY_COLUMNS): RfmSummary & { rows: number } {
  const buf = readFile(file);
  const { cells, end } = header(buf, file);
  const fi = columnIndex(cells, columns.frequency, file, 'frequency');
  const ri = columnIndex(cells, columns.recency, file, 'recency');
  const ti = columnIndex(cells, columns.T, file, 'T');
  const mi = cells.findIndex((c) => c === columns.monetary || c.toLowerCase() === columns.monetary.toLowerCase());
  const width = Math.max(fi, ri, ti, mi) + 1;
  // Rows ≤ newlines + 1.
  let cap = 1;
  for (let k = buf.indexOf(NL, end); k >= 0; k = buf.indexOf(NL, k + 1)) cap++;
  const frequency = new Float64Array(cap);
  const recency = new Float64Array(cap);
  const T = new Float64Array(cap);
  const monetary = mi >= 0 ? new Float64Array(cap) : undefined;
  const rows = eachRow(buf, end, width, (_get, num, n) => {
    const x = num(fi);
    const r = num(ri);
    const t = num(ti);
    if (!(x >= 0 && Number.isInteger(x))) throw invalid(columns.frequency, `expected a whole number ≥ 0, got "${_get(fi)}"`, n);
    if (!(r >= 0)) throw invalid(columns.recency, `expected a number ≥ 0, got "${_get(ri)}"`, n);
    if (!(t > 0 && Number.isFinite(t))) throw invalid(columns.T, `expected a number > 0, got "${_get(ti)}"`, n);
    if (r > t) throw invalid(columns.recency, `recency ${r} is after T ${t} (the last purchase cannot come after the end of observation)`, n);
    if (x === 0 && r !== 0) throw invalid(columns.recency, `expected 0 for a customer without repeat purchases (frequency 0), got ${r}`, n);
    frequency[n - 1] = x;
    recency[n - 1] = r;
    T[n - 1] = t;
    if (monetary) {
      const m = num(mi);
      if (!(m >= 0 && Number.isFinite(m))) throw invalid(columns.monetary, `expected an amount ≥ 0, got "${_get(mi)}"`, n);
      monetary[n - 1] = m;
    }
  });
  if (rows === 0) throw new RapportError('invalid_input', `${file}: no customers after the header`);
  return {
    rows,
    frequency: frequency.subarray(0, rows),
    recency: recency.subarray(0, rows),
    T: T.subarray(0, rows),
    ...(monetary ? { monetary: monetary.subarray(0, rows) } : {}),
  };
}

export type DateFormat = 'yyyymmdd' | 'iso';

export interface TransactionColumns {
  customer: string;
  date: string;
  amount: string;
  dateFormat: DateFormat;
}

/** Days since 1970-01-01 of a date cell, or NaN. ISO timestamps count by their UTC date. */
export function parseDay(text: string, format: DateFormat): number {
  if (format === 'yyyymmdd') {
    if (!/^\d{8}$/.test(text)) return Number.NaN;
    text = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}`;
  }
  if (text.length === 10) return dayOf(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return Number.NaN;
  const t = Date.parse(text);
  return Number.isNaN(t) ? Number.NaN : Math.floor(t / DAY_MS);
}

/**
 * Reads transactions. Dates must parse in the given format, amounts must be present and ≥ 0
 * (refunds are to be netted into their order first); a bad row stops the read with its row
 * and column named. Without an amount column (and none asked for), amounts are 0 and no
 * spend model can be fitted.
 */
export function readTransactionsCsv(file: string, columns: TransactionColumns, amountRequired: boolean): Transactions & { ids: string[]; hasAmounts: boolean } {
  const buf = readFile(file);
  const { cells, end } = header(buf, file);
  const ci = columnIndex(cells, columns.customer, file, '--customer-column');
  const di = columnIndex(cells, columns.date, file, '--date-column');
  let ai = cells.findIndex((c) => c === columns.amount || c.toLowerCase() === columns.amount.toLowerCase());
  if (ai < 0 && amountRequired) ai = columnIndex(cells, columns.amount, file, '--amount-column');
  const width = Math.max(ci, di, ai) + 1;
  const ids = new Map<string, number>();
  const customer: number[] = [];
  const day: number[] = [];
  const amount: number[] = [];
  eachRow(buf, end, width, (get, num, n) => {
    const id = get(ci);
    if (id === '') throw invalid(columns.customer, 'missing customer id', n);
    const d = parseDay(get(di), columns.dateFormat);
    if (Number.isNaN(d)) throw invalid(columns.date, `"${get(di)}" is not a date in ${columns.dateFormat === 'iso' ? 'ISO (YYYY-MM-DD)' : 'yyyymmdd'} format`, n);
    let a = 0;
    if (ai >= 0) {
      a = num(ai);
      if (Number.isNaN(a)) throw invalid(columns.amount, get(ai) === '' ? 'missing amount' : `expected an amount, got "${get(ai)}"`, n);
      if (a < 0) throw invalid(columns.amount, `negative amount ${a}: net refunds into their order before fitting`, n);
      if (!Number.isFinite(a)) throw invalid(columns.amount, `expected a finite amount, got "${get(ai)}"`, n);
    }
    let c = ids.get(id);
    if (c === undefined) {
      c = ids.size;
      ids.set(id, c);
    }
    customer.push(c);
    day.push(d);
    amount.push(a);
  });
  if (customer.length === 0) throw new RapportError('invalid_input', `${file}: no transactions after the header`);
  return {
    ids: [...ids.keys()],
    customers: ids.size,
    customer: Int32Array.from(customer),
    day: Int32Array.from(day),
    amount: Float64Array.from(amount),
    hasAmounts: ai >= 0,
  };
}
