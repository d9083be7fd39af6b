import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { invalid, type RapportError } from '../../core/errors.js';
import type { IngestRecord } from '../records.js';
import { MESSAGE_TYPES, normalizeMessage, type MessageType } from '../segment/segment.js';
import { mapColumns, windowOf, type ColumnMap, type RowContext } from './columns.js';
import type { ImportPlan } from './plan.js';
import { ioError, MAX_ROW_BYTES, READ_CHUNK } from './reading.js';
import { rowHandler } from './rows.js';
import type { Sink } from './sink.js';

/** NDJSON: split on newline bytes, check UTF-8 per chunk (per line only when a chunk fails). */

/** Called per non-empty line; returns a promise only when it had to wait (a batch write). */
type LineHandler = (text: string, line: number) => Promise<void> | undefined;
/** Called for a line that could not be read as text. */
type BadLineHandler = (line: number, field: string, reason: string) => Promise<void>;

async function readLines(file: string, sink: Sink, onLine: LineHandler, onBad: BadLineHandler): Promise<void> {
  let line = 0;
  let carry: Buffer | undefined;
  /** Inside a line longer than MAX_ROW_BYTES: drop bytes up to the next newline. */
  let skipping = false;
  const handle = (text: string, start: number, end: number, n: number): Promise<void> | undefined => {
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    let s = start === 0 && end === text.length ? text : text.slice(start, end);
    if (n === 1 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    if (s.length === 0 || (s.charCodeAt(0) <= 32 && s.trim().length === 0)) return undefined;
    sink.rows++;
    return onLine(s, n);
  };
  /** `buf` holds whole lines: it ends just before a newline (or at the end of the file). */
  const emit = async (buf: Buffer): Promise<void> => {
    if (isUtf8(buf)) {
      const text = buf.toString('utf8');
      let start = 0;
      while (start <= text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        line++;
        const p = handle(text, start, end, line);
        if (p) await p;
        start = end + 1;
      }
      return;
    }
    let start = 0;
    while (start <= buf.length) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      line++;
      const part = buf.subarray(start, end);
      if (isUtf8(part)) {
        const text = part.toString('utf8');
        const p = handle(text, 0, text.length, line);
        if (p) await p;
      } else {
        sink.rows++;
        await onBad(line, '(line)', 'not valid UTF-8 (the file must be UTF-8 encoded)');
      }
      start = end + 1;
    }
  };

  const stream = fs.createReadStream(file, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      sink.bytes += chunk.length;
      let buf = chunk;
      if (skipping) {
        const nl = buf.indexOf(10);
        if (nl < 0) continue;
        skipping = false;
        buf = buf.subarray(nl + 1);
      }
      if (carry) buf = Buffer.concat([carry, buf]);
      carry = undefined;
      const last = buf.lastIndexOf(10);
      if (last < 0) {
        if (buf.length > MAX_ROW_BYTES) {
          line++;
          sink.rows++;
          await onBad(line, '(line)', `longer than ${MAX_ROW_BYTES / 1024 / 1024} MB`);
          skipping = true;
        } else {
          carry = Buffer.from(buf);
        }
        continue;
      }
      // Copy the tail so that it does not keep the whole chunk alive.
      if (last + 1 < buf.length) carry = Buffer.from(buf.subarray(last + 1));
      await emit(buf.subarray(0, last));
    }
  } catch (e) {
    throw ioError(file, e);
  }
  if (carry && carry.length > 0) await emit(carry);
}

/** One JSON value per line; a file that holds a JSON array is not NDJSON and stops the import. */
function parseLine(text: string, line: number, file: string): { value: unknown } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (line === 1 && text.trimStart().startsWith('[')) throw notNdjson(file);
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
  if (line === 1 && Array.isArray(value)) throw notNdjson(file);
  return { value };
}

function notNdjson(file: string): RapportError {
  return invalid('--format', `${path.basename(file)} holds a JSON array; ndjson means one JSON object per line`);
}

/** Reads an NDJSON file into the sink: Segment messages for events, column-mapped objects otherwise. */
export async function readNdjson(plan: ImportPlan, ctx: RowContext, sink: Sink): Promise<void> {
  if (plan.kind === 'events') {
    await readLines(plan.file, sink, segmentLines(plan.file, ctx, sink), (line, field, reason) => sink.reject(line, field, reason));
    return;
  }
  // Other kinds: each line is an object whose keys are matched like CSV column names.
  const maps = new Map<string, ColumnMap>();
  const rows = rowHandler(plan.kind, ctx, sink);
  const onBad: BadLineHandler = async (line, field, reason) => {
    await sink.reject(line, field, reason);
    await rows.rejected(line, undefined, undefined);
  };
  await readLines(
    plan.file,
    sink,
    (text, line) => {
      const parsed = parseLine(text, line, plan.file);
      if ('error' in parsed) return onBad(line, '(line)', parsed.error);
      const value = parsed.value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return onBad(line, '(line)', 'expected a JSON object');
      const keys = Object.keys(value);
      const signature = keys.join('\u0000');
      let map = maps.get(signature);
      if (!map) {
        if (maps.size > 1000) maps.clear();
        map = mapColumns(plan.kind, keys, { map: plan.map, dateOrder: plan.dateOrder });
        maps.set(signature, map);
      }
      return rows.row(map, Object.values(value), line);
    },
    onBad,
  );
  await rows.end();
}

/** events NDJSON: every line is a Segment message, validated as the tracking API does. */
function segmentLines(file: string, ctx: RowContext, sink: Sink): LineHandler {
  const types = MESSAGE_TYPES as readonly string[];
  return (text, line) => {
    const parsed = parseLine(text, line, file);
    if ('error' in parsed) return sink.reject(line, '(line)', parsed.error);
    const raw = parsed.value;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return sink.reject(line, '(line)', 'expected a JSON object (one Segment message per line)');
    }
    const msg = raw as Record<string, unknown>;
    const t = msg['type'] ?? (msg['event'] !== undefined ? 'track' : undefined);
    if (typeof t !== 'string' || !types.includes(t)) {
      return sink.reject(
        line,
        'type',
        t === undefined ? 'expected a type (track, page, screen, identify, group, alias) or an event' : `expected one of ${MESSAGE_TYPES.join(', ')}, got ${JSON.stringify(t).slice(0, 40)}`,
      );
    }
    const type = t as MessageType;
    let receivedAt = ctx.now;
    if (msg['timestamp'] === undefined && msg['originalTimestamp'] === undefined) {
      // The message's own receipt or send time stands in. A track, page or screen with no time
      // and no messageId could not be found again on re-import: its hash would hold today.
      const fallback = msg['receivedAt'] ?? msg['sentAt'];
      if (fallback !== undefined) {
        const at = typeof fallback === 'string' ? Date.parse(fallback) : typeof fallback === 'number' ? fallback : Number.NaN;
        if (Number.isNaN(at)) return sink.reject(line, msg['receivedAt'] !== undefined ? 'receivedAt' : 'sentAt', 'expected an ISO-8601 date');
        receivedAt = at;
      } else if ((type === 'track' || type === 'page' || type === 'screen') && msg['messageId'] === undefined) {
        return sink.reject(line, 'timestamp', 'a message without messageId needs a timestamp');
      }
    }
    let records: IngestRecord[];
    try {
      records = normalizeMessage(type, raw, { source: ctx.source, receivedAt, window: windowOf(ctx), origin: { prefix: '', row: line } });
    } catch (e) {
      return sink.rejectError(line, e);
    }
    return sink.accept(line, { records });
  };
}
