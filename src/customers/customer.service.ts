import { z } from 'zod';
import { MOMENTA, STAGE_KEYS, type Momentum } from '../models/stages/rules.js';
import { storedStage } from '../relationships/stages.service.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { notFound } from '../core/errors.js';
import { round } from '../core/numbers.js';
import { DIRECTIONS } from '../core/vocabulary.js';
import type { Conn, Store } from '../store/db.js';
import type { CustomersTable, FeedbackTable, InteractionsTable, OrderLinesTable, OrdersTable } from '../store/schema.js';
import type { Selectable } from 'kysely';
import { parseTraits } from '../ingest/traits.js';
import * as repo from './customer.repository.js';
import { CurrencyCode, CustomerValue, customerValue } from '../value/value.service.js';
import { storeCurrency } from '../value/currency.js';
import { CustomerListening, customerListening } from '../listening/themes.service.js';
import { forgetCustomerFeedback } from '../listening/forget.js';
import { deleteCustomerDocsAll, mergeFullText } from '../search/index.repository.js';
import { reclaimErased } from '../store/reclaim.js';

/** API shapes (zod, so they validate, type and document at once) and the row → API mappers. */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const CustomerSummary = z
  .object({
    userId: z.string(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    firstSeen: z.string().nullable(),
    lastSeen: z.string().nullable(),
    orders: z.number(),
    revenue: z.number().describe("sum of the customer's order totals in `revenueCurrency`, with any in `otherCurrencies` added unconverted"),
    revenueCurrency: z.string().nullable().describe("ISO 4217: the currency of most of this customer's order value; null without orders"),
    otherCurrencies: z.array(z.string()).describe("the customer's other order currencies, summed into `revenue` unconverted (usually none)"),
    interactions: z.number(),
    feedback: z.number(),
    clv: z.number().nullable().describe('from the latest customer-value run, in the value currency (`currency` of the page, `value.currency` of a profile); null without orders or before the first run'),
    pAlive: z.number().nullable(),
    stage: z.enum(STAGE_KEYS).nullable().describe('the LOVE stage of the latest stages run (null before it placed them); why: GET /api/customers/{userId}/stage'),
    momentum: z.enum(MOMENTA).nullable().describe('warming, steady or cooling, from the same run'),
    lov: z.number().nullable().describe('Lifetime Opportunity Value from the same run: CLV + contributions + opportunity; its parts: GET /api/customers/{userId}/stage'),
  })
  .meta({ id: 'CustomerSummary' });
export type CustomerSummary = z.infer<typeof CustomerSummary>;

export const CustomerPage = z
  .object({
    items: z.array(CustomerSummary),
    total: z.number().describe('identified customers matching the filter `q`, on every page'),
    currency: CurrencyCode,
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'CustomerPage' });

export const Customer360 = CustomerSummary.extend({
  traits: z.record(z.string(), z.unknown()),
  anonymousIds: z.array(z.string()),
  accounts: z.array(z.object({ groupId: z.string(), name: z.string().nullable(), traits: z.record(z.string(), z.unknown()) })),
  revenueByCurrency: z.array(z.object({ currency: z.string(), total: z.number().describe('sum of the order totals in `currency`'), orders: z.number() })),
  interactionMix: z.array(z.object({ channel: z.string(), direction: z.enum(DIRECTIONS), count: z.number() })),
  feedbackByKind: z.array(z.object({ kind: z.string(), count: z.number() })),
  value: CustomerValue.nullable().describe('CLV, P(alive), RFM and how they were computed; null without orders or before the first run'),
  listening: CustomerListening.nullable().describe('what they say: the themes they raised, their mean sentiment and intents; null before their feedback is analysed'),
  relationship: z
    .object({
      stage: z.object({ key: z.enum(STAGE_KEYS), name: z.string(), description: z.string() }),
      momentum: z.enum(MOMENTA),
      explanation: z.string().describe('where the placement and the LOV are explained, rule by rule and part by part'),
      lov: z
        .object({ total: z.number(), clv: z.number(), contribution: z.number(), opportunity: z.number().nullable(), opportunityLow: z.number().nullable(), opportunityHigh: z.number().nullable() })
        .nullable()
        .describe('Lifetime Opportunity Value = clv + contribution + opportunity (opportunity null without a stage history)'),
      history: z.object({ months: z.array(z.string()), stages: z.string().describe('one character a month-end: 0 Introduction … 4 Co-creation, - not yet seen') }).nullable(),
    })
    .nullable()
    .describe('the LOVE stage and momentum of the latest stages run; null before it placed them'),
}).meta({ id: 'Customer360' });
export type Customer360 = z.infer<typeof Customer360>;

const TimelineItem = z
  .object({
    kind: z.enum(['order', 'interaction', 'feedback']),
    id: z.number(),
    at: z.string(),
    title: z.string(),
    channel: z.string().nullable(),
    direction: z.enum(DIRECTIONS).nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'TimelineItem' });
export type TimelineItem = z.infer<typeof TimelineItem>;
export const TimelinePage = z.object({ items: z.array(TimelineItem), nextCursor: z.string().nullable() }).meta({ id: 'TimelinePage' });

export const ListParams = z.object({
  q: z.string().max(200).optional().describe('matches user id, e-mail or name'),
  sort: z
    .enum(['last_seen', 'first_seen', 'revenue', 'orders', 'interactions', 'name', 'clv'])
    .default('last_seen')
    .describe('clv: by the latest customer-value run; customers without a value come last in either order'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});
export type ListParams = z.infer<typeof ListParams>;

export const TimelineParams = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  kinds: z
    .string()
    .regex(/^(order|interaction|feedback)(,(order|interaction|feedback))*$/)
    .optional()
    .describe('comma-separated subset of order,interaction,feedback'),
});
export type TimelineParams = z.infer<typeof TimelineParams>;

/** A customer's order value per currency, largest first. */
type Money = { currency: string; total: number }[];

export function toSummary(c: Selectable<CustomersTable> & { clv?: number | null; p_alive?: number | null; stage?: number | null; momentum?: Momentum | null; lov?: number | null }, money: Money = []): CustomerSummary {
  const byValue = [...money].sort((a, b) => b.total - a.total || (a.currency < b.currency ? -1 : 1));
  return {
    userId: c.user_id ?? '',
    name: c.name,
    email: c.email,
    firstSeen: iso(c.first_seen),
    lastSeen: iso(c.last_seen),
    orders: c.order_count,
    revenue: round(c.revenue),
    revenueCurrency: byValue[0]?.currency ?? null,
    otherCurrencies: byValue.slice(1).map((m) => m.currency),
    interactions: c.interaction_count,
    feedback: c.feedback_count,
    clv: c.clv === undefined || c.clv === null ? null : round(c.clv),
    pAlive: c.p_alive === undefined || c.p_alive === null ? null : round(c.p_alive, 4),
    stage: c.stage === undefined || c.stage === null ? null : (STAGE_KEYS[c.stage] ?? null),
    momentum: c.momentum ?? null,
    lov: c.lov === undefined || c.lov === null ? null : round(Number(c.lov)),
  };
}

const SORT_VALUE: Record<repo.CustomerSort, (c: Selectable<CustomersTable> & { clv: number | null }) => string | number | null> = {
  last_seen: (c) => c.last_seen,
  first_seen: (c) => c.first_seen,
  revenue: (c) => c.revenue,
  orders: (c) => c.order_count,
  interactions: (c) => c.interaction_count,
  name: (c) => c.name,
  clv: (c) => c.clv,
};

const isListKey = (v: unknown): v is [string | number | null, number] => Array.isArray(v) && v.length === 2 && typeof v[1] === 'number';

/** One page of the list after the keyset cursor, each row with its own currencies, and the next cursor. */
async function listPage(db: Conn, p: Omit<ListParams, 'cursor'> & { cursor?: string | undefined }) {
  const after = p.cursor ? decodeCursor(p.cursor, isListKey) : undefined;
  const rows = await repo.listCustomers(db, { q: p.q, sort: p.sort, order: p.order, limit: p.limit, after: after ? { value: after[0], id: after[1] } : undefined });
  const page = rows.slice(0, p.limit);
  const money = new Map<number, Money>();
  for (const m of await repo.currenciesOf(db, page.map((c) => c.id))) {
    const list = money.get(m.customer_id) ?? [];
    list.push({ currency: m.currency, total: Number(m.total) });
    money.set(m.customer_id, list);
  }
  const last = page[page.length - 1];
  return { rows: page, money, nextCursor: rows.length > p.limit && last ? encodeCursor([SORT_VALUE[p.sort](last), last.id]) : null };
}

export async function listCustomers(store: Store, p: ListParams) {
  const [page, total, currency] = await Promise.all([listPage(store.db, p), repo.countCustomers(store.db, p.q), storeCurrency(store)]);
  return {
    items: page.rows.map((c) => toSummary(c, page.money.get(c.id))),
    total,
    currency: currency?.code ?? null,
    nextCursor: page.nextCursor,
  };
}

/** The list's export: its filter and order without paging (the CSV takes every row). */
export const ListExportParams = ListParams.omit({ limit: true, cursor: true });
export type ListExportParams = z.infer<typeof ListExportParams>;

/** The columns of the customer list's CSV, in order. */
export const CUSTOMERS_CSV_HEADER = [
  'user_id',
  'name',
  'email',
  'first_seen',
  'last_seen',
  'orders',
  'revenue',
  'revenue_currency',
  'revenue_other_currencies',
  'clv',
  'p_alive',
  'value_currency',
  'rfm_group',
  'segment',
  'interactions',
  'feedback',
];

/**
 * Every customer of the list (filter `q`, in the list's order), page after page, as CSV rows
 * (CUSTOMERS_CSV_HEADER), with the count the export is bounded by.
 */
export async function customersExport(store: Store, p: ListExportParams, pageSize = 1000) {
  const [total, currency] = await Promise.all([repo.countCustomers(store.db, p.q), storeCurrency(store)]);
  const code = currency?.code ?? '';
  async function* rows(): AsyncGenerator<(string | number | null)[][]> {
    let cursor: string | undefined;
    for (;;) {
      const page = await listPage(store.db, { ...p, cursor, limit: pageSize });
      yield page.rows.map((c) => {
        const s = toSummary(c, page.money.get(c.id));
        return [s.userId, s.name, s.email, s.firstSeen, s.lastSeen, s.orders, s.revenue, s.revenueCurrency, s.otherCurrencies.join(';'), s.clv, s.pAlive, s.clv === null ? null : code, c.rfm_group, c.segment, s.interactions, s.feedback];
      });
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }
  return { total, rows: rows() };
}

/** Whether any customer is stored: `rapport serve` loads the demo company into an empty database only. */
export async function hasCustomers(db: Conn): Promise<boolean> {
  return repo.anyCustomer(db);
}

async function customerOrThrow(db: Conn, userId: string) {
  const c = await repo.customerByUserId(db, userId);
  if (!c) throw notFound(`customer "${userId}"`);
  return c;
}

export async function getCustomer(store: Store, userId: string): Promise<Customer360> {
  const db = store.db;
  const c = await customerOrThrow(db, userId);
  const [accounts, anon, mix, money, fb, value, listening, relationship] = await Promise.all([
    repo.accountsOf(db, c.id),
    repo.anonymousIdsOf(db, c.id),
    repo.interactionMix(db, c.id),
    repo.revenueByCurrency(db, c.id),
    repo.feedbackMix(db, c.id),
    customerValue(store, c.id),
    customerListening(db, c.id),
    storedStage(store, c.id),
  ]);
  return {
    ...toSummary(c, money.map((m) => ({ currency: m.currency, total: Number(m.total) }))),
    // One source of truth: the summary fields repeat the value block's.
    clv: value ? value.clv : null,
    pAlive: value ? value.pAlive : null,
    stage: relationship?.stage.key ?? null,
    momentum: relationship?.momentum ?? null,
    lov: relationship?.lov ? round(relationship.lov.total) : null,
    traits: parseTraits(c.traits),
    anonymousIds: anon.map((a) => a.value),
    accounts: accounts.map((a) => ({ groupId: a.group_id, name: a.name, traits: parseTraits(a.traits) })),
    revenueByCurrency: money.map((m) => ({ currency: m.currency, total: round(Number(m.total)), orders: Number(m.count) })),
    interactionMix: mix
      .map((m) => ({ channel: m.channel, direction: m.direction, count: Number(m.count) }))
      .sort((a, b) => b.count - a.count),
    feedbackByKind: fb.map((f) => ({ kind: f.kind, count: Number(f.count) })),
    value,
    listening,
    relationship: relationship ? { ...relationship, explanation: `/api/customers/${encodeURIComponent(userId)}/stage` } : null,
  };
}

function fromOrder(o: Selectable<OrdersTable>, lines: Selectable<OrderLinesTable>[]): TimelineItem {
  return {
    kind: 'order',
    id: o.id,
    at: new Date(o.occurred_at).toISOString(),
    title: `Order ${o.order_id}: ${o.total.toFixed(2)} ${o.currency}`,
    channel: null,
    direction: 'inbound',
    details: {
      orderId: o.order_id,
      total: o.total,
      currency: o.currency,
      source: o.source,
      lines: lines.map((l) => ({ productId: l.product_id, name: l.name, category: l.category, price: l.price, quantity: l.quantity })),
    },
  };
}

function fromInteraction(i: Selectable<InteractionsTable>): TimelineItem {
  return {
    kind: 'interaction',
    id: i.id,
    at: new Date(i.occurred_at).toISOString(),
    title: i.name,
    channel: i.channel,
    direction: i.direction,
    details: { type: i.type, source: i.source, properties: parseTraits(i.properties) },
  };
}

function fromFeedback(f: Selectable<FeedbackTable>): TimelineItem {
  return {
    kind: 'feedback',
    id: f.id,
    at: new Date(f.created_at).toISOString(),
    title: `${f.kind.replace('_', ' ')}${f.rating === null ? '' : ` (${f.rating})`}`,
    channel: null,
    direction: 'inbound',
    details: { kind: f.kind, text: f.text, rating: f.rating, status: f.status, source: f.source, properties: parseTraits(f.properties) },
  };
}

/**
 * The customer's history, newest first, across orders, interactions and feedback. Each table
 * is read by keyset from the cursor; the pages are merged on (time, kind rank, id).
 */
export async function timeline(db: Conn, userId: string, p: TimelineParams) {
  const c = await customerOrThrow(db, userId);
  const bound = p.cursor
    ? decodeCursor(p.cursor, (v): v is repo.TimelineBound => typeof v === 'object' && v !== null && 'at' in v && 'rank' in v && 'id' in v)
    : undefined;
  const kinds = new Set((p.kinds ?? 'order,interaction,feedback').split(','));
  const n = p.limit + 1;
  const [orders, interactions, feedback] = await Promise.all([
    kinds.has('order') ? repo.timelineOrders(db, c.id, n, bound) : [],
    kinds.has('interaction') ? repo.timelineInteractions(db, c.id, n, bound) : [],
    kinds.has('feedback') ? repo.timelineFeedback(db, c.id, n, bound) : [],
  ]);
  type Entry = { at: number; rank: number; id: number; make: () => TimelineItem };
  const entries: Entry[] = [];
  const pageOrders = new Map<number, Selectable<OrdersTable>>();
  for (const o of orders) {
    pageOrders.set(o.id, o);
    entries.push({ at: o.occurred_at, rank: repo.TIMELINE_RANK.order, id: o.id, make: () => fromOrder(o, linesByOrder.get(o.id) ?? []) });
  }
  for (const i of interactions) entries.push({ at: i.occurred_at, rank: repo.TIMELINE_RANK.interaction, id: i.id, make: () => fromInteraction(i) });
  for (const f of feedback) entries.push({ at: f.created_at, rank: repo.TIMELINE_RANK.feedback, id: f.id, make: () => fromFeedback(f) });
  entries.sort((a, b) => b.at - a.at || b.rank - a.rank || b.id - a.id);
  const page = entries.slice(0, p.limit);
  const orderRefs = page.filter((e) => e.rank === repo.TIMELINE_RANK.order).map((e) => e.id);
  const linesByOrder = new Map<number, Selectable<OrderLinesTable>[]>();
  for (const l of await repo.linesOf(db, orderRefs)) {
    const list = linesByOrder.get(l.order_ref);
    if (list) list.push(l);
    else linesByOrder.set(l.order_ref, [l]);
  }
  const last = page[page.length - 1];
  return {
    items: page.map((e) => e.make()),
    nextCursor: entries.length > p.limit && last ? encodeCursor({ at: last.at, rank: last.rank, id: last.id }) : null,
  };
}

export const ErasureReport = z
  .object({
    userId: z.string(),
    erased: z
      .object({ customers: z.number(), interactions: z.number(), orders: z.number(), orderLines: z.number(), feedback: z.number(), identities: z.number() })
      .describe('the main counts (also in `removed`)'),
    removed: z.array(z.object({ table: z.string(), rows: z.number() })).describe('every table that held rows about the customer, and how many went (0: checked, none)'),
    models: z
      .array(z.object({ purpose: z.string(), action: z.enum(['scrubbed', 'dropped']), terms: z.number().describe('vocabulary entries removed'), note: z.string() }))
      .describe('stored text models that learned from their feedback: the themes model scrubbed of the words only they used, tag and sentiment models dropped and retrained at the next listening run'),
    themes: z.number().describe('theme rows whose label, key phrases or quotes were scrubbed of them'),
    searchIndex: z.object({ documents: z.number().describe('search documents about them removed'), merged: z.boolean().describe("SQLite: the full-text index's segments merged, so none holds their words") }),
    storage: z.object({
      actions: z.array(z.string()).describe('what was done to the database files'),
      limits: z.array(z.string()).describe('what an erasure cannot reach (backups, PostgreSQL write-ahead log archives…)'),
    }),
  })
  .meta({ id: 'Erasure' });
export type ErasureReport = z.infer<typeof ErasureReport>;

/** Tables an erasure may leave old row versions in besides those it deletes from (PostgreSQL vacuums them). */
const SCRUBBED_TABLES = ['themes', 'text_models', 'meta'] as const;

/**
 * Erases a customer and every trace of them (privacy requests), in one transaction: their rows
 * in every table, what the listening models learned from their feedback
 * (listening/forget.ts), their search documents with the full-text index's old segments; then,
 * committed, the database files' copies of the old pages (store/reclaim.ts). The report says
 * what went from where, and what no erasure can reach.
 */
export async function eraseCustomer(store: Store, userId: string, now = Date.now()): Promise<ErasureReport> {
  const done = await store.db.transaction().execute(async (trx) => {
    const c = await customerOrThrow(trx, userId);
    const removed = await repo.rowsAbout(trx, c);
    const forgotten = await forgetCustomerFeedback(trx, c.id, now);
    await repo.deleteCustomer(trx, c);
    await deleteCustomerDocsAll(trx, c.id);
    const merged = await mergeFullText(store, trx);
    return { removed, forgotten, merged };
  });
  const rows = (t: repo.ErasedTable) => done.removed.find((r) => r.table === t)?.rows ?? 0;
  const storage = await reclaimErased(store, [...done.removed.map((r) => r.table), ...SCRUBBED_TABLES]);
  return {
    userId,
    erased: { customers: 1, interactions: rows('interactions'), orders: rows('orders'), orderLines: rows('order_lines'), feedback: rows('feedback'), identities: rows('identities') },
    removed: done.removed,
    models: done.forgotten.models,
    themes: done.forgotten.themes,
    searchIndex: { documents: rows('search_docs'), merged: done.merged },
    storage,
  };
}

export const Overview = z
  .object({
    customers: z.number(),
    identified: z.number(),
    orders: z.number(),
    revenue: z.number().describe('sum of all order totals, in `currency` with orders in other currencies added unconverted (`currencyNote`)'),
    currency: CurrencyCode,
    currencyNote: z.string().nullable().describe('null with one currency; else which orders are summed unconverted'),
    interactions: z.number(),
    feedbackByKind: z.array(z.object({ kind: z.string(), count: z.number() })),
    interactionsByMonth: z.array(z.object({ month: z.string(), inbound: z.number(), outbound: z.number(), mutual: z.number() })),
  })
  .meta({ id: 'Overview' });

export async function overview(store: Store): Promise<z.infer<typeof Overview>> {
  const db = store.db;
  const [t, monthly, currency] = await Promise.all([repo.totals(db), repo.monthlyInteractions(db, store.dialect), storeCurrency(store)]);
  const months = new Map<string, { month: string; inbound: number; outbound: number; mutual: number }>();
  for (const m of monthly) {
    const row = months.get(m.month) ?? { month: m.month, inbound: 0, outbound: 0, mutual: 0 };
    row[m.direction] += Number(m.count);
    months.set(m.month, row);
  }
  return {
    customers: Number(t.customers),
    identified: Number(t.identified),
    orders: Number(t.orders ?? 0),
    revenue: round(Number(t.revenue ?? 0)),
    currency: currency?.code ?? null,
    currencyNote: currency?.note ?? null,
    interactions: Number(t.interactions ?? 0),
    feedbackByKind: t.feedback.map((f) => ({ kind: f.kind, count: Number(f.count) })),
    interactionsByMonth: [...months.values()],
  };
}
