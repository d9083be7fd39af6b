/**
 * The per-customer purchase summary of the stored orders, computed by the database: one row
 * per customer with purchase days (orders on the same UTC day are one purchase), first and
 * last purchase day, total spend and the spend of the first day (so that the mean spend of
 * repeat purchases, the Gamma-Gamma input, is (total − first day) / repeats). Only these
 * compact rows travel to the models.
 *
 * On SQLite the group-by walks the covering index (customer_id, occurred_at, total) in
 * customer order and never touches the table; the first day's spend is one index seek per
 * repeat customer. Times are integers (ms) on both dialects; the casts keep day arithmetic
 * integral should a fractional time ever be stored.
 */
import { sql } from 'kysely';
import type { Store } from '../store/db.js';

export const DAY_MS = 86_400_000;

export interface OrdersSummary {
  /** customers.id of each row. */
  customerId: Float64Array;
  firstDay: Int32Array;
  lastDay: Int32Array;
  /** Days with at least one order. */
  purchaseDays: Int32Array;
  spend: Float64Array;
  firstDaySpend: Float64Array;
  /** Order rows summarised. */
  orders: number;
  /** The latest purchase day of anybody (−1 when there are no orders). */
  maxDay: number;
}

/** The summary of all orders placed up to the end of `asOfDay` (days since 1970-01-01, UTC); all orders when omitted. */
export async function summarizeOrders(store: Store, asOfDay?: number): Promise<OrdersSummary> {
  const end = asOfDay === undefined ? Number.MAX_SAFE_INTEGER : (asOfDay + 1) * DAY_MS;
  const rows: ArrayLike<number>[] = [];
  if (store.sqlite) {
    const st = store.sqlite
      .prepare(
        `with c as materialized (
           select customer_id, count(distinct cast(occurred_at / ${DAY_MS} as integer)) as days, min(occurred_at) as first, max(occurred_at) as last,
                  sum(total) as spend, count(*) as orders
           from orders where occurred_at < ? group by customer_id)
         select customer_id, days, cast(first / ${DAY_MS} as integer), cast(last / ${DAY_MS} as integer), spend, orders,
                case when days > 1 then (select sum(total) from orders o where o.customer_id = c.customer_id and o.occurred_at < (cast(c.first / ${DAY_MS} as integer) + 1) * ${DAY_MS}) else spend end
         from c`,
      )
      .raw();
    for (const r of st.iterate(end) as Iterable<number[]>) rows.push(r);
  } else {
    // PostgreSQL: floor() keeps days right for times before 1970 too; the first day's spend by a join.
    const r = await sql<{ c: number; days: number; first: number; last: number; spend: number; orders: number; first_spend: number }>`
      with d as (
        select customer_id, floor(occurred_at / ${DAY_MS}::float8)::int as day, sum(total) as amount, count(*) as orders
        from orders where occurred_at < ${end} group by customer_id, day)
      select customer_id as c, count(*)::int as days, min(day) as first, max(day) as last, sum(amount)::float8 as spend, sum(orders)::int8 as orders,
             (array_agg(amount order by day))[1]::float8 as first_spend
      from d group by customer_id`.execute(store.db);
    for (const x of r.rows) rows.push([x.c, x.days, x.first, x.last, x.spend, Number(x.orders), x.first_spend]);
  }
  const n = rows.length;
  const out: OrdersSummary = {
    customerId: new Float64Array(n),
    firstDay: new Int32Array(n),
    lastDay: new Int32Array(n),
    purchaseDays: new Int32Array(n),
    spend: new Float64Array(n),
    firstDaySpend: new Float64Array(n),
    orders: 0,
    maxDay: -1,
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    out.customerId[i] = r[0]!;
    out.purchaseDays[i] = r[1]!;
    out.firstDay[i] = r[2]!;
    out.lastDay[i] = r[3]!;
    out.spend[i] = r[4]!;
    out.orders += r[5]!;
    out.firstDaySpend[i] = r[6]!;
    if (r[3]! > out.maxDay) out.maxDay = r[3]!;
  }
  return out;
}

/**
 * Purchases (customer, day, day's spend) of a sample of customers, every `every`-th by id,
 * up to the end of `asOfDay`: the input of the calibration/holdout validation.
 */
export async function samplePurchases(store: Store, asOfDay: number, every: number): Promise<{ customer: Float64Array; day: Int32Array; amount: Float64Array }> {
  const end = (asOfDay + 1) * DAY_MS;
  let rows: ArrayLike<number>[];
  if (store.sqlite) {
    rows = store.sqlite
      .prepare(`select customer_id, cast(occurred_at / ${DAY_MS} as integer) as day, sum(total) from orders where occurred_at < ? and customer_id % ? = 0 group by customer_id, day`)
      .raw()
      .all(end, every) as number[][];
  } else {
    const r = await sql<{ c: number; day: number; amount: number }>`
      select customer_id as c, floor(occurred_at / ${DAY_MS}::float8)::int as day, sum(total)::float8 as amount
      from orders where occurred_at < ${end} and customer_id % ${every} = 0 group by customer_id, day`.execute(store.db);
    rows = r.rows.map((x) => [x.c, x.day, x.amount]);
  }
  const out = { customer: new Float64Array(rows.length), day: new Int32Array(rows.length), amount: new Float64Array(rows.length) };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out.customer[i] = r[0]!;
    out.day[i] = r[1]!;
    out.amount[i] = r[2]!;
  }
  return out;
}

/**
 * What customers buy and where they talk to the company, for micro-segments: spend per
 * category (order lines) and interactions per channel, each for at most `top` of the most
 * common categories and channels, aligned with `customerIds`. Order lines count up to the end
 * of `asOfDay`; channel counts are running totals without time (all of them count).
 */
export async function preferenceMatrices(
  store: Store,
  customerIds: Float64Array,
  top: { categories: number; channels: number },
  asOfDay: number,
): Promise<{ categories: string[]; categorySpend: Float64Array; channels: string[]; channelCounts: Float64Array }> {
  const index = new Map<number, number>();
  for (let i = 0; i < customerIds.length; i++) index.set(customerIds[i]!, i);
  const [cats, chans] = await Promise.all([
    sql<{ c: number; k: string; v: number }>`select l.customer_id as c, coalesce(l.category, 'uncategorised') as k, sum(l.price * l.quantity) as v
      from order_lines l join orders o on o.id = l.order_ref
      where o.occurred_at < ${(asOfDay + 1) * DAY_MS}
      group by l.customer_id, coalesce(l.category, 'uncategorised')`.execute(store.db),
    sql<{ c: number; k: string; v: number }>`select customer_id as c, channel as k, sum(count) as v from customer_channels group by customer_id, channel`.execute(store.db),
  ]);
  const matrix = (rows: { c: number; k: string; v: number }[], limit: number) => {
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.k, (totals.get(r.k) ?? 0) + Number(r.v));
    const names = [...totals.entries()]
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, limit)
      .map(([k]) => k);
    const col = new Map(names.map((k, j) => [k, j]));
    const m = new Float64Array(customerIds.length * names.length);
    for (const r of rows) {
      const i = index.get(Number(r.c));
      const j = col.get(r.k);
      if (i !== undefined && j !== undefined) m[i * names.length + j]! += Math.max(0, Number(r.v));
    }
    return { names, m };
  };
  const c = matrix(cats.rows, top.categories);
  const h = matrix(chans.rows, top.channels);
  return { categories: c.names, categorySpend: c.m, channels: h.names, channelCounts: h.m };
}
