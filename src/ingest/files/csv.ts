import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv, type CsvError, type Info } from 'csv-parse';
import { invalid } from '../../core/errors.js';
import { mapColumns, type ColumnMap, type RowContext } from './columns.js';
import type { ImportPlan } from './plan.js';
import { ioError, MAX_ROW_BYTES, READ_CHUNK } from './reading.js';
import { rowHandler } from './rows.js';
import type { Sink } from './sink.js';

/** CSV: csv-parse with Buffer cells, so that invalid UTF-8 is caught per cell and reported. */

interface CsvRecord {
  record: Buffer[];
  info: Info;
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
          map = mapColumns(plan.kind, header);
          continue;
        }
        const row = info.records - 1 + skips;
        sink.rows++;
        const values: (string | undefined)[] = new Array<string | undefined>(record.length);
        let bad = -1;
        for (let i = 0; i < record.length; i++) {
          const cell = record[i]!;
          if (isUtf8(cell)) values[i] = cell.toString('utf8');
          else if (bad < 0) bad = i;
        }
        if (bad >= 0) {
          await sink.reject(row, map.names[bad] || `column ${bad + 1}`, 'not valid UTF-8 (the file must be UTF-8 encoded)');
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
    throw ioError(plan.file, e);
  }
}

