/**
 * Co-creation panels' only SQL: who is eligible for a panel (the filters over the stored
 * stages, values, traits and accounts), the panels and their members, what the members said,
 * and the purchases the launch comparison counts.
 */
import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { Conn, Dialect, Store } from '../store/db.js';
import type { PanelMemberStatus, PanelMembersTable, PanelsTable } from '../store/schema.js';
import { chunks, dayOfMsSql } from '../store/sql.js';

/** Filters as the database applies them (resolved by the service: stage indexes, the account's row id, a time). */
export interface EligibleQuery {
  stages?: readonly number[] | undefined;
  momentum?: readonly string[] | undefined;
  segments?: readonly number[] | undefined;
  clvMin?: number | undefined;
  clvMax?: number | undefined;
  /** Last seen at or after this time (ms). */
  seenSince?: number | undefined;
  /** Trait key (letters, digits, spaces, _ and - only: checked by the service) = value, case-insensitive. */
  traits?: readonly { key: string; value: string }[] | undefined;
  accountId?: number | undefined;
}

/** `lower(<the trait as text>) = lower(value)`: booleans as true/false, numbers as written. */
function traitMatch(dialect: Dialect, key: string, value: string): Expression<SqlBool> {
  if (!/^[A-Za-z0-9_ -]+$/.test(key)) throw new Error(`traitMatch: key ${JSON.stringify(key)} is not plain`);
  if (dialect === 'postgres') return sql<SqlBool>`lower(c.traits::jsonb ->> ${key}) = lower(${value})`;
  const path = `$."${key}"`;
  return sql<SqlBool>`lower(case json_type(c.traits, ${path}) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(c.traits, ${path}) as text) end) = lower(${value})`;
}

/** Identified customers (a user id) matching every filter given. */
function eligible(db: Conn, dialect: Dialect, f: EligibleQuery) {
  let q = db
    .selectFrom('customers as c')
    .leftJoin('customer_stages as s', 's.customer_id', 'c.id')
    .leftJoin('customer_values as v', 'v.customer_id', 'c.id')
    .where('c.user_id', 'is not', null);
  if (f.stages) q = q.where('s.stage', 'in', [...f.stages]);
  if (f.momentum) q = q.where('s.momentum', 'in', [...f.momentum] as ('warming' | 'steady' | 'cooling')[]);
  if (f.segments) q = q.where('v.segment', 'in', [...f.segments]);
  if (f.clvMin !== undefined) q = q.where('v.clv', '>=', f.clvMin);
  if (f.clvMax !== undefined) q = q.where('v.clv', '<=', f.clvMax);
  if (f.seenSince !== undefined) q = q.where('c.last_seen', '>=', f.seenSince);
  for (const t of f.traits ?? []) q = q.where(traitMatch(dialect, t.key, t.value));
  if (f.accountId !== undefined) {
    const account = f.accountId;
    q = q.where((eb) => eb.exists(eb.selectFrom('customer_accounts as a').select('a.customer_id').whereRef('a.customer_id', '=', 'c.id').where('a.account_id', '=', account)));
  }
  return q;
}

/** Eligible customers per micro-segment (null: not segmented). */
export async function eligibleCounts(store: Store, f: EligibleQuery): Promise<{ segment: number | null; customers: number }[]> {
  const rows = await eligible(store.db, store.dialect, f)
    .select((eb) => ['v.segment as segment', eb.fn.countAll<number>().as('customers')])
    .groupBy('v.segment')
    .execute();
  return rows.map((r) => ({ segment: r.segment === null ? null : Number(r.segment), customers: Number(r.customers) }));
}

/** Every eligible customer's id, micro-segment and stage, in id order. */
export async function eligibleCustomers(store: Store, f: EligibleQuery): Promise<{ id: number; segment: number | null; stage: number | null }[]> {
  const rows = await eligible(store.db, store.dialect, f).select(['c.id as id', 'v.segment as segment', 's.stage as stage']).orderBy('c.id').execute();
  return rows.map((r) => ({ id: Number(r.id), segment: r.segment === null ? null : Number(r.segment), stage: r.stage === null ? null : Number(r.stage) }));
}

/** An account's row id by its group id. */
export async function accountIdOf(db: Conn, groupId: string): Promise<number | undefined> {
  const r = await db.selectFrom('accounts').select('id').where('group_id', '=', groupId).executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

/** Whether any stages run placed anyone (customer_stages holds the latest run's placements). */
export async function hasStages(db: Conn): Promise<boolean> {
  return (await db.selectFrom('customer_stages').select('customer_id').limit(1).executeTakeFirst()) !== undefined;
}

export type PanelRow = Selectable<PanelsTable>;

export async function insertPanel(db: Conn, p: Omit<PanelsTable, 'id'>): Promise<number> {
  const r = await db.insertInto('panels').values(p).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function panelById(db: Conn, id: number): Promise<PanelRow | undefined> {
  const r = await db.selectFrom('panels').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? normalisePanel(r) : undefined;
}

export async function listPanels(db: Conn, limit: number): Promise<PanelRow[]> {
  const rows = await db.selectFrom('panels').selectAll().orderBy('id', 'desc').limit(limit).execute();
  return rows.map(normalisePanel);
}

/** PostgreSQL's bigints arrive as numbers (store/db.ts parses them); a null stays null. */
function normalisePanel(r: PanelRow): PanelRow {
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return { ...r, id: Number(r.id), size: Number(r.size), seed: Number(r.seed), launched_at: n(r.launched_at), started_at: n(r.started_at), created_at: Number(r.created_at), updated_at: Number(r.updated_at) };
}

export async function updatePanel(db: Conn, id: number, set: Partial<Omit<PanelsTable, 'id'>>): Promise<void> {
  await db.updateTable('panels').set(set).where('id', '=', id).execute();
}

/** Deletes a panel (its members go with it); the interactions recorded for them stay, as history. */
export async function deletePanel(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('panels').where('id', '=', id).execute();
}

/** Members per status of each panel. */
export async function memberCounts(db: Conn, panelIds: readonly number[]): Promise<{ panel_id: number; status: PanelMemberStatus; n: number }[]> {
  if (panelIds.length === 0) return [];
  const rows = await db
    .selectFrom('panel_members')
    .select((eb) => ['panel_id', 'status', eb.fn.countAll<number>().as('n')])
    .where('panel_id', 'in', [...panelIds])
    .groupBy(['panel_id', 'status'])
    .execute();
  return rows.map((r) => ({ panel_id: Number(r.panel_id), status: r.status, n: Number(r.n) }));
}

export async function insertMembers(db: Conn, rows: readonly PanelMembersTable[]): Promise<void> {
  for (const part of chunks(rows, 500)) await db.insertInto('panel_members').values([...part]).execute();
}

/** A member's row, or undefined when the customer is not on the panel. */
export async function memberRow(db: Conn, panelId: number, customerId: number): Promise<PanelMembersTable | undefined> {
  return db.selectFrom('panel_members').selectAll().where('panel_id', '=', panelId).where('customer_id', '=', customerId).executeTakeFirst();
}

export async function updateMember(db: Conn, panelId: number, customerId: number, set: Partial<Pick<PanelMembersTable, 'status' | 'invited_at' | 'responded_at' | 'participated_at'>>): Promise<void> {
  await db.updateTable('panel_members').set(set).where('panel_id', '=', panelId).where('customer_id', '=', customerId).execute();
}

export async function deleteMember(db: Conn, panelId: number, customerId: number): Promise<void> {
  await db.deleteFrom('panel_members').where('panel_id', '=', panelId).where('customer_id', '=', customerId).execute();
}

/** A customer by user id, with their current micro-segment and stage (for adding them to a panel). */
export async function customerForPanel(db: Conn, userId: string): Promise<{ id: number; user_id: string; segment: number | null; stage: number | null } | undefined> {
  const r = await db
    .selectFrom('customers as c')
    .leftJoin('customer_stages as s', 's.customer_id', 'c.id')
    .leftJoin('customer_values as v', 'v.customer_id', 'c.id')
    .select(['c.id as id', 'c.user_id as user_id', 'v.segment as segment', 's.stage as stage'])
    .where('c.user_id', '=', userId)
    .executeTakeFirst();
  if (!r || r.user_id === null) return undefined;
  return { id: Number(r.id), user_id: r.user_id, segment: r.segment === null ? null : Number(r.segment), stage: r.stage === null ? null : Number(r.stage) };
}

export interface MemberListRow {
  customer_id: number;
  user_id: string | null;
  name: string | null;
  email: string | null;
  segment: number | null;
  segment_label: string | null;
  stage: number | null;
  stage_now: number | null;
  clv: number | null;
  p_alive: number | null;
  status: PanelMemberStatus;
  added_at: number;
  invited_at: number | null;
  responded_at: number | null;
  participated_at: number | null;
}

/** A panel's members (optionally of some statuses), by segment and then customer id. */
export async function panelMembers(db: Conn, panelId: number, p: { statuses?: readonly PanelMemberStatus[] | undefined; limit: number; offset: number; customerId?: number }): Promise<MemberListRow[]> {
  let q = db
    .selectFrom('panel_members as m')
    .innerJoin('customers as c', 'c.id', 'm.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 'm.customer_id')
    .leftJoin('customer_stages as s', 's.customer_id', 'm.customer_id')
    .select([
      'm.customer_id as customer_id',
      'c.user_id as user_id',
      'c.name as name',
      'c.email as email',
      'm.segment as segment',
      'm.segment_label as segment_label',
      'm.stage as stage',
      's.stage as stage_now',
      'v.clv as clv',
      'v.p_alive as p_alive',
      'm.status as status',
      'm.added_at as added_at',
      'm.invited_at as invited_at',
      'm.responded_at as responded_at',
      'm.participated_at as participated_at',
    ])
    .where('m.panel_id', '=', panelId);
  if (p.statuses) q = q.where('m.status', 'in', [...p.statuses]);
  if (p.customerId !== undefined) q = q.where('m.customer_id', '=', p.customerId);
  const rows = await q.orderBy('m.segment', (ob) => ob.asc().nullsLast()).orderBy('m.customer_id').limit(p.limit).offset(p.offset).execute();
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return rows.map((r) => ({
    ...r,
    customer_id: Number(r.customer_id),
    segment: n(r.segment),
    stage: n(r.stage),
    stage_now: n(r.stage_now),
    added_at: Number(r.added_at),
    invited_at: n(r.invited_at),
    responded_at: n(r.responded_at),
    participated_at: n(r.participated_at),
  }));
}

/** The customer ids of a panel's members of the given statuses. */
export async function memberIds(db: Conn, panelId: number, statuses: readonly PanelMemberStatus[]): Promise<number[]> {
  const rows = await db.selectFrom('panel_members').select('customer_id').where('panel_id', '=', panelId).where('status', 'in', [...statuses]).execute();
  return rows.map((r) => Number(r.customer_id));
}

/** The panel's members' feedback from `since` on: joined with its insights and theme. */
function memberFeedback(db: Conn, panelId: number, since: number, statuses: readonly PanelMemberStatus[]) {
  return db
    .selectFrom('feedback as f')
    .innerJoin('panel_members as m', (j) => j.onRef('m.customer_id', '=', 'f.customer_id').on('m.panel_id', '=', panelId))
    .leftJoin('feedback_insights as i', 'i.feedback_id', 'f.id')
    .leftJoin('themes as t', 't.id', 'i.theme_id')
    .where('f.created_at', '>=', since)
    .where('m.status', 'in', [...statuses]);
}

export interface FeedbackTotals {
  items: number;
  customers: number;
  analysed: number;
  meanSentiment: number | null;
  labels: { label: string; items: number }[];
  kinds: { kind: string; items: number }[];
}

/** How much the members said, how it read and of which kinds. */
export async function feedbackTotals(db: Conn, panelId: number, since: number, statuses: readonly PanelMemberStatus[]): Promise<FeedbackTotals> {
  const [totals, labels, kinds] = await Promise.all([
    memberFeedback(db, panelId, since, statuses)
      .select((eb) => [eb.fn.countAll<number>().as('items'), eb.fn.count<number>('f.customer_id').distinct().as('customers'), eb.fn.count<number>('i.feedback_id').as('analysed'), eb.fn.avg<number>('i.sentiment').as('mean')])
      .executeTakeFirstOrThrow(),
    memberFeedback(db, panelId, since, statuses)
      .select((eb) => ['i.sentiment_label as label', eb.fn.countAll<number>().as('items')])
      .where('i.sentiment_label', 'is not', null)
      .groupBy('i.sentiment_label')
      .execute(),
    memberFeedback(db, panelId, since, statuses)
      .select((eb) => ['f.kind as kind', eb.fn.countAll<number>().as('items')])
      .groupBy('f.kind')
      .execute(),
  ]);
  return {
    items: Number(totals.items),
    customers: Number(totals.customers),
    analysed: Number(totals.analysed),
    meanSentiment: totals.mean === null ? null : Number(totals.mean),
    labels: labels.map((r) => ({ label: String(r.label), items: Number(r.items) })),
    kinds: kinds.map((r) => ({ kind: String(r.kind), items: Number(r.items) })),
  };
}

/** The themes the members' feedback falls in, most items first. */
export async function feedbackThemes(
  db: Conn,
  panelId: number,
  since: number,
  statuses: readonly PanelMemberStatus[],
  limit: number,
): Promise<{ theme_id: number; name: string | null; label: string; kind: string; items: number; customers: number; sentiment: number | null }[]> {
  const rows = await memberFeedback(db, panelId, since, statuses)
    .where('t.id', 'is not', null)
    .select((eb) => [
      't.id as theme_id',
      't.name as name',
      't.label as label',
      't.kind as kind',
      eb.fn.countAll<number>().as('items'),
      eb.fn.count<number>('f.customer_id').distinct().as('customers'),
      eb.fn.avg<number>('i.sentiment').as('sentiment'),
    ])
    .groupBy(['t.id', 't.name', 't.label', 't.kind'])
    .orderBy('items', 'desc')
    .orderBy('t.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ theme_id: Number(r.theme_id), name: r.name, label: String(r.label), kind: String(r.kind), items: Number(r.items), customers: Number(r.customers), sentiment: r.sentiment === null ? null : Number(r.sentiment) }));
}

/** The newest of the members' feedback items, with who wrote them and how they read. */
export async function feedbackQuotes(
  db: Conn,
  panelId: number,
  since: number,
  statuses: readonly PanelMemberStatus[],
  limit: number,
): Promise<{ id: number; kind: string; text: string; created_at: number; user_id: string | null; sentiment_label: string | null; theme: string | null }[]> {
  const rows = await memberFeedback(db, panelId, since, statuses)
    .innerJoin('customers as c', 'c.id', 'f.customer_id')
    .select(['f.id as id', 'f.kind as kind', 'f.text as text', 'f.created_at as created_at', 'c.user_id as user_id', 'i.sentiment_label as sentiment_label', 't.name as theme_name', 't.label as theme_label'])
    .orderBy('f.created_at', 'desc')
    .orderBy('f.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), kind: String(r.kind), text: r.text, created_at: Number(r.created_at), user_id: r.user_id, sentiment_label: r.sentiment_label, theme: r.theme_name ?? r.theme_label }));
}

/** What an order line must hold to count: a product id, or a category (case-insensitive). */
export interface Subject {
  kind: 'product' | 'category';
  value: string;
}

/**
 * Per customer, purchase days (UTC days with an order) holding the subject: before `launchMs`,
 * and from it up to `endMs` (exclusive).
 */
export async function subjectPurchaseDays(store: Store, subject: Subject, launchMs: number, endMs: number): Promise<{ customer_id: number; before: number; after: number }[]> {
  const day = sql.raw(dayOfMsSql(store.dialect, 'o.occurred_at'));
  const line =
    subject.kind === 'product'
      ? sql`select 1 from order_lines l where l.order_ref = o.id and l.product_id = ${subject.value}`
      : sql`select 1 from order_lines l where l.order_ref = o.id and lower(l.category) = lower(${subject.value})`;
  const r = await sql<{ c: number; before: number; after: number }>`
    select o.customer_id as c,
           count(distinct case when o.occurred_at < ${launchMs} then ${day} end) as before,
           count(distinct case when o.occurred_at >= ${launchMs} then ${day} end) as after
    from orders o
    where o.occurred_at < ${endMs} and exists (${line})
    group by o.customer_id`.execute(store.db);
  return r.rows.map((x) => ({ customer_id: Number(x.c), before: Number(x.before), after: Number(x.after) }));
}

/** The category a product's order lines (else the catalogue) name most, or null. */
export async function productCategory(db: Conn, productId: string): Promise<string | null> {
  const line = await db
    .selectFrom('order_lines')
    .select((eb) => ['category', eb.fn.countAll<number>().as('n')])
    .where('product_id', '=', productId)
    .where('category', 'is not', null)
    .groupBy('category')
    .orderBy('n', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (line?.category) return line.category;
  const p = await db.selectFrom('products').select('category').where('product_id', '=', productId).executeTakeFirst();
  return p?.category ?? null;
}

/** Every valued customer's micro-segment (customer id → segment). */
export async function customerSegments(db: Conn): Promise<Map<number, number | null>> {
  const rows = await db.selectFrom('customer_values').select(['customer_id', 'segment']).execute();
  return new Map(rows.map((r) => [Number(r.customer_id), r.segment === null ? null : Number(r.segment)]));
}
