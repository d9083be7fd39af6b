/**
 * The defect ledger: support contacts by type × cause over time, time to resolution, and for
 * each defect (a type × cause pair, or a theme) who raised it, what they are worth and whether
 * they left; plus the features-vs-fixes balance of demand month by month.
 *
 * Churn comes from the latest customer-value run: a customer counts as churned when their
 * P(alive) is below one half. The rate among those who raised a defect is compared with the
 * rate among the other valued repeat buyers, with Wilson and Newcombe 95% intervals
 * (src/models/stats/proportions.ts); one-time buyers are left out of churn rates, since BG/NBD
 * gives them P(alive) = 1. "Value lost" sums the value at risk (CLV if surely active ×
 * P(left)) of the churned customers who bought nothing after raising it.
 */
import { z } from 'zod';
import { round, roundOrNull } from '../core/numbers.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/time.js';
import { newcombe, quantile, wilson } from '../models/stats/proportions.js';
import type { Store } from '../store/db.js';
import { analysedBetween, customerValuesOf, feedbackAndThemesStamp, latestRunIds, ticketsBetween, valueBaseline } from './defects.repository.js';

/** P(alive) below this counts as churned. */
export const CHURN_P_ALIVE = 0.5;

const Interval = z.object({ estimate: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable() });

export const ChurnLink = z
  .object({
    valued: z.number().describe('customers who raised it and have a customer value'),
    customers: z.number().describe('of them, repeat buyers: the customers whose churn the model can see'),
    churned: z.number().describe('of those, P(alive) < 0.5'),
    rate: Interval.describe('churn rate among them, Wilson 95% interval'),
    difference: Interval.describe('rate minus the rate among the other repeat buyers, Newcombe 95% interval'),
    signal: z.enum(['higher', 'lower', 'same']).describe('higher/lower when the difference interval excludes 0'),
    clvSum: z.number().describe('sum of the CLV of the valued customers who raised it'),
    churnedAfter: z.number().describe('churned customers with no purchase after raising it'),
    valueLost: z.number().describe('sum of the value at risk of those churned customers'),
  })
  .meta({ id: 'ChurnLink' });
export type ChurnLink = z.infer<typeof ChurnLink>;

export const LedgerRow = z
  .object({
    key: z.string(),
    type: z.string().optional(),
    cause: z.string().optional(),
    themeId: z.number().optional(),
    label: z.string(),
    contacts: z.number(),
    open: z.number(),
    customersAffected: z.number(),
    resolution: z.object({ resolved: z.number(), medianHours: z.number().nullable(), p90Hours: z.number().nullable() }),
    churn: ChurnLink,
  })
  .meta({ id: 'DefectLedgerRow' });
export type LedgerRow = z.infer<typeof LedgerRow>;

export const DefectLedger = z
  .object({
    available: z.boolean(),
    tickets: z.number(),
    baseline: z.object({ customers: z.number().describe('valued repeat buyers'), churned: z.number(), rate: Interval, valueRunId: z.number().nullable() }),
    totals: z
      .object({ customersAffected: z.number(), churnedAfter: z.number(), valueLost: z.number() })
      .describe('over all tickets, each customer once (rows overlap: a customer may raise several types)'),
    byTypeCause: z.array(LedgerRow),
    byTheme: z.array(LedgerRow),
    monthly: z.array(z.object({ month: z.string(), type: z.string(), contacts: z.number(), medianHours: z.number().nullable() })),
    featuresVsFixes: z.array(z.object({ month: z.string(), fixes: z.number(), requests: z.number(), fixShare: z.number().nullable() })),
    explanation: z.array(z.string()),
  })
  .meta({ id: 'DefectLedger' });
export type DefectLedger = z.infer<typeof DefectLedger>;

export const LedgerParams = z.object({
  from: z.iso.date().optional().describe('first day (UTC) of contacts to count'),
  to: z.iso.date().optional().describe('last day (UTC) of contacts to count'),
  minContacts: z.coerce.number().int().min(1).max(10_000).default(1).describe('leave out rows with fewer contacts'),
});
export type LedgerParams = z.infer<typeof LedgerParams>;

export const LEDGER_EXPLANATION = [
  'Contacts are support tickets; type and cause come from the ticket’s `type` and `cause` properties ("unspecified" when absent).',
  'Time to resolution: from the ticket’s creation to its `resolved_at` property; open tickets are counted as open, not resolved.',
  `Churned: P(alive) below ${CHURN_P_ALIVE} in the latest customer-value run. Churn rates count repeat buyers only: BG/NBD lets a customer leave only after a repeat purchase, so a one-time buyer’s P(alive) is 1 and says nothing about churn. The baseline is the rate among all valued repeat buyers.`,
  'Intervals are 95%: Wilson for a rate; for the difference, Newcombe’s hybrid score interval between those who raised it and the other repeat buyers (two separate groups). "Higher" or "lower" only when that interval excludes zero.',
  'Value lost: the value at risk (CLV the customer would have if surely active × the probability they have left) of churned customers who bought nothing after raising it.',
  'Features vs fixes: a fix is demand about something broken (tickets of type defect or cause bug/ux, other feedback whose intent is a complaint); a request asks for something new (tickets of type feature_request or cause missing_feature, other feedback whose intent is an improvement request).',
];

interface ContactRow {
  id: number;
  customerId: number | null;
  at: number;
  type: string;
  cause: string;
  resolvedAt: number | null;
  open: boolean;
}

interface ValueRow {
  pAlive: number;
  /** Bought on two days or more: P(alive) can fall below 1 only then. */
  repeat: boolean;
  clv: number;
  valueAtRisk: number;
  lastDay: number;
}

const OPEN_STATUSES = new Set(['open', 'pending', 'new', 'hold', 'on-hold', 'in_progress']);

function parseTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  if (typeof v === 'string' && v.length > 0) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

function dayBounds(p: LedgerParams): { from: number; to: number } {
  return {
    from: p.from ? Date.parse(`${p.from}T00:00:00Z`) : Number.MIN_SAFE_INTEGER,
    to: p.to ? Date.parse(`${p.to}T00:00:00Z`) + DAY_MS : Number.MAX_SAFE_INTEGER,
  };
}

async function readContacts(store: Store, bounds: { from: number; to: number }): Promise<ContactRow[]> {
  const rows = await ticketsBetween(store.db, bounds);
  return rows.map((r) => {
    let props: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(r.properties);
      if (parsed && typeof parsed === 'object') props = parsed as Record<string, unknown>;
    } catch {
      // a malformed properties document counts as "unspecified"
    }
    const text = (v: unknown): string => (typeof v === 'string' && v.trim() ? v.trim().toLowerCase() : 'unspecified');
    const at = Number(r.created_at);
    const resolvedAt = parseTime(props['resolved_at'] ?? props['resolvedAt']);
    return {
      id: Number(r.id),
      customerId: r.customer_id === null ? null : Number(r.customer_id),
      at,
      type: text(props['type'] ?? props['ticket_type']),
      cause: text(props['cause'] ?? props['root_cause']),
      resolvedAt: resolvedAt !== null && resolvedAt >= at ? resolvedAt : null,
      open: OPEN_STATUSES.has(r.status.toLowerCase()),
    };
  });
}

async function readValues(store: Store, customerIds: Set<number>): Promise<{ values: Map<number, ValueRow>; runId: number | null; baseline: { customers: number; churned: number } }> {
  const base = await valueBaseline(store.db, CHURN_P_ALIVE);
  const values = new Map<number, ValueRow>();
  for (const r of await customerValuesOf(store.db, [...customerIds])) {
    values.set(Number(r.customer_id), { pAlive: r.p_alive, repeat: r.purchase_days >= 2, clv: r.clv ?? 0, valueAtRisk: r.value_at_risk ?? 0, lastDay: r.last_day });
  }
  return {
    values,
    runId: base?.run_id == null ? null : Number(base.run_id),
    baseline: { customers: Number(base?.repeaters ?? 0), churned: Number(base?.churned ?? 0) },
  };
}

const nullableInterval = (i: { estimate: number; low: number; high: number }) => ({ estimate: roundOrNull(i.estimate, 4), low: roundOrNull(i.low, 4), high: roundOrNull(i.high, 4) });

/**
 * Churn among the customers who raised something, against the baseline. `raisedAt` maps each
 * customer to the first time they raised it: a churned customer whose last purchase day is
 * before that time bought nothing after raising it.
 */
export function churnLink(raisedAt: Map<number, number>, values: Map<number, ValueRow>, baseline: { customers: number; churned: number }): ChurnLink {
  let valued = 0;
  let n = 0;
  let k = 0;
  let clvSum = 0;
  let churnedAfter = 0;
  let valueLost = 0;
  for (const [customer, at] of raisedAt) {
    const v = values.get(customer);
    if (!v) continue;
    valued++;
    clvSum += v.clv;
    if (!v.repeat) continue;
    n++;
    if (v.pAlive < CHURN_P_ALIVE) {
      k++;
      if ((v.lastDay + 1) * DAY_MS <= at + DAY_MS) {
        churnedAfter++;
        valueLost += v.valueAtRisk;
      }
    }
  }
  const rate = wilson(k, n);
  // Against the other repeat buyers: the baseline includes this group, and the interval
  // assumes two independent groups.
  const diff = newcombe(k, n, baseline.churned - k, baseline.customers - n);
  const signal = n === 0 || !Number.isFinite(diff.estimate) ? 'same' : diff.low > 0 ? 'higher' : diff.high < 0 ? 'lower' : 'same';
  return {
    valued,
    customers: n,
    churned: k,
    rate: nullableInterval(rate),
    difference: nullableInterval(diff),
    signal,
    clvSum: round(clvSum),
    churnedAfter,
    valueLost: round(valueLost),
  };
}

interface Group {
  contacts: number;
  open: number;
  raisedAt: Map<number, number>;
  hours: number[];
}

const newGroup = (): Group => ({ contacts: 0, open: 0, raisedAt: new Map(), hours: [] });

function addTo(groups: Map<string, Group>, key: string, c: Contact): void {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = newGroup()));
  count(g, c);
}

type Contact = { customerId: number | null; at: number; open: boolean; resolvedAt: number | null };

/** Counts one contact into a group: open or resolved (and how fast), and when its customer first raised it. */
function count(g: Group, c: Contact): void {
  g.contacts++;
  if (c.open) g.open++;
  if (c.resolvedAt !== null && !c.open) g.hours.push((c.resolvedAt - c.at) / HOUR_MS);
  if (c.customerId !== null) {
    const prev = g.raisedAt.get(c.customerId);
    if (prev === undefined || c.at < prev) g.raisedAt.set(c.customerId, c.at);
  }
}

function ledgerRow(key: string, label: string, g: Group, values: Map<number, ValueRow>, baseline: { customers: number; churned: number }): LedgerRow {
  return {
    key,
    label,
    contacts: g.contacts,
    open: g.open,
    customersAffected: g.raisedAt.size,
    resolution: { resolved: g.hours.length, medianHours: roundOrNull(quantile(g.hours, 0.5), 1), p90Hours: roundOrNull(quantile(g.hours, 0.9), 1) },
    churn: churnLink(g.raisedAt, values, baseline),
  };
}

const FIX_TYPES = new Set(['defect', 'bug', 'incident', 'problem']);
const FIX_CAUSES = new Set(['bug', 'ux']);
const REQUEST_TYPES = new Set(['feature_request', 'feature', 'request', 'idea']);
const REQUEST_CAUSES = new Set(['missing_feature']);

/** Ledgers already computed, per store: reading every ticket takes seconds at 100,000s of them. */
const cache = new WeakMap<Store, Map<string, { at: number; ledger: DefectLedger }>>();
/** A cached ledger is used for at most this long, whatever changed. */
const CACHE_MS = 10 * MINUTE_MS;

/** What the ledger depends on: new feedback, a listening or value run, a theme edit. */
async function ledgerStamp(store: Store): Promise<string> {
  const [stamp, runs] = await Promise.all([feedbackAndThemesStamp(store.db), latestRunIds(store.db)]);
  return [stamp.feedbackId, stamp.feedbackCount, runs.listen, runs.value, stamp.themesAt].map((x) => String(x ?? 0)).join(':');
}

/**
 * The ledger over stored tickets (and, for themes and the features-vs-fixes balance, over
 * all analysed feedback). Kept until feedback, a run or a theme changes (at most 10 minutes).
 */
export async function defectLedger(store: Store, params: LedgerParams): Promise<DefectLedger> {
  const key = `${await ledgerStamp(store)}|${params.from ?? ''}|${params.to ?? ''}|${params.minContacts}`;
  let byKey = cache.get(store);
  if (!byKey) cache.set(store, (byKey = new Map<string, { at: number; ledger: DefectLedger }>()));
  const hit = byKey.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.ledger;
  const ledger = await computeLedger(store, params);
  if (byKey.size > 20) byKey.clear();
  byKey.set(key, { at: Date.now(), ledger });
  return ledger;
}

async function computeLedger(store: Store, params: LedgerParams): Promise<DefectLedger> {
  const bounds = dayBounds(params);
  const contacts = await readContacts(store, bounds);
  const themed = await analysedBetween(store.db, bounds);

  const customerIds = new Set<number>();
  for (const c of contacts) if (c.customerId !== null) customerIds.add(c.customerId);
  for (const r of themed) if (r.customer_id !== null && r.theme_id !== null) customerIds.add(Number(r.customer_id));
  const { values, runId, baseline } = await readValues(store, customerIds);

  const byPair = new Map<string, Group>();
  const everyone = newGroup();
  const monthly = new Map<string, { contacts: number; hours: number[] }>();
  const balance = new Map<string, { fixes: number; requests: number }>();
  const bump = (month: string, what: 'fixes' | 'requests') => {
    const b = balance.get(month) ?? { fixes: 0, requests: 0 };
    b[what]++;
    balance.set(month, b);
  };
  const contactById = new Map<number, ContactRow>();
  for (const c of contacts) {
    contactById.set(c.id, c);
    addTo(byPair, `${c.type}\u0000${c.cause}`, c);
    count(everyone, c);
    const mk = `${monthOf(c.at)}\u0000${c.type}`;
    const m = monthly.get(mk) ?? { contacts: 0, hours: [] };
    m.contacts++;
    if (c.resolvedAt !== null && !c.open) m.hours.push((c.resolvedAt - c.at) / HOUR_MS);
    monthly.set(mk, m);
    if (FIX_TYPES.has(c.type) || FIX_CAUSES.has(c.cause)) bump(monthOf(c.at), 'fixes');
    else if (REQUEST_TYPES.has(c.type) || REQUEST_CAUSES.has(c.cause)) bump(monthOf(c.at), 'requests');
  }

  const byThemeGroups = new Map<string, Group>();
  const themeLabels = new Map<string, { id: number; label: string }>();
  for (const r of themed) {
    const id = Number(r.id);
    const at = Number(r.created_at);
    if (r.kind !== 'ticket') {
      if (r.intent === 'complaint') bump(monthOf(at), 'fixes');
      else if (r.intent === 'request') bump(monthOf(at), 'requests');
    }
    if (r.theme_id === null) continue;
    const key = `theme:${r.theme_id}`;
    const contact = contactById.get(id);
    addTo(byThemeGroups, key, {
      customerId: r.customer_id === null ? null : Number(r.customer_id),
      at,
      open: contact ? contact.open : OPEN_STATUSES.has(r.status.toLowerCase()),
      resolvedAt: contact ? contact.resolvedAt : null,
    });
    themeLabels.set(key, { id: Number(r.theme_id), label: r.name ?? r.label ?? `Theme ${r.theme_id}` });
  }

  const sortRows = (rows: LedgerRow[]) => rows.filter((r) => r.contacts >= params.minContacts).sort((a, b) => b.churn.valueLost - a.churn.valueLost || b.contacts - a.contacts || a.key.localeCompare(b.key));
  const byTypeCause = sortRows(
    [...byPair].map(([key, g]) => {
      const [type = '', cause = ''] = key.split('\u0000');
      return { ...ledgerRow(`${type}/${cause}`, `${type.replaceAll('_', ' ')} · ${cause.replaceAll('_', ' ')}`, g, values, baseline), type, cause };
    }),
  );
  const byTheme = sortRows(
    [...byThemeGroups].map(([key, g]) => {
      const t = themeLabels.get(key)!;
      return { ...ledgerRow(key, t.label, g, values, baseline), themeId: t.id };
    }),
  );
  return {
    available: contacts.length > 0 || themed.length > 0,
    tickets: contacts.length,
    baseline: { ...baseline, rate: nullableInterval(wilson(baseline.churned, baseline.customers)), valueRunId: runId },
    totals: (() => {
      const all = churnLink(everyone.raisedAt, values, baseline);
      return { customersAffected: everyone.raisedAt.size, churnedAfter: all.churnedAfter, valueLost: all.valueLost };
    })(),
    byTypeCause,
    byTheme,
    monthly: [...monthly]
      .map(([k, m]) => {
        const [month = '', type = ''] = k.split('\u0000');
        return { month, type, contacts: m.contacts, medianHours: roundOrNull(quantile(m.hours, 0.5), 1) };
      })
      .sort((a, b) => a.month.localeCompare(b.month) || a.type.localeCompare(b.type)),
    featuresVsFixes: [...balance]
      .map(([month, b]) => ({ month, fixes: b.fixes, requests: b.requests, fixShare: b.fixes + b.requests > 0 ? round(b.fixes / (b.fixes + b.requests), 4) : null }))
      .sort((a, b) => a.month.localeCompare(b.month)),
    explanation: LEDGER_EXPLANATION,
  };
}
