import { sql } from 'kysely';
import type { Conn, Store } from '../store/db.js';
import type { SearchSource } from '../store/schema.js';
import { SQLITE_FTS_DELETE_TRIGGER, SQLITE_FTS_INSERT_TRIGGER } from '../store/migrations/006_search.js';
import { INTERACTION_TEXT_KEYS, metaOf, type DocRow } from './documents.js';

/**
 * Queries behind the incremental indexer (search.indexer.ts): the high-water marks, the source
 * rows in id ranges, the documents and, on SQLite, the FTS5 index's upkeep. Only queries: what
 * to index and when lives in the indexer.
 */

const TABLE: Record<SearchSource, 'feedback' | 'customers' | 'interactions'> = { feedback: 'feedback', customer: 'customers', interaction: 'interactions' };

/** The largest source id indexed (0 before the first pass). */
export async function highWater(db: Conn, source: SearchSource): Promise<number> {
  const r = await db.selectFrom('search_state').select('last_id').where('source', '=', source).executeTakeFirst();
  return r ? Number(r.last_id) : 0;
}

/** Records that the source is indexed up to `id`. */
export async function setHighWater(db: Conn, source: SearchSource, id: number): Promise<void> {
  await db
    .insertInto('search_state')
    .values({ source, last_id: id })
    .onConflict((oc) => oc.column('source').doUpdateSet({ last_id: id }))
    .execute();
}

/** The largest id of a source table (0 when empty): where a pass stops. */
export async function maxId(db: Conn, source: SearchSource): Promise<number> {
  const r = await db.selectFrom(TABLE[source]).select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/** Customers whose details changed since they were indexed (migration 006's triggers). */
export async function dirtyCount(db: Conn): Promise<number> {
  const d = await db.selectFrom('search_dirty').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(d.n);
}

/** Up to `limit` customers to re-index. */
export async function dirtyCustomers(db: Conn, limit: number): Promise<number[]> {
  const dirty = await db.selectFrom('search_dirty').select('customer_id').limit(limit).execute();
  return dirty.map((d) => Number(d.customer_id));
}

/** Marks customers as re-indexed. */
export async function clearDirty(db: Conn, customerIds: readonly number[]): Promise<void> {
  if (customerIds.length === 0) return;
  await db.deleteFrom('search_dirty').where('customer_id', 'in', customerIds).execute();
}

/** Feedback with ids in (from, to]. */
export async function feedbackIn(db: Conn, from: number, to: number) {
  return db
    .selectFrom('feedback')
    .select(['id', 'customer_id', 'kind', 'text', 'properties', 'created_at'])
    .where('id', '>', from)
    .where('id', '<=', to)
    .execute();
}

const CUSTOMER_COLUMNS = ['id', 'user_id', 'email', 'name', 'traits', 'first_seen', 'created_at'] as const;

/** Customers with ids in (from, to]. */
export async function customersIn(db: Conn, from: number, to: number) {
  return db.selectFrom('customers').select(CUSTOMER_COLUMNS).where('id', '>', from).where('id', '<=', to).execute();
}

/** The given customers. */
export async function customersById(db: Conn, ids: readonly number[]) {
  if (ids.length === 0) return [];
  return db.selectFrom('customers').select(CUSTOMER_COLUMNS).where('id', 'in', ids).execute();
}

/**
 * Properties holding one of the text keys: most interactions (page views) have none, and a
 * `like` on the JSON text skips them without parsing it.
 */
const TEXT_FILTER = sql.join(
  INTERACTION_TEXT_KEYS.map((k) => sql`properties like ${`%"${k}":"%`}`),
  sql` or `,
);

/** Interactions with ids in (from, to] whose properties may hold text (the indexer checks). */
export async function interactionsWithTextIn(db: Conn, from: number, to: number) {
  return db
    .selectFrom('interactions')
    .select(['id', 'customer_id', 'name', 'properties', 'occurred_at'])
    .where('id', '>', from)
    .where('id', '<=', to)
    .where(sql<boolean>`(${TEXT_FILTER})`)
    .execute();
}

/** Which of the given document ids are taken. */
export async function takenDocIds(db: Conn, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const found = await db.selectFrom('search_docs').select('id').where('id', 'in', ids).execute();
  return found.map((f) => Number(f.id));
}

/** Removes customers' documents (before they are made again). */
export async function deleteCustomerDocs(db: Conn, customerIds: readonly number[]): Promise<void> {
  if (customerIds.length === 0) return;
  await db.deleteFrom('search_docs').where('source', '=', 'customer').where('source_id', 'in', customerIds).execute();
}

/**
 * Inserts documents with their ids, in the order given (FTS5 appends fastest in id order).
 * `store` for the dialect: on SQLite a statement prepared on the raw handle adds the `meta`
 * filter terms (the column PostgreSQL generates) and runs inside `db`'s transaction, which is
 * on the same connection.
 */
export async function insertDocs(store: Store, db: Conn, rows: readonly DocRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (store.sqlite) {
    // Prepared once; runs inside the caller's transaction on the same connection.
    const insert = store.sqlite.prepare('insert into search_docs (id, source, source_id, kind, customer_id, at, title, body, meta) values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of rows) insert.run(r.id, r.source, r.source_id, r.kind, r.customer_id, r.at, r.title, r.body, metaOf(r.source, r.kind, r.customer_id));
    return;
  }
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('search_docs').values(rows.slice(i, i + 1000)).execute();
}

/**
 * SQLite: after a pass, merge FTS5's segments. A query (and each snippet) seeks in every
 * segment; a large pass leaves many. A pass that added a fifth or more of the index is
 * followed by a full merge ('optimize': ~0.5 s per 100,000 documents); smaller ones by a
 * bounded merge step. PostgreSQL's GIN index needs nothing.
 */
export async function tidyFullText(store: Store, added: number): Promise<void> {
  if (!store.sqlite) return;
  // Counting the index costs a scan: only a large pass needs to know its share.
  const total = added >= 10_000 ? Number((await store.db.selectFrom('search_docs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n) : Number.POSITIVE_INFINITY;
  if (added * 5 >= total) await sql`insert into search_fts (search_fts) values ('optimize')`.execute(store.db);
  else await sql`insert into search_fts (search_fts, rank) values ('merge', ${Math.min(2000, 16 + Math.ceil(added / 50))})`.execute(store.db);
}

/**
 * Empties the index and its high-water marks, in `db`'s transaction. On SQLite the FTS5
 * triggers are dropped too: the documents are then written alone and `rebuildFullText` has
 * FTS5 read them in one sorted pass ('rebuild'), which beats row-by-row inserts.
 */
export async function clearIndex(store: Store, db: Conn): Promise<void> {
  if (store.sqlite) {
    await sql`drop trigger if exists search_docs_ad`.execute(db);
    await sql`drop trigger if exists search_docs_ai`.execute(db);
    await sql`delete from search_docs`.execute(db);
    await sql`insert into search_fts (search_fts) values ('delete-all')`.execute(db);
  } else await sql`truncate search_docs`.execute(db);
  await sql`delete from search_state`.execute(db);
  await sql`delete from search_dirty`.execute(db);
}

/** SQLite: builds the FTS5 index from the documents and restores its triggers (after `clearIndex`). */
export async function rebuildFullText(store: Store): Promise<void> {
  if (!store.sqlite) return;
  await sql`insert into search_fts (search_fts) values ('rebuild')`.execute(store.db);
  await sql.raw(SQLITE_FTS_INSERT_TRIGGER).execute(store.db);
  await sql.raw(SQLITE_FTS_DELETE_TRIGGER).execute(store.db);
}

/** Erasure: the documents about a customer (their feedback, interactions and the customer's own). */
export async function countCustomerDocs(db: Conn, customerId: number): Promise<number> {
  const r = await db.selectFrom('search_docs').select((eb) => eb.fn.countAll<number>().as('n')).where('customer_id', '=', customerId).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Erasure: removes a customer's documents and pending re-index mark. The delete triggers of their
 * rows remove most already; this also takes documents whose source row is gone otherwise.
 */
export async function deleteCustomerDocsAll(db: Conn, customerId: number): Promise<void> {
  await db.deleteFrom('search_docs').where('customer_id', '=', customerId).execute();
  await db.deleteFrom('search_dirty').where('customer_id', '=', customerId).execute();
}

/**
 * SQLite, after an erasure: a deleted document's terms stay in FTS5's segments (a delete only
 * adds a tombstone) until the segments holding them are merged. 'optimize' merges every segment
 * into one, which drops them; with `secure_delete` the pages of the old segments are zeroed
 * when freed. It rewrites the whole index (~0.5 s per 100,000 documents). PostgreSQL's GIN
 * entries go with VACUUM (store/reclaim.ts). Whether a merge ran.
 */
export async function mergeFullText(store: Store, db: Conn): Promise<boolean> {
  if (!store.sqlite) return false;
  await sql`insert into search_fts (search_fts) values ('optimize')`.execute(db);
  return true;
}
