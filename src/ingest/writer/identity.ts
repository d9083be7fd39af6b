import type { Conn } from '../../store/db.js';
import { chunks } from '../../store/sql.js';
import type { AliasRecord, Who, WriteCounts } from '../records.js';
import { parseTraits } from '../traits.js';
import type { Counters } from './counters.js';
import type { Load } from './load.js';
import {
  addCustomerChannelsOf,
  anonymousIdentities,
  anonymousIdentity,
  copyCustomerAccounts,
  customerById,
  customerByIdOrThrow,
  customerIdByUserId,
  customersByUserId,
  deleteCustomer,
  insertAnonymousCustomers,
  insertIdentities,
  insertUserCustomers,
  moveCustomerPanels,
  moveCustomerRows,
  updateCustomer,
} from './writer.repository.js';

/** The tables whose rows follow their customer into a merge. */
const CUSTOMER_ROW_TABLES = ['interactions', 'orders', 'order_lines', 'feedback', 'identities', 'visits'] as const;

/** What a merge changes in the batch that made it. */
export interface MergeEffects {
  /** The batch's pending counter changes (those of the merged customer become the other's). */
  readonly counters: Counters;
  /** Customers merged by the batch, in order: `[from, into]`. */
  readonly merges: [number, number][];
  readonly counts: WriteCounts;
}

/**
 * Identity resolution for one batch: a user id names one customer; anonymous ids are
 * identities that point at a customer. A message carrying both links them, merging an
 * anonymous history into the user's (as Segment's identify and alias do).
 *
 * The id caches (the writer's, shared by its batches) only speed up look-ups.
 */
export class Identities {
  /** Customers this batch created (their identify counts as inserted, not updated). */
  readonly created = new Set<number>();

  constructor(
    private readonly db: Conn,
    private readonly users: Map<string, number>,
    private readonly anons: Map<string, number>,
    private readonly now: number,
    private readonly load: Load | undefined,
    private readonly effects: MergeEffects,
  ) {}

  /** The customer behind a resolved who. */
  idOf(who: Who): number {
    const id = who.userId !== undefined ? this.users.get(who.userId) : this.anons.get(who.anonymousId!);
    if (id === undefined) throw new Error(`identity not resolved: ${JSON.stringify(who)}`);
    return id;
  }

  /** Finds or creates the customer behind every who, linking anonymous ids to user ids. */
  async resolve(whos: readonly Who[]): Promise<void> {
    if (this.known(whos)) return;
    const userIds = new Set<string>();
    const anonIds = new Set<string>();
    for (const w of whos) {
      if (w.userId !== undefined && !this.users.has(w.userId)) userIds.add(w.userId);
      if (w.anonymousId !== undefined && !this.anons.has(w.anonymousId)) anonIds.add(w.anonymousId);
    }
    for (const part of chunks([...userIds], 500)) {
      const rows = await customersByUserId(this.db, part);
      for (const r of rows) this.users.set(r.user_id!, r.id);
    }
    const newUsers = [...userIds].filter((u) => !this.users.has(u));
    for (const part of chunks(newUsers, 500)) {
      const rows = await insertUserCustomers(this.db, part, this.now);
      for (const r of rows) {
        this.users.set(r.user_id!, r.id);
        this.created.add(r.id);
      }
    }
    for (const part of chunks([...anonIds], 500)) {
      const rows = await anonymousIdentities(this.db, part);
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
      const rows = await insertAnonymousCustomers(this.db, part.length, this.now);
      rows.forEach((r, i) => {
        links.set(part[i]!, r.id);
        this.created.add(r.id);
      });
    }
    const linkRows = [...links].map(([value, customer_id]) => ({ kind: 'anonymous' as const, value, customer_id, created_at: this.now }));
    for (const part of chunks(linkRows, 500)) await insertIdentities(this.db, part);
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
    const src = await customerById(this.db, from);
    if (!src || src.user_id !== null) return;
    await this.mergeCustomers(from, into);
  }

  private async mergeCustomers(from: number, into: number): Promise<void> {
    const db = this.db;
    const load = this.load;
    const src = await customerByIdOrThrow(db, from);
    const dst = await customerByIdOrThrow(db, into);
    for (const table of CUSTOMER_ROW_TABLES) {
      // In load mode interactions have no index by customer yet: they move when the load ends.
      if (load && table === 'interactions') continue;
      await moveCustomerRows(db, table, from, into);
    }
    await copyCustomerAccounts(db, from, into);
    await moveCustomerPanels(db, from, into);
    await addCustomerChannelsOf(db, from, into);
    const traits = { ...parseTraits(src.traits), ...parseTraits(dst.traits) };
    const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
    const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
    if (load) {
      // Deleted at the end, after its interactions have moved (the delete would cascade to them).
      // Until then nothing finds it: its ids and e-mail are gone, its totals are `into`'s.
      await updateCustomer(db, from, { user_id: null, email: null, interaction_count: 0, order_count: 0, revenue: 0, feedback_count: 0 });
      load.merges.push([from, into]);
    } else {
      await deleteCustomer(db, from);
    }
    await updateCustomer(db, into, {
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
    });
    this.effects.counters.move(from, into);
    this.effects.merges.push([from, into]);
    for (const [k, v] of this.anons) if (v === from) this.anons.set(k, into);
    for (const [k, v] of this.users) if (v === from) this.users.set(k, into);
    this.effects.counts.updated += 1;
  }

  /** Segment alias: `previousId` (anonymous id or former user id) becomes `userId`. */
  async alias(a: AliasRecord): Promise<void> {
    await this.resolve([{ userId: a.userId }]);
    const into = this.users.get(a.userId)!;
    const prevUser = await customerIdByUserId(this.db, a.previousId);
    const prevAnon = await anonymousIdentity(this.db, a.previousId);
    const from = prevUser ?? prevAnon?.customer_id;
    if (from !== undefined && from !== into) await this.mergeCustomers(from, into);
    if (!prevAnon) await insertIdentities(this.db, [{ kind: 'anonymous', value: a.previousId, customer_id: into, created_at: this.now }]);
    this.anons.set(a.previousId, into);
    this.effects.counters.touch(into, a.at);
  }
}
