/**
 * Customer value for the API and the web app: the latest CLV run's summary, ranked customers
 * (top value, valuable and slipping away), and one customer's value with how it was computed.
 */
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { round, roundOrNull } from '../core/numbers.js';
import { DAY_MS, dayOfIso } from '../core/time.js';
import { fittedModel } from './fit.js';
import { newestOrderId } from './orders.repository.js';
import type { ClvRunReport } from './run-report.js';
import { storeCurrency, type ValueCurrency } from './currency.js';
import { latestClvRun } from './runs.js';
import { countRankedValues, customerLastSeen, customerValueRow, rankedValues, type RankedValueRow } from './value.repository.js';
import { modelConditionalPmf, modelPAlive, PURCHASE_MODEL_LABELS, type PurchaseModelFit, type PurchaseModelName } from '../models/clv/purchase-model.js';
import { horizonSums } from '../models/clv/score.js';
import { conditionalExpectedSpend } from '../models/clv/gamma-gamma.js';
import { isoOfDay, PERIOD_DAYS } from '../models/clv/summary.js';
import type { Store } from '../store/db.js';
import type { CustomerValuesTable } from '../store/schema.js';

const Convergence = z.object({ converged: z.boolean(), iterations: z.number(), gradientNorm: z.number(), message: z.string() });
const Bin = z.object({ from: z.number(), to: z.number(), customers: z.number() });
/** What every money figure's description says: the amount is in the response's `currency`. */
const IN_CURRENCY = 'in `currency`';
const MoneyBin = z.object({ from: z.number().describe(IN_CURRENCY), to: z.number().describe(IN_CURRENCY), customers: z.number() });

export const CurrencyBreakdown = z
  .object({
    share: z.number().describe('share of order value in `currency` (0 to 1)'),
    byCurrency: z.array(z.object({ currency: z.string(), orders: z.number(), amount: z.number().describe('sum of the order totals in this currency'), share: z.number() })).describe('every currency of the orders, largest value first'),
    note: z.string().nullable().describe('null with one currency; else the sentence saying which orders are summed unconverted (no exchange rates are applied)'),
  })
  .meta({ id: 'CurrencyBreakdown' });

/** The breakdown as the API shows it (amounts rounded). */
export function currencyBreakdown(c: ValueCurrency): z.infer<typeof CurrencyBreakdown> {
  return { share: round(c.share, 4), byCurrency: c.byCurrency.map((b) => ({ currency: b.currency, orders: b.orders, amount: round(b.amount), share: round(b.share, 4) })), note: c.note };
}

/** The `currency` field of responses with money: ISO 4217, null before any order. */
export const CurrencyCode = z.string().nullable().describe('ISO 4217 code every money figure of this response is in: the currency of most order value (orders in other currencies are summed unconverted; see /api/clv/summary currencyBreakdown); null without orders');

export const ClvSummary = z
  .object({
    available: z.boolean().describe('false until the first successful run (no orders yet)'),
    message: z.string().optional(),
    currency: CurrencyCode.optional(),
    currencyBreakdown: CurrencyBreakdown.optional().describe('order value per currency, and the sentence that says so when several are summed unconverted'),
    run: z
      .object({
        id: z.number(),
        finishedAt: z.string(),
        trigger: z.string(),
        asOf: z.string(),
        asOfReason: z.string().describe('why this as-of day: today for live data, else the latest order; and which stray or future-dated orders were left out'),
        asOfRule: z.enum(['live', 'end of data', 'asked']).describe('live: the data end within a week of today, so the as-of day is today; end of data: an imported history; asked: --as-of'),
        stale: z.boolean().describe('orders arrived since this run'),
      })
      .optional(),
    settings: z.object({ horizonMonths: z.number(), monthlyDiscountRate: z.number(), margin: z.number() }).optional(),
    orders: z.number().optional(),
    customers: z.number().optional(),
    repeatCustomers: z.number().optional(),
    bgnbd: z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number(), logLikelihood: z.number(), bic: z.number(), convergence: Convergence }).optional(),
    mbgnbd: z
      .object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number(), logLikelihood: z.number(), bic: z.number(), convergence: Convergence })
      .nullable()
      .optional()
      .describe('the modified BG/NBD (Batislam et al. 2007), fitted beside the BG/NBD (null in runs before it was)'),
    scoring: z
      .object({
        model: z.enum(['bgnbd', 'mbgnbd', 'paretoNbd']),
        label: z.string(),
        by: z.enum(['holdout', 'bic', 'requested', 'only model']),
        reason: z.string(),
        candidates: z.array(z.object({ model: z.enum(['bgnbd', 'mbgnbd', 'paretoNbd']), label: z.string(), bic: z.number(), logLikelihood: z.number(), holdoutMeanAbsoluteError: z.number().nullable() })),
      })
      .optional()
      .describe('the purchase model that scored every customer (P(alive), expected purchases, CLV), why, and each candidate’s figures'),
    gammaGamma: z
      .object({
        p: z.number(),
        q: z.number(),
        v: z.number(),
        meanSpend: z.number().nullable().describe(`mean repeat order value, ${IN_CURRENCY}`),
        customers: z.number(),
        convergence: Convergence,
        independence: z.object({ correlation: z.number(), holds: z.boolean() }),
      })
      .nullable()
      .optional(),
    validation: z
      .object({
        skipped: z.string().optional(),
        calibrationEnd: z.string().optional(),
        holdoutEnd: z.string().optional(),
        customers: z.number().optional(),
        sampleEvery: z.number().optional(),
        predictedRepeatPurchases: z.number().optional(),
        actualRepeatPurchases: z.number().optional(),
        meanAbsoluteError: z.number().optional(),
        model: z.enum(['bgnbd', 'mbgnbd']).optional().describe('the model whose forecast the figures here are (the one that scored)'),
        models: z
          .array(z.object({ model: z.enum(['bgnbd', 'mbgnbd']), params: z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number() }), meanAbsoluteError: z.number(), predictedRepeatPurchases: z.number() }))
          .optional()
          .describe('every purchase model refitted on the calibration period and its holdout error'),
        preferred: z.enum(['bgnbd', 'mbgnbd']).optional(),
        byFrequency: z.array(z.object({ frequency: z.string(), customers: z.number(), predicted: z.number(), actual: z.number() })).optional(),
        tracking: z.array(z.object({ period: z.number(), actual: z.number(), predicted: z.number() })).optional(),
      })
      .optional(),
    distribution: z
      .object({
        clv: z
          .object({
            total: z.number().describe(IN_CURRENCY),
            mean: z.number().describe(IN_CURRENCY),
            median: z.number().describe(IN_CURRENCY),
            p90: z.number().describe(IN_CURRENCY),
            p99: z.number().describe(IN_CURRENCY),
            max: z.number().describe(IN_CURRENCY),
            top10Share: z.number(),
            histogram: z.array(MoneyBin),
          })
          .nullable(),
        pAlive: z.array(Bin),
        valueAtRisk: z
          .number()
          .nullable()
          .describe(`Σ (1 − P(alive)) × CLV if surely active, ${IN_CURRENCY}: the complement of CLV, not a part of it (CLV + value at risk = the value if every customer were still active)`),
      })
      .optional(),
    rfm: z.array(z.object({ group: z.string(), customers: z.number(), clv: z.number().nullable().describe(IN_CURRENCY), spend: z.number().describe(IN_CURRENCY), pAlive: z.number() })).optional(),
    segments: z
      .object({
        skipped: z.string().optional(),
        k: z.number().optional(),
        criterion: z.string().optional(),
        silhouettes: z.array(z.object({ k: z.number(), silhouette: z.number() })).optional(),
        fittedOn: z.number().optional(),
        features: z.array(z.string()).optional(),
        cards: z
          .array(
            z.object({
              id: z.number(),
              label: z.string(),
              customers: z.number(),
              share: z.number(),
              meanValue: z.number().describe(`mean CLV (spend without a spend model), ${IN_CURRENCY}`),
              repeatShare: z.number(),
              medianCadenceDays: z.number().nullable(),
              topCategories: z.array(z.object({ category: z.string(), share: z.number(), overall: z.number() })),
              topChannel: z.object({ channel: z.string(), share: z.number(), overall: z.number() }).nullable(),
              distinguishing: z.array(z.string()),
            }),
          )
          .optional(),
      })
      .optional()
      .describe('micro-segments: k-means on category spend, cadence, value and channel mix, each with a readable card'),
    warnings: z.array(z.string()).optional(),
    explanation: z.array(z.string()).optional(),
  })
  .meta({ id: 'ClvSummary' });
export type ClvSummary = z.infer<typeof ClvSummary>;

const PURCHASE_MODEL_TEXT: Record<PurchaseModelName, string> = {
  bgnbd:
    'BG/NBD (Fader, Hardie & Lee 2005). While active, a customer buys at their own steady rate; after each repeat purchase they may leave for good. Rates and leaving probabilities vary across customers (gamma and beta distributions with parameters r, α, a, b fitted by maximum likelihood to every customer’s purchase days).',
  mbgnbd:
    'MBG/NBD (Batislam, Denizel & Filiztekin 2007). As the BG/NBD, but a customer may also leave right after the first purchase, so someone who bought once is not taken to be surely still buying: their P(alive) falls the longer they stay silent. Rates and leaving probabilities vary across customers (gamma and beta distributions, parameters r, α, a, b, fitted by maximum likelihood to every customer’s purchase days).',
  paretoNbd:
    'Pareto/NBD (Schmittlein, Morrison & Colombo 1987). While active, a customer buys at their own steady rate and may leave at any moment; rates and lifetimes vary across customers (parameters r, α, s, β).',
};

/** How the numbers are made, in words the dashboard shows beside them, for the model that scored. */
export function clvExplanation(model: PurchaseModelName, chosen?: string): string[] {
  return [
    `Purchases: ${PURCHASE_MODEL_TEXT[model]}${chosen ? ` This run scored with it (${chosen}).` : ''}`,
    'Spend: Gamma-Gamma (Fader, Hardie & Lee 2005). Each customer’s expected order value blends their own mean with the population’s, trusting their own more the more often they bought (parameters p, q, v).',
    'P(alive): the probability that the customer has not left, given how many times they bought and how long ago the last purchase was compared with how long we have known them.',
    'CLV: margin × expected order value × the expected purchases of each coming month, discounted monthly, summed over the horizon. Value at risk: the value a customer would have if surely still active (CLV / P(alive)) times the probability that they have already left, 1 − P(alive). It is not a part of CLV but its complement: CLV + value at risk = the value if every customer were still active, so value at risk exceeds CLV whenever most of that value sits with customers who have probably left (P(alive) below 50%).',
    'Orders on the same day are one purchase; time is counted in weeks up to the as-of day: today while orders are still arriving (the latest within a week), else the day of the latest order.',
    model === 'bgnbd'
      ? 'One-time buyers: BG/NBD lets customers leave only after a repeat purchase, so P(alive) is 1 for someone who bought once (shown as "about 99%"); their CLV stays low because the purchase rate expected of them is low, and it falls the longer they stay silent.'
      : 'One-time buyers: they may have left right after their first purchase, so their P(alive) falls with the time since it; BG/NBD, which lets customers leave only after a repeat purchase, would give them 1.',
    'Model choice: each run fits BG/NBD and MBG/NBD to every customer, refits both on the time before a holdout, and scores with the one whose forecast of the holdout was closer, customer by customer (mean absolute error); without enough history for a holdout, the one with the lower BIC.',
  ];
}

/** The explanation of a run before it existed: BG/NBD. */
export const CLV_EXPLANATION = clvExplanation('bgnbd');

/** The purchase model that scored a run (BG/NBD for runs before the choice). */
export function scoringModelOf(report: ClvRunReport): PurchaseModelFit {
  return fittedModel(report.fit, report.scoring?.model ?? 'bgnbd');
}

export async function clvSummary(store: Store): Promise<ClvSummary> {
  const run = await latestClvRun(store);
  if (!run) {
    return { available: false, message: 'No customer value yet: it is computed from orders (import orders, or run `rapport clv run`).', explanation: CLV_EXPLANATION };
  }
  const r = run.report;
  // The run's own currency; runs from before it was recorded read it from the orders.
  const currency = r.currency ?? (await storeCurrency(store));
  const b = r.fit.bgnbd!;
  const mb = r.fit.mbgnbd;
  const g = r.fit.gammaGamma;
  // Runs before the choice scored with BG/NBD alone.
  const sc: NonNullable<ClvRunReport['scoring']> | { model: 'bgnbd'; by: 'only model'; reason: string; candidates: NonNullable<ClvRunReport['scoring']>['candidates'] } = r.scoring ?? {
    model: 'bgnbd',
    by: 'only model',
    reason: 'the only purchase model this run fitted',
    candidates: [{ model: 'bgnbd', bic: b.bic, logLikelihood: b.logLikelihood, holdoutMeanAbsoluteError: 'skipped' in r.validation ? null : r.validation.meanAbsoluteError }],
  };
  const asOfRule = r.asOfRule ?? (r.asOfReason === 'the day asked for' ? 'asked' : 'end of data');
  return {
    available: true,
    currency: currency?.code ?? null,
    ...(currency ? { currencyBreakdown: currencyBreakdown(currency) } : {}),
    run: { id: run.id, finishedAt: new Date(run.finishedAt).toISOString(), trigger: run.trigger, asOf: r.asOf, asOfReason: r.asOfReason ?? 'the latest order', asOfRule, stale: (await newestOrderId(store.db)) !== r.lastOrderRef },
    settings: r.settings,
    orders: r.orders,
    customers: r.customers,
    repeatCustomers: r.repeatCustomers,
    bgnbd: { r: b.r, alpha: b.alpha, a: b.a, b: b.b, logLikelihood: b.logLikelihood, bic: b.bic, convergence: b.convergence },
    mbgnbd: mb ? { r: mb.r, alpha: mb.alpha, a: mb.a, b: mb.b, logLikelihood: mb.logLikelihood, bic: mb.bic, convergence: mb.convergence } : null,
    scoring: {
      model: sc.model,
      label: PURCHASE_MODEL_LABELS[sc.model],
      by: sc.by,
      reason: sc.reason,
      candidates: sc.candidates.map((c) => ({ ...c, label: PURCHASE_MODEL_LABELS[c.model] })),
    },
    gammaGamma: g
      ? { p: g.p, q: g.q, v: g.v, meanSpend: g.meanSpend, customers: g.customers, convergence: g.convergence, independence: { correlation: g.independence.correlation, holds: g.independence.holds } }
      : null,
    validation: r.validation,
    distribution: r.distribution,
    rfm: r.rfm,
    segments: r.segments,
    warnings: r.warnings,
    explanation: clvExplanation(sc.model, r.scoring ? sc.reason : undefined),
  };
}

export const CurrencyReply = z.object({ currency: CurrencyCode, currencyBreakdown: CurrencyBreakdown.nullable() }).meta({ id: 'ValueCurrency' });

/** The value currency alone: what pages that show a few amounts (themes, defects, search) need. */
export async function valueCurrency(store: Store): Promise<z.infer<typeof CurrencyReply>> {
  const c = await storeCurrency(store);
  return { currency: c?.code ?? null, currencyBreakdown: c ? currencyBreakdown(c) : null };
}

export const RankedCustomer = z
  .object({
    userId: z.string(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    clv: z.number().nullable().describe(`discounted margin expected over the horizon, ${IN_CURRENCY}`),
    pAlive: z.number(),
    churnRisk: z.number().describe('1 − P(alive)'),
    valueAtRisk: z.number().nullable().describe(`CLV if surely active × (1 − P(alive)), ${IN_CURRENCY}`),
    expectedPurchases: z.number(),
    expectedSpend: z.number().nullable().describe(`expected order value, ${IN_CURRENCY}`),
    spend: z.number().describe(`total of all orders to the as-of day, ${IN_CURRENCY}`),
    purchases: z.number().describe('days with an order'),
    lastPurchase: z.string(),
    rfm: z.object({ r: z.number(), f: z.number(), m: z.number(), group: z.string() }),
    segment: z.number().nullable().describe('micro-segment id (see /api/clv/summary segments.cards)'),
  })
  .meta({ id: 'RankedCustomer' });
export type RankedCustomer = z.infer<typeof RankedCustomer>;

export const RankedPage = z
  .object({
    items: z.array(RankedCustomer),
    total: z.number().describe('customers in the ranking with the filters `group` and `segment`, on every page'),
    currency: CurrencyCode,
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'RankedCustomerPage' });

export const RankParams = z.object({
  sort: z.enum(['clv', 'risk']).default('clv').describe('clv: most valuable first; risk: most value at risk first (valuable and slipping away)'),
  group: z.string().max(64).optional().describe('only this RFM group (champions, loyal, at risk, …)'),
  segment: z.coerce.number().int().min(0).max(1000).optional().describe('only this micro-segment'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type RankParams = z.infer<typeof RankParams>;

/** The scores of a stored row as the API shows them (ranked lists and the customer's page). */
function scoreFields(v: CustomerValuesTable) {
  return {
    clv: roundOrNull(v.clv),
    pAlive: round(v.p_alive, 4),
    churnRisk: round(1 - v.p_alive, 4),
    valueAtRisk: roundOrNull(v.value_at_risk),
    expectedPurchases: round(v.expected_purchases, 3),
    expectedSpend: roundOrNull(v.expected_spend),
    rfm: { r: v.rfm_r, f: v.rfm_f, m: v.rfm_m, group: v.rfm_group },
  };
}

function ranked(v: RankedValueRow): RankedCustomer {
  return {
    userId: v.user_id ?? '',
    name: v.name,
    email: v.email,
    ...scoreFields(v),
    spend: round(v.spend),
    purchases: v.purchase_days,
    lastPurchase: isoOfDay(v.last_day),
    segment: v.segment,
  };
}

const isRankKey = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** One page of the ranking after the keyset cursor, and the cursor of the next (null after the last). */
async function rankedPage(store: Store, p: Omit<RankParams, 'limit'> & { limit: number }): Promise<{ items: RankedCustomer[]; nextCursor: string | null }> {
  const col = p.sort === 'clv' ? 'clv' : 'value_at_risk';
  const after = p.cursor ? decodeCursor(p.cursor, isRankKey) : undefined;
  const rows = await rankedValues(store.db, { column: col, group: p.group, segment: p.segment, after, limit: p.limit + 1 });
  const page = rows.slice(0, p.limit);
  const last = page[page.length - 1];
  return { items: page.map(ranked), nextCursor: rows.length > p.limit && last ? encodeCursor([last[col], last.customer_id]) : null };
}

/** Customers ranked by CLV or by value at risk, keyset-paged on (value, customer id), with the ranking's total. */
export async function rankCustomers(store: Store, p: RankParams): Promise<z.infer<typeof RankedPage>> {
  const [page, total, currency] = await Promise.all([
    rankedPage(store, p),
    countRankedValues(store.db, { column: p.sort === 'clv' ? 'clv' : 'value_at_risk', group: p.group, segment: p.segment }),
    storeCurrency(store),
  ]);
  return { items: page.items, total, currency: currency?.code ?? null, nextCursor: page.nextCursor };
}

/** The ranking's export: its filters without paging (the CSV takes every row). */
export const RankExportParams = RankParams.omit({ limit: true, cursor: true });
export type RankExportParams = z.infer<typeof RankExportParams>;

/** The columns of the ranking's CSV, in order. */
export const RANKED_CSV_HEADER = ['user_id', 'name', 'email', 'clv', 'value_at_risk', 'currency', 'p_alive', 'expected_purchases', 'spend', 'purchases', 'last_purchase', 'rfm_group', 'segment'];

/**
 * Every customer of a ranking, page after page in ranking order, as CSV rows (RANKED_CSV_HEADER);
 * `count` first says how many rows there will be, so that an export over its bound is refused
 * before it starts.
 */
export async function rankedExport(store: Store, p: RankExportParams, pageSize = 1000) {
  const [total, currency] = await Promise.all([countRankedValues(store.db, { column: p.sort === 'clv' ? 'clv' : 'value_at_risk', group: p.group, segment: p.segment }), storeCurrency(store)]);
  const code = currency?.code ?? '';
  async function* rows(): AsyncGenerator<(string | number | null)[][]> {
    let cursor: string | undefined;
    for (;;) {
      const page = await rankedPage(store, { ...p, cursor, limit: pageSize });
      yield page.items.map((c) => [c.userId, c.name, c.email, c.clv, c.valueAtRisk, code, c.pAlive, c.expectedPurchases, c.spend, c.purchases, c.lastPurchase, c.rfm.group, c.segment]);
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }
  return { total, rows: rows() };
}

export const CustomerValue = z
  .object({
    asOf: z.string(),
    runId: z.number(),
    currency: CurrencyCode,
    clv: z.number().nullable().describe(IN_CURRENCY),
    pAlive: z.number(),
    churnRisk: z.number(),
    valueAtRisk: z.number().nullable().describe(IN_CURRENCY),
    expectedPurchases: z.number(),
    expectedSpend: z.number().nullable().describe(`expected order value, ${IN_CURRENCY}`),
    rfm: z.object({ r: z.number(), f: z.number(), m: z.number(), group: z.string() }),
    segment: z.object({ id: z.number(), label: z.string(), distinguishing: z.array(z.string()) }).nullable(),
    model: z
      .object({ name: z.enum(['bgnbd', 'mbgnbd', 'paretoNbd']), label: z.string(), why: z.string() })
      .describe('the purchase model that produced P(alive), expected purchases and the outlook, and why the run chose it'),
    purchaseOutlook: z
      .array(z.object({ purchases: z.string(), probability: z.number() }))
      .describe('P(exactly n purchases over the horizon | history) for n = 0, 1, 2 and 3 or more (the conditional PMF of the model that scored)'),
    pAliveText: z
      .string()
      .describe('P(alive) as the page shows it: rounded, never 100% or 0% (the data cannot support certainty), "about" when the customer bought only once'),
    activity: z
      .object({
        lastPurchase: z.string(),
        lastActive: z.string().nullable().describe('the latest activity of any kind (events, feedback, orders), as an ISO time'),
        activeSincePurchase: z.boolean().describe('active in the product after the last purchase'),
        statement: z
          .string()
          .describe('P(alive) speaks of purchases only: this sentence says both, e.g. "no purchase in 4 months; active in the product 5 days before the as-of day"'),
      })
      .describe('purchases and other activity side by side, so that "likely gone" (no purchases) and "last seen" (any activity) read together'),
    inputs: z.object({
      purchases: z.number().describe('days with an order'),
      repeatPurchases: z.number().describe('x: purchases after the first'),
      firstPurchase: z.string(),
      lastPurchase: z.string(),
      recencyWeeks: z.number().describe('t_x: weeks from the first to the last purchase'),
      ageWeeks: z.number().describe('T: weeks from the first purchase to the as-of day'),
      spend: z.number().describe(IN_CURRENCY),
      meanRepeatSpend: z.number().describe(IN_CURRENCY),
    }),
    steps: z.array(
      z.object({
        name: z.string(),
        value: z.number().nullable().describe(`a probability, a count of purchases, or (order value, CLV, value at risk) an amount ${IN_CURRENCY}; see \`money\``),
        money: z.boolean().describe('whether `value` is an amount of money'),
        formula: z.string(),
        meaning: z.string(),
      }),
    ),
  })
  .meta({ id: 'CustomerValue' });
export type CustomerValue = z.infer<typeof CustomerValue>;

/** Never 100% nor 0%: shown between 1% and 99%, and "about" for a customer with one purchase. */
export function pAliveText(p: number, repeatPurchases: number): string {
  const pct = Math.min(99, Math.max(1, Math.round(p * 100)));
  const shown = p > 0.99 ? 'over 99%' : p < 0.01 ? 'under 1%' : `${pct}%`;
  return repeatPurchases === 0 ? `about ${shown === 'over 99%' ? '99%' : shown}` : shown;
}

function span(days: number): string {
  if (days <= 0) return 'on the as-of day';
  if (days === 1) return '1 day';
  if (days < 14) return `${days} days`;
  if (days < 61) return `${Math.round(days / 7)} weeks`;
  const months = Math.round(days / 30.44);
  return months < 24 ? `${months} months` : `${Math.round(days / 365.25)} years`;
}

function activityOf(lastDay: number, lastSeenMs: number | null, asOfDay: number): CustomerValue['activity'] {
  const seenDay = lastSeenMs === null ? null : Math.floor(lastSeenMs / DAY_MS);
  const active = seenDay !== null && seenDay > lastDay;
  const since = asOfDay - lastDay;
  const purchase = since <= 0 ? 'bought on the as-of day' : `no purchase in ${span(since)}`;
  let other: string;
  if (!active) other = 'no other activity since';
  else if (seenDay > asOfDay) other = `active in the product since, last on ${isoOfDay(seenDay)} (after the as-of day)`;
  else other = `active in the product ${seenDay === asOfDay ? 'on the as-of day' : `${span(asOfDay - seenDay)} before the as-of day`}`;
  return {
    lastPurchase: isoOfDay(lastDay),
    lastActive: lastSeenMs === null ? null : new Date(lastSeenMs).toISOString(),
    activeSincePurchase: active,
    statement: `${purchase}; ${other}`,
  };
}

function segmentOf(report: ClvRunReport, id: number | null): CustomerValue['segment'] {
  // Reports of runs before micro-segments existed have none.
  if (id === null || !(report.segments as ClvRunReport['segments'] | undefined) || 'skipped' in report.segments) return null;
  const card = report.segments.cards.find((c) => c.id === id);
  return card ? { id, label: card.label, distinguishing: card.distinguishing } : null;
}

/** The P(alive) formula of a model with a customer's numbers put in, and the sources of it and of the expectation. */
function derivation(m: PurchaseModelFit, x: number, tx: number, T: number, f: (n: number) => string): { pAlive: string; pAliveSource: string; expectationSource: string } {
  switch (m.model) {
    case 'bgnbd': {
      const b = m.params;
      return {
        pAlive:
          x === 0
            ? 'x = 0: BG/NBD lets customers leave only after a repeat purchase, so P(alive) = 1'
            : `1 / (1 + a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x)) = 1 / (1 + ${f(b.a)}/(${f(b.b)} + ${x} − 1) · ((${f(b.alpha)} + ${f(T)})/(${f(b.alpha)} + ${f(tx)}))^(${f(b.r)} + ${x}))`,
        pAliveSource: 'FHL 2005, eq. 11',
        expectationSource: 'BG/NBD, FHL 2005, eq. 10',
      };
    }
    case 'mbgnbd': {
      const b = m.params;
      return {
        pAlive: `1 / (1 + a/(b + x) · ((α + T)/(α + t_x))^(r + x)) = 1 / (1 + ${f(b.a)}/(${f(b.b)} + ${x}) · ((${f(b.alpha)} + ${f(T)})/(${f(b.alpha)} + ${f(tx)}))^(${f(b.r)} + ${x}))${x === 0 ? '; with x = 0 too: a customer may leave right after the first purchase' : ''}`,
        pAliveSource: 'Batislam et al. 2007, eq. 5',
        expectationSource: 'MBG/NBD, Batislam et al. 2007, eq. 6',
      };
    }
    case 'paretoNbd': {
      const q = m.params;
      return {
        pAlive: `1 / (1 + s/(r + s + x) · (α + T)^(r + x) (β + T)^s · A₀) with r = ${f(q.r)}, α = ${f(q.alpha)}, s = ${f(q.s)}, β = ${f(q.beta)}, x = ${x}, t_x = ${f(tx)}, T = ${f(T)}`,
        pAliveSource: 'Fader & Hardie 2005 note, eq. 18',
        expectationSource: 'Pareto/NBD, Schmittlein et al. 1987, eq. 22',
      };
    }
  }
}

/**
 * One customer's value and its derivation: the inputs, then each formula with the run's
 * parameters and the customer's numbers put in. The numbers are recomputed here from the
 * same model functions the run used, so what is shown is what was stored.
 */
export async function customerValue(store: Store, customerId: number, runReport?: ClvRunReport): Promise<CustomerValue | null> {
  const v = await customerValueRow(store.db, customerId);
  if (!v) return null;
  const report = runReport ?? (await latestClvRun(store))?.report;
  if (!report) return null;
  const per = PERIOD_DAYS[report.period];
  const asOfDay = dayOfIso(report.asOf);
  const x = v.purchase_days - 1;
  const tx = (v.last_day - v.first_day) / per;
  const T = (asOfDay - v.first_day) / per;
  const model = scoringModelOf(report);
  const g = report.fit.gammaGamma;
  const s = report.settings;
  const alive = modelPAlive(model, x, tx, T);
  const months = s.horizonMonths;
  const monthInPeriods = PERIOD_DAYS.month / per;
  // The same per-(x, T) sums the run scored with.
  const { purchases: prev, discounted } = horizonSums(model, x, T, { ...s, periodDays: per });
  const horizon = months * monthInPeriods;
  const pmf = [0, 1, 2].map((k) => modelConditionalPmf(model, k, horizon, x, tx, T));
  const purchaseOutlook = [
    ...pmf.map((probability, k) => ({ purchases: String(k), probability: round(probability, 4) })),
    { purchases: '3+', probability: round(Math.max(0, 1 - pmf[0]! - pmf[1]! - pmf[2]!), 4) },
  ];
  const f = (n: number, d = 4): string => (Math.abs(n) >= 1000 ? n.toFixed(0) : n.toPrecision(d));
  const label = PURCHASE_MODEL_LABELS[model.model];
  const p = derivation(model, x, tx, T, f);
  const steps: CustomerValue['steps'] = [
    { name: 'P(alive)', value: round(alive, 4), money: false, formula: p.pAlive, meaning: `probability that the customer is still active (${label}, ${p.pAliveSource})` },
    {
      name: `Expected purchases, next ${months} months`,
      value: round(alive * prev, 3),
      money: false,
      formula: `P(alive) × E[X(t) | x, t_x, T, active] with t = ${f(horizon)} weeks (${p.expectationSource}) = ${f(alive)} × ${f(prev)}`,
      meaning: `purchases ${label} expects over the horizon`,
    },
  ];
  const code = report.currency ? ` ${report.currency.code}` : '';
  if (g) {
    // Stored as meanRepeatSpend: 0 without repeats.
    const spend = conditionalExpectedSpend(g, x, v.repeat_spend);
    steps.push(
      {
        name: 'Expected order value',
        value: round(spend),
        money: true,
        formula: `p (v + x m̄) / (p x + q − 1) = ${f(g.p)} (${f(g.v)} + ${x} × ${f(v.repeat_spend)}) / (${f(g.p)} × ${x} + ${f(g.q)} − 1)`,
        meaning: `the customer's mean repeat spend m̄ blended with the population's ${g.meanSpend === null ? '' : `(${g.meanSpend.toFixed(2)}${code}) `}(Gamma-Gamma, FHL 2005 “RFM and CLV”)`,
      },
      {
        name: 'CLV',
        value: round(s.margin * spend * alive * discounted),
        money: true,
        formula: `margin × order value × P(alive) × Σ_month (expected purchases in month m) / (1 + ${s.monthlyDiscountRate})^m = ${s.margin} × ${f(spend)} × ${f(alive)} × ${f(discounted)}`,
        meaning: `discounted margin expected over the next ${months} months`,
      },
      {
        name: 'Value at risk',
        value: round((1 - alive) * s.margin * spend * discounted),
        money: true,
        formula: `(1 − P(alive)) × CLV if surely active = ${f(1 - alive)} × ${f(s.margin * spend * discounted)}`,
        meaning: 'the value lost if the customer has already left; CLV + value at risk = CLV if surely active, so it exceeds CLV when P(alive) is below 50%',
      },
    );
  }
  const [lastSeen, currency] = await Promise.all([customerLastSeen(store.db, customerId), report.currency !== undefined ? report.currency : storeCurrency(store)]);
  return {
    asOf: report.asOf,
    runId: v.run_id,
    currency: currency?.code ?? null,
    ...scoreFields(v),
    pAliveText: pAliveText(v.p_alive, x),
    model: { name: model.model, label, why: report.scoring ? report.scoring.reason : 'the only purchase model this run fitted' },
    activity: activityOf(v.last_day, lastSeen, asOfDay),
    segment: segmentOf(report, v.segment),
    purchaseOutlook,
    inputs: {
      purchases: v.purchase_days,
      repeatPurchases: x,
      firstPurchase: isoOfDay(v.first_day),
      lastPurchase: isoOfDay(v.last_day),
      recencyWeeks: round(tx, 3),
      ageWeeks: round(T, 3),
      spend: round(v.spend),
      meanRepeatSpend: round(v.repeat_spend),
    },
    steps,
  };
}
