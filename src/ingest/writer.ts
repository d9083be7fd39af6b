import type SQLite from 'better-sqlite3';
import { sql, type ControlledTransaction } from 'kysely';
import { RapportError } from '../core/errors.js';
import type { Conn, Store } from '../store/db.js';
import type { Database, Direction } from '../store/schema.js';
import { chunks, greatest, least, updateFromValues } from '../store/sql.js';
import { sourceKey } from '../store/source-key.js';
import { INTERACTION_INDEXES } from '../store/indexes.js';
import type {
  AliasRecord,
  FeedbackRecord,
  GroupRecord,
  IdentifyRecord,
  IngestRecord,
  InteractionRecord,
  OrderRecord,
  ProductRecord,
  Traits,
  Who,
  WriteCounts,
} from './records.js';

/** An interaction the batch stored (not a duplicate), and whose it is. */
interface StoredInteraction {
  customerId: number;
  record: InteractionRecord;
}

/** Per-customer changes gathered over a batch and written once at its end. */
interface Touch {
  first: number;
  last: number;
  interactions: number;
  orders: number;
  revenue: number;
  feedback: number;
}

const CACHE_LIMIT = 200_000;
const INSERT_CHUNK = 1000;

/**
 * The only writer of raw records. A batch is written in one transaction: every record or
 * none. Re-sending a record with the same (source, source id) stores nothing new.
 *
 * Identity resolution: a user id names one customer; anonymous ids are identities that
 * point at a customer. A message carrying both links them, merging an anonymous history
 * into the user's (as Segment's identify and alias do).
 *
 * The id caches only speed up look-ups; they are dropped after any failed batch and after
 * merges or erasures, so a stale entry never outlives the transaction that made it.
 */
/** Bulk mode: the outer transaction that groups savepoint-batches, and when it began. */
interface Bulk {
  readonly commitEveryMs: number;
  trx: ControlledTransaction<Database> | undefined;
  since: number;
  /** Counter changes of the batches written since the last commit, written just before it. */
  readonly counters: Counters;
}

/**
 * Load mode (SQLite): interactions are appended without their two indexes, which are built
 * once at the end, sorted. What the indexes did row by row is done then, set-based:
 * duplicates are found and dropped, merges of customers are applied to the loaded rows, and
 * the per-customer counters are added up.
 */
interface Load {
  /** Interactions with a larger id were written by this load. */
  readonly startId: number;
  /** Customer merges, in order, whose interactions are moved (and the merged customer deleted) at the end. */
  readonly merges: [number, number][];
}

export interface LoadResult<T> {
  result: T;
  /** Interactions the load wrote, found at the end to be already stored (or twice in the load), and dropped. */
  duplicates: number;
}

export class IngestWriter {
  private readonly users = new Map<string, number>();
  private readonly anons = new Map<string, number>();
  private statements: SqliteStatements | undefined;
  private bulkState: Bulk | undefined;
  private loadState: Load | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Forgets cached ids (after an erasure, or when another process may have merged customers). */
  forget(): void {
    this.users.clear();
    this.anons.clear();
  }

  async write(records: readonly IngestRecord[]): Promise<WriteCounts> {
    if (records.length === 0) return { inserted: 0, updated: 0, duplicates: 0 };
    if (this.users.size > CACHE_LIMIT || this.anons.size > CACHE_LIMIT) this.forget();
    if (this.bulkState) return this.writeInBulk(this.bulkState, records);
    try {
      return await this.store.db.transaction().execute((trx) => new BatchWrite(trx, this, this.clock()).run(records));
    } catch (e) {
      this.forget();
      throw e;
    }
  }

  /**
   * Runs `fn` in bulk mode, for imports: every `write()` is still all-or-nothing (a savepoint),
   * but writes are committed together about every `commitEveryMs`. A commit rewrites every
   * index page the batch touched, so with random message ids committing 5000 records at a
   * time costs more than writing them; grouping them divides that by the group's size.
   * The price: a crash loses the writes since the last commit (an import is idempotent, so
   * running it again completes it), and other writers wait up to that long for the lock.
   * When `fn` throws, what was written before is committed, as it would have been without
   * bulk mode. Inside, read with {@link conn}, which sees the uncommitted writes.
   *
   * @example await writer.bulk(async () => { for (const b of batches) await writer.write(b); });
   */
  async bulk<T>(fn: () => Promise<T>, options: { commitEveryMs?: number } = {}): Promise<T> {
    if (this.bulkState) throw new Error('IngestWriter.bulk: already in bulk mode');
    const bulk: Bulk = { commitEveryMs: options.commitEveryMs ?? 1000, trx: undefined, since: 0, counters: new Counters() };
    this.bulkState = bulk;
    try {
      const result = await fn();
      await this.commitBulk(bulk);
      return result;
    } catch (e) {
      await this.commitBulk(bulk).catch(async () => {
        this.forget();
        await bulk.trx?.rollback().execute().catch(() => undefined);
        bulk.trx = undefined;
      });
      throw e;
    } finally {
      this.bulkState = undefined;
    }
  }

  /**
   * Runs `fn` in load mode, for a large import into SQLite: one transaction for everything,
   * in which the interactions table is written without its indexes (each row a plain append)
   * and the indexes are then built in one sorted pass. That is several times faster than
   * keeping two random-access indexes up to date row by row, once the data outgrows memory.
   *
   * The price: the import is all or nothing (a failure, or a crash, leaves the database as
   * it was, indexes included), other writers wait for it (readers keep reading the data as it
   * was before), and the log holds the whole load until it is checkpointed. Worth it when the
   * import is large next to what is stored; the importer decides (see ingest/files.ts).
   * Counts returned by `write()` inside count every interaction as inserted; the duplicates
   * found at the end are in the result.
   */
  async load<T>(fn: () => Promise<T>): Promise<LoadResult<T>> {
    const raw = this.store.sqlite;
    if (!raw) throw new Error('IngestWriter.load: SQLite only');
    if (this.bulkState) throw new Error('IngestWriter.load: already in bulk mode');
    // The index builds sort on disk, not in memory (temp_store = MEMORY would hold the sort).
    const tempStore = raw.pragma('temp_store', { simple: true }) as number;
    raw.pragma('temp_store = FILE');
    const trx = await this.store.db.startTransaction().execute();
    const bulk: Bulk = { commitEveryMs: Number.POSITIVE_INFINITY, trx, since: performance.now(), counters: new Counters() };
    this.bulkState = bulk;
    try {
      const load: Load = { startId: await lastInteractionId(trx), merges: [] };
      for (const index of INTERACTION_INDEXES) await sql.raw(`drop index if exists ${index.name}`).execute(trx);
      this.loadState = load;
      const result = await fn();
      const duplicates = await finishLoad(trx, load, this.clock());
      await this.commitBulk(bulk);
      // The log holds the whole load: copy it into the database now and give the space back
      // (a reader still on an older snapshot makes this a partial copy; a later checkpoint ends it).
      try {
        raw.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Busy: the checkpoint thread or the next writer will do it.
      }
      return { result, duplicates };
    } catch (e) {
      this.forget();
      await trx.rollback().execute().catch(() => undefined);
      throw e;
    } finally {
      this.loadState = undefined;
      this.bulkState = undefined;
      raw.pragma(`temp_store = ${tempStore}`);
    }
  }

  /** @internal the open load, when in load mode. */
  get loading(): Load | undefined {
    return this.loadState;
  }

  /** The connection to read through: the open bulk transaction, else the store. */
  get conn(): Conn {
    return this.bulkState?.trx ?? this.store.db;
  }

  private async writeInBulk(bulk: Bulk, records: readonly IngestRecord[]): Promise<WriteCounts> {
    if (!bulk.trx) {
      bulk.trx = await this.store.db.startTransaction().execute();
      bulk.since = performance.now();
    }
    const sp = await bulk.trx.savepoint('batch').execute();
    let counts: WriteCounts;
    const batch = new BatchWrite(sp, this, this.clock(), true);
    try {
      counts = await batch.run(records);
    } catch (e) {
      this.forget();
      try {
        await sp.rollbackToSavepoint('batch').execute();
        await sp.releaseSavepoint('batch').execute();
      } catch (rollback) {
        // The outer transaction is unusable: stop here, bulk() rolls it back.
        throw new RapportError('internal', `bulk write failed (${(e as Error).message}) and could not be undone: ${(rollback as Error).message}`);
      }
      throw e;
    }
    await sp.releaseSavepoint('batch').execute();
    // The batch is in: its counter changes join the pending ones (re-aimed by its merges first).
    for (const [from, into] of batch.merges) bulk.counters.move(from, into);
    bulk.counters.absorb(batch.counters);
    if (performance.now() - bulk.since >= bulk.commitEveryMs) await this.commitBulk(bulk);
    return counts;
  }

  private async commitBulk(bulk: Bulk): Promise<void> {
    const trx = bulk.trx;
    if (!trx) return;
    bulk.trx = undefined;
    try {
      if (!bulk.counters.empty) {
        await bulk.counters.flush(trx, this, this.clock());
        bulk.counters.clear();
      }
      await trx.commit().execute();
    } catch (e) {
      bulk.trx = trx;
      throw e;
    }
  }

  /** @internal used by BatchWrite */
  get caches(): { users: Map<string, number>; anons: Map<string, number> } {
    return { users: this.users, anons: this.anons };
  }

  /** @internal */
  get dialect(): Store['dialect'] {
    return this.store.dialect;
  }

  /** @internal the SQLite hot path; undefined on PostgreSQL. */
  get sqlite(): SqliteStatements | undefined {
    if (!this.store.sqlite) return undefined;
    this.statements ??= new SqliteStatements(this.store.sqlite);
    return this.statements;
  }
}

/**
 * Prepared statements for the two statements a stream of events runs per record: the
 * interaction insert and the per-customer counter update. Kysely compiles (and SQLite
 * prepares) a new multi-row statement per chunk, which costs more than the writes; these
 * are prepared once. better-sqlite3 is synchronous and Kysely's SQLite driver holds this
 * same connection for the batch's transaction, so they run inside that transaction.
 */
class SqliteStatements {
  readonly insertInteraction: SQLite.Statement<unknown[]>;
  /** Whether (source, source id) is stored: by its key, then the pair itself (keys may collide). */
  readonly findInteraction: SQLite.Statement<unknown[]>;
  readonly touch: SQLite.Statement<unknown[]>;
  /** A touch by interactions alone: setting revenue (even to itself) would rewrite its index entry. */
  readonly touchInteractions: SQLite.Statement<unknown[]>;
  readonly addMix: SQLite.Statement<unknown[]>;

  constructor(db: SQLite.Database) {
    this.insertInteraction = db.prepare(
      `insert into interactions (customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, source_key)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.findInteraction = db.prepare('select 1 from interactions where source_key = ? and source = ? and source_id = ?').pluck();
    this.touch = db.prepare(
      `update customers set first_seen = min(coalesce(first_seen, ?), ?), last_seen = max(coalesce(last_seen, ?), ?),
       interaction_count = interaction_count + ?, order_count = order_count + ?, revenue = revenue + ?,
       feedback_count = feedback_count + ?, updated_at = ? where id = ?`,
    );
    this.touchInteractions = db.prepare(
      `update customers set first_seen = min(coalesce(first_seen, ?), ?), last_seen = max(coalesce(last_seen, ?), ?),
       interaction_count = interaction_count + ?, updated_at = ? where id = ?`,
    );
    this.addMix = db.prepare(
      `insert into customer_channels (customer_id, channel, direction, count) values (?, ?, ?, ?)
       on conflict (customer_id, channel, direction) do update set count = customer_channels.count + excluded.count`,
    );
  }
}

class BatchWrite {
  private readonly users: Map<string, number>;
  private readonly anons: Map<string, number>;
  /** The batch's changes to per-customer counters, written at its end (or, in bulk mode, at the commit). */
  readonly counters = new Counters();
  /** Customers merged by this batch, in order: `[from, into]`. */
  readonly merges: [number, number][] = [];
  private readonly counts: WriteCounts = { inserted: 0, updated: 0, duplicates: 0 };
  private readonly created = new Set<number>();

  constructor(
    private readonly db: Conn,
    private readonly writer: IngestWriter,
    private readonly now: number,
    /** Bulk mode: leave the counters to the caller. */
    private readonly deferCounters = false,
  ) {
    this.users = writer.caches.users;
    this.anons = writer.caches.anons;
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
    for (const a of aliases) await this.alias(a);
    const whos: Who[] = [];
    for (const r of identifies) whos.push(r.who);
    for (const r of groups) whos.push(r.who);
    for (const r of interactions) whos.push(r.who);
    for (const r of orders) whos.push(r.who);
    for (const r of feedback) if (r.who) whos.push(r.who);
    await this.resolve(whos);

    if (identifies.length > 0) await this.identify(identifies);
    for (const g of groups) await this.group(g);
    if (products.length > 0) await this.products(products);
    if (interactions.length > 0) await this.interactions(interactions);
    if (orders.length > 0) await this.orders(orders);
    if (feedback.length > 0) await this.feedback(feedback);
    if (!this.deferCounters) await this.counters.flush(this.db, this.writer, this.now);
    return this.counts;
  }

  private idOf(who: Who): number {
    const id = who.userId !== undefined ? this.users.get(who.userId) : this.anons.get(who.anonymousId!);
    if (id === undefined) throw new Error(`identity not resolved: ${JSON.stringify(who)}`);
    return id;
  }

  private touch(customerId: number, at: number, delta: Partial<Omit<Touch, 'first' | 'last'>> = {}): void {
    this.counters.touch(customerId, at, delta);
  }

  /** Finds or creates the customer behind every who, linking anonymous ids to user ids. */
  private async resolve(whos: readonly Who[]): Promise<void> {
    if (this.known(whos)) return;
    const userIds = new Set<string>();
    const anonIds = new Set<string>();
    for (const w of whos) {
      if (w.userId !== undefined && !this.users.has(w.userId)) userIds.add(w.userId);
      if (w.anonymousId !== undefined && !this.anons.has(w.anonymousId)) anonIds.add(w.anonymousId);
    }
    for (const part of chunks([...userIds], 500)) {
      const rows = await this.db.selectFrom('customers').select(['id', 'user_id']).where('user_id', 'in', part).execute();
      for (const r of rows) this.users.set(r.user_id!, r.id);
    }
    const newUsers = [...userIds].filter((u) => !this.users.has(u));
    for (const part of chunks(newUsers, 500)) {
      const rows = await this.db
        .insertInto('customers')
        .values(part.map((u) => ({ user_id: u, traits: '{}', created_at: this.now, updated_at: this.now })))
        .returning(['id', 'user_id'])
        .execute();
      for (const r of rows) {
        this.users.set(r.user_id!, r.id);
        this.created.add(r.id);
      }
    }
    for (const part of chunks([...anonIds], 500)) {
      const rows = await this.db
        .selectFrom('identities')
        .select(['customer_id', 'value'])
        .where('kind', '=', 'anonymous')
        .where('value', 'in', part)
        .execute();
      for (const r of rows) this.anons.set(r.value, r.customer_id);
    }
    // Link anonymous ids seen together with a user id; create customers for lone anonymous ids.
    const links = new Map<string, number>();
    const lone: string[] = [];
    for (const w of whos) {
      if (w.anonymousId === undefined) continue;
      const known = this.anons.get(w.anonymousId);
      if (w.userId !== undefined) {
        const user = this.users.get(w.userId)!;
        if (known === undefined) links.set(w.anonymousId, user);
        else if (known !== user) await this.mergeAnonymous(known, user);
      } else if (known === undefined && !links.has(w.anonymousId)) {
        lone.push(w.anonymousId);
      }
    }
    const loneUnique = [...new Set(lone)].filter((a) => !links.has(a));
    for (const part of chunks(loneUnique, 500)) {
      const rows = await this.db
        .insertInto('customers')
        .values(part.map(() => ({ user_id: null, traits: '{}', created_at: this.now, updated_at: this.now })))
        .returning('id')
        .execute();
      rows.forEach((r, i) => {
        links.set(part[i]!, r.id);
        this.created.add(r.id);
      });
    }
    const linkRows = [...links].map(([value, customer_id]) => ({ kind: 'anonymous' as const, value, customer_id, created_at: this.now }));
    for (const part of chunks(linkRows, 500)) {
      await this.db.insertInto('identities').values(part).onConflict((oc) => oc.columns(['kind', 'value']).doNothing()).execute();
    }
    for (const [value, id] of links) this.anons.set(value, id);
  }

  /** Whether every who is cached, and every anonymous id seen with a user id already points at that user. */
  private known(whos: readonly Who[]): boolean {
    for (const w of whos) {
      const user = w.userId === undefined ? undefined : this.users.get(w.userId);
      if (w.userId !== undefined && user === undefined) return false;
      if (w.anonymousId === undefined) continue;
      const anon = this.anons.get(w.anonymousId);
      if (anon === undefined || (user !== undefined && anon !== user)) return false;
    }
    return true;
  }

  /**
   * Merges the customer `from` into `into` when `from` is still anonymous (an anonymous id
   * shared by two known users, e.g. a family computer, stays with the first).
   */
  private async mergeAnonymous(from: number, into: number): Promise<void> {
    const src = await this.db.selectFrom('customers').selectAll().where('id', '=', from).executeTakeFirst();
    if (!src || src.user_id !== null) return;
    await this.mergeCustomers(from, into);
  }

  private async mergeCustomers(from: number, into: number): Promise<void> {
    const db = this.db;
    const load = this.writer.loading;
    const src = await db.selectFrom('customers').selectAll().where('id', '=', from).executeTakeFirstOrThrow();
    const dst = await db.selectFrom('customers').selectAll().where('id', '=', into).executeTakeFirstOrThrow();
    for (const table of ['interactions', 'orders', 'order_lines', 'feedback', 'identities'] as const) {
      // In load mode interactions have no index by customer yet: they move when the load ends.
      if (load && table === 'interactions') continue;
      await db.updateTable(table).set({ customer_id: into }).where('customer_id', '=', from).execute();
    }
    await sql`insert into customer_accounts (customer_id, account_id, created_at)
      select ${into}, account_id, created_at from customer_accounts where customer_id = ${from}
      on conflict do nothing`.execute(db);
    await sql`insert into customer_channels (customer_id, channel, direction, count)
      select ${into}, channel, direction, count from customer_channels where customer_id = ${from}
      on conflict (customer_id, channel, direction) do update set count = customer_channels.count + excluded.count`.execute(db);
    const traits = { ...parseTraits(src.traits), ...parseTraits(dst.traits) };
    const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
    const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
    if (load) {
      // Deleted at the end, after its interactions have moved (the delete would cascade to them).
      // Until then nothing finds it: its ids and e-mail are gone, its totals are `into`'s.
      await db.updateTable('customers').set({ user_id: null, email: null, interaction_count: 0, order_count: 0, revenue: 0, feedback_count: 0 }).where('id', '=', from).execute();
      load.merges.push([from, into]);
    } else {
      await db.deleteFrom('customers').where('id', '=', from).execute();
    }
    await db
      .updateTable('customers')
      .set({
        traits: JSON.stringify(traits),
        email: dst.email ?? src.email,
        name: dst.name ?? src.name,
        first_seen: minOf(src.first_seen, dst.first_seen),
        last_seen: maxOf(src.last_seen, dst.last_seen),
        order_count: src.order_count + dst.order_count,
        revenue: src.revenue + dst.revenue,
        interaction_count: src.interaction_count + dst.interaction_count,
        feedback_count: src.feedback_count + dst.feedback_count,
        updated_at: this.now,
      })
      .where('id', '=', into)
      .execute();
    this.counters.move(from, into);
    this.merges.push([from, into]);
    for (const [k, v] of this.anons) if (v === from) this.anons.set(k, into);
    for (const [k, v] of this.users) if (v === from) this.users.set(k, into);
    this.counts.updated += 1;
  }

  /** Segment alias: `previousId` (anonymous id or former user id) becomes `userId`. */
  private async alias(a: AliasRecord): Promise<void> {
    await this.resolve([{ userId: a.userId }]);
    const into = this.users.get(a.userId)!;
    const prevUser = await this.db.selectFrom('customers').select('id').where('user_id', '=', a.previousId).executeTakeFirst();
    const prevAnon = await this.db
      .selectFrom('identities')
      .select('customer_id')
      .where('kind', '=', 'anonymous')
      .where('value', '=', a.previousId)
      .executeTakeFirst();
    const from = prevUser?.id ?? prevAnon?.customer_id;
    if (from !== undefined && from !== into) await this.mergeCustomers(from, into);
    if (!prevAnon) {
      await this.db
        .insertInto('identities')
        .values({ kind: 'anonymous', value: a.previousId, customer_id: into, created_at: this.now })
        .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
        .execute();
    }
    this.anons.set(a.previousId, into);
    this.touch(into, a.at);
  }

  private async identify(records: readonly IdentifyRecord[]): Promise<void> {
    const byCustomer = new Map<number, IdentifyRecord[]>();
    for (const r of records) {
      const id = this.idOf(r.who);
      const list = byCustomer.get(id);
      if (list) list.push(r);
      else byCustomer.set(id, [r]);
    }
    const rows: unknown[][] = [];
    for (const part of chunks([...byCustomer.keys()], 500)) {
      const current = await this.db
        .selectFrom('customers')
        .select(['id', 'traits', 'email', 'name', 'first_seen'])
        .where('id', 'in', part)
        .execute();
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
        if (this.created.has(c.id)) this.counts.inserted += byCustomer.get(c.id)!.length;
        else this.counts.updated += byCustomer.get(c.id)!.length;
      }
    }
    await updateFromValues(this.db, 'customers', 'id', ['bigint', 'text', 'text', 'text', 'bigint', 'bigint'], rows, {
      traits: 'v.column2',
      email: 'v.column3',
      name: 'v.column4',
      first_seen: 'v.column5',
      updated_at: 'v.column6',
    });
  }

  private async group(g: GroupRecord): Promise<void> {
    const customer = this.idOf(g.who);
    const existing = await this.db.selectFrom('accounts').selectAll().where('group_id', '=', g.groupId).executeTakeFirst();
    const traits = { ...(existing ? parseTraits(existing.traits) : {}), ...g.traits };
    const name = typeof traits['name'] === 'string' ? traits['name'] : (existing?.name ?? null);
    let accountId: number;
    if (existing) {
      await this.db
        .updateTable('accounts')
        .set({ traits: JSON.stringify(traits), name, updated_at: this.now })
        .where('id', '=', existing.id)
        .execute();
      accountId = existing.id;
    } else {
      const row = await this.db
        .insertInto('accounts')
        .values({ group_id: g.groupId, name, traits: JSON.stringify(traits), created_at: this.now, updated_at: this.now })
        .returning('id')
        .executeTakeFirstOrThrow();
      accountId = row.id;
    }
    await this.db
      .insertInto('customer_accounts')
      .values({ customer_id: customer, account_id: accountId, created_at: this.now })
      .onConflict((oc) => oc.columns(['customer_id', 'account_id']).doNothing())
      .execute();
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
    for (const part of chunks(rows, INSERT_CHUNK)) {
      await this.db
        .insertInto('products')
        .values(part)
        .onConflict((oc) =>
          oc.column('product_id').doUpdateSet({
            name: sql`coalesce(excluded.name, products.name)`,
            category: sql`coalesce(excluded.category, products.category)`,
            price: sql`coalesce(excluded.price, products.price)`,
            updated_at: sql`excluded.updated_at`,
          }),
        )
        .execute();
    }
  }

  private async interactions(records: readonly InteractionRecord[]): Promise<void> {
    const fast = this.writer.sqlite;
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
    const insert = fast.insertInteraction;
    const find = fast.findInteraction;
    const inserted: StoredInteraction[] = [];
    for (const r of records) {
      const customerId = this.idOf(r.who);
      if (typeof r.sourceId !== 'string') throw new TypeError('an interaction without a source id');
      const key = sourceKey(r.source, r.sourceId);
      if (probe && find.get(key, r.source, r.sourceId) !== undefined) continue;
      insert.run(customerId, r.type, r.name, r.channel, r.direction, r.at, JSON.stringify(r.properties), r.source, r.sourceId, this.now, key);
      inserted.push({ customerId, record: r });
    }
    return inserted;
  }

  /** Multi-row inserts; RETURNING names the new ones. */
  private async insertInteractions(records: readonly InteractionRecord[]): Promise<StoredInteraction[]> {
    const inserted: StoredInteraction[] = [];
    for (const part of chunks(records, INSERT_CHUNK)) {
      const bySource = new Map<string, InteractionRecord>();
      for (const r of part) if (!bySource.has(`${r.source}\u0000${r.sourceId}`)) bySource.set(`${r.source}\u0000${r.sourceId}`, r);
      const rows = part.map((r) => ({
        customer_id: this.idOf(r.who),
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
      const stored = await this.db
        .insertInto('interactions')
        .values(rows)
        .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
        .returning(['customer_id', 'source', 'source_id'])
        .execute();
      for (const r of stored) inserted.push({ customerId: r.customer_id, record: bySource.get(`${r.source}\u0000${r.source_id}`)! });
    }
    return inserted;
  }

  private async orders(records: readonly OrderRecord[]): Promise<void> {
    for (const part of chunks(records, INSERT_CHUNK)) {
      const bySource = new Map<string, OrderRecord>();
      for (const r of part) if (!bySource.has(`${r.source}\u0000${r.sourceId}`)) bySource.set(`${r.source}\u0000${r.sourceId}`, r);
      const inserted = await this.db
        .insertInto('orders')
        .values(
          part.map((r) => ({
            customer_id: this.idOf(r.who),
            order_id: r.orderId,
            occurred_at: r.at,
            total: r.total,
            currency: r.currency,
            properties: JSON.stringify(r.properties),
            source: r.source,
            source_id: r.sourceId,
            received_at: this.now,
          })),
        )
        .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
        .returning(['id', 'customer_id', 'occurred_at', 'total', 'source', 'source_id'])
        .execute();
      const lines: { order_ref: number; line_no: number; customer_id: number; product_id: string; name: string | null; category: string | null; price: number; quantity: number }[] = [];
      for (const o of inserted) {
        this.touch(o.customer_id, o.occurred_at, { orders: 1, revenue: o.total });
        const rec = bySource.get(`${o.source}\u0000${o.source_id}`)!;
        rec.lines.forEach((l, i) =>
          lines.push({ order_ref: o.id, line_no: i + 1, customer_id: o.customer_id, product_id: l.productId, name: l.name, category: l.category, price: l.price, quantity: l.quantity }),
        );
      }
      for (const lp of chunks(lines, INSERT_CHUNK)) await this.db.insertInto('order_lines').values(lp).execute();
      this.counts.inserted += inserted.length;
      this.counts.duplicates += part.length - inserted.length;
    }
  }

  private async feedback(records: readonly FeedbackRecord[]): Promise<void> {
    for (const part of chunks(records, INSERT_CHUNK)) {
      const inserted = await this.db
        .insertInto('feedback')
        .values(
          part.map((r) => ({
            customer_id: r.who ? this.idOf(r.who) : null,
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
        )
        .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
        .returning(['customer_id', 'created_at'])
        .execute();
      for (const r of inserted) if (r.customer_id !== null) this.touch(r.customer_id, r.created_at, { feedback: 1 });
      this.counts.inserted += inserted.length;
      this.counts.duplicates += part.length - inserted.length;
    }
  }
}

const ONE_INTERACTION = { interactions: 1 } as const;

/** The largest interaction id (0 when none): ids only grow, so it also tells about how many are stored. */
export async function lastInteractionId(db: Conn): Promise<number> {
  const top = await db.selectFrom('interactions').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(top?.id ?? 0);
}

/**
 * The end of a load: builds the interactions indexes, then does set-based what the writer does
 * row by row otherwise. Returns how many loaded interactions were duplicates.
 */
async function finishLoad(db: Conn, load: Load, now: number): Promise<number> {
  for (const index of INTERACTION_INDEXES) await sql.raw(index.sql).execute(db);
  // Keys held by more than one row, one of them loaded; then the pairs themselves decide
  // (keys may collide). The first row of a pair stays: the one stored before, or loaded first.
  const keys = await sql<{ k: number }>`select source_key as k from interactions
    group by source_key having count(*) > 1 and max(id) > ${load.startId}`.execute(db);
  const drop: number[] = [];
  const seen = new Set<string>();
  for (const part of chunks(keys.rows.map((r) => r.k), 500)) {
    const { rows } = await sql<{ id: number; source: string; source_id: string }>`select id, source, source_id from interactions
      where source_key in (${sql.join(part)}) order by id`.execute(db);
    for (const r of rows) {
      const pair = `${r.source}\u0000${r.source_id}`;
      if (!seen.has(pair)) seen.add(pair);
      else if (r.id > load.startId) drop.push(r.id);
    }
  }
  for (const part of chunks(drop, 500)) await db.deleteFrom('interactions').where('id', 'in', part).execute();
  for (const [from, into] of load.merges) {
    await db.updateTable('interactions').set({ customer_id: into }).where('customer_id', '=', from).execute();
    await db.deleteFrom('customers').where('id', '=', from).execute();
  }
  // The counters, as BatchWrite.interactions keeps them, over the loaded rows.
  await sql`update customers set interaction_count = interaction_count + s.n,
      first_seen = min(coalesce(first_seen, s.f), s.f), last_seen = max(coalesce(last_seen, s.l), s.l), updated_at = ${now}
    from (select customer_id, count(*) as n, min(occurred_at) as f, max(occurred_at) as l
          from interactions where id > ${load.startId} group by customer_id) as s
    where customers.id = s.customer_id`.execute(db);
  await sql`insert into customer_channels (customer_id, channel, direction, count)
    select customer_id, channel, direction, count(*) from interactions where id > ${load.startId}
    group by customer_id, channel, direction
    on conflict (customer_id, channel, direction) do update set count = customer_channels.count + excluded.count`.execute(db);
  return drop.length;
}

/**
 * Changes to the per-customer counters (first/last seen, totals, channel × direction mix),
 * gathered in memory and written in one pass: a busy customer costs one update per flush,
 * not one per record.
 */
class Counters {
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

  touch(customerId: number, at: number, delta: Partial<Omit<Touch, 'first' | 'last'>> = {}): void {
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

  async flush(db: Conn, writer: IngestWriter, now: number): Promise<void> {
    await this.flushTouches(db, writer, now);
    await this.flushMix(db, writer);
  }

  private async flushMix(db: Conn, writer: IngestWriter): Promise<void> {
    const rows = [...this.mix].map(([key, count]) => {
      const [customer, channel, direction] = key.split('\u0000') as [string, string, Direction];
      return { customer_id: Number(customer), channel, direction, count };
    });
    const fast = writer.sqlite;
    if (fast) {
      rows.sort((a, b) => a.customer_id - b.customer_id);
      for (const r of rows) fast.addMix.run(r.customer_id, r.channel, r.direction, r.count);
      return;
    }
    for (const part of chunks(rows, INSERT_CHUNK)) {
      await db
        .insertInto('customer_channels')
        .values(part)
        .onConflict((oc) => oc.columns(['customer_id', 'channel', 'direction']).doUpdateSet({ count: sql`customer_channels.count + excluded.count` }))
        .execute();
    }
  }

  private async flushTouches(db: Conn, writer: IngestWriter, now: number): Promise<void> {
    const fast = writer.sqlite;
    if (fast) {
      // In id order: neighbouring customers share pages.
      const ids = [...this.touches.keys()].sort((a, b) => a - b);
      for (const id of ids) {
        const t = this.touches.get(id)!;
        if (t.orders === 0 && t.revenue === 0 && t.feedback === 0) {
          fast.touchInteractions.run(t.first, t.first, t.last, t.last, t.interactions, now, id);
        } else {
          fast.touch.run(t.first, t.first, t.last, t.last, t.interactions, t.orders, t.revenue, t.feedback, now, id);
        }
      }
      return;
    }
    const d = writer.dialect;
    const rows = [...this.touches].map(([id, t]) => [id, t.first, t.last, t.interactions, t.orders, t.revenue, t.feedback, now]);
    await updateFromValues(
      db,
      'customers',
      'id',
      ['bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'double precision', 'bigint', 'bigint'],
      rows,
      {
        first_seen: `${least(d)}(coalesce(first_seen, v.column2), v.column2)`,
        last_seen: `${greatest(d)}(coalesce(last_seen, v.column3), v.column3)`,
        interaction_count: 'interaction_count + v.column4',
        order_count: 'order_count + v.column5',
        revenue: 'revenue + v.column6',
        feedback_count: 'feedback_count + v.column7',
        updated_at: 'v.column8',
      },
    );
  }
}

function dropNulls<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

export function parseTraits(text: string): Traits {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Traits) : {};
  } catch {
    return {};
  }
}

/** A display name from Segment's reserved traits: name, or firstName + lastName. */
export function nameOf(traits: Traits): string | null {
  if (typeof traits['name'] === 'string' && traits['name'].length > 0) return traits['name'];
  const parts = [traits['firstName'], traits['lastName']].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return parts.length > 0 ? parts.join(' ') : null;
}

/** Segment's reserved `createdAt` trait: when the user signed up. */
function traitTime(traits: Traits): number | null {
  const v = traits['createdAt'] ?? traits['created_at'];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}
