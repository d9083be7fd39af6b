/**
 * The stored orders as the CLV run reads them, computed by the database.
 *
 * The per-customer purchase summary is one row per customer with purchase days (orders on the
 * same UTC day are one purchase), first and last purchase day, total spend and the spend of
 * the first day (so that the mean spend of repeat purchases, the Gamma-Gamma input, is
 * (total − first day) / repeats). Only these compact rows travel to the models.
 *
 * On SQLite the group-by walks the covering index (customer_id, occurred_at, total) in
 * customer order and never touches the table; the first day's spend is one index seek per
 * repeat customer. Times are integers (ms) on both dialects; days are floored (dayOfMsSql),
 * so that an order before 1970 lands on its own (negative) day on both.
 */
import { sql } from 'kysely';
import { DAY_MS } from '../core/time.js';
import type { Conn, Store } from '../store/db.js';
import { dayOfMsSql } from '../store/sql.js';

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
  const day = (expr: string): string => dayOfMsSql(store.dialect, expr);
  const rows: ArrayLike<number>[] = [];
  if (store.sqlite) {
    const st = store.sqlite
      .prepare(
        `with c as materialized (
           select customer_id, count(distinct ${day('occurred_at')}) as days, min(occurred_at) as first, max(occurred_at) as last,
                  sum(total) as spend, count(*) as orders
           from orders where occurred_at < ? group by customer_id)
         select customer_id, days, ${day('first')}, ${day('last')}, spend, orders,
                case when days > 1 then (select sum(total) from orders o where o.customer_id = c.customer_id and o.occurred_at < (${day('c.first')} + 1) * ${DAY_MS}) else spend end
         from c`,
      )
      .raw();
    for (const r of st.iterate(end) as Iterable<number[]>) rows.push(r);
  } else {
    // PostgreSQL: the first day's spend by a join.
    const r = await sql<{ c: number; days: number; first: number; last: number; spend: number; orders: number; first_spend: number }>`
      with d as (
        select customer_id, ${sql.raw(day('occurred_at'))} as day, sum(total) as amount, count(*) as orders
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
  const day = dayOfMsSql(store.dialect, 'occurred_at');
  let rows: ArrayLike<number>[];
  if (store.sqlite) {
    rows = store.sqlite
      .prepare(`select customer_id, ${day} as day, sum(total) from orders where occurred_at < ? and customer_id % ? = 0 group by customer_id, day`)
      .raw()
      .all(end, every) as number[][];
  } else {
    const r = await sql<{ c: number; day: number; amount: number }>`
      select customer_id as c, ${sql.raw(day)} as day, sum(total)::float8 as amount
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

/** A customer's total for one key (a category's spend, a channel's interactions). */
export interface CustomerTotal {
  c: number;
  k: string;
  v: number;
}

/**
 * Spend per customer and category (order lines of orders up to the end of `asOfDay`; lines
 * without a category count as 'uncategorised'), and interactions per customer and channel
 * (running totals without time: all of them count).
 */
export async function preferenceTotals(db: Conn, asOfDay: number): Promise<{ categories: CustomerTotal[]; channels: CustomerTotal[] }> {
  const [cats, chans] = await Promise.all([
    sql<CustomerTotal>`select l.customer_id as c, coalesce(l.category, 'uncategorised') as k, sum(l.price * l.quantity) as v
      from order_lines l join orders o on o.id = l.order_ref
      where o.occurred_at < ${(asOfDay + 1) * DAY_MS}
      group by l.customer_id, coalesce(l.category, 'uncategorised')`.execute(db),
    sql<CustomerTotal>`select customer_id as c, channel as k, sum(count) as v from customer_channels group by customer_id, channel`.execute(db),
  ]);
  return { categories: cats.rows, channels: chans.rows };
}

/** The newest order's row id (0 without orders). */
export async function newestOrderId(db: Conn): Promise<number> {
  const r = await db.selectFrom('orders').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/** Order value and orders per currency (orders placed before `endMs`; all orders when omitted), largest value first. */
export async function orderValueByCurrency(db: Conn, endMs?: number): Promise<{ currency: string; amount: number; orders: number }[]> {
  let q = db.selectFrom('orders').select(['currency', (eb) => eb.fn.sum<number | string>('total').as('amount'), (eb) => eb.fn.countAll<number | string>().as('orders')]);
  if (endMs !== undefined) q = q.where('occurred_at', '<', endMs);
  const rows = await q.groupBy('currency').execute();
  return rows.map((r) => ({ currency: r.currency, amount: Number(r.amount), orders: Number(r.orders) })).sort((a, b) => b.amount - a.amount || b.orders - a.orders || (a.currency < b.currency ? -1 : 1));
}

