import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { RapportError } from '../core/errors.js';
import { csvLine, type CsvCell } from '../core/csv.js';

/** The most rows one CSV export holds: a larger list is refused up front (narrow its filters). */
export const CSV_MAX_ROWS = 1_000_000;
/** How long one export may take; past it the download is cut off (the client sees it fail). */
export const CSV_DEADLINE_MS = 10 * 60_000;

export interface CsvExport {
  /** What is exported, for the error over the bound ("customers"). */
  what: string;
  fileName: string;
  header: readonly string[];
  /** The rows the export will hold (the list's total), checked against the bound before streaming. */
  total: number;
  /** The rows, a page at a time. */
  pages: AsyncIterable<CsvCell[][]>;
  maxRows?: number;
  deadlineMs?: number;
  clock?: () => number;
}

/**
 * Streams a whole list as a CSV download: header first, then each page as it is read, so that
 * memory stays at one page however long the list. A list over `maxRows` is refused with an
 * error naming the count and the bound; an export past its deadline is cut off.
 *
 * @example return sendCsv(reply, { what: 'customers', fileName: 'customers.csv', header, total, pages });
 */
export function sendCsv(reply: FastifyReply, e: CsvExport): Readable {
  const max = e.maxRows ?? CSV_MAX_ROWS;
  if (e.total > max) {
    throw new RapportError('invalid_input', `${e.what}: ${e.total.toLocaleString('en-US')} rows match; one CSV export holds at most ${max.toLocaleString('en-US')}: narrow the filters`);
  }
  const clock = e.clock ?? Date.now;
  const deadline = clock() + (e.deadlineMs ?? CSV_DEADLINE_MS);
  async function* body(): AsyncGenerator<string> {
    yield csvLine(e.header);
    let written = 0;
    for await (const page of e.pages) {
      if (clock() > deadline) throw new RapportError('busy', `${e.what}: the CSV export took longer than ${Math.round((e.deadlineMs ?? CSV_DEADLINE_MS) / 1000)} s and was cut off`);
      // Rows that arrived since the count stay within the bound too.
      const rows = page.slice(0, Math.max(0, max - written));
      written += rows.length;
      if (rows.length > 0) yield rows.map(csvLine).join('');
      if (written >= max) return;
    }
  }
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${e.fileName}"`);
  reply.header('cache-control', 'no-store');
  return Readable.from(body());
}
