import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { z } from 'zod';
import { invalid } from '../../core/errors.js';
import { IMPORT_KINDS } from '../records.js';
import { DATE_ORDERS } from './columns.js';
import { IMPORT_FORMATS, type ImportFormat, type ImportSummary } from './plan.js';

/**
 * The import API's shapes and what it does around the import itself: the query that carries
 * an upload's options, the temporary directory an upload lives in (removed afterwards: nothing
 * uploaded is kept), and the answer of an import with its first rejected rows and its report.
 */

/** Rejected rows listed in an import's answer; the rest are counted and in the report. */
export const REJECTS_LISTED = 100;
/** The reject report is returned inline up to this size, cut at a row. */
export const REPORT_INLINE_BYTES = 5 * 1024 * 1024;
const MAX_MAP_ENTRIES = 64;

const asList = (v: unknown): unknown => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export const ImportQuery = z.object({
  kind: z.enum(IMPORT_KINDS).describe('customers, orders, events or feedback'),
  format: z.enum(IMPORT_FORMATS).optional().describe('csv or ndjson; by default from the file name, else from the content type'),
  filename: z.string().min(1).max(255).optional().describe("the uploaded file's name (its extension tells the format)"),
  map: z
    .preprocess(asList, z.array(z.string().min(2).max(600)).max(MAX_MAP_ENTRIES))
    .describe('repeatable field=column, as rapport import --map: the column that holds a field; field= when the file has none'),
  dateOrder: z.enum(DATE_ORDERS).optional().describe('how dates like 1/2/2011 are read: dmy or mdy; by default the date column decides'),
});
export type ImportQuery = z.infer<typeof ImportQuery>;

export const ImportResult = z
  .object({
    kind: z.enum(IMPORT_KINDS),
    format: z.enum(IMPORT_FORMATS),
    source: z.string(),
    rows: z.number().int().describe('data rows read'),
    stored: z.number().int().describe('rows read and not rejected: stored now, or already stored by an earlier import of the same records'),
    inserted: z.number().int().describe('records stored for the first time (an order of three lines is one record)'),
    updated: z.number().int().describe('records that changed something already stored'),
    duplicates: z.number().int().describe('records already stored under the same source id: skipped'),
    rejected: z.number().int().describe('rows rejected: nothing of them was stored'),
    seconds: z.number(),
    dateOrder: z.enum(DATE_ORDERS).nullable().describe('how slash dates were read'),
    rejects: z.array(z.object({ row: z.number().int(), field: z.string(), reason: z.string() })).describe(`the first ${REJECTS_LISTED} rejected rows`),
    rejectReport: z.string().nullable().describe("the reject report as CSV (row,field,reason), or null when no row was rejected; a cell a spreadsheet would run as a formula starts with '"),
    rejectReportComplete: z.boolean().describe(`false when the report was longer than ${REPORT_INLINE_BYTES / 1024 / 1024} MB and is cut at a row`),
  })
  .meta({ id: 'ImportResult' });
export type ImportResult = z.infer<typeof ImportResult>;

const CONTENT_FORMATS: Record<string, ImportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson', 'application/jsonl': 'ndjson' };
const EXTENSION_FORMATS: Record<string, ImportFormat> = { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.ldjson': 'ndjson', '.json': 'ndjson' };

/** The upload's format: asked, else from the file's name, else from its content type; otherwise a 400 naming `format`. */
export function uploadFormat(query: ImportQuery, contentType: string | undefined): ImportFormat {
  if (query.format) return query.format;
  const byName = query.filename ? EXTENSION_FORMATS[path.extname(query.filename).toLowerCase()] : undefined;
  if (byName) return byName;
  const byType = CONTENT_FORMATS[(contentType ?? '').split(';')[0]!.trim().toLowerCase()];
  if (byType) return byType;
  throw invalid('format', 'cannot tell whether the file is CSV or NDJSON: pass format=csv or format=ndjson, or a filename ending in .csv or .ndjson');
}

/**
 * Runs `fn` with a fresh temporary directory for one upload and removes it afterwards,
 * whatever happens: an uploaded file is never kept.
 */
export async function withUploadDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'rapport-upload-'));
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** An import's answer: its counts, its first rejected rows, and its report inline (read before the directory goes). */
export async function importResult(summary: ImportSummary, dateOrder: string | undefined): Promise<ImportResult> {
  let report: string | null = null;
  let complete = true;
  if (summary.report) {
    const handle = await fsp.open(summary.report, 'r');
    try {
      const size = (await handle.stat()).size;
      const buf = Buffer.alloc(Math.min(size, REPORT_INLINE_BYTES));
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      let text = buf.subarray(0, bytesRead).toString('utf8');
      if (size > REPORT_INLINE_BYTES) {
        complete = false;
        text = text.slice(0, text.lastIndexOf('\n') + 1);
      }
      report = text;
    } finally {
      await handle.close();
    }
  }
  const records = report ? parseCsvSync(report, { from_line: 2, relax_column_count: true }) : [];
  return {
    kind: summary.kind,
    format: summary.format,
    source: summary.source,
    rows: summary.rows,
    stored: summary.rows - summary.rejected,
    inserted: summary.inserted,
    updated: summary.updated,
    duplicates: summary.duplicates,
    rejected: summary.rejected,
    seconds: Math.round(summary.seconds * 1000) / 1000,
    dateOrder: dateOrder === 'dmy' || dateOrder === 'mdy' ? dateOrder : null,
    rejects: records.slice(0, REJECTS_LISTED).map((r) => ({ row: Number(r[0]), field: r[1] ?? '', reason: r[2] ?? '' })),
    rejectReport: report === null ? null : spreadsheetCsv([['row', 'field', 'reason'], ...records]),
    rejectReportComplete: complete,
  };
}

/**
 * Rows as CSV (RFC 4180) that a spreadsheet opens as text: the reject report quotes column
 * names and cells of the uploaded file, and one starting with = + - @ would run as a formula,
 * so such a cell is prefixed with ' (as the web app's own CSV downloads do).
 */
function spreadsheetCsv(rows: readonly (readonly string[])[]): string {
  const cell = (v: string): string => {
    const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
