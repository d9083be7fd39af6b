import type { Direction } from '../../core/vocabulary.js';
import type { Conn, Store } from '../../store/db.js';
import type { SqliteStatements } from './sqlite.repository.js';
import { addChannelCounts, addCustomerCounters } from './writer.repository.js';

/** Per-customer changes gathered over a batch and written once at its end. */
export interface Touch {
  first: number;
  last: number;
  interactions: number;
  orders: number;
  revenue: number;
  feedback: number;
}

export type TouchDelta = Partial<Omit<Touch, 'first' | 'last'>>;

export const ONE_INTERACTION = { interactions: 1 } as const;

/** Where counters are written: the SQLite fast path when there is one, else multi-row statements. */
export interface CounterTarget {
  readonly fastPath: SqliteStatements | undefined;
  readonly store: Store;
}

/**
 * Changes to the per-customer counters (first/last seen, totals, channel × direction mix),
 * gathered in memory and written in one pass: a busy customer costs one update per flush,
 * not one per record.
 */
export class Counters {
  private readonly touches = new Map<number, Touch>();
  /** New interactions per customer, channel and direction: `customer\u0000channel\u0000direction`. */
  private readonly mix = new Map<string, number>();

  get empty(): boolean {
    return this.touches.size === 0 && this.mix.size === 0;
  }

  clear(): void {
    this.touches.clear();
    this.mix.clear();
  }

  touch(customerId: number, at: number, delta: TouchDelta = {}): void {
    let t = this.touches.get(customerId);
    if (!t) {
      t = { first: at, last: at, interactions: 0, orders: 0, revenue: 0, feedback: 0 };
      this.touches.set(customerId, t);
    }
    if (at < t.first) t.first = at;
    if (at > t.last) t.last = at;
    t.interactions += delta.interactions ?? 0;
    t.orders += delta.orders ?? 0;
    t.revenue += delta.revenue ?? 0;
    t.feedback += delta.feedback ?? 0;
  }

  addMix(customerId: number, channel: string, direction: Direction, n = 1): void {
    const key = `${customerId}\u0000${channel}\u0000${direction}`;
    this.mix.set(key, (this.mix.get(key) ?? 0) + n);
  }

  /** After customer `from` was merged into `into`: what was pending for `from` is `into`'s. */
  move(from: number, into: number): void {
    const pending = this.touches.get(from);
    if (pending) {
      this.touches.delete(from);
      this.touch(into, pending.first, pending);
      this.touch(into, pending.last);
    }
    const prefix = `${from}\u0000`;
    for (const [key, n] of [...this.mix]) {
      if (!key.startsWith(prefix)) continue;
      this.mix.delete(key);
      const moved = `${into}${key.slice(String(from).length)}`;
      this.mix.set(moved, (this.mix.get(moved) ?? 0) + n);
    }
  }

  /** Adds another set of changes to these. */
  absorb(other: Counters): void {
    for (const [id, t] of other.touches) {
      this.touch(id, t.first, t);
      this.touch(id, t.last);
    }
    for (const [key, n] of other.mix) this.mix.set(key, (this.mix.get(key) ?? 0) + n);
  }

  async flush(db: Conn, target: CounterTarget, now: number): Promise<void> {
    await this.flushTouches(db, target, now);
    await this.flushMix(db, target);
  }

  private async flushMix(db: Conn, target: CounterTarget): Promise<void> {
    const rows = [...this.mix].map(([key, count]) => {
      const [customer, channel, direction] = key.split('\u0000') as [string, string, Direction];
      return { customer_id: Number(customer), channel, direction, count };
    });
    const fast = target.fastPath;
    if (fast) {
      rows.sort((a, b) => a.customer_id - b.customer_id);
      for (const r of rows) fast.addChannelCount(r.customer_id, r.channel, r.direction, r.count);
      return;
    }
    await addChannelCounts(db, rows);
  }

  private async flushTouches(db: Conn, target: CounterTarget, now: number): Promise<void> {
    const fast = target.fastPath;
    if (fast) {
      // In id order: neighbouring customers share pages.
      const ids = [...this.touches.keys()].sort((a, b) => a - b);
      for (const id of ids) {
        const t = this.touches.get(id)!;
        if (t.orders === 0 && t.revenue === 0 && t.feedback === 0) {
          fast.touchByInteractions(id, t.first, t.last, t.interactions, now);
        } else {
          fast.touch(id, t.first, t.last, t.interactions, t.orders, t.revenue, t.feedback, now);
        }
      }
      return;
    }
    const rows = [...this.touches].map(([id, t]) => [id, t.first, t.last, t.interactions, t.orders, t.revenue, t.feedback, now]);
    await addCustomerCounters(target.store, db, rows);
  }
}
