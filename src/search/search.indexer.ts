import { sql } from 'kysely';
import type { Conn, Store } from '../store/db.js';
import type { SearchDocsTable, SearchSource } from '../store/schema.js';
import { SQLITE_FTS_DELETE_TRIGGER, SQLITE_FTS_INSERT_TRIGGER } from '../store/migrations/006_search.js';
import { parseTraits } from '../ingest/traits.js';

/**
 * The incremental indexer: turns records stored since the last pass into search documents.
 *
 * Why not insert triggers: the ingestion writer appends millions of interactions, most of
 * them page views without text; a trigger would run (and parse JSON) for each. Instead each
 * source keeps a high-water mark (the largest id indexed, `search_state`) and a pass reads
 * the rows above it in id ranges, in one transaction per range. Deletes and customer moves
 * are rare and handled by triggers (migration 006). Searches catch up with a small backlog
 * first (search.service.ts), so what was just stored is found.
 */

/** Interaction properties that hold what a customer typed or said. */
export const INTERACTION_TEXT_KEYS = ['query', 'search', 'search_term', 'term', 'keywords', 'text', 'message', 'body', 'comment', 'comments', 'note', 'notes', 'transcript', 'summary', 'subject', 'description', 'feedback', 'answer', 'question'] as const;
/** Feedback properties that make a good title (a ticket's subject, the reviewed product). */
const FEEDBACK_TITLE_KEYS = ['subject', 'title', 'summary', 'product_name'] as const;
/** Customer traits that are not worth indexing (times, ids, flags, addresses of images). */
const SKIPPED_TRAITS = new Set(['createdAt', 'created_at', 'avatar', 'id', 'userId', 'user_id', 'birthday', 'phone']);

const SOURCE_CODE: Record<SearchSource, number> = { feedback: 1, customer: 2, interaction: 3 };

/**
 * Filter tokens in the FTS5 index's `meta` column (SQLite): the source, the kind and the
 * customer, so that kind and customer filters are part of the match and FTS5 intersects their
 * doclists with the words' instead of checking every match. They are plain terms (a column
 * filter would make FTS5 read every match's positions) spelled so that nobody types them
 * (`xxkind1`), ending in a digit so that the porter stemmer leaves them alone.
 */
export const KIND_TOKENS: Record<string, string> = {
  ticket: 'xxkind1',
  review: 'xxkind2',
  survey: 'xxkind3',
  interview: 'xxkind4',
  visit_note: 'xxkind5',
  other: 'xxkind6',
  customer: 'xxkind7',
  interaction: 'xxkind8',
};
export const FEEDBACK_TOKEN = 'xxsrc1';
export const kindToken = (kind: string): string => KIND_TOKENS[kind] ?? KIND_TOKENS['other']!;
export const customerToken = (customerId: number): string => `xxcust${customerId}`;
export function metaOf(source: SearchSource, kind: string, customerId: number | null): string {
  const tokens = [kindToken(kind)];
  if (source === 'feedback') tokens.push(FEEDBACK_TOKEN);
  if (customerId !== null) tokens.push(customerToken(customerId));
  return tokens.join(' ');
}

/** Ids per millisecond: the low bits of a document id. */
export const ID_SPREAD = 1024;
/** Source rows read per transaction. */
const RANGE = 10_000;

/**
 * A document's id: its time in ms × 1024 plus bits from its source and source id, so that id
 * order is time order (FTS5 walks doclists in id order; "newest first" and date ranges need no
 * other index). Two documents of the same millisecond that draw the same bits: the later one
 * takes the next free id.
 */
export function docIdOf(at: number, source: SearchSource, sourceId: number): number {
  const t = Math.max(0, Math.min(Math.floor(at), 8_000_000_000_000));
  return t * ID_SPREAD + ((sourceId * 3 + SOURCE_CODE[source]) % ID_SPREAD);
}

/** The first id of the millisecond `at` (for date ranges). */
export function docIdAt(at: number): number {
  return Math.max(0, Math.floor(at)) * ID_SPREAD;
}

/** A document as the indexer writes it (the table's row without SQLite's filter terms). */
export type DocRow = Omit<SearchDocsTable, 'meta'>;

// Control characters mark highlights in snippets; they never come from the text itself.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const clean = (s: string, max = 20_000): string => s.replace(CONTROL, ' ').slice(0, max);

function strings(obj: Record<string, unknown>, keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v.trim().length > 0) out.push(v.trim());
  }
  return out;
}

export function feedbackDoc(r: { id: number; customer_id: number | null; kind: string; text: string; properties: string; created_at: number }): Omit<DocRow, 'id'> {
  const props = parseTraits(r.properties);
  return {
    source: 'feedback',
    source_id: r.id,
    kind: r.kind,
    customer_id: r.customer_id,
    at: r.created_at,
    title: clean(strings(props, FEEDBACK_TITLE_KEYS).join(' · '), 1000),
    body: clean(r.text),
  };
}

export function interactionDoc(r: { id: number; customer_id: number; name: string; properties: string; occurred_at: number }): Omit<DocRow, 'id'> | null {
  const text = strings(parseTraits(r.properties), INTERACTION_TEXT_KEYS);
  if (text.length === 0) return null;
  return { source: 'interaction', source_id: r.id, kind: 'interaction', customer_id: r.customer_id, at: r.occurred_at, title: clean(r.name, 500), body: clean(text.join('\n')) };
}

export function customerDoc(r: { id: number; user_id: string | null; email: string | null; name: string | null; traits: string; first_seen: number | null; created_at: number }): Omit<DocRow, 'id'> | null {
  if (r.user_id === null && r.email === null && r.name === null) return null;
  const traits = parseTraits(r.traits);
  const values: string[] = [];
  for (const [k, v] of Object.entries(traits)) {
    if (SKIPPED_TRAITS.has(k) || k === 'name' || k === 'email') continue;
    if (typeof v === 'string' && v.length > 0 && v.length <= 200 && !/^\d{4}-\d\d-\d\d/.test(v)) values.push(v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      // Segment's nested traits (company: {name}, address: {city}).
      for (const inner of Object.values(v as Record<string, unknown>)) if (typeof inner === 'string' && inner.length > 0 && inner.length <= 200) values.push(inner);
    }
  }
  const body = [r.email, r.user_id, ...values].filter((s): s is string => typeof s === 'string' && s.length > 0);
  return {
    source: 'customer',
    source_id: r.id,
    kind: 'customer',
    customer_id: r.id,
    at: r.first_seen ?? r.created_at,
    title: clean(r.name ?? r.user_id ?? r.email ?? '', 500),
    body: clean(body.join(' · '), 4000),
  };
}

const TEXT_FILTER = sql.join(
  INTERACTION_TEXT_KEYS.map((k) => sql`properties like ${`%"${k}":"%`}`),
  sql` or `,
);

async function highWater(db: Conn, source: SearchSource): Promise<number> {
  const r = await db.selectFrom('search_state').select('last_id').where('source', '=', source).executeTakeFirst();
  return r ? Number(r.last_id) : 0;
}

async function setHighWater(db: Conn, source: SearchSource, id: number): Promise<void> {
  await db
    .insertInto('search_state')
    .values({ source, last_id: id })
    .onConflict((oc) => oc.column('source').doUpdateSet({ last_id: id }))
    .execute();
}

const TABLE: Record<SearchSource, 'feedback' | 'customers' | 'interactions'> = { feedback: 'feedback', customer: 'customers', interaction: 'interactions' };

async function maxId(db: Conn, source: SearchSource): Promise<number> {
  const r = await db.selectFrom(TABLE[source]).select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/** How far the index is behind: source ids above each high-water mark, and customers to redo. */
export async function searchLag(db: Conn): Promise<{ rows: number; dirty: number }> {
  let rows = 0;
  for (const source of ['feedback', 'customer', 'interaction'] as const) rows += Math.max(0, (await maxId(db, source)) - (await highWater(db, source)));
  const d = await db.selectFrom('search_dirty').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { rows, dirty: Number(d.n) };
}

/** Inserts documents, giving each a free id; sorted by id, as FTS5 appends fastest. */
async function insertDocs(store: Store, db: Conn, docs: Omit<DocRow, 'id'>[]): Promise<void> {
  if (docs.length === 0) return;
  const rows: DocRow[] = docs.map((d) => ({ ...d, id: docIdOf(d.at, d.source, d.source_id) }));
  rows.sort((a, b) => a.id - b.id);
  // Free ids: unique within the batch, then against the stored ones.
  const taken = new Set<number>();
  for (const r of rows) {
    while (taken.has(r.id)) r.id++;
    taken.add(r.id);
  }
  for (;;) {
    const clash = new Set<number>();
    for (let i = 0; i < rows.length; i += 500) {
      const ids = rows.slice(i, i + 500).map((r) => r.id);
      const found = await db.selectFrom('search_docs').select('id').where('id', 'in', ids).execute();
      for (const f of found) clash.add(Number(f.id));
    }
    if (clash.size === 0) break;
    for (const r of rows) {
      if (!clash.has(r.id)) continue;
      taken.delete(r.id);
      do r.id++;
      while (taken.has(r.id));
      taken.add(r.id);
    }
    rows.sort((a, b) => a.id - b.id);
  }
  if (store.sqlite) {
    // Prepared once; runs inside the caller's transaction on the same connection.
    const insert = store.sqlite.prepare('insert into search_docs (id, source, source_id, kind, customer_id, at, title, body, meta) values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of rows) insert.run(r.id, r.source, r.source_id, r.kind, r.customer_id, r.at, r.title, r.body, metaOf(r.source, r.kind, r.customer_id));
    return;
  }
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('search_docs').values(rows.slice(i, i + 1000)).execute();
}

export interface SyncResult {
  indexed: number;
  /** Source rows read (documents are made only from those with text). */
  scanned: number;
  /** Customers re-indexed because their name, e-mail or traits changed. */
  refreshed: number;
  /** Whether rows are left above the high-water marks (the pass stopped at `maxRows`). */
  behind: boolean;
  ms: number;
}

export interface SyncOptions {
  /** Stop after reading about this many source rows (the rest waits for the next pass). */
  maxRows?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Indexes what was stored since the last pass: feedback, customers and interactions above
 * their high-water marks, then customers whose details changed. One transaction per range of
 * up to 10,000 source rows, so a long first pass keeps its progress and lets other writers in.
 *
 * @example await syncSearch(store); // after an import
 */
export async function syncSearch(store: Store, options: SyncOptions = {}): Promise<SyncResult> {
  const started = performance.now();
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  const result: SyncResult = { indexed: 0, scanned: 0, refreshed: 0, behind: false, ms: 0 };
  const lag = options.onProgress ? (await searchLag(store.db)).rows : 0;
  for (const source of ['feedback', 'customer', 'interaction'] as const) {
    const top = await maxId(store.db, source);
    for (;;) {
      if (result.scanned >= maxRows) {
        result.behind = (await highWater(store.db, source)) < top;
        break;
      }
      const done = await store.db.transaction().execute(async (trx) => {
        const from = await highWater(trx, source);
        if (from >= top) return true;
        const to = Math.min(top, from + RANGE);
        const docs = await readRange(trx, source, from, to);
        await insertDocs(store, trx, docs);
        await setHighWater(trx, source, to);
        result.indexed += docs.length;
        result.scanned += to - from;
        return false;
      });
      options.onProgress?.(result.scanned, lag);
      if (done) break;
    }
  }
  result.refreshed = await refreshDirty(store);
  if (!result.behind) result.behind = (await searchLag(store.db)).rows > 0;
  if (store.sqlite && result.indexed > 0) await tidyFts(store, result.indexed);
  result.ms = performance.now() - started;
  return result;
}

async function readRange(db: Conn, source: SearchSource, from: number, to: number): Promise<Omit<DocRow, 'id'>[]> {
  if (source === 'feedback') {
    const rows = await db
      .selectFrom('feedback')
      .select(['id', 'customer_id', 'kind', 'text', 'properties', 'created_at'])
      .where('id', '>', from)
      .where('id', '<=', to)
      .execute();
    return rows.map(feedbackDoc);
  }
  if (source === 'customer') {
    const rows = await db
      .selectFrom('customers')
      .select(['id', 'user_id', 'email', 'name', 'traits', 'first_seen', 'created_at'])
      .where('id', '>', from)
      .where('id', '<=', to)
      .execute();
    return rows.map(customerDoc).filter((d): d is Omit<DocRow, 'id'> => d !== null);
  }
  const rows = await db
    .selectFrom('interactions')
    .select(['id', 'customer_id', 'name', 'properties', 'occurred_at'])
    .where('id', '>', from)
    .where('id', '<=', to)
    .where(sql<boolean>`(${TEXT_FILTER})`)
    .execute();
  return rows.map(interactionDoc).filter((d): d is Omit<DocRow, 'id'> => d !== null);
}

/**
 * SQLite: after a pass, merge FTS5's segments. A query (and each snippet) seeks in every
 * segment; a large pass leaves many. A pass that added a fifth or more of the index is
 * followed by a full merge ('optimize': ~0.5 s per 100,000 documents); smaller ones by a
 * bounded merge step.
 */
async function tidyFts(store: Store, added: number): Promise<void> {
  const total = Number((await store.db.selectFrom('search_docs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  if (added >= 10_000 && added * 5 >= total) await sql`insert into search_fts (search_fts) values ('optimize')`.execute(store.db);
  else await sql`insert into search_fts (search_fts, rank) values ('merge', ${Math.min(2000, 16 + Math.ceil(added / 50))})`.execute(store.db);
}

/** Re-makes the documents of customers whose details changed (search_dirty). */
async function refreshDirty(store: Store): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await store.db.transaction().execute(async (trx) => {
      const dirty = await trx.selectFrom('search_dirty').select('customer_id').limit(5000).execute();
      if (dirty.length === 0) return 0;
      const ids = dirty.map((d) => Number(d.customer_id));
      const hw = await highWater(trx, 'customer');
      // Customers above the high-water mark are indexed by the next pass anyway.
      const due = ids.filter((id) => id <= hw);
      if (due.length > 0) {
        await trx.deleteFrom('search_docs').where('source', '=', 'customer').where('source_id', 'in', due).execute();
        const rows = await trx.selectFrom('customers').select(['id', 'user_id', 'email', 'name', 'traits', 'first_seen', 'created_at']).where('id', 'in', due).execute();
        await insertDocs(store, trx, rows.map(customerDoc).filter((d): d is Omit<DocRow, 'id'> => d !== null));
      }
      await trx.deleteFrom('search_dirty').where('customer_id', 'in', ids).execute();
      return ids.length;
    });
    if (n === 0) return total;
    total += n;
  }
}

/**
 * Rebuilds the index from scratch (`rapport search --reindex`): empties it, resets the
 * high-water marks and indexes everything again. On SQLite the documents are written first
 * and FTS5 then reads them in one sorted pass ('rebuild'), which beats row-by-row inserts.
 */
export async function rebuildSearch(store: Store, options: Pick<SyncOptions, 'onProgress'> = {}): Promise<SyncResult> {
  const started = performance.now();
  if (store.sqlite) {
    await store.db.transaction().execute(async (trx) => {
      await sql`drop trigger if exists search_docs_ad`.execute(trx);
      await sql`drop trigger if exists search_docs_ai`.execute(trx);
      await sql`delete from search_docs`.execute(trx);
      await sql`insert into search_fts (search_fts) values ('delete-all')`.execute(trx);
      await sql`delete from search_state`.execute(trx);
      await sql`delete from search_dirty`.execute(trx);
    });
    try {
      const r = await syncSearch(store, options);
      return { ...r, ms: performance.now() - started };
    } finally {
      // Also after a failure: the index then matches whatever documents were written.
      await sql`insert into search_fts (search_fts) values ('rebuild')`.execute(store.db);
      await sql.raw(SQLITE_FTS_INSERT_TRIGGER).execute(store.db);
      await sql.raw(SQLITE_FTS_DELETE_TRIGGER).execute(store.db);
    }
  }
  await store.db.transaction().execute(async (trx) => {
    await sql`truncate search_docs`.execute(trx);
    await sql`delete from search_state`.execute(trx);
    await sql`delete from search_dirty`.execute(trx);
  });
  const r = await syncSearch(store, options);
  return { ...r, ms: performance.now() - started };
}
