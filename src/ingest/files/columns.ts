/**
 * ## Accepted columns
 *
 * `rapport import <file> --kind customers|orders|events|feedback` reads CSV (a header row
 * first) or NDJSON (one JSON object per line; for `events`, one Segment message per line).
 * Column names are matched without regard to case, spaces, underscores, hyphens or dots:
 * `user_id`, `userId`, `User ID` and `user-id` are the same column. When several columns
 * name the same field, the alias listed first wins and the others are kept as extra
 * columns. Empty cells count as absent.
 *
 * The fields of each kind and the column names each accepts are the `col(…)` lists below
 * (`IMPORT_COLUMNS`), one place for the reader and the help text; README's import section lists
 * them for users. Rows: **customers** one per customer (other columns become traits);
 * **orders** one per order line (rows of one order consecutive, as Shopify and most shops
 * export them; the order-level cells may be blank on its later rows), or one per order when
 * the file has no product columns; a cancellation invoice (`C…`) or negative quantities are a
 * refund, stored apart from purchases (orders.ts); **events** one per event (other columns
 * become properties); **feedback** one per ticket, review, survey answer, interview or visit
 * note (other columns become properties). `--map field=column` names a column for a field.
 *
 * Slash dates (`12/9/2011 11:58`) are read by looking at the whole column: a `13/…` decides
 * day-first, a `…/13/…` month-first; a column that never decides is refused unless
 * `--date-order dmy|mdy` says which.
 *
 * Dates are ISO 8601 (`2024-05-01`, `2024-05-01T10:00:00Z`; a time without a zone is read
 * as UTC), other formats `Date.parse` reads with a four-digit year, or epoch seconds (10
 * digits) or milliseconds (13 digits). Numbers may carry a leading currency sign and
 * thousands commas (`$1,234.50`). Customers, orders and feedback that name only an e-mail
 * are matched to the customer who has that e-mail; when there is none, the e-mail becomes
 * the new customer's user id. A rejected row is written to the report (`row,field,reason`;
 * row is the 1-based data row of a CSV file, the line number of an NDJSON file) and nothing
 * of it is stored; for orders, a rejected line rejects its whole order.
 */

import { invalid } from '../../core/errors.js';
import { amountProblem, MAX_QUANTITY, timeProblem, timeWindow, type TimeWindow } from '../../core/limits.js';
import { DIRECTIONS, FEEDBACK_KINDS, type FeedbackKind } from '../../core/vocabulary.js';
import type { IngestRecord, OrderLine, Who } from '../records.js';
import { channelOf, contentId, normalizeMessage } from '../segment/segment.js';

export { IMPORT_KINDS, type ImportKind } from '../records.js';
import type { ImportKind } from '../records.js';

/**
 * How a field's cell is read: as text, a number (`price`: at least 0), a date, an e-mail
 * address or an ISO-4217 currency code. The row converters read each field so; the preview
 * (preview.ts) shows each cell as they read it.
 */
export type FieldRead = 'text' | 'number' | 'price' | 'date' | 'email' | 'currency';

export interface ColumnSpec {
  /** Internal field name. */
  readonly field: string;
  /** Accepted column names, in priority order (compared after {@link columnKey}). */
  readonly aliases: readonly string[];
  readonly notes: string;
  readonly read: FieldRead;
}

const col = (field: string, aliases: readonly string[], notes = '', read: FieldRead = 'text'): ColumnSpec => ({ field, aliases, notes, read });

/**
 * The accepted columns per kind, in matching order: a column is claimed by the first field
 * (then the first alias) that names it. Every other column becomes a trait or property.
 */
export const IMPORT_COLUMNS = {
  customers: [
    col('userId', ['user_id', 'customer_id', 'id', 'external_id', 'contact_id'], 'the product’s own id; without one the e-mail stands in'),
    col('email', ['email', 'email_address', 'e_mail'], 'required when there is no user id', 'email'),
    col('name', ['name', 'full_name']),
    col('firstName', ['first_name', 'given_name']),
    col('lastName', ['last_name', 'surname', 'family_name']),
    col('createdAt', ['created_at', 'signup_date', 'signed_up_at', 'joined_at'], 'a date; sets first seen', 'date'),
  ],
  orders: [
    col('orderId', ['order_id', 'id', 'order_number', 'invoice_no', 'invoice', 'invoice_number', 'invoice_id', 'order_no'], 'required; an invoice number starting with C is a cancellation'),
    col('userId', ['user_id', 'customer_id', 'customer', 'client_id'], 'required unless there is an e-mail'),
    col('email', ['email', 'customer_email'], '', 'email'),
    col('at', ['date', 'created_at', 'order_date', 'timestamp', 'ordered_at', 'invoice_date', 'purchase_date'], 'required', 'date'),
    col('total', ['total', 'amount', 'revenue', 'dollar_value', 'order_total', 'total_price', 'invoice_total'], 'default: sum of the lines', 'number'),
    col('currency', ['currency'], 'ISO 4217, default USD', 'currency'),
    col('productId', ['product_id', 'sku', 'lineitem_sku', 'stock_code', 'item_code', 'product_code'], 'default: the product name'),
    col('productName', ['product_name', 'lineitem_name', 'item_name', 'description', 'product_description', 'product_title']),
    col('category', ['category', 'product_category', 'product_type']),
    col('price', ['price', 'unit_price', 'lineitem_price'], '≥ 0, default 0', 'price'),
    col('quantity', ['quantity', 'qty', 'lineitem_quantity', 'units'], 'default 1; negative is a return', 'number'),
  ],
  events: [
    col('messageId', ['message_id', 'event_id', 'id'], 'default: a hash of the row'),
    col('type', ['type'], 'track, page or screen; default track'),
    col('userId', ['user_id', 'customer_id']),
    col('anonymousId', ['anonymous_id']),
    col('event', ['event', 'name', 'event_name', 'action'], 'required'),
    col('timestamp', ['timestamp', 'time', 'occurred_at', 'created_at', 'date'], 'required', 'date'),
    col('channel', ['channel']),
    col('direction', ['direction'], 'inbound, outbound or mutual'),
  ],
  feedback: [
    col('id', ['id', 'ticket_id', 'feedback_id', 'review_id', 'response_id', 'ticket_number', 'ticket'], 'default: a hash of the row'),
    col('userId', ['user_id', 'customer_id', 'requester_id', 'contact_id']),
    col('email', ['email', 'requester_email', 'customer_email', 'contact_email', 'requester', 'from_email'], '', 'email'),
    col('subject', ['subject', 'title', 'summary'], 'kept as the subject; the text when there is none'),
    col('text', ['text', 'body', 'comment', 'description', 'message', 'review', 'feedback', 'content'], 'required (or a subject)'),
    col('kind', ['kind', 'source', 'type'], 'ticket, review, survey, interview or visit_note'),
    col('rating', ['rating', 'score', 'stars', 'nps'], 'a number', 'number'),
    col('status', ['status'], 'default open'),
    col('at', ['created_at', 'date', 'timestamp', 'submitted_at', 'created_time', 'created', 'date_created', 'creation_date'], 'default: the time of the import', 'date'),
  ],
} as const satisfies Record<ImportKind, readonly ColumnSpec[]>;

type FieldOf<K extends ImportKind> = (typeof IMPORT_COLUMNS)[K][number]['field'];

/** `User ID`, `user_id`, `userId` and `user-id` all become `userid`. */
export function columnKey(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]+/g, '');
}

/** How a column's slash dates (`1/2/2011`) are read: day first or month first. */
export type DateOrder = 'dmy' | 'mdy';
export const DATE_ORDERS: readonly DateOrder[] = ['dmy', 'mdy'];

/** Which cell holds which field, and which cells are extra (traits or properties). */
export interface ColumnMap<K extends ImportKind = ImportKind> {
  readonly kind: K;
  /** The column names as the file spells them, for the report. */
  readonly names: readonly string[];
  readonly fields: Readonly<Partial<Record<FieldOf<K>, number>>>;
  /** Indexes of the columns no field claimed. */
  readonly extras: readonly number[];
  /** How the slash dates of a column (by index) are read, once decided (see csv.ts). */
  readonly dateOrders: Record<number, DateOrder>;
}

/** The fields of a kind that hold dates. */
export const DATE_FIELDS: Readonly<Record<ImportKind, readonly string[]>> = { customers: ['createdAt'], orders: ['at'], events: ['timestamp'], feedback: ['at'] };

/**
 * The field a `--map` name stands for: its own name (`orderId`) or one of its column names
 * (`order_id`, `invoice_no`), compared as columns are; undefined when the kind has no such field.
 */
export function fieldNamed(kind: ImportKind, name: string): string | undefined {
  const key = columnKey(name);
  const specs = IMPORT_COLUMNS[kind] as readonly ColumnSpec[];
  const spec = specs.find((c) => columnKey(c.field) === key) ?? specs.find((c) => c.aliases.some((a) => columnKey(a) === key));
  return spec?.field;
}

/** The names `--map` accepts for a kind, for messages. */
export function fieldNames(kind: ImportKind): string[] {
  return (IMPORT_COLUMNS[kind] as readonly ColumnSpec[]).map((c) => c.aliases[0]!);
}

export interface MapOptions {
  /**
   * Field → column name, from `--map field=column`: these win over the aliases. An empty
   * column name (`--map email=`) says the file has no such column: the field stays unmapped
   * and the column its aliases would have claimed is kept as an extra one.
   */
  map?: Readonly<Record<string, string>> | undefined;
  /** `--date-order`: how every date column reads slash dates. */
  dateOrder?: DateOrder | undefined;
}

/** Maps a header row to fields; see {@link IMPORT_COLUMNS}. */
export function mapColumns<K extends ImportKind>(kind: K, header: readonly string[], options: MapOptions = {}): ColumnMap<K> {
  const names = header.map((h) => h.trim());
  const keys = names.map(columnKey);
  const taken = new Set<number>();
  const fields: Partial<Record<string, number>> = {};
  const absent = new Set<string>();
  for (const [name, column] of Object.entries(options.map ?? {})) {
    const field = fieldNamed(kind, name);
    if (field === undefined) throw invalid('--map', `${kind} have no field "${name}"; the fields are ${fieldNames(kind).join(', ')}`);
    if (column.trim() === '') {
      absent.add(field);
      continue;
    }
    let i = names.indexOf(column.trim());
    if (i < 0) i = keys.indexOf(columnKey(column));
    if (i < 0) throw invalid('--map', `${name}=${column}: the file has no column "${column}" (its columns: ${names.filter((n) => n !== '').join(', ').slice(0, 300)})`);
    fields[field] = i;
    taken.add(i);
  }
  for (const spec of IMPORT_COLUMNS[kind] as readonly ColumnSpec[]) {
    if (fields[spec.field] !== undefined || absent.has(spec.field)) continue;
    for (const alias of spec.aliases) {
      const key = columnKey(alias);
      const i = keys.findIndex((k, j) => k === key && !taken.has(j));
      if (i >= 0) {
        fields[spec.field] = i;
        taken.add(i);
        break;
      }
    }
  }
  const extras = names.map((_, i) => i).filter((i) => !taken.has(i) && names[i] !== '');
  const dateOrders: Record<number, DateOrder> = {};
  if (options.dateOrder) {
    for (const f of DATE_FIELDS[kind]) {
      const i = fields[f];
      if (i !== undefined) dateOrders[i] = options.dateOrder;
    }
  }
  return { kind, names, fields: fields as Partial<Record<FieldOf<K>, number>>, extras, dateOrders };
}

/**
 * The fields a kind cannot do without: each entry is satisfied when one of its fields has a
 * column (an order needs an id, a customer (id or e-mail) and a date). Without one, every row
 * would be rejected, so the import API refuses the mapping instead.
 */
export const REQUIRED_FIELDS: Readonly<Record<ImportKind, readonly (readonly string[])[]>> = {
  customers: [['userId', 'email']],
  orders: [['orderId'], ['userId', 'email'], ['at']],
  events: [['userId', 'anonymousId'], ['event'], ['timestamp']],
  feedback: [['text', 'subject']],
};

/** The required fields (see {@link REQUIRED_FIELDS}) that a column map leaves without a column. */
export function missingFields(map: ColumnMap): (readonly string[])[] {
  const fields = map.fields as Readonly<Record<string, number | undefined>>;
  return REQUIRED_FIELDS[map.kind].filter((any) => any.every((f) => fields[f] === undefined));
}

/** What the row converters need besides the row. */
export interface RowContext {
  readonly source: string;
  /** The time of the import: the default date of records that have none. */
  readonly now: number;
  readonly feedbackKind: FeedbackKind;
  /** Whether --kind-default was given (else a ticket export's rows are tickets). */
  readonly feedbackKindAsked?: boolean | undefined;
  /** The times a row may carry (core/limits.ts); default: the window around `now`. */
  readonly window?: TimeWindow | undefined;
}

/** The times the rows of an import may carry. */
export function windowOf(ctx: RowContext): TimeWindow {
  return ctx.window ?? timeWindow(ctx.now);
}

/** One row's records, and the identities that only an e-mail named (resolved before writing). */
export interface Converted {
  records: IngestRecord[];
  byEmail?: Who | undefined;
}

// ---------------------------------------------------------------------------------------
// Cells. CSV cells are strings; NDJSON values may be any JSON value.

type Row = readonly unknown[];

class Cells<K extends ImportKind> {
  constructor(
    readonly map: ColumnMap<K>,
    readonly values: Row,
    readonly row: number,
    readonly window?: TimeWindow,
  ) {}

  name(field: FieldOf<K>): string {
    const i = this.map.fields[field];
    return i === undefined ? String(field) : (this.map.names[i] ?? String(field));
  }

  raw(field: FieldOf<K>): unknown {
    const i = this.map.fields[field];
    return i === undefined ? undefined : this.values[i];
  }

  has(field: FieldOf<K>): boolean {
    return this.map.fields[field] !== undefined;
  }

  /** A non-empty trimmed string, or undefined. */
  text(field: FieldOf<K>): string | undefined {
    const v = this.raw(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') {
      const t = v.trim();
      if (t.length === 0) return undefined;
      if (t.includes('\u0000')) throw invalid(this.name(field), 'contains a NUL character', this.row);
      return t;
    }
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw invalid(this.name(field), `expected text, got ${JSON.stringify(v).slice(0, 40)}`, this.row);
  }

  /** A number within ±`max` (default: the largest amount, core/limits.ts) and at least `min`. */
  number(field: FieldOf<K>, opts: { min?: number; max?: number } = {}): number | undefined {
    const v = this.raw(field);
    const n = parseNumber(v);
    if (n === undefined) return undefined;
    if (Number.isNaN(n)) throw invalid(this.name(field), `expected a number, got ${String(JSON.stringify(v)).slice(0, 40)}`, this.row);
    if (opts.min !== undefined && n < opts.min) throw invalid(this.name(field), `must be at least ${opts.min}, got ${n}`, this.row);
    const problem = amountProblem(n, opts.max);
    if (problem) throw invalid(this.name(field), problem, this.row);
    return n;
  }

  date(field: FieldOf<K>): number | undefined {
    const v = this.raw(field);
    const i = this.map.fields[field];
    const t = parseDate(v, i === undefined ? undefined : this.map.dateOrders[i]);
    if (t === undefined) return undefined;
    if (Number.isNaN(t)) {
      if (typeof v === 'string' && slashDate(v.trim()) !== undefined) {
        throw invalid(this.name(field), `${JSON.stringify(v).slice(0, 40)} could be day-first or month-first; pass --date-order dmy or --date-order mdy`, this.row);
      }
      throw invalid(this.name(field), `expected a date (ISO 8601, e.g. 2024-05-01T10:00:00Z), got ${JSON.stringify(v).slice(0, 40)}`, this.row);
    }
    const problem = this.window ? timeProblem(t, this.window) : undefined;
    if (problem) throw invalid(this.name(field), problem, this.row);
    return t;
  }

  /** The columns no field claimed, as traits or properties (empty cells left out). */
  extras(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const i of this.map.extras) {
      const v = this.values[i];
      if (v === undefined || v === null) continue;
      if (typeof v === 'string') {
        const t = v.trim();
        if (t.length > 0) out[this.map.names[i]!] = t;
      } else {
        out[this.map.names[i]!] = v;
      }
    }
    return out;
  }
}

/** One row's mapped cells as the converters read them, for the preview: a value or an error per field. */
export interface ReadCells {
  values: Record<string, string | number | null>;
  errors: { field: string; column: string; message: string }[];
}

/**
 * Reads every mapped field of a row as its {@link FieldRead} says (dates as ISO 8601 in UTC),
 * with the same checks the converters make; a cell that fails gives an error naming the field
 * and its column instead of a value.
 */
export function readCells(map: ColumnMap, values: Row, row: number): ReadCells {
  const c = new Cells(map, values, row);
  const out: ReadCells = { values: {}, errors: [] };
  for (const spec of IMPORT_COLUMNS[map.kind] as readonly ColumnSpec[]) {
    const field = spec.field;
    if (!c.has(field)) continue;
    try {
      let v: string | number | undefined;
      switch (spec.read) {
        case 'text':
          v = c.text(field);
          break;
        case 'number':
          v = c.number(field);
          break;
        case 'price':
          v = c.number(field, { min: 0 });
          break;
        case 'date': {
          const t = c.date(field);
          v = t === undefined ? undefined : new Date(t).toISOString();
          break;
        }
        case 'email': {
          const e = c.text(field);
          if (e !== undefined && !EMAIL.test(e)) throw invalid(c.name(field), `expected an e-mail address, got "${e.slice(0, 60)}"`, row);
          v = e?.toLowerCase();
          break;
        }
        case 'currency': {
          const cur = c.text(field)?.toUpperCase();
          if (cur !== undefined && !CURRENCY.test(cur)) throw invalid(c.name(field), `expected an ISO-4217 code, got "${cur.slice(0, 40)}"`, row);
          v = cur;
          break;
        }
      }
      out.values[spec.field] = v ?? null;
    } catch (e) {
      const issue = (e as { issues?: { message: string }[] }).issues?.[0];
      out.values[spec.field] = null;
      out.errors.push({ field: spec.field, column: c.name(field), message: issue?.message ?? (e as Error).message });
    }
  }
  return out;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const CURRENCY = /^[A-Z]{3}$/;

const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MONEY = /^([+-]?)[$€£¥]?\s?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/;

/** A number from a cell: undefined when empty, NaN when not a number. Accepts `$1,234.50`. */
export function parseNumber(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (typeof v !== 'string') return Number.NaN;
  const t = v.trim();
  if (t.length === 0) return undefined;
  if (PLAIN_NUMBER.test(t)) return Number(t);
  const m = MONEY.exec(t);
  if (m) return Number(`${m[1]}${m[2]!.replace(/,/g, '')}${m[4] ?? ''}`);
  return Number.NaN;
}

const NO_ZONE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const MIN_TIME = Date.UTC(1900, 0, 1);
const MAX_TIME = Date.UTC(2200, 0, 1);

/**
 * A time from a cell: undefined when empty, NaN when unreadable. ISO 8601 (a time without a
 * zone is UTC, so that the same file reads the same on every server), epoch seconds (10
 * digits) or milliseconds (13 digits; JSON numbers are milliseconds), or anything
 * `Date.parse` reads that has a four-digit year.
 */
export function parseDate(v: unknown, order?: DateOrder): number | undefined {
  if (v === undefined || v === null) return undefined;
  let t: number;
  if (typeof v === 'number') {
    t = Number.isFinite(v) ? Math.round(v) : Number.NaN;
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (s.length === 0) return undefined;
    const slash = slashDate(s);
    if (slash !== undefined) {
      // Without an order, only a date that decides itself (13/5, 5/13, or 5/5) is read.
      const o = order ?? (slash.a > 12 ? 'dmy' : slash.b > 12 || slash.a === slash.b ? 'mdy' : undefined);
      if (o === undefined) return Number.NaN;
      const [day, month] = o === 'dmy' ? [slash.a, slash.b] : [slash.b, slash.a];
      const leap = slash.year % 4 === 0 && (slash.year % 100 !== 0 || slash.year % 400 === 0);
      const ok = month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!) && slash.hour <= 23 && slash.minute <= 59 && slash.second <= 59;
      t = ok ? Date.UTC(slash.year, month - 1, day, slash.hour, slash.minute, slash.second) : Number.NaN;
    } else if (/^\d+$/.test(s)) {
      t = s.length === 10 || s.length === 9 ? Number(s) * 1000 : s.length === 13 || s.length === 12 ? Number(s) : Number.NaN;
    } else if (!/\d{4}/.test(s)) {
      t = Number.NaN;
    } else {
      t = Date.parse(NO_ZONE.test(s) ? `${s.replace(' ', 'T')}Z` : s);
    }
  } else {
    t = Number.NaN;
  }
  return t >= MIN_TIME && t <= MAX_TIME ? t : Number.NaN;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const SLASH_DATE = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?$/i;

/** The parts of a date written `a/b/year [h:mm[:ss] [am|pm]]` (also with dots or hyphens); the time is UTC. */
export function slashDate(s: string): { a: number; b: number; year: number; hour: number; minute: number; second: number } | undefined {
  // Only `d/…` or `dd/…` can be one: ISO dates and numbers skip the expression.
  const c1 = s.charCodeAt(1);
  const c2 = s.charCodeAt(2);
  if (!(c1 === 47 || c1 === 46 || c1 === 45 || c2 === 47 || c2 === 46 || c2 === 45)) return undefined;
  const m = SLASH_DATE.exec(s);
  if (!m) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 70 ? 2000 : 1900;
  let hour = m[4] === undefined ? 0 : Number(m[4]);
  const pm = m[7]?.toLowerCase().startsWith('p');
  if (m[7] !== undefined) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  return { a: Number(m[1]), b: Number(m[2]), year, hour, minute: m[5] === undefined ? 0 : Number(m[5]), second: m[6] === undefined ? 0 : Number(m[6]) };
}

/** What one value says about its column's order: dmy (13/5/2011), mdy (5/13/2011), or nothing. */
export function dateOrderOf(s: string): DateOrder | 'slash' | undefined {
  const d = slashDate(s.trim());
  if (!d) return undefined;
  return d.a > 12 && d.b <= 12 ? 'dmy' : d.b > 12 && d.a <= 12 ? 'mdy' : 'slash';
}

function emailOf(s: string | undefined, cells: Cells<'customers' | 'orders' | 'feedback'>, field: 'email'): string | undefined {
  if (s === undefined) return undefined;
  if (!EMAIL.test(s)) throw invalid(cells.name(field), `expected an e-mail address, got "${s.slice(0, 60)}"`, cells.row);
  return s.toLowerCase();
}

// ---------------------------------------------------------------------------------------
// Row converters. Each validates a whole row into records or throws a RapportError naming
// the column and the row: a row enters a batch whole or not at all.

/** customers: one identify per row; every extra column is a trait. */
export function customerRow(map: ColumnMap<'customers'>, values: Row, row: number, ctx: RowContext): Converted {
  const c = new Cells(map, values, row, windowOf(ctx));
  const userId = c.text('userId');
  const email = emailOf(c.text('email'), c, 'email');
  if (userId === undefined && email === undefined) {
    throw invalid(c.has('userId') ? c.name('userId') : 'user_id', 'a customer needs a user id (user_id, customer_id, id, external_id) or an email', row);
  }
  const createdAt = c.date('createdAt');
  const traits: Record<string, unknown> = c.extras();
  if (email !== undefined) traits['email'] = email;
  const name = c.text('name');
  if (name !== undefined) traits['name'] = name;
  const first = c.text('firstName');
  if (first !== undefined) traits['firstName'] = first;
  const last = c.text('lastName');
  if (last !== undefined) traits['lastName'] = last;
  if (createdAt !== undefined) traits['createdAt'] = new Date(createdAt).toISOString();
  const who: Who = { userId: userId ?? email };
  return { records: [{ kind: 'identify', who, traits, at: createdAt ?? ctx.now }], byEmail: userId === undefined ? who : undefined };
}

/** feedback: one feedback record per row. */
export function feedbackRow(map: ColumnMap<'feedback'>, values: Row, row: number, ctx: RowContext): Converted {
  const c = new Cells(map, values, row, windowOf(ctx));
  const userId = c.text('userId');
  const email = emailOf(c.text('email'), c, 'email');
  const subject = c.text('subject');
  const text = c.text('text') ?? subject;
  if (text === undefined) throw invalid(c.has('text') ? c.name('text') : 'text', 'feedback needs a text (text, body, comment, description, message…) or a subject', row);
  const properties = c.extras();
  if (subject !== undefined) properties['subject'] = subject;
  const kindCell = c.text('kind');
  // A help-desk export (a ticket id column) holds tickets unless --kind-default says otherwise.
  let feedbackKind = ctx.feedbackKindAsked || !TICKET_ID.test(c.name('id')) ? ctx.feedbackKind : 'ticket';
  if (kindCell !== undefined) {
    const k = kindCell.toLowerCase().replace(/[\s-]+/g, '_');
    if ((FEEDBACK_KINDS as readonly string[]).includes(k)) feedbackKind = k as FeedbackKind;
    else properties[c.name('kind')] = kindCell;
  }
  const rating = c.number('rating') ?? null;
  const status = c.text('status') ?? 'open';
  const dateCell = c.text('at');
  const at = c.date('at') ?? ctx.now;
  // Without an id, the row's own content names it: the same row imported again is found again.
  const sourceId = c.text('id') ?? contentId(['feedback', userId ?? email ?? null, text, dateCell ?? null, kindCell ?? null]);
  const who: Who | null = userId !== undefined ? { userId } : email !== undefined ? { userId: email } : null;
  return {
    records: [{ kind: 'feedback', who, feedbackKind, text, rating, status, at, properties, source: ctx.source, sourceId }],
    byEmail: userId === undefined && who !== null ? who : undefined,
  };
}

const TICKET_ID = /^ticket[\s_.-]*(id|number|#)?$/i;

const EVENT_TYPES = ['track', 'page', 'screen'] as const;

/** events (CSV): one track, page or screen per row, validated as the tracking API does. */
export function eventRow(map: ColumnMap<'events'>, values: Row, row: number, ctx: RowContext): Converted {
  const c = new Cells(map, values, row, windowOf(ctx));
  const typeCell = c.text('type')?.toLowerCase() ?? 'track';
  if (!(EVENT_TYPES as readonly string[]).includes(typeCell)) {
    throw invalid(c.name('type'), `expected track, page or screen, got "${typeCell.slice(0, 40)}"`, row);
  }
  const type = typeCell as (typeof EVENT_TYPES)[number];
  const userId = c.text('userId');
  const anonymousId = c.text('anonymousId');
  if (userId === undefined && anonymousId === undefined) {
    throw invalid(c.has('userId') ? c.name('userId') : 'user_id', 'an event needs a user_id or an anonymous_id', row);
  }
  const event = c.text('event');
  if (event === undefined && type === 'track') throw invalid(c.has('event') ? c.name('event') : 'event', 'an event needs a name (event, name)', row);
  const at = c.date('timestamp');
  if (at === undefined) throw invalid(c.has('timestamp') ? c.name('timestamp') : 'timestamp', 'an event needs a time (timestamp, time, occurred_at)', row);
  const properties = c.extras();
  const channel = c.text('channel');
  if (channel !== undefined) properties['channel'] = channel;
  const direction = c.text('direction')?.toLowerCase();
  if (direction !== undefined) {
    if (!(DIRECTIONS as readonly string[]).includes(direction)) {
      throw invalid(c.name('direction'), `expected inbound, outbound or mutual, got "${direction.slice(0, 40)}"`, row);
    }
    properties['direction'] = direction;
  }
  const messageId = c.text('messageId') ?? contentId(['csv-event', type, userId ?? null, anonymousId ?? null, event ?? null, at, properties]);
  const message = type === 'track' ? { userId, anonymousId, event, timestamp: at, messageId, properties } : { userId, anonymousId, name: event, timestamp: at, messageId, properties };
  return { records: normalizeMessage(type, message, { source: ctx.source, receivedAt: ctx.now, window: windowOf(ctx), origin: { prefix: '', row } }) };
}

/** One row of an orders file: the order-level cells it carries and at most one line. */
export interface OrderRow {
  row: number;
  orderId: string;
  userId: string | undefined;
  email: string | undefined;
  at: number | undefined;
  total: number | undefined;
  currency: string | undefined;
  line: OrderLine | undefined;
  properties: Record<string, unknown>;
  /** The file's names of the customer and date columns, for the report. */
  columns: { user: string; date: string; total: string };
}

/** Validates one orders row; {@link OrderGroup} assembles consecutive rows into an order. */
export function orderRow(map: ColumnMap<'orders'>, values: Row, row: number, window?: TimeWindow): OrderRow {
  const c = new Cells(map, values, row, window);
  const orderId = c.text('orderId');
  if (orderId === undefined) throw invalid(c.has('orderId') ? c.name('orderId') : 'order_id', 'an order row needs an order id (order_id, id, order_number)', row);
  const userId = c.text('userId');
  const email = emailOf(c.text('email'), c, 'email');
  const at = c.date('at');
  const total = c.number('total');
  const currency = c.text('currency')?.toUpperCase();
  if (currency !== undefined && !CURRENCY.test(currency)) {
    throw invalid(c.name('currency'), `expected an ISO-4217 code, got "${currency.slice(0, 40)}"`, row);
  }
  const productName = c.text('productName') ?? null;
  const productId = c.text('productId') ?? productName;
  const price = c.number('price', { min: 0 });
  const quantity = c.number('quantity', { max: MAX_QUANTITY });
  let line: OrderLine | undefined;
  if (productId !== null) {
    line = { productId, name: productName, category: c.text('category') ?? null, price: price ?? 0, quantity: quantity ?? 1 };
  } else if (price !== undefined || quantity !== undefined) {
    throw invalid(c.has('productId') ? c.name('productId') : 'product_id', 'a line with a price or quantity needs a product id or name', row);
  }
  const columns = { user: c.has('userId') ? c.name('userId') : c.has('email') ? c.name('email') : 'user_id', date: c.has('at') ? c.name('at') : 'date', total: c.has('total') ? c.name('total') : 'total' };
  return { row, orderId, userId, email, at, total, currency, line, properties: c.extras(), columns };
}

/** The rows of one order, gathered while they arrive. */
export class OrderGroup {
  private readonly first: OrderRow;
  private userId: string | undefined;
  private userRow = 0;
  private email: string | undefined;
  private at: number | undefined;
  private total: number | undefined;
  private currency: string | undefined;
  private readonly lines: OrderLine[] = [];

  constructor(first: OrderRow) {
    this.first = first;
    this.add(first);
  }

  get orderId(): string {
    return this.first.orderId;
  }

  /** Adds a row of the same order; order-level cells come from the first row that has them. */
  add(r: OrderRow): void {
    if (r.userId !== undefined && this.userId !== undefined && r.userId !== this.userId) {
      throw invalid(r.columns.user, `order ${r.orderId} names two customers ("${this.userId}" on row ${this.userRow}, "${r.userId}" here)`, r.row);
    }
    if (this.userId === undefined && r.userId !== undefined) {
      this.userId = r.userId;
      this.userRow = r.row;
    }
    this.email ??= r.email;
    this.at ??= r.at;
    this.total ??= r.total;
    this.currency ??= r.currency;
    if (r.line) this.lines.push(r.line);
  }

  /** Who the order names: its user id, else its e-mail. */
  get customer(): string | undefined {
    return this.userId ?? this.email;
  }

  /** The products of its lines. */
  get productIds(): string[] {
    return this.lines.map((l) => l.productId);
  }

  /** Whether the rows are a refund as a whole: a cancellation invoice (`C536379`), only returned lines, or a negative total. */
  get isRefund(): boolean {
    return CANCELLATION.test(this.orderId) || (this.lines.length > 0 && this.lines.every((l) => l.quantity < 0)) || (this.lines.length === 0 && (this.total ?? 0) < 0);
  }

  /**
   * The order and its products, and its refund: a cancellation invoice or an invoice of only
   * negative quantities is a refund as a whole, the negative lines of any other invoice a
   * refund of that order. Refunds are `Order Refunded` interactions, never orders, so they
   * stay out of the purchases the value models count. `linkOf` names the order a whole
   * refund refunds, when it can be told. Throws when the order lacks a customer or a date.
   */
  finish(ctx: RowContext, linkOf?: (group: OrderGroup) => string | undefined): Converted {
    const row = this.first.row;
    if (this.userId === undefined && this.email === undefined) throw invalid(this.first.columns.user, `order ${this.orderId} needs a customer (user_id, customer_id or email)`, row);
    if (this.at === undefined) throw invalid(this.first.columns.date, `order ${this.orderId} needs a date (date, created_at, order_date)`, row);
    const who: Who = { userId: this.userId ?? this.email };
    const sum = (ls: readonly OrderLine[]): number => ls.reduce((s, l) => s + l.price * l.quantity, 0);
    const records: IngestRecord[] = [];
    const whole = this.isRefund;
    const returned = whole ? this.lines : this.lines.filter((l) => l.quantity < 0);
    if (!whole) {
      const bought = returned.length > 0 ? this.lines.filter((l) => l.quantity >= 0) : this.lines;
      const total = returned.length === 0 && this.total !== undefined ? this.total : sum(bought);
      if (total < 0) throw invalid(this.first.columns.total, `order ${this.orderId}: a total must be at least 0, got ${total}`, row);
      records.push({ kind: 'order', who, orderId: this.orderId, at: this.at, total, currency: this.currency ?? 'USD', lines: bought, properties: this.first.properties, source: ctx.source, sourceId: this.orderId });
    }
    for (const l of this.lines) records.push({ kind: 'product', productId: l.productId, name: l.name, category: l.category, price: l.price || null });
    if (returned.length > 0 || whole) {
      const lines = returned.map((l) => ({ ...l, quantity: Math.abs(l.quantity) }));
      const amount = whole && this.total !== undefined ? Math.abs(this.total) : sum(lines);
      const properties: Record<string, unknown> = {
        ...this.first.properties,
        refund_id: this.orderId,
        order_id: whole ? (linkOf?.(this) ?? null) : this.orderId,
        reason: CANCELLATION.test(this.orderId) ? 'cancellation' : 'return',
        total: amount,
        currency: this.currency ?? 'USD',
        products: lines.map((l) => ({ product_id: l.productId, name: l.name, category: l.category, price: l.price, quantity: l.quantity })),
      };
      records.push({
        kind: 'interaction',
        who,
        type: 'track',
        name: 'Order Refunded',
        channel: channelOf('track', properties, undefined, 'Order Refunded'),
        direction: 'inbound',
        at: this.at,
        properties,
        source: ctx.source,
        sourceId: whole ? this.orderId : `${this.orderId}:returns`,
      });
    }
    return { records, byEmail: this.userId === undefined ? who : undefined };
  }
}

/** A cancellation invoice's number: `C` and the number (`C536379`, as the UCI Online Retail export writes them). */
export const CANCELLATION = /^C(?=\d)/i;
