/**
 * The visits' only SQL: the logged rows with their customer and account, keyset-paged, and
 * the ids of the raw records a visit that took place was written as.
 */
import type { Insertable, Updateable } from 'kysely';
import type { Conn } from '../store/db.js';
import type { VisitsTable, VisitStatus } from '../store/schema.js';

/** A visit as read: its row, its customer's user id and name, and its account. */
export interface VisitRow {
  id: number;
  customer_id: number;
  user_id: string | null;
  customer_name: string | null;
  customer_email: string | null;
  account_id: number | null;
  group_id: string | null;
  account_name: string | null;
  kind: VisitsTable['kind'];
  status: VisitStatus;
  at: number;
  duration_minutes: number | null;
  channel: string | null;
  notes: string | null;
  attendees: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  interaction_id: number | null;
  feedback_id: number | null;
}

/** The sort key of a page: time, then id. */
export type VisitKey = [number, number];

export interface VisitFilter {
  customerId?: number | undefined;
  status?: VisitStatus | undefined;
  /** Only visits at or after this time. */
  from?: number | undefined;
  /** Only visits before this time. */
  to?: number | undefined;
  order: 'asc' | 'desc';
  after?: VisitKey | undefined;
  limit: number;
}

function selectVisits(db: Conn) {
  // Every column aliased: PostgreSQL rows with duplicate names collapse.
  return db
    .selectFrom('visits as v')
    .innerJoin('customers as c', 'c.id', 'v.customer_id')
    .leftJoin('accounts as a', 'a.id', 'v.account_id')
    .select([
      'v.id as id',
      'v.customer_id as customer_id',
      'c.user_id as user_id',
      'c.name as customer_name',
      'c.email as customer_email',
      'v.account_id as account_id',
      'a.group_id as group_id',
      'a.name as account_name',
      'v.kind as kind',
      'v.status as status',
      'v.at as at',
      'v.duration_minutes as duration_minutes',
      'v.channel as channel',
      'v.notes as notes',
      'v.attendees as attendees',
      'v.created_by as created_by',
      'v.created_at as created_at',
      'v.updated_at as updated_at',
      'v.interaction_id as interaction_id',
      'v.feedback_id as feedback_id',
    ]);
}

const asRow = (r: Record<string, unknown>): VisitRow => {
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    ...(r as unknown as VisitRow),
    id: Number(r['id']),
    customer_id: Number(r['customer_id']),
    account_id: n(r['account_id']),
    at: Number(r['at']),
    duration_minutes: n(r['duration_minutes']),
    created_at: Number(r['created_at']),
    updated_at: Number(r['updated_at']),
    interaction_id: n(r['interaction_id']),
    feedback_id: n(r['feedback_id']),
  };
};

/** One visit, or undefined. */
export async function visitById(db: Conn, id: number): Promise<VisitRow | undefined> {
  const r = await selectVisits(db).where('v.id', '=', id).executeTakeFirst();
  return r ? asRow(r) : undefined;
}

/**
 * A page of visits in time order (`order`), after the keyset `after`: one more row than
 * `limit` when there is a next page. With a customer it reads the index by customer and time,
 * with a status the one by status and time, else the one by time.
 */
export async function listVisits(db: Conn, f: VisitFilter): Promise<VisitRow[]> {
  let q = selectVisits(db);
  if (f.customerId !== undefined) q = q.where('v.customer_id', '=', f.customerId);
  if (f.status !== undefined) q = q.where('v.status', '=', f.status);
  if (f.from !== undefined) q = q.where('v.at', '>=', f.from);
  if (f.to !== undefined) q = q.where('v.at', '<', f.to);
  if (f.after) {
    const [at, id] = f.after;
    q = f.order === 'desc'
      ? q.where((eb) => eb.or([eb('v.at', '<', at), eb.and([eb('v.at', '=', at), eb('v.id', '<', id)])]))
      : q.where((eb) => eb.or([eb('v.at', '>', at), eb.and([eb('v.at', '=', at), eb('v.id', '>', id)])]));
  }
  const rows = await q.orderBy('v.at', f.order).orderBy('v.id', f.order).limit(f.limit + 1).execute();
  return rows.map(asRow);
}

export async function insertVisit(db: Conn, row: Insertable<VisitsTable>): Promise<number> {
  const r = await db.insertInto('visits').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function updateVisit(db: Conn, id: number, set: Updateable<VisitsTable>): Promise<void> {
  await db.updateTable('visits').set(set).where('id', '=', id).execute();
}

/**
 * The interaction and feedback item a visit was written as (by their source and source id),
 * looked up by the customer and time they carry, so that each is one index probe.
 */
export async function recordedIds(db: Conn, r: { customerId: number; at: number; source: string; sourceId: string }): Promise<{ interactionId: number | null; feedbackId: number | null }> {
  const [i, f] = await Promise.all([
    db.selectFrom('interactions').select('id').where('customer_id', '=', r.customerId).where('occurred_at', '=', r.at).where('source', '=', r.source).where('source_id', '=', r.sourceId).executeTakeFirst(),
    db.selectFrom('feedback').select('id').where('source', '=', r.source).where('source_id', '=', r.sourceId).executeTakeFirst(),
  ]);
  return { interactionId: i ? Number(i.id) : null, feedbackId: f ? Number(f.id) : null };
}
