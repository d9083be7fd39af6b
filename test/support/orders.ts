import fs from 'node:fs';
import { drawOrderHistory, type DrawnOrder } from '../../src/demo/clv-cohort.js';
import { dayOf } from '../../src/models/clv/summary.js';

export const DAY = 86_400_000;
export const TRUTH = { bgnbd: { r: 0.5, alpha: 4, a: 0.8, b: 4 }, gammaGamma: { p: 6, q: 4, v: 15 } };

/** Two years of orders of `customers` customers drawn from TRUTH, with a few extra same-day orders. */
export function drawOrders(customers: number, seed: number): DrawnOrder[] {
  const orders = [...drawOrderHistory({ seed, customers, ...TRUTH, startDay: dayOf('2024-01-01'), endDay: dayOf('2025-12-31') })];
  // Every 7th order gets a second order on the same day: one purchase of their summed amount.
  const extra = orders.filter((_, i) => i % 7 === 3).map((o) => ({ ...o, at: Math.floor(o.at / DAY) * DAY + 1000, amount: 5 }));
  return [...orders, ...extra];
}

/** The orders as an import file (customers c1, c2, …), all in `currency`. */
export function ordersCsv(orders: DrawnOrder[], file: string, currency = 'USD'): void {
  const lines = ['order_id,customer_id,date,total,currency'];
  orders.forEach((o, i) => lines.push(`o${i + 1},c${o.customer + 1},${new Date(o.at).toISOString()},${o.amount.toFixed(2)},${currency}`));
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}
