/**
 * Visits, calls, meetings and interviews the team logs, planned or past. A visit that took
 * place is recorded as what the rest of Rapport reads, through the ingestion writer (so that
 * ids, the customer's last-seen time and counters, and the search index stay right): a mutual
 * interaction on the visit's channel named for its kind ("Visit Completed", which the LOVE
 * rules count for Co-creation), and, when it has notes, a feedback item (a visit note or an
 * interview) that listening reads for themes and sentiment.
 */
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { invalid, notFound, RapportError } from '../core/errors.js';
import { isText, NUL_PROBLEM } from '../core/limits.js';
import { parseOrThrow } from '../core/validation.js';
import { DAY_MS } from '../core/time.js';
import { VISIT_CHANNELS, VISIT_KINDS, VISIT_STATUSES, type FeedbackKind, type VisitChannel, type VisitKind, type VisitStatus } from '../core/vocabulary.js';
import type { IngestRecord, WriteCounts } from '../ingest/records.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import type { Conn, Store } from '../store/db.js';
import { accountByGroupId, customerByUserId } from './stages.repository.js';
import * as repo from './visits.repository.js';

/** The longest notes a visit takes (characters). */
export const MAX_NOTES = 20_000;
/** At most this many attendees, each at most this long. */
export const MAX_ATTENDEES = 20;
export const MAX_ATTENDEE_LENGTH = 120;
/** The longest visit (minutes): a day. */
export const MAX_MINUTES = 24 * 60;
/** The earliest time a visit may be logged at: 2000-01-01 (older dates are typos). */
export const EARLIEST_VISIT_MS = Date.UTC(2000, 0, 1);
/** How far ahead a visit may be planned. */
export const PLAN_AHEAD_DAYS = 5 * 365;
/** How far ahead of the clock a visit that took place may be dated (time zones, a visit logged as it starts). */
export const DONE_AHEAD_DAYS = 1;
/** The source the records of visits are written under (their source id is `visit-<id>`). */
export const VISIT_SOURCE = 'visits';

/** The event a visit of each kind is recorded as: the names the LOVE rules and the Segment mapping know. */
export const VISIT_EVENTS: Readonly<Record<VisitKind, string>> = {
  visit: 'Visit Completed',
  call: 'Call Completed',
  meeting: 'Meeting Held',
  interview: 'Interview Completed',
};
/** The channel of each kind when none is given. */
export const VISIT_DEFAULT_CHANNELS: Readonly<Record<VisitKind, VisitChannel>> = { visit: 'in_person', meeting: 'in_person', call: 'phone', interview: 'video' };
/** The feedback kind a visit's notes are stored as: interview notes are interviews, every other kind's a visit note. */
export const visitFeedbackKind = (kind: VisitKind): FeedbackKind => (kind === 'interview' ? 'interview' : 'visit_note');

const cleanText = (s: string): boolean => !s.includes('\u0000') && isText(s);
const textProblem = { message: `${NUL_PROBLEM}, or is not valid text` };

const IsoTime = z.string().min(1).max(40).describe('ISO 8601 (YYYY-MM-DD or a time; UTC unless it names an offset)');
const Notes = z.string().max(MAX_NOTES, `at most ${MAX_NOTES.toLocaleString('en-US')} characters`).refine(cleanText, textProblem);
const Attendees = z
  .array(z.string().trim().min(1, 'an attendee needs a name').max(MAX_ATTENDEE_LENGTH).refine(cleanText, textProblem))
  .max(MAX_ATTENDEES, `at most ${MAX_ATTENDEES} attendees`)
  .describe('the staff who took part');
const Minutes = z.number().int('whole minutes').min(1).max(MAX_MINUTES);

export const VisitBody = z
  .object({
    customer: z.string().min(1).max(512).describe("the customer's user id (as the tracking API and imports name them)"),
    kind: z.enum(VISIT_KINDS).default('visit'),
    status: z.enum(['planned', 'done']).default('done').describe('done: it took place, and is recorded as an interaction (and its notes as feedback); planned: it is yet to happen'),
    at: IsoTime.describe('when it takes or took place: ISO 8601, UTC unless it names an offset; a done visit at most a day ahead, a planned one at most five years'),
    notes: Notes.optional().describe(`what was said and seen (at most ${MAX_NOTES.toLocaleString('en-US')} characters); a done visit's notes become a feedback item`),
    attendees: Attendees.default([]),
    durationMinutes: Minutes.optional(),
    channel: z.enum(VISIT_CHANNELS).optional().describe('default: in_person for visits and meetings, phone for calls, video for interviews'),
    account: z.string().min(1).max(512).optional().describe('the account (Segment group id) the visit was with'),
  })
  .meta({ id: 'VisitBody' });
export type VisitBody = z.input<typeof VisitBody>;

export const VisitPatch = z
  .object({
    status: z.enum(['done', 'cancelled']).optional().describe('done: it took place (recorded now); cancelled: it will not'),
    notes: Notes.nullable().optional(),
    at: IsoTime.optional(),
    durationMinutes: Minutes.nullable().optional(),
    attendees: Attendees.optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'nothing to change: give status, notes, at, durationMinutes or attendees' })
  .meta({ id: 'VisitPatch' });
export type VisitPatch = z.infer<typeof VisitPatch>;

const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;
export const VisitListParams = z.object({
  customer: z.string().min(1).max(512).optional().describe("the customer's user id"),
  status: z.enum(VISIT_STATUSES).optional(),
  from: z.string().regex(DATE, 'a date YYYY-MM-DD or an ISO time').optional().describe('at or after (YYYY-MM-DD or ISO time, UTC)'),
  to: z.string().regex(DATE, 'a date YYYY-MM-DD or an ISO time').optional().describe('at or before (a whole day when YYYY-MM-DD)'),
  order: z.enum(['asc', 'desc']).default('desc').describe('by time: desc newest first (past visits), asc soonest first (planned ones)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type VisitListParams = z.input<typeof VisitListParams>;
export const CustomerVisitParams = VisitListParams.omit({ customer: true });

export const Visit = z
  .object({
    id: z.number(),
    customer: z.object({ userId: z.string(), name: z.string().nullable() }),
    account: z.object({ groupId: z.string(), name: z.string().nullable() }).nullable(),
    kind: z.enum(VISIT_KINDS),
    status: z.enum(VISIT_STATUSES),
    at: z.string(),
    durationMinutes: z.number().nullable(),
    channel: z.string().describe('the channel it is (or was) held through'),
    notes: z.string().nullable(),
    attendees: z.array(z.string()),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    event: z.string().describe('the interaction it is recorded as once done (Visit Completed, Call Completed, Meeting Held, Interview Completed)'),
    interactionId: z.number().nullable().describe('the mutual interaction recorded when it took place'),
    feedbackId: z.number().nullable().describe('the feedback item its notes were recorded as (a visit note or an interview)'),
  })
  .meta({ id: 'Visit' });
export type Visit = z.infer<typeof Visit>;

export const VisitPage = z.object({ items: z.array(Visit), nextCursor: z.string().nullable() }).meta({ id: 'VisitPage' });
export type VisitPage = z.infer<typeof VisitPage>;

const iso = (t: number): string => new Date(t).toISOString();

function toVisit(r: repo.VisitRow): Visit {
  let attendees: string[] = [];
  try {
    const a: unknown = JSON.parse(r.attendees);
    if (Array.isArray(a)) attendees = a.filter((x): x is string => typeof x === 'string');
  } catch {
    attendees = [];
  }
  return {
    id: r.id,
    customer: { userId: r.user_id ?? '', name: r.customer_name ?? r.customer_email },
    account: r.group_id === null ? null : { groupId: r.group_id, name: r.account_name },
    kind: r.kind,
    status: r.status,
    at: iso(r.at),
    durationMinutes: r.duration_minutes,
    channel: r.channel ?? VISIT_DEFAULT_CHANNELS[r.kind],
    notes: r.notes,
    attendees,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    event: VISIT_EVENTS[r.kind],
    interactionId: r.interaction_id,
    feedbackId: r.feedback_id,
  };
}

/**
 * Reads an ISO 8601 date or time (a time without an offset is UTC) and checks it lies where a
 * visit of this status may: from 2000 on; a done visit at most a day past `now`, a planned (or
 * cancelled) one at most five years.
 */
export function visitTime(value: string, field: string, status: VisitStatus, now: number): number {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  const t = m ? Date.parse(m[4] === undefined ? `${v.slice(0, 10)}T00:00:00Z` : m[7] === undefined ? `${v.replace(' ', 'T')}Z` : v.replace(' ', 'T')) : Number.NaN;
  if (!m || Number.isNaN(t)) throw invalid(field, `expected an ISO 8601 date or time such as 2026-03-14 or 2026-03-14T10:30:00Z, got "${v.slice(0, 40)}"`);
  // Date.parse may roll 2026-02-30 over into March: the day must be one the calendar has.
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (day.getUTCMonth() !== Number(m[2]) - 1 || day.getUTCDate() !== Number(m[3])) throw invalid(field, `no such day: "${v.slice(0, 10)}"`);
  const latest = now + (status === 'done' ? DONE_AHEAD_DAYS : PLAN_AHEAD_DAYS) * DAY_MS;
  if (t < EARLIEST_VISIT_MS) throw invalid(field, `must not lie before 2000-01-01, got ${iso(t).slice(0, 10)}`);
  if (t > latest) {
    throw invalid(
      field,
      status === 'done'
        ? `a visit that took place must not lie more than a day ahead (at most ${iso(latest).slice(0, 16)}Z), got ${iso(t).slice(0, 16)}Z; log it as planned`
        : `a visit may be planned at most five years ahead (until ${iso(latest).slice(0, 10)}), got ${iso(t).slice(0, 10)}`,
    );
  }
  return t;
}

/** The not-found error for a customer a visit names: 404, naming the field. */
function unknownCustomer(userId: string, field = 'customer'): RapportError {
  const message = `customer "${userId.slice(0, 200)}" not found: visits are logged for a customer Rapport knows, named by their user id (the userId of the tracking API and imports)`;
  return new RapportError('not_found', message, [{ field, message: 'no customer has this user id' }]);
}

const normNotes = (n: string | null | undefined): string | null | undefined => (n === undefined ? undefined : n === null ? null : n.trim() === '' ? null : n.trim());

/** What a visit that took place is written as: the interaction, and its notes as feedback. */
export function visitRecords(v: repo.VisitRow): IngestRecord[] {
  if (v.user_id === null) return [];
  const who = { userId: v.user_id };
  const sourceId = `visit-${v.id}`;
  const attendees = toVisit(v).attendees;
  const properties: Record<string, unknown> = {
    visit_id: v.id,
    visit_kind: v.kind,
    ...(v.duration_minutes === null ? {} : { duration_minutes: v.duration_minutes }),
    ...(attendees.length > 0 ? { attendees } : {}),
    ...(v.group_id === null ? {} : { account: v.group_id }),
  };
  const records: IngestRecord[] = [
    { kind: 'interaction', who, type: 'track', name: VISIT_EVENTS[v.kind], channel: v.channel ?? VISIT_DEFAULT_CHANNELS[v.kind], direction: 'mutual', at: v.at, properties, source: VISIT_SOURCE, sourceId },
  ];
  if (v.notes !== null) {
    records.push({
      kind: 'feedback',
      who,
      feedbackKind: visitFeedbackKind(v.kind),
      text: v.notes,
      rating: null,
      status: 'noted',
      at: v.at,
      properties: { ...properties, ...(v.created_by === null ? {} : { author: v.created_by }) },
      source: VISIT_SOURCE,
      sourceId,
    });
  }
  return records;
}

type Write = (records: readonly IngestRecord[]) => Promise<WriteCounts>;

/** Writes what a done visit is recorded as (a second time stores nothing new) and links the records to it. */
async function record(trx: Conn, write: Write, id: number): Promise<void> {
  const v = (await repo.visitById(trx, id))!;
  await write(visitRecords(v));
  const ids = await repo.recordedIds(trx, { customerId: v.customer_id, at: v.at, source: VISIT_SOURCE, sourceId: `visit-${v.id}` });
  if (ids.interactionId !== v.interaction_id || ids.feedbackId !== v.feedback_id) await repo.updateVisit(trx, id, { interaction_id: ids.interactionId, feedback_id: ids.feedbackId });
}

/**
 * Logs a visit: planned, or done (then recorded as an interaction, and its notes as feedback,
 * in the same transaction as the visit).
 *
 * @example await logVisit(store, writer, { customer: 'ada', kind: 'interview', at: '2026-03-14T10:00:00Z', notes: 'Wants bulk export' }, 'Lea', Date.now())
 */
export async function logVisit(store: Store, writer: IngestWriter, body: z.input<typeof VisitBody>, by: string | null, now: number): Promise<Visit> {
  const b = parseOrThrow(VisitBody, body, { root: 'body' });
  const at = visitTime(b.at, 'at', b.status, now);
  const id = await writer.within(async (trx, write) => {
    const c = await customerByUserId(trx, b.customer);
    if (!c) throw unknownCustomer(b.customer);
    let accountId: number | null = null;
    if (b.account !== undefined) {
      const a = await accountByGroupId(trx, b.account);
      if (!a) throw new RapportError('not_found', `account "${b.account.slice(0, 200)}" not found (a Segment group id)`, [{ field: 'account', message: 'no account has this group id' }]);
      accountId = Number(a.id);
    }
    const id = await repo.insertVisit(trx, {
      customer_id: Number(c.id),
      account_id: accountId,
      kind: b.kind,
      status: b.status,
      at,
      duration_minutes: b.durationMinutes ?? null,
      channel: b.channel ?? null,
      notes: normNotes(b.notes) ?? null,
      attendees: JSON.stringify(b.attendees),
      created_by: by,
      created_at: now,
      updated_at: now,
      interaction_id: null,
      feedback_id: null,
    });
    if (b.status === 'done') await record(trx, write, id);
    return id;
  });
  return getVisit(store, id);
}

const conflict = (message: string): RapportError => new RapportError('conflict', message);

/**
 * Changes a visit. A planned one may change anything; marked done it is recorded then (its
 * time at most a day ahead). A done visit is a record: it only takes notes when it has none
 * (recorded as feedback then); a cancelled one changes no more. Marking a visit what it
 * already is changes nothing (a done one's records are written again if missing).
 */
export async function updateVisit(store: Store, writer: IngestWriter, id: number, patch: VisitPatch, now: number): Promise<Visit> {
  await writer.within(async (trx, write) => {
    const v = await repo.visitById(trx, id);
    if (!v) throw notFound(`visit ${id}`);
    const notes = normNotes(patch.notes);
    const edits = patch.at !== undefined || patch.durationMinutes !== undefined || patch.attendees !== undefined;
    if (v.status === 'cancelled') {
      if (patch.status === 'cancelled' && !edits && notes === undefined) return;
      throw conflict(`visit ${id} was cancelled and changes no more: log a new one`);
    }
    if (v.status === 'done') {
      if (patch.status === 'cancelled') throw conflict(`visit ${id} took place and is recorded (interaction ${v.interaction_id ?? '?'}): it cannot be cancelled`);
      if (edits) throw conflict(`visit ${id} took place and is recorded as it was logged: its time, length and attendees stay; only notes can be added when it has none`);
      if (notes !== undefined && notes !== v.notes) {
        if (v.notes !== null) throw conflict(`visit ${id}'s notes are recorded as feedback item ${v.feedback_id ?? '?'} and cannot be changed`);
        await repo.updateVisit(trx, id, { notes, updated_at: now });
      }
      await record(trx, write, id);
      return;
    }
    const status = patch.status ?? 'planned';
    const at = patch.at !== undefined ? visitTime(patch.at, 'at', status, now) : v.at;
    if (status === 'done' && at > now + DONE_AHEAD_DAYS * DAY_MS) {
      throw invalid('at', `visit ${id} is planned for ${iso(at).slice(0, 16)}Z, more than a day ahead: give the time it took place in at`);
    }
    await repo.updateVisit(trx, id, {
      status,
      at,
      ...(notes !== undefined ? { notes } : {}),
      ...(patch.durationMinutes !== undefined ? { duration_minutes: patch.durationMinutes } : {}),
      ...(patch.attendees !== undefined ? { attendees: JSON.stringify(patch.attendees) } : {}),
      updated_at: now,
    });
    if (status === 'done') await record(trx, write, id);
  });
  return getVisit(store, id);
}

export async function getVisit(store: Store, id: number): Promise<Visit> {
  const v = await repo.visitById(store.db, id);
  if (!v) throw notFound(`visit ${id}`);
  return toVisit(v);
}

function timeOf(field: string, v: string | undefined, endOfDay: boolean): number | undefined {
  if (v === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const t = Date.parse(dateOnly ? `${v}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(t)) throw invalid(field, `expected a date YYYY-MM-DD or an ISO time, got "${v}"`);
  return dateOnly && endOfDay ? t + DAY_MS : endOfDay ? t + 1 : t;
}

const isKey = (v: unknown): v is repo.VisitKey => Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x));

/** A page of visits (a customer's, of a status, in a time range), newest or soonest first. */
export async function listVisits(store: Store, params: VisitListParams): Promise<VisitPage> {
  const p = parseOrThrow(VisitListParams, params, { root: 'query' });
  const from = timeOf('from', p.from, false);
  const to = timeOf('to', p.to, true);
  if (from !== undefined && to !== undefined && to <= from) throw invalid('to', 'must not be before from');
  let customerId: number | undefined;
  if (p.customer !== undefined) {
    const c = await customerByUserId(store.db, p.customer);
    if (!c) throw unknownCustomer(p.customer);
    customerId = Number(c.id);
  }
  const after = p.cursor ? decodeCursor(p.cursor, isKey) : undefined;
  const rows = await repo.listVisits(store.db, { customerId, status: p.status, from, to, order: p.order, after, limit: p.limit });
  const page = rows.slice(0, p.limit);
  const last = page.at(-1);
  return { items: page.map(toVisit), nextCursor: rows.length > p.limit && last ? encodeCursor([last.at, last.id]) : null };
}
