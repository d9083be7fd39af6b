/**
 * The stages run's only SQL: the rows it reads (customers, interactions, orders, feedback,
 * accounts, values), coded for models/stages/features.ts, and the placements it writes.
 *
 * Rows are read in ranges of their id (a rowid range on SQLite, the primary key on
 * PostgreSQL), so that a run over tens of millions of rows reads in slices, never holds them
 * all, and can stop at its deadline between slices. Event names and directions are coded by
 * the database (CASE expressions), so that only numbers travel.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Serialize } from '../core/serial.js';
import type { Conn, Store } from '../store/db.js';
import { refillTable } from '../store/table-swap.js';
import type { AccountStagesTable, CustomerStagesTable } from '../store/schema.js';

const SLICE = 250_000;

/** Runs `text` (with `?` placeholders) and returns rows as arrays (columns need distinct names: PostgreSQL rows arrive as objects). */
export async function rows(store: Store, text: string, params: readonly unknown[]): Promise<unknown[][]> {
  if (store.sqlite) return store.sqlite.prepare(text).raw().all(...params) as unknown[][];
  const parts = text.split('?');
  let q: RawBuilder<unknown> = sql.raw(parts[0]!);
  for (let i = 1; i < parts.length; i++) q = sql`${q}${params[i - 1]}${sql.raw(parts[i]!)}`;
  const r = await sql<Record<string, unknown>>`${q}`.execute(store.db);
  return r.rows.map((row) => Object.values(row));
}

/** `case lower(<column>) when ? then ? … else 0 end` and its parameters, for a code per name. */
function caseOf(column: string, codes: ReadonlyMap<string, number>): { text: string; params: unknown[] } {
  if (codes.size === 0) return { text: '0', params: [] };
  const params: unknown[] = [];
  let text = `case lower(${column})`;
  for (const [name, code] of codes) {
    // The code is inlined (an integer: bound, it would arrive as a real and print as "4.0").
    if (!Number.isSafeInteger(code)) throw new Error(`caseOf: not an integer code: ${code}`);
    text += ` when ? then ${code}`;
    params.push(name);
  }
  return { text: `${text} else 0 end`, params };
}

export interface CustomerList {
  ids: Float64Array;
  firstSeen: Float64Array;
  /** A customer id's position in `ids`, −1 when unknown. */
  positionOf(id: number): number;
}

/** Every customer's id and first-seen time, in id order. */
export async function listCustomers(store: Store): Promise<CustomerList> {
  const ids: number[] = [];
  const first: number[] = [];
  let after = -1;
  for (;;) {
    const r = await rows(store, 'select id, first_seen from customers where id > ? order by id limit ?', [after, SLICE]);
    for (const [id, f] of r) {
      ids.push(Number(id));
      first.push(f === null ? Number.POSITIVE_INFINITY : Number(f));
    }
    if (r.length < SLICE) break;
    after = ids[ids.length - 1]!;
  }
  const sorted = Float64Array.from(ids);
  return { ids: sorted, firstSeen: Float64Array.from(first), positionOf: positions(sorted) };
}

/** A lookup from customer id to position in `ids` (ascending), −1 for an id not there. */
export function positions(ids: Float64Array): (id: number) => number {
  const max = ids.length > 0 ? ids[ids.length - 1]! : 0;
  if (max <= 4 * ids.length + 1024) {
    const at = new Int32Array(max + 1).fill(-1);
    ids.forEach((id, i) => (at[id] = i));
    return (id) => (id >= 0 && id <= max ? at[id]! : -1);
  }
  const at = new Map(Array.from(ids, (id, i) => [id, i]));
  return (id) => at.get(id) ?? -1;
}

/** The latest time any customer was seen (customers.last_seen), or null without customers. */
export async function latestSeen(db: Conn): Promise<number | null> {
  const r = await db.selectFrom('customers').select((eb) => eb.fn.max('last_seen').as('t')).executeTakeFirst();
  return r?.t === null || r?.t === undefined ? null : Number(r.t);
}

/** The smallest and largest id of a table ([1, 0] when empty). */
export async function idRange(store: Store, table: 'interactions' | 'orders' | 'feedback'): Promise<[number, number]> {
  const [r] = await rows(store, `select min(id), max(id) from ${table}`, []);
  return r && r[0] !== null ? [Number(r[0]), Number(r[1])] : [1, 0];
}

/**
 * Parses SQLite's `group_concat` of comma-separated integers (an optional minus sign) into
 * `out` from `at`; returns how many numbers it read. Reading numbers out of one string per
 * slice is about twice as fast as a JavaScript array per row.
 */
function parseIntegers(s: string, out: Float64Array, at: number): number {
  let v = 0;
  let neg = false;
  let k = at;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44) {
      out[k++] = neg ? -v : v;
      v = 0;
      neg = false;
    } else if (c === 45) neg = true;
    else v = v * 10 + (c - 48);
  }
  if (s.length > 0) out[k++] = neg ? -v : v;
  return k - at;
}

/**
 * Scans a table in id slices (or one customer's rows): `columns` are integer SQL expressions;
 * `each` gets a slice's rows packed, `width` numbers per row, and the row count.
 */
async function scan(
  store: Store,
  table: 'interactions' | 'orders' | 'feedback',
  columns: readonly string[],
  from: string,
  params: readonly unknown[],
  customerId: number | undefined,
  each: (packed: Float64Array, rows: number) => void,
  between?: () => void,
  /** Only ids in [from, to). */
  range?: [number, number],
): Promise<void> {
  const alias = table === 'feedback' ? 'f.' : '';
  const width = columns.length;
  const where = customerId !== undefined ? `${alias}customer_id = ?` : `${alias}id >= ? and ${alias}id < ?${table === 'feedback' ? ' and f.customer_id is not null' : ''}`;
  const slices: [number, number][] = [];
  if (customerId === undefined) {
    const [lo, hi] = range ?? (await idRange(store, table)).map((x, i) => x + i) as [number, number];
    for (let at = lo; at < hi; at += SLICE) slices.push([at, Math.min(hi, at + SLICE)]);
  }
  const bounds = (k: number): unknown[] => (customerId !== undefined ? [customerId] : slices[k]!);
  const count = customerId !== undefined ? 1 : slices.length;
  if (store.sqlite) {
    const st = store.sqlite.prepare(`select count(*), group_concat(${columns.map((c) => `(${c})`).join(" || ',' || ")}, ',') from ${from} where ${where}`).raw();
    let buffer = new Float64Array(0);
    for (let k = 0; k < count; k++) {
      between?.();
      const [n, text] = st.get(...params, ...bounds(k)) as [number, string | null];
      if (n === 0 || text === null) continue;
      if (buffer.length < n * width) buffer = new Float64Array(n * width);
      const read = parseIntegers(text, buffer, 0);
      if (read !== n * width) throw new Error(`stages scan of ${table}: read ${read} numbers for ${n} rows of ${width}`);
      each(buffer, n);
    }
    return;
  }
  const select = `select ${columns.map((c, i) => `${c} as c${i}`).join(', ')} from ${from} where ${where}`;
  for (let k = 0; k < count; k++) {
    between?.();
    const r = await rows(store, select, [...params, ...bounds(k)]);
    const packed = new Float64Array(r.length * width);
    r.forEach((row, i) => row.forEach((v, j) => (packed[i * width + j] = Number(v))));
    each(packed, r.length);
  }
}

type ScanOptions = { customerId?: number; between?: () => void; range?: [number, number] };

/** Interactions as [customer_id, occurred_at, direction 0/1/2, event-group mask plus `conversation.bit` for a conversation channel]. */
export function scanInteractions(
  store: Store,
  groupMasks: ReadonlyMap<string, number>,
  conversation: { channels: readonly string[]; bit: number },
  each: (packed: Float64Array, rows: number) => void,
  o: ScanOptions = {},
): Promise<void> {
  const groups = caseOf('name', groupMasks);
  const channels = caseOf('channel', new Map(conversation.channels.map((c) => [c, conversation.bit])));
  const columns = ['customer_id', 'cast(occurred_at as bigint)', "(case direction when 'inbound' then 0 when 'outbound' then 1 else 2 end)", `(${groups.text}) + (${channels.text})`];
  return scan(store, 'interactions', columns, 'interactions', [...groups.params, ...channels.params], o.customerId, each, o.between, o.range);
}

/** Orders as [customer_id, occurred_at, total in hundredths]. */
export function scanOrders(store: Store, each: (packed: Float64Array, rows: number) => void, o: ScanOptions = {}): Promise<void> {
  return scan(store, 'orders', ['customer_id', 'cast(occurred_at as bigint)', 'cast(round(total * 100) as bigint)'], 'orders', [], o.customerId, each, o.between);
}

/** Rating and sentiment travel as integers: hundredths of a rating, ten-thousandths of sentiment; this stands for none. */
export const NONE = -999_999_999;

/** Feedback as [customer_id, created_at, kind mask, rating × 100 or NONE, label 1/−1/0, sentiment × 10,000 or NONE]. */
export function scanFeedback(store: Store, kindBits: ReadonlyMap<string, number>, each: (packed: Float64Array, rows: number) => void, o: ScanOptions = {}): Promise<void> {
  const kinds = caseOf('f.kind', kindBits);
  const columns = [
    'f.customer_id',
    'cast(f.created_at as bigint)',
    `(${kinds.text})`,
    `coalesce(cast(round(f.rating * 100) as bigint), ${NONE})`,
    "(case i.sentiment_label when 'positive' then 1 when 'negative' then -1 else 0 end)",
    `coalesce(cast(round(i.sentiment * 10000) as bigint), ${NONE})`,
  ];
  return scan(store, 'feedback', columns, 'feedback f left join feedback_insights i on i.feedback_id = f.id', kinds.params, o.customerId, each, o.between);
}

/** Every account membership as [account_id, customer_id]. */
export async function accountMembers(store: Store): Promise<unknown[][]> {
  return rows(store, 'select account_id, customer_id from customer_accounts', []);
}

/** CLV and P(alive) of every valued customer as [customer_id, clv or null, p_alive, first_day, segment or null]. */
export async function customerValues(store: Store): Promise<unknown[][]> {
  return rows(store, 'select customer_id, clv, p_alive, first_day, segment from customer_values', []);
}

/** The mean CLV of valued customers a referral brought (a `referred_by` trait), and how many. */
export async function referredClv(store: Store): Promise<{ customers: number; mean: number | null }> {
  const trait = store.dialect === 'postgres' ? "(c.traits::jsonb ->> 'referred_by')" : "json_extract(c.traits, '$.referred_by')";
  const [r] = await rows(store, `select count(*), avg(v.clv) from customers c join customer_values v on v.customer_id = c.id where v.clv is not null and c.traits like '%referred_by%' and ${trait} is not null and ${trait} <> ''`, []);
  return { customers: Number(r?.[0] ?? 0), mean: r?.[1] === null || r?.[1] === undefined ? null : Number(r[1]) };
}

/** The mean CLV of valued customers first seen at or after `since`, and how many. */
export async function recentClv(store: Store, since: number): Promise<{ customers: number; mean: number | null }> {
  const [r] = await rows(store, 'select count(*), avg(v.clv) from customers c join customer_values v on v.customer_id = c.id where v.clv is not null and c.first_seen >= ?', [since]);
  return { customers: Number(r?.[0] ?? 0), mean: r?.[1] === null || r?.[1] === undefined ? null : Number(r[1]) };
}

export const CUSTOMER_STAGE_COLUMNS = ['customer_id', 'run_id', 'stage', 'met', 'momentum', 'activity_recent', 'activity_previous', 'p_alive_then', 'clv', 'contribution', 'opportunity', 'opportunity_low', 'opportunity_high', 'lov'] as const;
export const ACCOUNT_STAGE_COLUMNS = ['account_id', 'run_id', 'stage', 'people', 'holders', 'basis', 'lead_customer_id', 'lov', 'opportunity'] as const;

/**
 * Replaces every placement (accounts, then customers) with the run's, committing `alongside`
 * with the customers', in turns of `serialize` (store/table-swap.ts).
 */
export async function replaceStages(
  store: Store,
  customers: { count: number; row: (i: number) => readonly unknown[] },
  accounts: { count: number; row: (i: number) => readonly unknown[] },
  alongside: (db: Conn) => Promise<void>,
  serialize: Serialize,
): Promise<void> {
  await refillTable(store, { table: 'account_stages', columns: ACCOUNT_STAGE_COLUMNS, ...accounts, parent: { column: 'account_id', table: 'accounts', key: 'id' } }, serialize);
  await refillTable(store, { table: 'customer_stages', columns: CUSTOMER_STAGE_COLUMNS, ...customers, parent: { column: 'customer_id', table: 'customers', key: 'id' }, alongside }, serialize);
}

/** The newest saved rules (the team's), or undefined when the default is in force. */
export async function latestRules(db: Conn): Promise<{ id: number; source: string; name: string; created_at: number; created_by: string | null } | undefined> {
  return db.selectFrom('stage_rules').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function saveRules(db: Conn, r: { source: string; name: string; at: number; by: string | null }): Promise<number> {
  const row = await db.insertInto('stage_rules').values({ source: r.source, name: r.name, created_at: r.at, created_by: r.by }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function rulesHistory(db: Conn): Promise<{ id: number; name: string; created_at: number; created_by: string | null }[]> {
  return db.selectFrom('stage_rules').select(['id', 'name', 'created_at', 'created_by']).orderBy('id', 'desc').limit(50).execute();
}

export async function customerStage(db: Conn, customerId: number): Promise<CustomerStagesTable | undefined> {
  return db.selectFrom('customer_stages').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

export async function accountStage(db: Conn, accountId: number): Promise<AccountStagesTable | undefined> {
  return db.selectFrom('account_stages').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

/** Customers, CLV and value at risk per stage and momentum, from the stored placements. */
export async function stageTotals(db: Conn): Promise<{ stage: number; momentum: string; customers: number; valued: number; clv: number | null; contribution: number | null; opportunity: number | null; lov: number | null }[]> {
  const r = await db
    .selectFrom('customer_stages as s')
    .leftJoin('customer_values as v', 'v.customer_id', 's.customer_id')
    .select((eb) => [
      's.stage',
      's.momentum',
      eb.fn.countAll<number>().as('customers'),
      eb.fn.count<number>('v.clv').as('valued'),
      eb.fn.sum<number>('v.clv').as('clv'),
      eb.fn.sum<number>('s.contribution').as('contribution'),
      eb.fn.sum<number>('s.opportunity').as('opportunity'),
      eb.fn.sum<number>('s.lov').as('lov'),
    ])
    .groupBy(['s.stage', 's.momentum'])
    .execute();
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return r.map((x) => ({ stage: Number(x.stage), momentum: String(x.momentum), customers: Number(x.customers), valued: Number(x.valued), clv: num(x.clv), contribution: num(x.contribution), opportunity: num(x.opportunity), lov: num(x.lov) }));
}

/** Customers, CLV, contributions, opportunity and LOV per micro-segment (null: not segmented). */
export async function segmentTotals(db: Conn): Promise<{ segment: number | null; customers: number; clv: number | null; contribution: number | null; opportunity: number | null; lov: number | null }[]> {
  const r = await db
    .selectFrom('customer_stages as s')
    .leftJoin('customer_values as v', 'v.customer_id', 's.customer_id')
    .select((eb) => ['v.segment', eb.fn.countAll<number>().as('customers'), eb.fn.sum<number>('s.clv').as('clv'), eb.fn.sum<number>('s.contribution').as('contribution'), eb.fn.sum<number>('s.opportunity').as('opportunity'), eb.fn.sum<number>('s.lov').as('lov')])
    .groupBy('v.segment')
    .execute();
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return r.map((x) => ({ segment: x.segment === null ? null : Number(x.segment), customers: Number(x.customers), clv: num(x.clv), contribution: num(x.contribution), opportunity: num(x.opportunity), lov: num(x.lov) }));
}

/** Customers with the largest opportunity of moving up (at a stage, if given). */
export async function topOpportunities(
  db: Conn,
  p: { stage?: number | undefined; limit: number; offset: number },
): Promise<{ user_id: string | null; name: string | null; email: string | null; stage: number; momentum: string; clv: number | null; contribution: number | null; opportunity: number | null; opportunity_low: number | null; opportunity_high: number | null; lov: number | null }[]> {
  let q = db
    .selectFrom('customer_stages as s')
    .innerJoin('customers as c', 'c.id', 's.customer_id')
    .select(['c.user_id', 'c.name', 'c.email', 's.stage', 's.momentum', 's.clv', 's.contribution', 's.opportunity', 's.opportunity_low', 's.opportunity_high', 's.lov'])
    .where('s.opportunity', 'is not', null)
    .where('s.opportunity', '>', 0);
  if (p.stage !== undefined) q = q.where('s.stage', '=', p.stage);
  return q.orderBy('s.opportunity', 'desc').orderBy('s.customer_id').limit(p.limit).offset(p.offset).execute();
}

/** Accounts per stage. */
export async function accountTotals(db: Conn): Promise<{ stage: number; accounts: number }[]> {
  const r = await db.selectFrom('account_stages').select((eb) => ['stage', eb.fn.countAll<number>().as('accounts')]).groupBy('stage').execute();
  return r.map((x) => ({ stage: Number(x.stage), accounts: Number(x.accounts) }));
}

/** An account's people with their stage and CLV, most valuable first. */
export async function accountPeople(db: Conn, accountId: number): Promise<{ customer_id: number; user_id: string | null; name: string | null; email: string | null; stage: number | null; momentum: string | null; clv: number | null }[]> {
  return db
    .selectFrom('customer_accounts as a')
    .innerJoin('customers as c', 'c.id', 'a.customer_id')
    .leftJoin('customer_stages as s', 's.customer_id', 'a.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 'a.customer_id')
    .select(['a.customer_id', 'c.user_id', 'c.name', 'c.email', 's.stage', 's.momentum', 'v.clv'])
    .where('a.account_id', '=', accountId)
    .orderBy('v.clv', (ob) => ob.desc().nullsLast())
    .limit(500)
    .execute();
}

/** A customer by their user id: the row id and first-seen time. */
export async function customerByUserId(db: Conn, userId: string): Promise<{ id: number; first_seen: number | null; user_id: string | null } | undefined> {
  return db.selectFrom('customers').select(['id', 'first_seen', 'user_id']).where('user_id', '=', userId).executeTakeFirst();
}

export async function accountByGroupId(db: Conn, groupId: string): Promise<{ id: number; group_id: string; name: string | null } | undefined> {
  return db.selectFrom('accounts').select(['id', 'group_id', 'name']).where('group_id', '=', groupId).executeTakeFirst();
}

/** One customer's P(alive) and first purchase day from the latest customer-value run. */
export async function customerValueOf(db: Conn, customerId: number): Promise<{ p_alive: number; clv: number | null; segment: number | null } | undefined> {
  return db.selectFrom('customer_values').select(['p_alive', 'clv', 'segment']).where('customer_id', '=', customerId).executeTakeFirst();
}

/** Customers at a stage (and momentum), most valuable first. */
export async function customersAtStage(
  db: Conn,
  p: { stage: number; momentum?: string | undefined; limit: number; offset: number },
): Promise<{ user_id: string | null; name: string | null; email: string | null; stage: number; momentum: string; clv: number | null; p_alive: number | null }[]> {
  let q = db
    .selectFrom('customer_stages as s')
    .innerJoin('customers as c', 'c.id', 's.customer_id')
    .leftJoin('customer_values as v', 'v.customer_id', 's.customer_id')
    .select(['c.user_id', 'c.name', 'c.email', 's.stage', 's.momentum', 'v.clv', 'v.p_alive'])
    .where('s.stage', '=', p.stage);
  if (p.momentum) q = q.where('s.momentum', '=', p.momentum as 'warming');
  return q.orderBy('v.clv', (ob) => ob.desc().nullsLast()).orderBy('s.customer_id').limit(p.limit).offset(p.offset).execute();
}
