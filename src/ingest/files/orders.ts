import { isRapportError } from '../../core/errors.js';
import { CANCELLATION, OrderGroup, orderRow, windowOf, type ColumnMap, type Converted, type RowContext } from './columns.js';
import type { RowHandler } from './rows.js';
import type { Sink } from './sink.js';

interface OpenOrder {
  orderId: string;
  /** Rows not rejected yet (a rejected order rejects them at its end). */
  rows: number[];
  group: OrderGroup | undefined;
  first: number;
  last: number;
  /** Why the order is rejected, once one of its rows was. */
  poisoned: string | undefined;
}

/**
 * Orders arrive one row per line; consecutive rows with the same order id are one order.
 * A rejected row rejects its whole order (an order without one of its lines would be wrong),
 * and an order id that reappears after other orders is rejected: its lines must be adjacent.
 */
export class OrderAssembler implements RowHandler {
  private open: OpenOrder | undefined;
  private readonly finished = new Set<string>();
  /** The customer of each order stored so far, and per customer the latest order of each product: a whole refund is linked through them. */
  private readonly customerOf = new Map<string, string>();
  private readonly lastOrder = new Map<string, Map<string, string>>();
  private remembered = 0;
  /** Rows rejected before their order id could be read: they may have been a line of any order around them. */
  private readonly anonymous: number[] = [];

  constructor(
    private readonly ctx: RowContext,
    private readonly sink: Sink,
  ) {}

  async row(map: ColumnMap, values: readonly unknown[], row: number): Promise<void> {
    const orderId = orderIdOf(map, values);
    if (orderId === undefined) {
      // No order id: orderRow says so. Between two rows of one order, it may have been a line of it.
      try {
        orderRow(map as ColumnMap<'orders'>, values, row, windowOf(this.ctx));
      } catch (e) {
        await this.sink.rejectError(row, e);
      }
      this.anonymous.push(row);
      return;
    }
    const order = await this.enter(orderId, row);
    try {
      const parsed = orderRow(map as ColumnMap<'orders'>, values, row, windowOf(this.ctx));
      if (order.group) order.group.add(parsed);
      else order.group = new OrderGroup(parsed);
      order.rows.push(row);
    } catch (e) {
      await this.sink.rejectError(row, e);
      order.poisoned ??= `order ${orderId} has a rejected row (row ${row})`;
    }
  }

  async rejected(row: number, map: ColumnMap | undefined, values: readonly unknown[] | undefined): Promise<void> {
    const orderId = map && values ? orderIdOf(map, values) : undefined;
    if (orderId === undefined) {
      this.anonymous.push(row);
      return;
    }
    const order = await this.enter(orderId, row);
    order.poisoned ??= `order ${orderId} has a rejected row (row ${row})`;
  }

  /** The open order for `orderId`, finishing the previous one when this row starts another. */
  private async enter(orderId: string, row: number): Promise<OpenOrder> {
    if (this.open?.orderId !== orderId) {
      await this.finish();
      this.open = {
        orderId,
        rows: [],
        group: undefined,
        first: row,
        last: row,
        poisoned: this.finished.has(orderId) ? `order ${orderId} already appeared on earlier rows: the rows of one order must be consecutive` : undefined,
      };
    }
    this.open.last = row;
    return this.open;
  }

  private async finish(): Promise<void> {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    this.finished.add(o.orderId);
    const gap = this.anonymous.find((r) => r > o.first && r < o.last);
    while (this.anonymous.length > 0 && this.anonymous[0]! < o.last) this.anonymous.shift();
    let reason = o.poisoned ?? (gap === undefined ? undefined : `order ${o.orderId} has an unreadable row (row ${gap})`);
    let converted: Converted | undefined;
    if (reason === undefined && o.group) {
      try {
        converted = o.group.finish(this.ctx, (g) => this.linkOf(g));
        this.remember(o.group);
      } catch (e) {
        if (!isRapportError(e) || e.code !== 'invalid_input') throw e;
        const at = e.issues[0]?.row ?? o.rows[0]!;
        await this.sink.rejectError(at, e);
        o.rows = o.rows.filter((r) => r !== at);
        reason = `order ${o.orderId} was rejected (row ${at})`;
      }
    }
    if (reason !== undefined || !converted) {
      for (const r of o.rows) await this.sink.reject(r, '(row)', reason ?? `order ${o.orderId} was rejected`);
      return;
    }
    const p = this.sink.accept(o.rows.length === 1 ? o.rows[0]! : o.rows, converted);
    if (p) await p;
  }

  /**
   * The order a whole refund refunds: the order whose number is the cancellation's without
   * its C, when the same customer placed it; else that customer's latest earlier order of a
   * refunded product, among the orders of this file.
   */
  private linkOf(g: OrderGroup): string | undefined {
    const customer = g.customer;
    if (customer === undefined) return undefined;
    const plain = g.orderId.replace(CANCELLATION, '');
    if (plain !== g.orderId && this.customerOf.get(plain) === customer) return plain;
    const products = this.lastOrder.get(customer);
    if (!products) return undefined;
    for (const p of g.productIds) {
      const id = products.get(p);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  private remember(g: OrderGroup): void {
    const customer = g.customer;
    if (customer === undefined || g.isRefund) return;
    // Bounded memory: a file of millions of lines forgets the oldest links rather than growing.
    if (this.remembered > 1_000_000) {
      this.customerOf.clear();
      this.lastOrder.clear();
      this.remembered = 0;
    }
    this.customerOf.set(g.orderId, customer);
    let products = this.lastOrder.get(customer);
    if (!products) this.lastOrder.set(customer, (products = new Map<string, string>()));
    for (const p of g.productIds) products.set(p, g.orderId);
    this.remembered += 1 + g.productIds.length;
  }

  async end(): Promise<void> {
    await this.finish();
  }
}

function orderIdOf(map: ColumnMap, values: readonly unknown[]): string | undefined {
  const i = (map as ColumnMap<'orders'>).fields.orderId;
  const v = i === undefined ? undefined : values[i];
  const id = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
  return id === '' ? undefined : id;
}
