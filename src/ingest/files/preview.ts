import fs from 'node:fs';
import readline from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { z } from 'zod';
import { invalid, isRapportError } from '../../core/errors.js';
import { IMPORT_KINDS, type ImportKind } from '../records.js';
import {
  customerRow,
  DATE_FIELDS,
  DATE_ORDERS,
  dateOrderOf,
  eventRow,
  feedbackRow,
  IMPORT_COLUMNS,
  mapColumns,
  missingFields,
  OrderGroup,
  orderRow,
  readCells,
  REQUIRED_FIELDS,
  type ColumnMap,
  type ColumnSpec,
  type DateOrder,
  type RowContext,
} from './columns.js';
import { scanDateOrders, type DateColumnScan } from './csv.js';
import { checkImport, IMPORT_FORMATS, type ImportOptions, type ImportPlan } from './plan.js';
import { ioError, MAX_ROW_BYTES, READ_CHUNK } from './reading.js';

/**
 * What an import would do with a file, before anything is written: the header, the column
 * each field would be read from (the same `mapColumns` as the import, so the same alias rules
 * and `--map` semantics), the required fields without a column, the columns left to become
 * traits or properties, how the date column reads slash dates (the import's own first pass),
 * and the first rows as the import's converters read them, each with the errors that would
 * reject it. The import API shows it before the import runs.
 */

/** Rows a preview reads after the header. */
export const PREVIEW_ROWS = 20;

const Value = z.union([z.string(), z.number(), z.null()]);

export const PreviewField = z.object({
  field: z.string(),
  name: z.string().describe('the name users know the field by (its first accepted column name)'),
  column: z.string().nullable().describe('the column it is read from, or null: not in this file'),
  from: z.enum(['guess', 'map', 'none']).describe('where the column came from: the accepted column names, the mapping sent, or none'),
  required: z.boolean().describe('a column is needed for this field alone'),
  oneOf: z.array(z.string()).describe('the fields of which one column is needed, when this is one of several (a customer id or an e-mail)'),
  read: z.enum(['text', 'number', 'price', 'date', 'email', 'currency']),
  notes: z.string(),
  accepts: z.array(z.string()).describe('the column names recognised for it, compared without case, spaces, _ - .'),
});

export const PreviewDate = z.object({
  field: z.string(),
  column: z.string(),
  state: z.enum(['none', 'decided', 'undecidable', 'mixed', 'given']).describe('what the column says (a first pass over the file), or given when a date order was sent'),
  order: z.enum(DATE_ORDERS).nullable().describe('the order the rows are read with; null: dmy or mdy must be chosen'),
  found: z.enum(DATE_ORDERS).nullable().describe('the order the column itself says, when it says one'),
  message: z.string(),
});

export const PreviewRow = z.object({
  row: z.number().int().describe('1-based data row (CSV) or line (NDJSON), as the reject report numbers them'),
  values: z.record(z.string(), Value).describe('each mapped field as the import reads it (dates in ISO 8601, UTC)'),
  errors: z.array(z.object({ field: z.string(), column: z.string(), message: z.string() })).describe('what would reject the row'),
  note: z.string().nullable().describe('what the row becomes when that is not plain (a refund)'),
});

export const ImportPreview = z
  .object({
    kind: z.enum(IMPORT_KINDS),
    format: z.enum(IMPORT_FORMATS),
    header: z.array(z.string()),
    segmentMessages: z.boolean().describe('events in NDJSON are Segment messages, read as the tracking API reads them, without a column mapping'),
    fields: z.array(PreviewField),
    missing: z.array(z.object({ fields: z.array(z.string()), message: z.string() })).describe('required fields without a column: the import would be refused'),
    unused: z.array(z.string()).describe('columns no field reads: kept as traits or properties'),
    dates: z.array(PreviewDate),
    rows: z.array(PreviewRow),
  })
  .meta({ id: 'ImportPreview' });

export type ImportPreview = z.infer<typeof ImportPreview>;
type PreviewDate = z.infer<typeof PreviewDate>;
type PreviewRow = z.infer<typeof PreviewRow>;
type PreviewField = z.infer<typeof PreviewField>;

interface Sample {
  header: string[];
  /** Cells aligned with the header. */
  rows: { row: number; values: unknown[]; error?: string }[];
}

/** Reads the header and the first `n` data rows of a CSV file (rows numbered as the import numbers them). */
async function sampleCsv(file: string, n: number): Promise<Sample> {
  const parser = fs.createReadStream(file, { highWaterMark: READ_CHUNK }).pipe(
    parseCsv({ bom: true, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_ROW_BYTES, to: n + 1 }),
  );
  const sample: Sample = { header: [], rows: [] };
  let first = true;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (first) {
        sample.header = record.map((h) => h.trim());
        first = false;
        continue;
      }
      const error = record.length > sample.header.length ? `expected ${sample.header.length} columns as in the header, found ${record.length}` : undefined;
      sample.rows.push({ row: sample.rows.length + 1, values: record, ...(error ? { error } : {}) });
      if (sample.rows.length >= n) break;
    }
  } catch (e) {
    const err = ioError(file, e);
    if (isRapportError(err)) throw err;
    if (first) throw invalid('header', `the header row could not be read: ${(e as Error).message}`);
    // A row the parser could not read ends the sample there; the import reports it as rejected.
    sample.rows.push({ row: sample.rows.length + 1, values: [], error: (e as Error).message });
  } finally {
    parser.destroy();
  }
  if (first) throw invalid('header', 'the file is empty: expected a header row');
  return sample;
}

/** Reads the first `n` objects of an NDJSON file; the header is their keys in order of appearance. */
async function sampleNdjson(file: string, n: number): Promise<Sample> {
  const stream = fs.createReadStream(file, { highWaterMark: READ_CHUNK });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const keys = new Map<string, number>();
  const objects: { row: number; value: Record<string, unknown> | undefined; error?: string }[] = [];
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const t = line === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (t.trim().length === 0) continue;
      if (t.length > MAX_ROW_BYTES) {
        objects.push({ row: line, value: undefined, error: `longer than ${MAX_ROW_BYTES / 1024 / 1024} MB` });
      } else {
        try {
          const v: unknown = JSON.parse(t);
          if (line === 1 && Array.isArray(v)) throw invalid('format', 'the file holds a JSON array; ndjson means one JSON object per line');
          if (typeof v !== 'object' || v === null || Array.isArray(v)) objects.push({ row: line, value: undefined, error: 'expected a JSON object' });
          else {
            for (const k of Object.keys(v)) if (!keys.has(k)) keys.set(k, keys.size);
            objects.push({ row: line, value: v as Record<string, unknown> });
          }
        } catch (e) {
          if (isRapportError(e)) throw e;
          objects.push({ row: line, value: undefined, error: `not valid JSON: ${(e as Error).message}` });
        }
      }
      if (objects.length >= n) break;
    }
  } catch (e) {
    throw ioError(file, e);
  } finally {
    lines.close();
    stream.destroy();
  }
  const header = [...keys.keys()];
  return { header, rows: objects.map((o) => ({ row: o.row, values: o.value ? header.map((k) => o.value![k]) : [], ...(o.error ? { error: o.error } : {}) })) };
}

const specsOf = (kind: ImportKind): readonly ColumnSpec[] => IMPORT_COLUMNS[kind];
const nameOf = (kind: ImportKind, field: string): string => specsOf(kind).find((s) => s.field === field)?.aliases[0] ?? field;

/** "a customer id (user_id) or an e-mail (email)", from a required entry's fields. */
function requiredMessage(kind: ImportKind, fields: readonly string[]): string {
  const names = fields.map((f) => nameOf(kind, f));
  return names.length === 1 ? `${kind} need a column for ${names[0]}` : `${kind} need a column for ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** How each date field's column reads slash dates: given, found by the first pass (CSV), or seen in the sample (NDJSON). */
async function dateColumns(plan: ImportPlan, guessed: ColumnMap, sample: Sample): Promise<PreviewDate[]> {
  const scans = plan.format === 'csv' ? await scanDateOrders(plan, guessed) : [];
  const out: PreviewDate[] = [];
  for (const field of DATE_FIELDS[plan.kind]) {
    const i = (guessed.fields as Record<string, number | undefined>)[field];
    if (i === undefined) continue;
    const column = guessed.names[i]!;
    let scan: DateColumnScan | undefined = scans.find((s) => s.column === i);
    if (plan.format === 'ndjson') {
      // NDJSON dates are read one by one: only the sample can tell whether slash dates need an order.
      const seen = sample.rows.map((r) => r.values[i]).filter((v): v is string => typeof v === 'string').map((v) => ({ v, o: dateOrderOf(v) }));
      const d = seen.find((s) => s.o === 'dmy' || s.o === 'mdy');
      const slash = seen.find((s) => s.o !== undefined);
      scan = slash === undefined ? { column: i, state: 'none' } : d ? { column: i, state: 'decided', order: d.o as DateOrder, value: d.v, row: 0 } : { column: i, state: 'undecidable', example: slash.v };
    }
    scan ??= { column: i, state: 'none' };
    const found = scan.state === 'decided' ? scan.order : null;
    const words = (o: DateOrder): string => (o === 'dmy' ? 'day first (day/month/year)' : 'month first (month/day/year)');
    let message: string;
    if (plan.dateOrder) {
      message = `read ${words(plan.dateOrder)}, as chosen${found && found !== plan.dateOrder ? `; the column itself reads ${words(found)} (${scan.state === 'decided' ? scan.value : ''})` : ''}`;
    } else if (scan.state === 'decided') {
      message = `read ${words(scan.order)}: ${scan.value}${scan.row > 0 ? ` (row ${scan.row})` : ''} has its day, above 12, ${scan.order === 'dmy' ? 'first' : 'second'}`;
    } else if (scan.state === 'undecidable') {
      message = `undecidable: dates such as ${scan.example} could be day-first or month-first and no date in the column has a day above 12; choose dmy or mdy`;
    } else if (scan.state === 'mixed') {
      message = `the column has day-first dates (${scan.dmy.value}, row ${scan.dmy.row}) and month-first dates (${scan.mdy.value}, row ${scan.mdy.row}); choose dmy or mdy to read every date one way`;
    } else {
      message = 'no slash dates: read as ISO 8601 or epoch times';
    }
    out.push({ field, column, state: plan.dateOrder ? 'given' : scan.state, order: plan.dateOrder ?? found, found, message });
  }
  return out;
}

/** The converters speak to the CLI (`pass --date-order dmy`); the preview's reader chooses with `dateOrder`. */
const dateOrderWords = (message: string): string => message.replace('pass --date-order dmy or --date-order mdy', 'choose the date order (dmy or mdy)');

/** The first rows as the import reads them: each mapped cell, and every error that would reject the row. */
function readRows(plan: ImportPlan, map: ColumnMap, sample: Sample, ctx: RowContext): PreviewRow[] {
  const fieldOfColumn = (column: string): string => {
    const i = map.names.indexOf(column);
    const hit = Object.entries(map.fields as Record<string, number | undefined>).find(([, j]) => j === i);
    return hit?.[0] ?? column;
  };
  const out: PreviewRow[] = [];
  const addError = (r: PreviewRow, e: unknown): void => {
    if (!isRapportError(e) || e.code !== 'invalid_input') throw e;
    const issue = e.issues[0];
    const column = issue?.field ?? '(row)';
    const message = dateOrderWords(issue?.message ?? e.message);
    if (r.errors.some((x) => x.column === column && x.message === message)) return;
    r.errors.push({ field: fieldOfColumn(column), column, message });
  };
  let group: { order: OrderGroup; rows: PreviewRow[] } | undefined;
  const finishGroup = (): void => {
    if (!group) return;
    try {
      group.order.finish(ctx);
      if (group.order.isRefund) for (const r of group.rows) r.note = 'refund: stored as an Order Refunded event, not a purchase';
    } catch (e) {
      addError(group.rows[0]!, e);
    }
    group = undefined;
  };
  for (const s of sample.rows) {
    const r: PreviewRow = { row: s.row, values: {}, errors: [], note: null };
    out.push(r);
    if (s.error !== undefined) {
      r.errors.push({ field: '(row)', column: '(row)', message: s.error });
      continue;
    }
    const cells = readCells(map, s.values, s.row);
    r.values = cells.values;
    r.errors.push(...cells.errors.map((x) => ({ ...x, message: dateOrderWords(x.message) })));
    try {
      if (plan.kind === 'customers') customerRow(map as ColumnMap<'customers'>, s.values, s.row, ctx);
      else if (plan.kind === 'feedback') feedbackRow(map as ColumnMap<'feedback'>, s.values, s.row, ctx);
      else if (plan.kind === 'events') eventRow(map as ColumnMap<'events'>, s.values, s.row, ctx);
      else {
        const parsed = orderRow(map as ColumnMap<'orders'>, s.values, s.row);
        if (group && group.order.orderId !== parsed.orderId) finishGroup();
        if (group) {
          group.order.add(parsed);
          group.rows.push(r);
        } else group = { order: new OrderGroup(parsed), rows: [r] };
      }
    } catch (e) {
      addError(r, e);
    }
  }
  finishGroup();
  return out;
}

/**
 * Previews an import of `options.file` (see the module comment). Bad options (kind, format,
 * date order) and a mapping that names an unknown field or a column the file lacks are
 * `invalid_input`, as for the import itself. Writes nothing.
 *
 * @example const p = await previewImport({ file: 'invoices.csv', kind: 'orders' }); p.fields.find((f) => f.field === 'orderId')?.column // 'InvoiceNo'
 */
export async function previewImport(options: ImportOptions, rows = PREVIEW_ROWS): Promise<ImportPreview> {
  const plan = await checkImport(options);
  const sample = plan.format === 'csv' ? await sampleCsv(plan.file, rows) : await sampleNdjson(plan.file, rows);
  const segmentMessages = plan.format === 'ndjson' && plan.kind === 'events';
  if (segmentMessages) {
    return { kind: plan.kind, format: plan.format, header: sample.header, segmentMessages, fields: [], missing: [], unused: [], dates: [], rows: sample.rows.map((s) => ({ row: s.row, values: {}, errors: s.error ? [{ field: '(line)', column: '(line)', message: s.error }] : [], note: null })) };
  }
  const map = mapColumns(plan.kind, sample.header, { map: plan.map, dateOrder: plan.dateOrder });
  const guessed = plan.dateOrder ? mapColumns(plan.kind, sample.header, { map: plan.map }) : map;
  const dates = await dateColumns(plan, guessed, sample);
  for (const d of dates) {
    const i = sample.header.indexOf(d.column);
    if (d.order && i >= 0) map.dateOrders[i] = d.order;
  }
  const required = REQUIRED_FIELDS[plan.kind];
  const mapped = new Set(Object.keys(plan.map).map((k) => specsOf(plan.kind).find((s) => s.field === k || s.aliases.includes(k))?.field ?? k));
  const fields: PreviewField[] = specsOf(plan.kind).map((s) => {
    const i = (map.fields as Record<string, number | undefined>)[s.field];
    return {
      field: s.field,
      name: s.aliases[0]!,
      column: i === undefined ? null : map.names[i]!,
      from: i === undefined ? 'none' : mapped.has(s.field) ? 'map' : 'guess',
      required: required.some((r) => r.length === 1 && r[0] === s.field),
      oneOf: required.find((r) => r.length > 1 && r.includes(s.field))?.map((f) => nameOf(plan.kind, f)) ?? [],
      read: s.read,
      notes: s.notes,
      accepts: [...s.aliases],
    };
  });
  const ctx: RowContext = { source: plan.source, now: options.clock?.() ?? Date.now(), feedbackKind: plan.feedbackKind, feedbackKindAsked: plan.feedbackKindAsked };
  return {
    kind: plan.kind,
    format: plan.format,
    header: sample.header,
    segmentMessages,
    fields,
    missing: missingFields(map).map((f) => ({ fields: [...f], message: requiredMessage(plan.kind, f) })),
    unused: map.extras.map((i) => map.names[i]!),
    dates,
    rows: readRows(plan, map, sample, ctx),
  };
}

/**
 * The import API's check before it writes: everything {@link previewImport} would show as
 * blocking is refused, naming the field. A mapping naming an unknown field or a column the
 * file lacks, a required field without a column, a date column whose order is undecidable or
 * mixed and not chosen: each is `invalid_input` on `map.<field>` or `dateOrder`. Returns the
 * date order to import with (the one the column decided, when none was chosen), so that the
 * import does not look again.
 */
export async function checkMapping(options: ImportOptions): Promise<DateOrder | undefined> {
  const preview = await previewMapped(options);
  const missing = preview.missing[0];
  if (missing) throw invalid(`map.${missing.fields[0]}`, `${missing.message} (required); choose one of the file's columns: ${preview.header.join(', ').slice(0, 300)}`);
  for (const d of preview.dates) {
    if (d.order === null && (d.state === 'undecidable' || d.state === 'mixed')) throw invalid('dateOrder', `column ${d.column}: ${d.message}`);
  }
  const decided = preview.dates.find((d) => d.order !== null);
  return options.dateOrder === undefined && decided?.order ? decided.order : (options.dateOrder as DateOrder | undefined);
}

/**
 * {@link previewImport} for the API: a mapping error names the field it is about
 * (`map.orderId`, `map.colour`) rather than the CLI's `--map`.
 */
export async function previewMapped(options: ImportOptions): Promise<ImportPreview> {
  try {
    return await previewImport(options);
  } catch (e) {
    if (isRapportError(e) && e.issues[0]?.field === '--map') {
      const message = e.issues[0].message;
      // "orders have no field "colour"; …" or "orderId=Invoice Number: the file has no column …"
      const field = /^(?:[^"]*"([^"]+)";)|^([^=:]+)=/.exec(message);
      throw invalid(`map${field ? `.${field[1] ?? field[2]}` : ''}`, message);
    }
    throw e;
  }
}
