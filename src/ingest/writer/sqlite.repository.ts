import type SQLite from 'better-sqlite3';
import type { Store } from '../../store/db.js';
import type { InteractionRecord } from '../records.js';

/**
 * The SQLite fast path of the writer: the statements a stream of events runs per record,
 * prepared once per writer and run synchronously.
 */

/**
 * Prepared statements for the two statements a stream of events runs per record: the
 * interaction insert and the per-customer counter update. Kysely compiles (and SQLite
 * prepares) a new multi-row statement per chunk, which costs more than the writes; these
 * are prepared once. better-sqlite3 is synchronous and Kysely's SQLite driver holds this
 * same connection for the batch's transaction, so they run inside that transaction.
 */
export class SqliteStatements {
  private readonly insert: SQLite.Statement<unknown[]>;
  /** Whether (source, source id) is stored: by its key, then the pair itself (keys may collide). */
  private readonly find: SQLite.Statement<unknown[]>;
  private readonly touchAll: SQLite.Statement<unknown[]>;
  /** A touch by interactions alone: setting revenue (even to itself) would rewrite its index entry. */
  private readonly touchInteractions: SQLite.Statement<unknown[]>;
  private readonly mix: SQLite.Statement<unknown[]>;

  constructor(db: SQLite.Database) {
    this.insert = db.prepare(
      `insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, source_key)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.find = db.prepare('select 1 from interactions where source_key = ? and source = ? and source_id = ?').pluck();
    this.touchAll = db.prepare(
      `update customers set first_seen = min(coalesce(first_seen, ?), ?), last_seen = max(coalesce(last_seen, ?), ?),
       interaction_count = interaction_count + ?, order_count = order_count + ?, revenue = revenue + ?,
       feedback_count = feedback_count + ?, updated_at = ? where id = ?`,
    );
    this.touchInteractions = db.prepare(
      `update customers set first_seen = min(coalesce(first_seen, ?), ?), last_seen = max(coalesce(last_seen, ?), ?),
       interaction_count = interaction_count + ?, updated_at = ? where id = ?`,
    );
    this.mix = db.prepare(
      `insert into customer_channels (customer_id, channel, direction, count) values (?, ?, ?, ?)
       on conflict (customer_id, channel, direction) do update set count = customer_channels.count + excluded.count`,
    );
  }

  /** Whether an interaction with this key, source and source id is stored. */
  hasInteraction(key: number, source: string, sourceId: string): boolean {
    return this.find.get(key, source, sourceId) !== undefined;
  }

  /** Appends an interaction (the caller has ruled out duplicates, or leaves them to the end of a load). */
  insertInteraction(customerId: number, r: InteractionRecord, receivedAt: number, key: number): void {
    this.insert.run(customerId, r.type, r.name, r.channel, r.direction, r.at, JSON.stringify(r.properties), r.source, r.sourceId, receivedAt, key);
  }

  /** Adds to a customer's counters, widening first/last seen. */
  touch(id: number, first: number, last: number, interactions: number, orders: number, revenue: number, feedback: number, now: number): void {
    this.touchAll.run(first, first, last, last, interactions, orders, revenue, feedback, now, id);
  }

  /** {@link touch} for interactions alone. */
  touchByInteractions(id: number, first: number, last: number, interactions: number, now: number): void {
    this.touchInteractions.run(first, first, last, last, interactions, now, id);
  }

  /** Adds to a customer's count for a channel and direction. */
  addChannelCount(customerId: number, channel: string, direction: string, count: number): void {
    this.mix.run(customerId, channel, direction, count);
  }
}

/** The prepared statements of the SQLite fast path; undefined on PostgreSQL. */
export function sqliteStatements(store: Store): SqliteStatements | undefined {
  return store.sqlite ? new SqliteStatements(store.sqlite) : undefined;
}
