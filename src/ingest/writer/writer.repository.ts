import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Conn, Store } from '../../store/db.js';
import type {
  CustomerChannelsTable,
  CustomersTable,
  FeedbackTable,
  IdentitiesTable,
  InteractionsTable,
  OrderLinesTable,
  OrdersTable,
  ProductsTable,
} from '../../store/schema.js';
import { chunks, greatest, least, updateFromValues } from '../../store/sql.js';

/**
 * The ingestion writer's statements. Every function runs one statement on the connection it
 * is given (the batch's transaction or savepoint); chunking and everything the results mean
 * stay with the writer.
 */

const INSERT_CHUNK = 1000;

// ---------------------------------------------------------------------------------------
// Identity resolution

/** Customers by user id. */
export async function customersByUserId(db: Conn, userIds: readonly string[]): Promise<{ id: number; user_id: string | null }[]> {
  return db.selectFrom('customers').select(['id', 'user_id']).where('user_id', 'in', userIds).execute();
}

/** New customers, one per user id, with no traits yet. */
export async function insertUserCustomers(db: Conn, userIds: readonly string[], now: number): Promise<{ id: number; user_id: string | null }[]> {
  return db
    .insertInto('customers')
    .values(userIds.map((u) => ({ user_id: u, traits: '{}', created_at: now, updated_at: now })))
    .returning(['id', 'user_id'])
    .execute();
}

/** `count` new anonymous customers; their ids in insertion order. */
export async function insertAnonymousCustomers(db: Conn, count: number, now: number): Promise<{ id: number }[]> {
  return db
    .insertInto('customers')
    .values(Array.from({ length: count }, () => ({ user_id: null, traits: '{}', created_at: now, updated_at: now })))
    .returning('id')
    .execute();
}

/** The customers anonymous ids point at. */
export async function anonymousIdentities(db: Conn, values: readonly string[]): Promise<{ customer_id: number; value: string }[]> {
  return db.selectFrom('identities').select(['customer_id', 'value']).where('kind', '=', 'anonymous').where('value', 'in', values).execute();
}

/** Identities to add; one already stored is kept as it is. */
export async function insertIdentities(db: Conn, rows: readonly Insertable<IdentitiesTable>[]): Promise<void> {
  await db.insertInto('identities').values(rows).onConflict((oc) => oc.columns(['kind', 'value']).doNothing()).execute();
}

/** The customer a user id names, if any. */
export async function customerIdByUserId(db: Conn, userId: string): Promise<number | undefined> {
  const row = await db.selectFrom('customers').select('id').where('user_id', '=', userId).executeTakeFirst();
  return row?.id;
}

/** The customer an anonymous id points at, if any. */
export async function anonymousIdentity(db: Conn, value: string): Promise<{ customer_id: number } | undefined> {
  return db.selectFrom('identities').select('customer_id').where('kind', '=', 'anonymous').where('value', '=', value).executeTakeFirst();
}

/** A customer row, if it exists. */
export async function customerById(db: Conn, id: number): Promise<Selectable<CustomersTable> | undefined> {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A customer row that must exist (a merge reads both sides). */
export async function customerByIdOrThrow(db: Conn, id: number): Promise<Selectable<CustomersTable>> {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The tables whose rows name their customer and move with a merge. */
export type CustomerRowTable = 'interactions' | 'orders' | 'order_lines' | 'feedback' | 'identities' | 'visits';

/** Moves a table's rows of customer `from` to `into`. */
export async function moveCustomerRows(db: Conn, table: CustomerRowTable, from: number, into: number): Promise<void> {
  await db.updateTable(table).set({ customer_id: into }).where('customer_id', '=', from).execute();
}

/** Gives `into` the accounts of `from` (those it has already stay as they are). */
export async function copyCustomerAccounts(db: Conn, from: number, into: number): Promise<void> {
  await sql`insert into customer_accounts (customer_id, account_id, created_at)
      select ${into}, account_id, created_at from customer_accounts where customer_id = ${from}
      on conflict do nothing`.execute(db);
}

/**
 * Gives `into` the panel memberships of `from` (a panel that has both keeps `into`'s): the same
 * person under a former id stays on the panels the team put them on.
 */
export async function moveCustomerPanels(db: Conn, from: number, into: number): Promise<void> {
  await sql`update panel_members set customer_id = ${into}
      where customer_id = ${from} and panel_id not in (select panel_id from panel_members where customer_id = ${into})`.execute(db);
}

/** Adds the channel × direction counts of `from` to those of `into`. */
export async function addCustomerChannelsOf(db: Conn, from: number, into: number): Promise<void> {
  await sql`insert into customer_channels (customer_id, channel, direction, count)
      select ${into}, channel, direction, count from customer_channels where customer_id = ${from}
      on conflict (customer_id, channel, direction) do update set count = customer_channels.count + excluded.count`.execute(db);
}

/** Sets columns of one customer. */
export async function updateCustomer(db: Conn, id: number, set: Updateable<CustomersTable>): Promise<void> {
  await db.updateTable('customers').set(set).where('id', '=', id).execute();
}

/** Deletes a customer (what still names it cascades). */
export async function deleteCustomer(db: Conn, id: number): Promise<void> {
  await db.deleteFrom('customers').where('id', '=', id).execute();
}

// ---------------------------------------------------------------------------------------
// Customers, accounts and products

/** What identify merges into: the customers' traits and the fields derived from them. */
export async function customersToIdentify(
  db: Conn,
  ids: readonly number[],
): Promise<Pick<Selectable<CustomersTable>, 'id' | 'traits' | 'email' | 'name' | 'first_seen'>[]> {
  return db.selectFrom('customers').select(['id', 'traits', 'email', 'name', 'first_seen']).where('id', 'in', ids).execute();
}

/** Rows of `[id, traits, email, name, first_seen, updated_at]`, in one statement per chunk. */
export async function setIdentifiedCustomers(db: Conn, rows: readonly (readonly unknown[])[]): Promise<void> {
  await updateFromValues(db, 'customers', 'id', ['bigint', 'text', 'text', 'text', 'bigint', 'bigint'], rows, {
    traits: 'v.column2',
    email: 'v.column3',
    name: 'v.column4',
    first_seen: 'v.column5',
    updated_at: 'v.column6',
  });
}

/** The account a Segment group id names, if any. */
export async function accountByGroupId(db: Conn, groupId: string): Promise<{ id: number; traits: string; name: string | null } | undefined> {
  return db.selectFrom('accounts').selectAll().where('group_id', '=', groupId).executeTakeFirst();
}

/** Sets an account's traits and name. */
export async function updateAccount(db: Conn, id: number, traits: string, name: string | null, now: number): Promise<void> {
  await db.updateTable('accounts').set({ traits, name, updated_at: now }).where('id', '=', id).execute();
}

/** A new account; its id. */
export async function insertAccount(db: Conn, groupId: string, name: string | null, traits: string, now: number): Promise<number> {
  const row = await db
    .insertInto('accounts')
    .values({ group_id: groupId, name, traits, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Links a customer to an account (once). */
export async function linkCustomerAccount(db: Conn, customerId: number, accountId: number, now: number): Promise<void> {
  await db
    .insertInto('customer_accounts')
    .values({ customer_id: customerId, account_id: accountId, created_at: now })
    .onConflict((oc) => oc.columns(['customer_id', 'account_id']).doNothing())
    .execute();
}

/** Products to add or update; a null field keeps what is stored. */
export async function upsertProducts(db: Conn, rows: readonly Insertable<ProductsTable>[]): Promise<void> {
  await db
    .insertInto('products')
    .values(rows)
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

// ---------------------------------------------------------------------------------------
// Interactions, orders and feedback: a (source, source id) already stored is skipped, and
// RETURNING names the rows that were new.

/** Interactions; the new ones returned with their customer and (source, source id). */
export async function insertInteractionRows(
  db: Conn,
  rows: readonly Insertable<InteractionsTable>[],
): Promise<{ customer_id: number; source: string; source_id: string }[]> {
  return db
    .insertInto('interactions')
    .values(rows)
    .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
    .returning(['customer_id', 'source', 'source_id'])
    .execute();
}

/** Orders; the new ones returned with what their lines and counters need. */
export async function insertOrderRows(
  db: Conn,
  rows: readonly Insertable<OrdersTable>[],
): Promise<{ id: number; customer_id: number; occurred_at: number; total: number; source: string; source_id: string }[]> {
  return db
    .insertInto('orders')
    .values(rows)
    .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
    .returning(['id', 'customer_id', 'occurred_at', 'total', 'source', 'source_id'])
    .execute();
}

/** The lines of new orders. */
export async function insertOrderLines(db: Conn, rows: readonly Insertable<OrderLinesTable>[]): Promise<void> {
  await db.insertInto('order_lines').values(rows).execute();
}

/** Feedback items; the new ones returned with their customer and date. */
export async function insertFeedbackRows(db: Conn, rows: readonly Insertable<FeedbackTable>[]): Promise<{ customer_id: number | null; created_at: number }[]> {
  return db
    .insertInto('feedback')
    .values(rows)
    .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
    .returning(['customer_id', 'created_at'])
    .execute();
}

// ---------------------------------------------------------------------------------------
// Per-customer counters

/** Adds to the channel × direction counts, in multi-row statements. */
export async function addChannelCounts(db: Conn, rows: readonly Insertable<CustomerChannelsTable>[]): Promise<void> {
  for (const part of chunks(rows, INSERT_CHUNK)) {
    await db
      .insertInto('customer_channels')
      .values(part)
      .onConflict((oc) => oc.columns(['customer_id', 'channel', 'direction']).doUpdateSet({ count: sql`customer_channels.count + excluded.count` }))
      .execute();
  }
}

/**
 * Adds to the customers' counters, widening first/last seen. Rows of
 * `[id, first, last, interactions, orders, revenue, feedback, now]`. `store` says how the
 * dialect spells the two-argument min and max; `db` is the transaction to write in.
 */
export async function addCustomerCounters(store: Store, db: Conn, rows: readonly (readonly unknown[])[]): Promise<void> {
  const dialect = store.dialect;
  await updateFromValues(
    db,
    'customers',
    'id',
    ['bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'double precision', 'bigint', 'bigint'],
    rows,
    {
      first_seen: `${least(dialect)}(coalesce(first_seen, v.column2), v.column2)`,
      last_seen: `${greatest(dialect)}(coalesce(last_seen, v.column3), v.column3)`,
      interaction_count: 'interaction_count + v.column4',
      order_count: 'order_count + v.column5',
      revenue: 'revenue + v.column6',
      feedback_count: 'feedback_count + v.column7',
      updated_at: 'v.column8',
    },
  );
}

/** The largest interaction id (0 when none): ids only grow, so it also tells about how many are stored. */
export async function lastInteractionId(db: Conn): Promise<number> {
  const top = await db.selectFrom('interactions').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(top?.id ?? 0);
}
