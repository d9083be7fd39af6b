import type { Conn } from '../../store/db.js';
import { chunks } from '../../store/sql.js';
import { sourceKey } from '../../store/source-key.js';
import type {
  AliasRecord,
  FeedbackRecord,
  GroupRecord,
  IdentifyRecord,
  IngestRecord,
  InteractionRecord,
  OrderRecord,
  ProductRecord,
  Who,
  WriteCounts,
} from '../records.js';
import { nameOf, parseTraits, traitTime } from '../traits.js';
import { Counters, ONE_INTERACTION, type TouchDelta } from './counters.js';
import { firstBySource, sourcePair } from './dedupe.js';
import { Identities } from './identity.js';
import type { IngestWriter } from './writer.js';
import {
  accountByGroupId,
  customersToIdentify,
  insertAccount,
  insertFeedbackRows,
  insertInteractionRows,
  insertOrderLines,
  insertOrderRows,
  linkCustomerAccount,
  setIdentifiedCustomers,
  updateAccount,
  upsertProducts,
} from './writer.repository.js';
import type { SqliteStatements } from './sqlite.repository.js';

/** An interaction the batch stored (not a duplicate), and whose it is. */
interface StoredInteraction {
  customerId: number;
  record: InteractionRecord;
}

const INSERT_CHUNK = 1000;

/** One `IngestWriter.write()`: its records, in one transaction (or savepoint). */
export class BatchWrite {
  /** The batch's changes to per-customer counters, written at its end (or, in bulk mode, at the commit). */
  readonly counters = new Counters();
  /** Customers merged by this batch, in order: `[from, into]`. */
  readonly merges: [number, number][] = [];
  readonly counts: WriteCounts = { inserted: 0, updated: 0, duplicates: 0 };
  private readonly ids: Identities;

  constructor(
    private readonly db: Conn,
    private readonly writer: IngestWriter,
    private readonly now: number,
    /** Bulk mode: leave the counters to the caller. */
    private readonly deferCounters = false,
  ) {
    this.ids = new Identities(db, writer.caches.users, writer.caches.anons, now, writer.loading, this);
  }

  async run(records: readonly IngestRecord[]): Promise<WriteCounts> {
    const aliases: AliasRecord[] = [];
    const identifies: IdentifyRecord[] = [];
    const groups: GroupRecord[] = [];
    const interactions: InteractionRecord[] = [];
    const orders: OrderRecord[] = [];
    const feedback: FeedbackRecord[] = [];
    const products: ProductRecord[] = [];
    for (const r of records) {
      switch (r.kind) {
        case 'alias': aliases.push(r); break;
        case 'identify': identifies.push(r); break;
        case 'group': groups.push(r); break;
        case 'interaction': interactions.push(r); break;
        case 'order': orders.push(r); break;
        case 'feedback': feedback.push(r); break;
        case 'product': products.push(r); break;
      }
    }
    for (const a of aliases) await this.ids.alias(a);
    const whos: Who[] = [];
    for (const r of identifies) whos.push(r.who);
    for (const r of groups) whos.push(r.who);
    for (const r of interactions) whos.push(r.who);
    for (const r of orders) whos.push(r.who);
    for (const r of feedback) if (r.who) whos.push(r.who);
    await this.ids.resolve(whos);

    if (identifies.length > 0) await this.identify(identifies);
    for (const g of groups) await this.group(g);
    if (products.length > 0) await this.products(products);
    if (interactions.length > 0) await this.interactions(interactions);
    if (orders.length > 0) await this.orders(orders);
    if (feedback.length > 0) await this.feedback(feedback);
    if (!this.deferCounters) await this.counters.flush(this.db, this.writer, this.now);
    return this.counts;
  }

  private touch(customerId: number, at: number, delta: TouchDelta = {}): void {
    this.counters.touch(customerId, at, delta);
  }

  private async identify(records: readonly IdentifyRecord[]): Promise<void> {
    const byCustomer = new Map<number, IdentifyRecord[]>();
    for (const r of records) {
      const id = this.ids.idOf(r.who);
      const list = byCustomer.get(id);
      if (list) list.push(r);
      else byCustomer.set(id, [r]);
    }
    const rows: unknown[][] = [];
    for (const part of chunks([...byCustomer.keys()], 500)) {
      const current = await customersToIdentify(this.db, part);
      for (const c of current) {
        let traits = parseTraits(c.traits);
        let firstSeen = c.first_seen;
        for (const r of byCustomer.get(c.id)!) {
          traits = { ...traits, ...r.traits };
          this.touch(c.id, r.at);
          const signup = traitTime(r.traits);
          if (signup !== null && (firstSeen === null || signup < firstSeen)) firstSeen = signup;
        }
        const email = typeof traits['email'] === 'string' ? traits['email'] : c.email;
        rows.push([c.id, JSON.stringify(traits), email, nameOf(traits) ?? c.name, firstSeen, this.now]);
        if (this.ids.created.has(c.id)) this.counts.inserted += byCustomer.get(c.id)!.length;
        else this.counts.updated += byCustomer.get(c.id)!.length;
      }
    }
    await setIdentifiedCustomers(this.db, rows);
  }

  private async group(g: GroupRecord): Promise<void> {
    const customer = this.ids.idOf(g.who);
    const existing = await accountByGroupId(this.db, g.groupId);
    const traits = { ...(existing ? parseTraits(existing.traits) : {}), ...g.traits };
    const name = typeof traits['name'] === 'string' ? traits['name'] : (existing?.name ?? null);
    let accountId: number;
    if (existing) {
      await updateAccount(this.db, existing.id, JSON.stringify(traits), name, this.now);
      accountId = existing.id;
    } else {
      accountId = await insertAccount(this.db, g.groupId, name, JSON.stringify(traits), this.now);
    }
    await linkCustomerAccount(this.db, customer, accountId, this.now);
    this.touch(customer, g.at);
    this.counts.updated += 1;
  }

  private async products(records: readonly ProductRecord[]): Promise<void> {
    const latest = new Map<string, ProductRecord>();
    for (const p of records) latest.set(p.productId, { ...latest.get(p.productId), ...dropNulls(p) } as ProductRecord);
    const rows = [...latest.values()].map((p) => ({
      product_id: p.productId,
      name: p.name ?? null,
      category: p.category ?? null,
      price: p.price ?? null,
      updated_at: this.now,
    }));
    for (const part of chunks(rows, INSERT_CHUNK)) await upsertProducts(this.db, part);
  }

  private async interactions(records: readonly InteractionRecord[]): Promise<void> {
    const fast = this.writer.fastPath;
    if (fast && this.writer.loading) {
      // Load mode: append only; duplicates and counters are settled when the load ends (finishLoad).
      this.counts.inserted += this.insertInteractionsSqlite(fast, records, false).length;
      return;
    }
    const inserted = fast ? this.insertInteractionsSqlite(fast, records) : await this.insertInteractions(records);
    // Everything that follows from a newly stored interaction goes here, for both paths.
    for (const { customerId, record } of inserted) {
      this.counters.touch(customerId, record.at, ONE_INTERACTION);
      this.counters.addMix(customerId, record.channel, record.direction);
    }
    this.counts.inserted += inserted.length;
    this.counts.duplicates += records.length - inserted.length;
  }

  /**
   * SQLite: per record, a look-up by key (new records find nothing) and one prepared insert.
   * Without `probe` (load mode) every record is appended.
   */
  private insertInteractionsSqlite(fast: SqliteStatements, records: readonly InteractionRecord[], probe = true): StoredInteraction[] {
    const inserted: StoredInteraction[] = [];
    for (const r of records) {
      const customerId = this.ids.idOf(r.who);
      if (typeof r.sourceId !== 'string') throw new TypeError('an interaction without a source id');
      const key = sourceKey(r.source, r.sourceId);
      if (probe && fast.hasInteraction(key, r.source, r.sourceId)) continue;
      fast.insertInteraction(customerId, r, this.now, key);
      inserted.push({ customerId, record: r });
    }
    return inserted;
  }

  /** Multi-row inserts; RETURNING names the new ones. */
  private async insertInteractions(records: readonly InteractionRecord[]): Promise<StoredInteraction[]> {
    const inserted: StoredInteraction[] = [];
    for (const part of chunks(records, INSERT_CHUNK)) {
      const bySource = firstBySource(part);
      const rows = part.map((r) => ({
        customer_id: this.ids.idOf(r.who),
        type: r.type,
        name: r.name,
        channel: r.channel,
        direction: r.direction,
        occurred_at: r.at,
        properties: JSON.stringify(r.properties),
        source: r.source,
        source_id: r.sourceId,
        received_at: this.now,
      }));
      const stored = await insertInteractionRows(this.db, rows);
      for (const r of stored) inserted.push({ customerId: r.customer_id, record: bySource.get(sourcePair(r.source, r.source_id))! });
    }
    return inserted;
  }

  private async orders(records: readonly OrderRecord[]): Promise<void> {
    for (const part of chunks(records, INSERT_CHUNK)) {
      const bySource = firstBySource(part);
      const inserted = await insertOrderRows(
        this.db,
        part.map((r) => ({
          customer_id: this.ids.idOf(r.who),
          order_id: r.orderId,
          occurred_at: r.at,
          total: r.total,
          currency: r.currency,
          properties: JSON.stringify(r.properties),
          source: r.source,
          source_id: r.sourceId,
          received_at: this.now,
        })),
      );
      const lines: { order_ref: number; line_no: number; customer_id: number; product_id: string; name: string | null; category: string | null; price: number; quantity: number }[] = [];
      for (const o of inserted) {
        this.touch(o.customer_id, o.occurred_at, { orders: 1, revenue: o.total });
        const rec = bySource.get(sourcePair(o.source, o.source_id))!;
        rec.lines.forEach((l, i) =>
          lines.push({ order_ref: o.id, line_no: i + 1, customer_id: o.customer_id, product_id: l.productId, name: l.name, category: l.category, price: l.price, quantity: l.quantity }),
        );
      }
      for (const lp of chunks(lines, INSERT_CHUNK)) await insertOrderLines(this.db, lp);
      this.counts.inserted += inserted.length;
      this.counts.duplicates += part.length - inserted.length;
    }
  }

  private async feedback(records: readonly FeedbackRecord[]): Promise<void> {
    for (const part of chunks(records, INSERT_CHUNK)) {
      const inserted = await insertFeedbackRows(
        this.db,
        part.map((r) => ({
          customer_id: r.who ? this.ids.idOf(r.who) : null,
          kind: r.feedbackKind,
          text: r.text,
          rating: r.rating,
          status: r.status,
          created_at: r.at,
          properties: JSON.stringify(r.properties),
          source: r.source,
          source_id: r.sourceId,
          received_at: this.now,
        })),
      );
      for (const r of inserted) if (r.customer_id !== null) this.touch(r.customer_id, r.created_at, { feedback: 1 });
      this.counts.inserted += inserted.length;
      this.counts.duplicates += part.length - inserted.length;
    }
  }
}

function dropNulls<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}
