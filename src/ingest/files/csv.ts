import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv, type CsvError, type Info } from 'csv-parse';
import { invalid } from '../../core/errors.js';
import { NUL_PROBLEM } from '../../core/limits.js';
import { DATE_FIELDS, dateOrderOf, mapColumns, type ColumnMap, type DateOrder, type RowContext } from './columns.js';
import type { ImportPlan } from './plan.js';
import { ioError, MAX_ROW_BYTES, READ_CHUNK } from './reading.js';
import { rowHandler } from './rows.js';
import type { Sink } from './sink.js';

/** CSV: csv-parse with Buffer cells, so that invalid UTF-8 is caught per cell and reported. */

interface CsvRecord {
  record: Buffer[];
  info: Info;
}

/** Why a cell cannot be stored as text (not UTF-8, a NUL byte: core/limits.ts), or undefined. */
function cellProblem(cell: Buffer): string | undefined {
  if (!isUtf8(cell)) return 'not valid UTF-8 (the file must be UTF-8 encoded)';
  if (cell.includes(0)) return NUL_PROBLEM;
  return undefined;
}

/** Reads a CSV file (a header row first) into the sink, row by row; unreadable rows go to the report. */
export async function readCsv(plan: ImportPlan, ctx: RowContext, sink: Sink): Promise<void> {
  const parser = parseCsv({
    encoding: null,
    bom: true,
    info: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_ROW_BYTES,
  });
  // Records the parser skipped, in file order, with the number of records parsed before each.
  const skipped: { before: number; error: CsvError }[] = [];
  let skips = 0;
  parser.on('skip', (error: CsvError) => {
    skipped.push({ before: Number(error['records'] ?? 0), error });
  });
  const handler = rowHandler(plan.kind, ctx, sink);
  let map: ColumnMap | undefined;
  let refused: unknown;
  /** Reports the skipped records that came before parsed record number `upTo`. */
  const drainSkips = async (upTo: number): Promise<void> => {
    while (skipped.length > 0 && skipped[0]!.before < upTo) {
      const { before, error } = skipped.shift()!;
      if (before === 0) throw invalid('header', `the header row could not be read: ${error.message}`);
      skips++;
      const row = before - 1 + skips;
      sink.rows++;
      const message =
        error.code === 'CSV_QUOTE_NOT_CLOSED' ? `a quote opened in this row is never closed, so the rest of the file could not be read (${error.message})` : error.message;
      await sink.reject(row, '(row)', message);
      await handler.rejected(row, undefined, undefined);
    }
  };
  const input = fs.createReadStream(plan.file, { highWaterMark: READ_CHUNK });
  try {
    await pipeline(input, parser, async (source: AsyncIterable<CsvRecord>) => {
      for await (const { record, info } of source) {
        sink.bytes = info.bytes;
        if (skipped.length > 0) await drainSkips(info.records);
        if (!map) {
          const header = record.map((cell, i) => {
            if (!isUtf8(cell)) throw invalid('header', `column ${i + 1} is not valid UTF-8 (the file must be UTF-8 encoded)`);
            return cell.toString('utf8');
          });
          try {
            map = mapColumns(plan.kind, header, { map: plan.map, dateOrder: plan.dateOrder });
            await decideDateOrders(plan, map);
          } catch (e) {
            // Kept, so that the stream's own abort does not stand in for it.
            refused = e;
            throw e;
          }
          continue;
        }
        const row = info.records - 1 + skips;
        sink.rows++;
        const values: (string | undefined)[] = new Array<string | undefined>(record.length);
        let bad = -1;
        let why = '';
        for (let i = 0; i < record.length; i++) {
          const cell = record[i]!;
          const problem = cellProblem(cell);
          if (problem === undefined) values[i] = cell.toString('utf8');
          else if (bad < 0) [bad, why] = [i, problem];
        }
        if (bad >= 0) {
          await sink.reject(row, map.names[bad] || `column ${bad + 1}`, why);
          await handler.rejected(row, map, values);
          continue;
        }
        if (record.length > map.names.length) {
          await sink.reject(row, '(row)', `expected ${map.names.length} columns as in the header, found ${record.length}`);
          await handler.rejected(row, map, values);
          continue;
        }
        const p = handler.row(map, values, row);
        if (p) await p;
      }
      await drainSkips(Number.POSITIVE_INFINITY);
      await handler.end();
    });
  } catch (e) {
    throw ioError(plan.file, refused ?? e);
  }
}


/** Non-empty values of a date column read without finding a slash date, after which the column counts as having none. */
const PLAIN_DATES_ENOUGH = 1000;

/** What the first pass found in one date column (see {@link scanDateOrders}). */
export type DateColumnScan =
  /** No slash dates (ISO dates, epoch numbers, or none in its first 1,000 values). */
  | { column: number; state: 'none' }
  /** Decided by the first date with a day above 12 (`value`, on data row `row`). */
  | { column: number; state: 'decided'; order: DateOrder; value: string; row: number }
  /** Slash dates, none with a day above 12: day-first and month-first read them alike well. */
  | { column: number; state: 'undecidable'; example: string }
  /** Both day-first and month-first dates. */
  | { column: number; state: 'mixed'; dmy: { value: string; row: number }; mdy: { value: string; row: number } };

/**
 * The first pass over a CSV file: how each date column the map leaves undecided (no
 * `--date-order`) writes slash dates (`12/9/2011`). It stops as soon as every column is
 * decided: a day above 12 in first place (13/5/2011) makes a column day-first, one in
 * second place (5/13/2011) month-first. A column whose first 1,000 values hold no slash date
 * is taken to have none.
 */
export async function scanDateOrders(plan: Pick<ImportPlan, 'file' | 'kind'>, map: ColumnMap): Promise<DateColumnScan[]> {
  const open = new Map<number, { plain: number; slash: string | undefined; found: { order: DateOrder; value: string; row: number } | undefined }>();
  const done: DateColumnScan[] = [];
  for (const f of DATE_FIELDS[plan.kind]) {
    const i = (map.fields as Record<string, number | undefined>)[f];
    if (i !== undefined && map.dateOrders[i] === undefined) open.set(i, { plain: 0, slash: undefined, found: undefined });
  }
  if (open.size === 0) return done;
  const parser = fs.createReadStream(plan.file, { highWaterMark: READ_CHUNK }).pipe(
    parseCsv({ bom: true, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true, max_record_size: MAX_ROW_BYTES, from_line: 2 }),
  );
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row++;
      for (const [i, col] of open) {
        const v = record[i]?.trim();
        if (!v) continue;
        const o = dateOrderOf(v);
        if (o === undefined) {
          if (col.slash === undefined && ++col.plain >= PLAIN_DATES_ENOUGH) {
            open.delete(i);
            done.push({ column: i, state: 'none' });
          }
          continue;
        }
        col.slash ??= v;
        if (o === 'slash') continue;
        if (col.found && col.found.order !== o) {
          const [dmy, mdy] = col.found.order === 'dmy' ? [{ value: col.found.value, row: col.found.row }, { value: v, row }] : [{ value: v, row }, { value: col.found.value, row: col.found.row }];
          open.delete(i);
          done.push({ column: i, state: 'mixed', dmy, mdy });
          continue;
        }
        // Decided; a later contradiction is still looked for, but only within what is read anyway.
        col.found ??= { order: o, value: v, row };
      }
      if ([...open.values()].every((c) => c.found !== undefined)) break;
    }
  } finally {
    parser.destroy();
  }
  for (const [i, col] of open) {
    if (col.found) done.push({ column: i, state: 'decided', ...col.found });
    else if (col.slash !== undefined) done.push({ column: i, state: 'undecidable', example: col.slash });
    else done.push({ column: i, state: 'none' });
  }
  return done.sort((a, b) => a.column - b.column);
}

/**
 * Decides how each date column reads slash dates by looking at the whole column
 * ({@link scanDateOrders}) and sets it on the map. A column of slash dates that never
 * decides, or that has both, is refused with a message naming it and `--date-order`.
 */
async function decideDateOrders(plan: ImportPlan, map: ColumnMap): Promise<void> {
  for (const scan of await scanDateOrders(plan, map)) {
    const name = map.names[scan.column]!;
    if (scan.state === 'decided') map.dateOrders[scan.column] = scan.order;
    else if (scan.state === 'mixed') {
      throw invalid(name, `has day-first dates (${scan.dmy.value}, row ${scan.dmy.row}) and month-first dates (${scan.mdy.value}, row ${scan.mdy.row}); fix the column, or pass --date-order dmy or --date-order mdy to read every date one way`);
    } else if (scan.state === 'undecidable') {
      throw invalid(
        name,
        `dates such as ${scan.example} could be day-first or month-first, and no date in the column decides (none has a day above 12); pass --date-order dmy (day/month/year) or --date-order mdy (month/day/year)`,
      );
    }
  }
}
