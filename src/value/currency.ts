/**
 * The currency of value figures. Orders carry their own ISO 4217 currency; CLV, spend, value at
 * risk and the rest are sums and models of order totals, and Rapport applies no exchange rates.
 * So value is stated in the currency of most order value, and when orders come in more than one
 * currency the others are summed with it unconverted: the run report, the API and the Value
 * page say so in one sentence (`note`).
 */
import type { Store } from '../store/db.js';
import { DAY_MS } from '../core/time.js';
import { newestOrderId, orderValueByCurrency } from './orders.repository.js';
import { latestClvRun } from './runs.js';

export interface CurrencyShare {
  currency: string;
  orders: number;
  /** Sum of the order totals in this currency. */
  amount: number;
  /** Share of all order value (0 to 1). */
  share: number;
}

export interface ValueCurrency {
  /** The ISO 4217 code every value figure is stated in: the currency of most order value. */
  code: string;
  /** Share of order value in `code` (0 to 1; 1 when every order is in it). */
  share: number;
  /** Every currency of the orders, the largest value first. */
  byCurrency: CurrencyShare[];
  /** Null with one currency; else the sentence saying what was summed unconverted. */
  note: string | null;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** "97%", never "100%" nor "0%" for a share that is neither. */
function percent(share: number): string {
  if (share >= 1) return '100%';
  if (share > 0.99) return 'over 99%';
  if (share < 0.01) return 'under 1%';
  return `${Math.round(share * 100)}%`;
}

/**
 * The value currency from the order value per currency (as `orderValueByCurrency` returns it,
 * largest first), or null without orders. Shares count positive value only (refunds aside).
 *
 * @example
 * valueCurrencyOf([{ currency: 'USD', amount: 9700, orders: 900 }, { currency: 'EUR', amount: 300, orders: 312 }]).note
 * // "97% of order value is in USD; 312 orders in EUR are summed with it unconverted (no exchange rates are applied)"
 */
export function valueCurrencyOf(rows: readonly { currency: string; amount: number; orders: number }[]): ValueCurrency | null {
  if (rows.length === 0) return null;
  const sorted = [...rows].sort((a, b) => Math.max(0, b.amount) - Math.max(0, a.amount) || b.orders - a.orders || (a.currency < b.currency ? -1 : 1));
  const total = sorted.reduce((s, r) => s + Math.max(0, r.amount), 0);
  const orders = sorted.reduce((s, r) => s + r.orders, 0);
  // Without positive value (only refunds), the currency of most orders.
  const shareOf = (r: { amount: number; orders: number }): number => (total > 0 ? Math.max(0, r.amount) / total : orders > 0 ? r.orders / orders : 0);
  const byCurrency = sorted.map((r) => ({ currency: r.currency, orders: r.orders, amount: r.amount, share: shareOf(r) }));
  if (total <= 0) byCurrency.sort((a, b) => b.orders - a.orders);
  const main = byCurrency[0]!;
  const others = byCurrency.slice(1);
  let note: string | null = null;
  if (others.length > 0) {
    const parts = others.map((o, i) => (i === 0 ? `${count(o.orders)} order${o.orders === 1 ? '' : 's'} in ${o.currency}` : `${count(o.orders)} in ${o.currency}`));
    const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]!}`;
    const verb = others.length === 1 && others[0]!.orders === 1 ? 'is' : 'are';
    note = `${percent(main.share)} of order value is in ${main.currency}; ${list} ${verb} summed with it unconverted (no exchange rates are applied)`;
  }
  return { code: main.currency, share: main.share, byCurrency, note };
}

/** The value currency of the orders placed up to the end of `asOfDay` (all orders when omitted), or null without orders. */
export async function ordersCurrency(store: Store, asOfDay?: number): Promise<ValueCurrency | null> {
  return valueCurrencyOf(await orderValueByCurrency(store.db, asOfDay === undefined ? undefined : (asOfDay + 1) * DAY_MS));
}

/** Per store: the currency computed from the orders for runs that did not record one, by newest order. */
const liveCurrency = new WeakMap<Store, { newest: number; currency: ValueCurrency | null }>();

/**
 * The currency the stored value figures are in: the latest run's; for a run that did not record
 * it, or before the first run, the orders' own (recomputed only when orders arrive).
 */
export async function storeCurrency(store: Store): Promise<ValueCurrency | null> {
  const run = await latestClvRun(store);
  if (run?.report.currency !== undefined) return run.report.currency;
  const newest = await newestOrderId(store.db);
  const cached = liveCurrency.get(store);
  if (cached?.newest === newest) return cached.currency;
  const currency = await ordersCurrency(store);
  liveCurrency.set(store, { newest, currency });
  return currency;
}
