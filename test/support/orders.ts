import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importFile } from '../../src/ingest/files/import.js';
import type { Store } from '../../src/store/db.js';
import { runClv } from '../../src/value/value.job.js';
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

/**
 * The orders with the customers of a fixed `share` (chosen by a hash of their index) keeping
 * only their first order: customers who leave right after the first purchase, as the MBG/NBD
 * allows and the BG/NBD does not.
 */
export function withEarlyLeavers(orders: DrawnOrder[], share: number): DrawnOrder[] {
  const first = new Map<number, number>();
  for (const o of orders) first.set(o.customer, Math.min(first.get(o.customer) ?? Number.POSITIVE_INFINITY, o.at));
  const leaves = (c: number): boolean => ((c * 2654435761) >>> 0) % 1000 < share * 1000;
  return orders.filter((o) => !leaves(o.customer) || o.at === first.get(o.customer));
}

/** Imports `customers` customers' drawn orders (as a CSV file, the way users bring them) into `store` and runs customer value. */
export async function importDrawnOrdersAndValue(store: Store, customers: number, seed: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-drawn-orders-'));
  try {
    const file = path.join(dir, 'orders.csv');
    ordersCsv(drawOrders(customers, seed), file);
    await importFile(store, { file, kind: 'orders' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await runClv(store, { trigger: 'cli' });
}
