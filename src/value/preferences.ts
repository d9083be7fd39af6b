import type { Conn } from '../store/db.js';
import { preferenceTotals, type CustomerTotal } from './orders.repository.js';

export interface PreferenceMatrices {
  categories: string[];
  /** Row-major, customers × categories. */
  categorySpend: Float64Array;
  channels: string[];
  /** Row-major, customers × channels. */
  channelCounts: Float64Array;
}

/**
 * What customers buy and where they talk to the company, for micro-segments: spend per
 * category (order lines) and interactions per channel, each for at most `top` of the most
 * common categories and channels, aligned with `customerIds`. Order lines count up to the end
 * of `asOfDay`; channel counts are running totals without time (all of them count).
 */
export async function preferenceMatrices(db: Conn, customerIds: Float64Array, top: { categories: number; channels: number }, asOfDay: number): Promise<PreferenceMatrices> {
  const index = new Map<number, number>();
  for (let i = 0; i < customerIds.length; i++) index.set(customerIds[i]!, i);
  const totals = await preferenceTotals(db, asOfDay);
  const c = matrix(totals.categories, top.categories, index, customerIds.length);
  const h = matrix(totals.channels, top.channels, index, customerIds.length);
  return { categories: c.names, categorySpend: c.m, channels: h.names, channelCounts: h.m };
}

/** The `limit` keys with the largest positive totals (ties by name), and each customer's totals for them. */
function matrix(rows: CustomerTotal[], limit: number, index: Map<number, number>, customers: number): { names: string[]; m: Float64Array } {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.k, (totals.get(r.k) ?? 0) + Number(r.v));
  const names = [...totals.entries()]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([k]) => k);
  const col = new Map(names.map((k, j) => [k, j]));
  const m = new Float64Array(customers * names.length);
  for (const r of rows) {
    const i = index.get(Number(r.c));
    const j = col.get(r.k);
    if (i !== undefined && j !== undefined) m[i * names.length + j]! += Math.max(0, Number(r.v));
  }
  return { names, m };
}
