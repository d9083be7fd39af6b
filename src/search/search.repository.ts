import { sql, type RawBuilder } from 'kysely';
import type { Conn, Dialect } from '../store/db.js';
import { WEEK_MS } from '../core/time.js';
import { customerToken, FEEDBACK_TOKEN, ID_SPREAD, kindToken, type DocRow } from './documents.js';

/**
 * Queries behind search, one spelling per dialect: FTS5 (bm25, snippet) on SQLite, tsvector
 * (ts_rank, ts_headline) on PostgreSQL. Only queries: the strategy lives in the service.
 */

/** What a search is narrowed to. Times are epoch ms; `idFrom`/`idTo` are document-id bounds (time-ordered ids). */
export interface SearchFilters {
  /** Feedback kinds and/or `customer`, `interaction`; `feedback` means every feedback kind. */
  kinds?: string[] | undefined;
  theme?: number | undefined;
  tag?: number | undefined;
  segment?: number | undefined;
  customerId?: number | undefined;
  idFrom?: number | undefined;
  idTo?: number | undefined;
}

/** The query in each engine's language (built by search/query.ts from the parsed tree). */
export interface EngineQuery {
  fts5: string;
  tsquery: string;
}

export interface Candidate {
  id: number;
  /** Higher is better on both dialects (FTS5's bm25 is negated). */
  score: number;
}

const SNIPPET_OPEN = '\u0002';
const SNIPPET_CLOSE = '\u0003';
export const SNIPPET_MARKS = { open: SNIPPET_OPEN, close: SNIPPET_CLOSE } as const;

/**
 * SQL conditions for the filters. The kind is a term of the match (FTS5 `meta` tokens, tsvector
 * lexemes since migration 007); on SQLite the customer too. The date range and the joined
 * filters remain here, and the customer on PostgreSQL (its (customer_id, id) index answers it).
 */
function filterSql(f: SearchFilters, idCol: RawBuilder<unknown>, dialect: Dialect): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (f.idFrom !== undefined) where.push(sql`${idCol} >= ${f.idFrom}`);
  if (f.idTo !== undefined) where.push(sql`${idCol} < ${f.idTo}`);
  // The kind filter is part of the match on both dialects (see ftsMatch, tsMatch).
  if (dialect === 'postgres' && f.customerId !== undefined) where.push(sql`d.customer_id = ${f.customerId}`);
  where.push(...joinedFilters(f));
  return where;
}

/** Filters that need other tables: theme, tag, micro-segment. */
function joinedFilters(f: SearchFilters): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (f.theme !== undefined) {
    where.push(sql`d.source = 'feedback' and exists (select 1 from feedback_insights fi where fi.feedback_id = d.source_id and fi.theme_id = ${f.theme})`);
  }
  if (f.tag !== undefined) {
    where.push(sql`d.source = 'feedback' and exists (select 1 from feedback_tags ft where ft.feedback_id = d.source_id and ft.tag_id = ${f.tag})`);
  }
  if (f.segment !== undefined) {
    where.push(sql`exists (select 1 from customer_values cv where cv.customer_id = d.customer_id and cv.segment = ${f.segment})`);
  }
  return where;
}

const hasJoined = (f: SearchFilters): boolean => f.theme !== undefined || f.tag !== undefined || f.segment !== undefined;

/**
 * The FTS5 match: the user's query over title and body, and the kind and customer filters as
 * tokens of the `meta` column, which FTS5 intersects with the words' doclists.
 */
export function ftsMatch(q: EngineQuery, f: SearchFilters): string {
  const parts = [`(${q.fts5})`];
  const tokens = kindTokens(f);
  if (tokens.length > 0) parts.push(tokens.length === 1 ? `"${tokens[0]!}"` : `(${tokens.map((t) => `"${t}"`).join(' OR ')})`);
  if (f.customerId !== undefined) parts.push(`"${customerToken(f.customerId)}"`);
  return parts.join(' AND ');
}

/** The kind filter's tokens (FEEDBACK_TOKEN for every feedback kind), or none. */
function kindTokens(f: SearchFilters): string[] {
  const tokens = new Set<string>();
  for (const k of f.kinds ?? []) tokens.add(k === 'feedback' ? FEEDBACK_TOKEN : kindToken(k));
  return [...tokens];
}

/**
 * The PostgreSQL match (`to_tsquery` text): the user's query and the kind filter's lexemes
 * (migration 007), which the GIN index intersects with the words' posting lists. Ranking uses
 * the user's query alone.
 */
export function tsMatch(q: EngineQuery, f: SearchFilters): string {
  const tokens = kindTokens(f);
  if (tokens.length === 0) return q.tsquery;
  return `(${q.tsquery}) & (${tokens.map((t) => `'${t}'`).join(' | ')})`;
}

const and = (parts: RawBuilder<unknown>[]): RawBuilder<unknown> => (parts.length === 0 ? sql`` : sql` and ${sql.join(parts, sql` and `)}`);

/**
 * With a theme, tag or segment filter, at most this many of the newest matches of the
 * words are checked against it: each check is a look-up in other tables, and a selective
 * filter with a common word would otherwise check hundreds of thousands.
 */
export const JOINED_SCAN = 4_000;

/**
 * Matches, newest first (document ids are time-ordered), with their relevance, at most
 * `limit`; `before` continues after a document id. FTS5 and PostgreSQL both stop walking
 * the matches at the limit, so this costs about `limit` matches however common the words.
 * `scored: false` leaves the score 0 (sorting by date). With joined filters only the newest
 * JOINED_SCAN matches are checked, on both dialects; when that cut anything off,
 * `truncation.scannedTo` is set to the oldest id checked.
 */
export async function matchesNewestFirst(
  db: Conn,
  dialect: Dialect,
  q: EngineQuery,
  f: SearchFilters,
  limit: number,
  options: { before?: number | undefined; scored?: boolean; truncation?: { scannedTo?: number } } = {},
): Promise<Candidate[]> {
  const { before, scored = true } = options;
  const truncation = options.truncation ?? {};
  const bounded = { ...f, ...(before !== undefined ? { idTo: Math.min(before, f.idTo ?? Number.MAX_SAFE_INTEGER) } : {}) };
  if (dialect === 'sqlite') {
    const match = ftsMatch(q, f);
    const range: RawBuilder<unknown>[] = [];
    if (bounded.idFrom !== undefined) range.push(sql`search_fts.rowid >= ${bounded.idFrom}`);
    if (bounded.idTo !== undefined) range.push(sql`search_fts.rowid < ${bounded.idTo}`);
    if (!hasJoined(f)) {
      const score = scored ? sql`-bm25(search_fts, 2.0, 1.0, 0.0)` : sql`0`;
      const { rows } = await sql<Candidate>`select search_fts.rowid as id, ${score} as score from search_fts
        where search_fts match ${match}${and(range)}
        order by search_fts.rowid desc limit ${limit}`.execute(db);
      return rows;
    }
    // Joined filters: ids first (no scores) from a bounded walk, scores then for the survivors only.
    const { rows } = await sql<{ id: number }>`select m.id from (select search_fts.rowid as id from search_fts
        where search_fts match ${match}${and(range)} order by search_fts.rowid desc limit ${JOINED_SCAN}) m
      cross join search_docs d on d.id = m.id
      where 1 = 1${and(joinedFilters(f))}
      order by m.id desc limit ${limit}`.execute(db);
    if (rows.length < limit) {
      // Fewer than asked: were all matches checked, or only the newest JOINED_SCAN?
      const { rows: walked } = await sql<{ n: number; oldest: number | null }>`select count(*) as n, min(id) as oldest from (select search_fts.rowid as id from search_fts
          where search_fts match ${match}${and(range)} order by search_fts.rowid desc limit ${JOINED_SCAN})`.execute(db);
      if (Number(walked[0]?.n ?? 0) >= JOINED_SCAN) truncation.scannedTo = Number(walked[0]!.oldest);
    }
    if (!scored || rows.length === 0) return rows.map((r) => ({ id: r.id, score: 0 }));
    const scores = await scoresOf(db, match, rows.map((r) => r.id));
    return rows.map((r) => ({ id: r.id, score: scores.get(r.id) ?? 0 }));
  }
  const { rows, walked, oldest } = await newestPg(db, tsMatch(q, f), scored ? q.tsquery : null, bounded, hasJoined(f) ? { scan: JOINED_SCAN, keep: limit } : { scan: limit });
  if (hasJoined(f) && rows.length < limit && walked >= JOINED_SCAN && oldest !== null) truncation.scannedTo = oldest;
  return rows;
}

/** What newestPg read: the rows it keeps (newest first), how many matches it read, the oldest of them. */
interface Read {
  rows: Candidate[];
  walked: number;
  oldest: number | null;
}

/**
 * Time terms of the GIN index (migration 008): buckets of 2, 8 and 32 weeks of document ids.
 * TERMS is the index's expression, spelled exactly as the migration created it so that the
 * planner matches it: every query that wants the GIN index matches against TERMS.
 */
const BUCKETS = [2, 8, 32].map((weeks) => ({ weeks, ids: BigInt(weeks * WEEK_MS * ID_SPREAD) }));
export const TERMS = sql.raw(`(d.tsv || array_to_tsvector(array[${BUCKETS.map((b) => `'#b${b.weeks}w' || (d.id / ${b.ids})::text`).join(', ')}]))`);
/** Buckets a window may name: GIN tests each candidate against the whole query, so its cost grows with the terms (see migration 008). */
const MAX_BUCKETS = 6;

/**
 * The time terms covering ids [lower, upper), as `tsquery` text (read as is, not parsed: the
 * terms are no words): at most MAX_BUCKETS buckets of the smallest size that does it, and where
 * they start (at or below `lower`); null when the window is too wide.
 */
export function timeWindow(lower: number, upper: number): { from: number; terms: string } | null {
  for (const b of BUCKETS) {
    const first = BigInt(Math.max(0, Math.floor(lower))) / b.ids;
    const last = BigInt(Math.max(0, Math.floor(upper) - 1)) / b.ids;
    if (last - first >= MAX_BUCKETS) continue;
    const terms: string[] = [];
    for (let n = first; n <= last; n++) terms.push(`'#b${b.weeks}w${n}'`);
    return { from: Number(first * b.ids), terms: terms.join(' | ') };
  }
  return null;
}

/**
 * Costs of reading matches, in documents tested by a walk down the id index (~0.5 µs each at a
 * million documents). Measured with EXPLAIN ANALYZE on the benchmark's store: a match fetched
 * through the GIN index costs about ten (a heap page each, then the sort), a GIN posting read
 * about half; testing a phrase (positions) about four.
 */
const COST = { fetch: 10, posting: 0.5, phraseTest: 4 } as const;
/** A window is sized for this many times the matches it should hold; its buckets round it up further. */
const WINDOW_MARGIN = 1.2;

/**
 * PostgreSQL: the newest matches of `match` (and the filters), newest first: exactly what
 * `where … order by id desc limit …` returns. `rank` (the user's query) scores the rows kept.
 * With joined filters (`want.keep`), the newest `want.scan` matches of the words are read and
 * the theme, tag and segment filters keep at most `want.keep` of them, in the same statement;
 * reading stops once that many are kept, since older matches can no longer be among them.
 *
 * A GIN index yields its matches in no useful order, so there are three ways to the newest:
 * walk the id index backwards testing each document (cheap when the words are common); fetch
 * every match the GIN index names and sort (cheap when they are rare); or fetch those in a
 * window of time, which the GIN index intersects with the words through its time terms
 * (migration 008). PostgreSQL chooses from its statistics, which assume the words and the kind
 * lexemes independent: "late" among product searches looks common and is nearly absent, and
 * the backward walk then tests the whole table (0.7 s at a million documents). So the choice is
 * made here from what was seen: a walk over the newest 1/256 of the id span (~4,000 documents
 * at a million; all a very common word needs) gives the density; the rest is read the cheapest
 * way for that density (see COST), window after window when a window held fewer than expected
 * (ordering by `id + 0` keeps PostgreSQL off the id index for a fetch). Windows are what make
 * phrases and sparse words cheap: "arrived late" has 23,000 documents with both words and
 * 15,000 with the phrase, and fetching them all to check positions and sort took 60–110 ms;
 * the 2,100 in a window of five 2-week buckets take 15.
 */
async function newestPg(db: Conn, match: string, rank: string | null, f: SearchFilters, want: { scan: number; keep?: number }): Promise<Read> {
  const joined = want.keep !== undefined;
  const keep = want.keep ?? want.scan;
  const where = filterSql({ ...f, theme: undefined, tag: undefined, segment: undefined }, sql`d.id`, 'postgres');
  const score = rank === null ? sql`0` : sql`ts_rank(d.tsv, to_tsquery('english', ${rank}))`;
  const read: Read = { rows: [], walked: 0, oldest: null };
  const done = () => read.walked >= want.scan || read.rows.length >= keep;
  /**
   * One statement: at most n matches in the range. A walk tests `tsv` row by row (`is true`
   * hides the match from any index); a fetch asks the GIN index, within `window` if given.
   */
  const pass = async (how: 'walk' | 'fetch' | 'customer', range: RawBuilder<unknown>[], n: number, window?: string): Promise<number> => {
    const test =
      how === 'walk'
        ? sql`(d.tsv @@ to_tsquery('english', ${match})) is true`
        : how === 'customer'
          ? sql`d.tsv @@ to_tsquery('english', ${match})`
          : window === undefined
            ? sql`${TERMS} @@ to_tsquery('english', ${match})`
            : sql`${TERMS} @@ (to_tsquery('english', ${match}) && ${window}::tsquery)`;
    const order = how === 'fetch' ? sql`d.id + 0 desc` : sql`d.id desc`;
    if (!joined) {
      const { rows } = await sql<Candidate>`select d.id, ${score} as score from search_docs d
        where ${test}${and([...where, ...range])} order by ${order} limit ${n}`.execute(db);
      for (const r of rows) read.rows.push({ id: Number(r.id), score: Number(r.score) });
      read.walked += rows.length;
      if (rows.length > 0) read.oldest = Number(rows[rows.length - 1]!.id);
      return rows.length;
    }
    // The matches read, then the joined filters and the score on them alone: one round trip, no
    // ids sent back and forth, no second read of the kept documents to rank them.
    const { rows } = await sql<{ id: number | null; score: number | null; walked: number; oldest: number | null }>`with m as (
        select d.id, d.source, d.source_id, d.customer_id, d.tsv from search_docs d
        where ${test}${and([...where, ...range])} order by ${order} limit ${n})
      select k.id, k.score, w.walked, w.oldest
      from (select count(*) as walked, min(id) as oldest from m) w
      left join (select d.id, ${score} as score from m d where true${and(joinedFilters(f))} order by d.id desc limit ${keep - read.rows.length}) k on true
      order by k.id desc`.execute(db);
    for (const r of rows) if (r.id !== null) read.rows.push({ id: Number(r.id), score: Number(r.score) });
    const walked = Number(rows[0]?.walked ?? 0);
    read.walked += walked;
    if (rows[0]?.oldest != null) read.oldest = Number(rows[0].oldest);
    return walked;
  };
  // One customer's documents: the (customer_id, id) index has them newest first.
  if (f.customerId !== undefined) {
    await pass('customer', [], want.scan);
    return read;
  }
  const { rows: spanRows } = await sql<{ lo: number | null; hi: number | null; docs: number }>`select
      (select min(id) from search_docs) as lo, (select max(id) from search_docs) as hi,
      (select reltuples from pg_class where oid = 'search_docs'::regclass) as docs`.execute(db);
  const lo = spanRows[0]?.lo == null ? null : Number(spanRows[0].lo);
  const hi = spanRows[0]?.hi == null ? null : Number(spanRows[0].hi);
  if (lo === null || hi === null) return read;
  // Documents per id (PostgreSQL's row estimate; -1 before the first analyze).
  const perId = Math.max(Number(spanRows[0]?.docs ?? 0), 1) / Math.max(hi - lo, 1);
  const bottom = Math.max(lo, f.idFrom ?? lo);
  const top = Math.min(hi + 1, f.idTo ?? hi + 1);
  if (top <= bottom) return read;
  const probeFrom = Math.max(bottom, top - Math.ceil((top - bottom) / 256));
  await pass('walk', [sql`d.id >= ${probeFrom}`, sql`d.id < ${top}`], want.scan);
  const phrase = match.includes('<->');
  // GIN candidates per match: a phrase's words are together in more documents than the phrase.
  const candidates = phrase ? 1.5 : 1;
  let upper = probeFrom;
  // After a window held fewer than expected, the next one is at least twice as wide: a few passes reach any density.
  let minSpan = 0;
  while (!done() && upper > bottom) {
    const need = want.scan - read.walked;
    // Matches per id so far; what was read stands for the rest.
    const density = read.walked / (top - upper);
    const rest = upper - bottom;
    if (density === 0) {
      await pass('fetch', [sql`d.id < ${upper}`], need);
      break;
    }
    const postings = COST.posting * candidates * density * rest;
    const walkCost = Math.min(rest, need / density) * perId * (phrase ? COST.phraseTest : 1);
    const fetchCost = postings + COST.fetch * candidates * density * rest;
    const window = timeWindow(upper - Math.max(minSpan, (need / density) * WINDOW_MARGIN), upper);
    const from = window === null ? bottom : Math.max(bottom, window.from);
    const windowCost = from > bottom ? postings + COST.fetch * candidates * density * (upper - from) : Number.POSITIVE_INFINITY;
    if (walkCost <= Math.min(fetchCost, windowCost)) {
      await pass('walk', [sql`d.id < ${upper}`], need);
      break;
    }
    if (fetchCost <= windowCost) {
      await pass('fetch', [sql`d.id < ${upper}`], need);
      break;
    }
    // Every match in [from, upper) is in the window's buckets: fewer than `need` means all were read.
    await pass('fetch', [sql`d.id < ${upper}`], need, window!.terms);
    minSpan = 2 * (upper - from);
    upper = from;
  }
  return read;
}

/**
 * bm25 of the given matches: one walk over the id range they span (cheap without scoring),
 * scoring only the listed rows. Asking FTS5 row by row (`rowid = ?`) costs a seek in every
 * segment per row, ~100 times more.
 */
async function scoresOf(db: Conn, match: string, ids: readonly number[]): Promise<Map<number, number>> {
  const { rows } = await sql<Candidate>`select search_fts.rowid as id, -bm25(search_fts, 2.0, 1.0, 0.0) as score from search_fts
    where search_fts match ${match} and search_fts.rowid >= ${Math.min(...ids)} and search_fts.rowid <= ${Math.max(...ids)}
      and +search_fts.rowid in (${sql.join(ids)})`.execute(db);
  return new Map(rows.map((r) => [Number(r.id), Number(r.score)]));
}

/**
 * How many documents match, counted newest first up to `cap` (a cap keeps common words
 * cheap), and the oldest id counted: when the cap is reached, the span it covers tells the
 * service how far to extrapolate.
 */
export async function countMatches(db: Conn, dialect: Dialect, q: EngineQuery, f: SearchFilters, cap: number): Promise<{ n: number; oldest: number | null }> {
  if (dialect === 'sqlite') {
    const match = ftsMatch(q, f);
    const range: RawBuilder<unknown>[] = [];
    if (f.idFrom !== undefined) range.push(sql`search_fts.rowid >= ${f.idFrom}`);
    if (f.idTo !== undefined) range.push(sql`search_fts.rowid < ${f.idTo}`);
    const inner = hasJoined(f)
      ? sql`select m.id from (select search_fts.rowid as id from search_fts where search_fts match ${match}${and(range)}
            order by search_fts.rowid desc limit ${JOINED_SCAN}) m cross join search_docs d on d.id = m.id where 1 = 1${and(joinedFilters(f))} order by m.id desc limit ${cap}`
      : sql`select search_fts.rowid as id from search_fts where search_fts match ${match}${and(range)} order by search_fts.rowid desc limit ${cap}`;
    const { rows } = await sql<{ n: number; oldest: number | null }>`select count(*) as n, min(id) as oldest from (${inner})`.execute(db);
    return { n: Number(rows[0]?.n ?? 0), oldest: rows[0]?.oldest == null ? null : Number(rows[0].oldest) };
  }
  const { rows } = await newestPg(db, tsMatch(q, f), null, f, hasJoined(f) ? { scan: JOINED_SCAN, keep: cap } : { scan: cap });
  return { n: rows.length, oldest: rows.length === 0 ? null : rows[rows.length - 1]!.id };
}

/** The oldest and newest document ids (null when the index is empty). */
export async function idSpan(db: Conn): Promise<{ min: number; max: number } | null> {
  // Two look-ups: SQLite answers min() or max() from the key alone, not both in one query.
  const lo = await db.selectFrom('search_docs').select('id').orderBy('id', 'asc').limit(1).executeTakeFirst();
  const hi = await db.selectFrom('search_docs').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!lo || !hi) return null;
  return { min: Number(lo.id), max: Number(hi.id) };
}

/** Highlighted fragments of the given matches, terms between SNIPPET_MARKS. */
export async function snippets(db: Conn, dialect: Dialect, q: EngineQuery, ids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.length === 0) return out;
  if (dialect === 'sqlite') {
    // A walk over the span of the page's ids, making snippets only for the listed rows (see scoresOf).
    const { rows } = await sql<{ id: number; snippet: string | null }>`select rowid as id,
        snippet(search_fts, -1, ${SNIPPET_OPEN}, ${SNIPPET_CLOSE}, '…', 32) as snippet
      from search_fts where search_fts match ${q.fts5}
        and rowid >= ${Math.min(...ids)} and rowid <= ${Math.max(...ids)} and +rowid in (${sql.join(ids)})`.execute(db);
    for (const r of rows) out.set(Number(r.id), r.snippet ?? '');
    return out;
  }
  const options = `StartSel="${SNIPPET_OPEN}", StopSel="${SNIPPET_CLOSE}", MaxWords=32, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "`;
  const { rows } = await sql<{ id: number; snippet: string | null }>`select d.id,
      case when to_tsvector('english', d.body) @@ q.q then ts_headline('english', d.body, q.q, ${options})
           else ts_headline('english', d.title, q.q, ${options}) end as snippet
    from search_docs d, (select to_tsquery('english', ${q.tsquery}) as q) q
    where d.id in (${sql.join(ids)})`.execute(db);
  for (const r of rows) out.set(Number(r.id), r.snippet ?? '');
  return out;
}

export interface HitRow extends DocRow {
  user_id: string | null;
  name: string | null;
  email: string | null;
  clv: number | null;
  p_alive: number | null;
  segment: number | null;
}

/** The documents behind a page of hits, with their customer and the customer's value. */
export async function hitRows(db: Conn, ids: readonly number[]): Promise<HitRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<HitRow>`select d.id, d.source, d.source_id, d.kind, d.customer_id, d.at, d.title, d.body,
      c.user_id, c.name, c.email, cv.clv, cv.p_alive, cv.segment
    from search_docs d
    left join customers c on c.id = d.customer_id
    left join customer_values cv on cv.customer_id = d.customer_id
    where d.id in (${sql.join(ids)})`.execute(db);
  return rows.map((r) => ({ ...r, id: Number(r.id), source_id: Number(r.source_id), customer_id: r.customer_id === null ? null : Number(r.customer_id), at: Number(r.at) }));
}

export async function customerIdOf(db: Conn, userId: string): Promise<number | undefined> {
  const r = await db.selectFrom('customers').select('id').where('user_id', '=', userId).executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

/** What the filters can be set to: active themes, tags, micro-segments in use. */
export async function filterChoices(db: Conn) {
  const themes = await db.selectFrom('themes').select(['id', 'label', 'name', 'size']).where('status', '=', 'active').orderBy('size', 'desc').limit(500).execute();
  const tags = await db.selectFrom('tags').select(['id', 'tag_set', 'name']).orderBy('tag_set').orderBy('name').limit(500).execute();
  const segments = await db
    .selectFrom('customer_values')
    .select(['segment', (eb) => eb.fn.countAll<number>().as('n')])
    .where('segment', 'is not', null)
    .groupBy('segment')
    .orderBy('segment')
    .execute();
  return { themes, tags, segments };
}

/**
 * Runs `fn` in a read-only PostgreSQL transaction whose statements are each cancelled after
 * `timeoutMs` (a cancelled statement fails with SQLSTATE 57014, which the caller reports).
 */
export async function readOnlyWithTimeout<T>(db: Conn, timeoutMs: number, fn: (trx: Conn) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set transaction read only`.execute(trx);
    await sql`select set_config('statement_timeout', ${String(Math.max(1, Math.round(timeoutMs)))}, true)`.execute(trx);
    return fn(trx);
  });
}
