import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { invalid } from '../core/errors.js';
import { round, roundOrNull } from '../core/numbers.js';
import { DAY_MS } from '../core/time.js';
import { FEEDBACK_KINDS } from '../core/vocabulary.js';
import type { Store } from '../store/db.js';
import { docIdAt, ID_SPREAD } from './documents.js';
import { describeQuery, parseQuery, QUERY_LIMITS, toFts5, toTsquery } from './query.js';
import * as repo from './search.repository.js';
import { searchLag, syncInSlices, syncSearch } from './search.indexer.js';
import type { Serialize } from '../core/serial.js';

/**
 * Search over what customers said: the API shapes, and how a query is answered.
 *
 * Ranking: "the 20 best of 500,000 matches" would need a relevance score for every match.
 * Instead the newest RANK_WINDOW matches are read (document ids are time-ordered, so both
 * engines walk their index newest first and stop there) and ranked by bm25 / ts_rank. When
 * fewer match, the ranking is exact; when more, it is the best among the newest
 * RANK_WINDOW, and the response says so (`ranking: "newest"`). For feedback that ages, recent
 * and relevant is what a team looks for; an older match is one more word or filter away.
 */

/** Matches ranked by relevance per query: above this, the newest this many are ranked. */
export const RANK_WINDOW = 1000;
/** Matches counted for the total when sorting by date; beyond, the total is extrapolated. */
const COUNT_CAP = RANK_WINDOW + 1;
/** A search indexes up to this many new source rows first; a larger backlog is left to the indexer. */
const CATCH_UP_ROWS = 5_000;
/** In the server, a search indexes new rows for up to this long first (about 5,000 rows). */
const CATCH_UP_MS = 250;

/** What a search can be narrowed to: `feedback` (every feedback kind), one feedback kind, customers, interactions. */
export const SEARCH_KINDS = ['feedback', ...FEEDBACK_KINDS, 'customer', 'interaction'] as const;
const KIND_LIST = new RegExp(`^(${SEARCH_KINDS.join('|')})(,(${SEARCH_KINDS.join('|')}))*$`);
const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

export const SearchParams = z.object({
  q: z.string().max(QUERY_LIMITS.maxLength).describe('words, "quoted phrases", prefix*, OR, -exclusion'),
  kind: z.string().regex(KIND_LIST, `a comma-separated list of ${SEARCH_KINDS.join(', ')}`).optional().describe(`comma-separated: ${SEARCH_KINDS.join(', ')} (feedback: every feedback kind)`),
  theme: z.coerce.number().int().positive().optional().describe('theme id (feedback only)'),
  tag: z.coerce.number().int().positive().optional().describe('tag id (feedback only)'),
  segment: z.coerce.number().int().min(0).optional().describe("the customer's micro-segment (latest customer-value run)"),
  from: z.string().regex(DATE, 'a date YYYY-MM-DD or an ISO time').optional().describe('on or after (YYYY-MM-DD or ISO time, UTC)'),
  to: z.string().regex(DATE, 'a date YYYY-MM-DD or an ISO time').optional().describe('on or before (a whole day when YYYY-MM-DD)'),
  customer: z.string().min(1).max(512).optional().describe("the customer's user id"),
  sort: z.enum(['relevance', 'date']).default('relevance'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export type SearchParams = z.infer<typeof SearchParams>;

const Segment = z.object({ text: z.string(), match: z.boolean() }).meta({ id: 'SearchTextSegment' });
export type TextSegment = z.infer<typeof Segment>;

export const SearchHit = z
  .object({
    id: z.number().describe('document id (time-ordered)'),
    source: z.enum(['feedback', 'customer', 'interaction']),
    kind: z.string().describe('feedback kind, or customer / interaction'),
    sourceId: z.number().describe('id of the feedback item, customer or interaction'),
    at: z.string(),
    title: z.string(),
    snippet: z.array(Segment).describe('the text around the matched terms; render `text` as text, emphasise where `match`'),
    score: z.number().nullable().describe('relevance (higher is better); null when sorted by date'),
    customer: z
      .object({ userId: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable(), clv: z.number().nullable(), pAlive: z.number().nullable() })
      .nullable(),
  })
  .meta({ id: 'SearchHit' });
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchPage = z
  .object({
    query: z.string().describe('the query as understood'),
    sort: z.enum(['relevance', 'date']),
    ranking: z.enum(['exact', 'newest']).describe(`exact: every match ranked; newest: more than ${RANK_WINDOW} match, the newest ${RANK_WINDOW} are ranked`),
    total: z.number(),
    totalExact: z.boolean().describe('false: an estimate extrapolated from the newest matches'),
    items: z.array(SearchHit),
    nextCursor: z.string().nullable(),
    indexBehind: z.boolean().describe('records stored recently are still being indexed'),
    tookMs: z.number(),
  })
  .meta({ id: 'SearchPage' });
export type SearchPage = z.infer<typeof SearchPage>;

export const SearchFilterChoices = z
  .object({
    kinds: z.array(z.string()),
    themes: z.array(z.object({ id: z.number(), name: z.string(), size: z.number() })),
    tags: z.array(z.object({ id: z.number(), tagSet: z.string(), name: z.string() })),
    segments: z.array(z.object({ id: z.number(), customers: z.number() })),
  })
  .meta({ id: 'SearchFilterChoices' });

/** Splits a marked snippet into plain-text segments (never HTML). */
export function segmentsOf(marked: string): TextSegment[] {
  const out: TextSegment[] = [];
  const re = new RegExp(`${repo.SNIPPET_MARKS.open}([^${repo.SNIPPET_MARKS.close}]*)${repo.SNIPPET_MARKS.close}`, 'g');
  let last = 0;
  for (const m of marked.matchAll(re)) {
    if (m.index > last) out.push({ text: marked.slice(last, m.index), match: false });
    if (m[1]!.length > 0) out.push({ text: m[1]!, match: true });
    last = m.index + m[0].length;
  }
  if (last < marked.length) out.push({ text: marked.slice(last), match: false });
  // Strays (a mark cut off by the fragment's edge) are dropped.
  return out
    .map((s) => ({ ...s, text: s.text.replaceAll(repo.SNIPPET_MARKS.open, '').replaceAll(repo.SNIPPET_MARKS.close, '') }))
    .filter((s) => s.text.length > 0);
}

function timeOf(field: string, v: string | undefined, endOfDay: boolean): number | undefined {
  if (v === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const t = Date.parse(dateOnly ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw invalid(field, `expected a date YYYY-MM-DD or an ISO time, got "${v}"`);
  return dateOnly && endOfDay ? t + DAY_MS : endOfDay ? t + 1 : t;
}

/** A page's position: an offset into the ranked window (relevance) or the last document id (date). */
type Cursor = { o: number } | { b: number };
const CURSOR_MESSAGE = 'not a cursor this search returned (cursors belong to one sort order)';

function cursorOf(s: string, sort: 'relevance' | 'date'): Cursor {
  const v = decodeCursor(s, (v): v is { o?: unknown; b?: unknown } => typeof v === 'object' && v !== null, CURSOR_MESSAGE);
  if (sort === 'relevance' && 'o' in v && Number.isInteger(v.o) && (v.o as number) >= 0) return { o: v.o as number };
  if (sort === 'date' && 'b' in v && Number.isInteger(v.b)) return { b: v.b as number };
  throw invalid('cursor', CURSOR_MESSAGE);
}

export interface SearchOptions {
  /**
   * Index what was stored since the last pass before searching (see catchUpIndex).
   * Pass the server's write serializer; `false` searches the index as it is.
   */
  catchUp?: false | Serialize;
}

/**
 * Indexes what was stored since the last pass; true when a backlog remains. Through
 * `serialize` (the server's write queue): in slices for at most CATCH_UP_MS, in turn with the
 * other writes; without (the CLI, tests): up to CATCH_UP_ROWS source rows at once.
 */
export async function catchUpIndex(store: Store, serialize?: Serialize): Promise<boolean> {
  const lag = await searchLag(store.db);
  if (lag.rows === 0 && lag.dirty === 0) return false;
  if (serialize) return syncInSlices(store, serialize, CATCH_UP_MS);
  return (await syncSearch(store, { maxRows: CATCH_UP_ROWS })).behind;
}

/**
 * Answers one search: parse, filter, rank (see RANK_WINDOW), page, highlight, and attach
 * each hit's customer and value.
 *
 * @example await search(store, SearchParams.parse({ q: '"late delivery" refund*', kind: 'ticket' }))
 */
export async function search(store: Store, p: SearchParams, options: SearchOptions = {}): Promise<SearchPage> {
  const started = performance.now();
  const parsed = parseQuery(p.q, 'q');
  const q: repo.EngineQuery = { fts5: toFts5(parsed), tsquery: toTsquery(parsed) };
  const db = store.db;
  const from = timeOf('from', p.from, false);
  const to = timeOf('to', p.to, true);
  if (from !== undefined && to !== undefined && to <= from) throw invalid('to', 'must not be before from');
  const filters: repo.SearchFilters = {
    kinds: p.kind?.split(','),
    theme: p.theme,
    tag: p.tag,
    segment: p.segment,
    idFrom: from === undefined ? undefined : docIdAt(from),
    idTo: to === undefined ? undefined : docIdAt(to),
  };
  if (p.customer !== undefined) {
    const id = await repo.customerIdOf(db, p.customer);
    if (id === undefined) throw invalid('customer', `no customer with user id "${p.customer}"`);
    filters.customerId = id;
  }
  const cursor = p.cursor === undefined ? undefined : cursorOf(p.cursor, p.sort);

  const indexBehind = options.catchUp === false ? false : await catchUpIndex(store, options.catchUp);

  let pageIds: { id: number; score: number | null }[];
  let nextCursor: string | null = null;
  let total: number;
  let totalExact: boolean;
  let ranking: 'exact' | 'newest' = 'exact';
  if (p.sort === 'date') {
    const before = cursor && 'b' in cursor ? cursor.b : undefined;
    const truncation: { scannedTo?: number } = {};
    const rows = await repo.matchesNewestFirst(db, store.dialect, q, filters, p.limit + 1, { before, scored: false, truncation });
    pageIds = rows.slice(0, p.limit).map((r) => ({ id: r.id, score: null }));
    if (rows.length > p.limit) nextCursor = encodeCursor({ b: pageIds[pageIds.length - 1]!.id });
    else if (truncation.scannedTo !== undefined) nextCursor = encodeCursor({ b: truncation.scannedTo });
    const counted = await repo.countMatches(db, store.dialect, q, filters, COUNT_CAP);
    ({ total, totalExact } = await totalOf(store, counted.n, COUNT_CAP, counted.oldest, filters));
  } else {
    const offset = cursor && 'o' in cursor ? cursor.o : 0;
    const truncation: { scannedTo?: number } = {};
    const rows = await repo.matchesNewestFirst(db, store.dialect, q, filters, RANK_WINDOW + 1, { truncation });
    const window = rows.slice(0, RANK_WINDOW);
    if (rows.length > RANK_WINDOW || truncation.scannedTo !== undefined) ranking = 'newest';
    window.sort((a, b) => b.score - a.score || b.id - a.id);
    pageIds = window.slice(offset, offset + p.limit);
    if (offset + p.limit < window.length) nextCursor = encodeCursor({ o: offset + p.limit });
    const oldest = window.length > 0 ? Math.min(...window.map((r) => r.id)) : null;
    if (truncation.scannedTo !== undefined) {
      // A joined filter checked only the newest matches: extrapolate from the span checked.
      ({ total, totalExact } = await totalOf(store, window.length, 0, truncation.scannedTo, filters));
    } else ({ total, totalExact } = await totalOf(store, rows.length, RANK_WINDOW + 1, oldest, filters));
  }

  const ids = pageIds.map((r) => r.id);
  const [rows, marked] = await Promise.all([repo.hitRows(db, ids), repo.snippets(db, store.dialect, q, ids)]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items: SearchHit[] = [];
  for (const { id, score } of pageIds) {
    const r = byId.get(id);
    if (!r) continue; // erased between the two reads
    const snippet = marked.get(id);
    items.push({
      id,
      source: r.source,
      kind: r.kind,
      sourceId: r.source_id,
      at: new Date(r.at).toISOString(),
      title: titleOf(r),
      snippet: snippet ? segmentsOf(snippet) : [{ text: r.body.slice(0, 200), match: false }],
      score: roundOrNull(score, 4),
      customer:
        r.customer_id === null
          ? null
          : { userId: r.user_id, name: r.name, email: r.email, clv: roundOrNull(r.clv, 2), pAlive: roundOrNull(r.p_alive, 4) },
    });
  }
  return {
    query: describeQuery(parsed),
    sort: p.sort,
    ranking,
    total,
    totalExact,
    items,
    nextCursor,
    indexBehind,
    tookMs: round(performance.now() - started, 1),
  };
}

/**
 * The total: exact when fewer than `cap` were seen; otherwise extrapolated from how much of
 * the time span the `cap` newest matches covered (ids are time-ordered), assuming matches
 * spread over the rest as they did there.
 */
async function totalOf(store: Store, seen: number, cap: number, oldest: number | null, f: repo.SearchFilters): Promise<{ total: number; totalExact: boolean }> {
  if (seen < cap || oldest === null) return { total: seen, totalExact: true };
  if (seen === 0) return { total: 0, totalExact: false };
  const span = await repo.idSpan(store.db);
  if (!span) return { total: seen, totalExact: false };
  const lo = Math.max(span.min, f.idFrom ?? span.min);
  const hi = Math.min(span.max, f.idTo ?? span.max);
  const covered = Math.max(ID_SPREAD, hi - oldest);
  const estimate = Math.round((seen * Math.max(covered, hi - lo)) / covered);
  return { total: Math.max(seen, estimate), totalExact: false };
}

const KIND_TITLE: Record<string, string> = {
  ticket: 'Ticket',
  review: 'Review',
  survey: 'Survey answer',
  interview: 'Interview note',
  visit_note: 'Visit note',
  other: 'Feedback',
};

function titleOf(r: repo.HitRow): string {
  if (r.source === 'feedback') return r.title ? `${KIND_TITLE[r.kind] ?? r.kind}: ${r.title}` : (KIND_TITLE[r.kind] ?? r.kind);
  if (r.source === 'customer') return r.title || 'Customer';
  return r.title || 'Interaction';
}

/** What the filters can be set to, for the search page. */
export async function filterChoices(store: Store): Promise<z.infer<typeof SearchFilterChoices>> {
  const c = await repo.filterChoices(store.db);
  return {
    kinds: [...SEARCH_KINDS],
    themes: c.themes.map((t) => ({ id: Number(t.id), name: t.name ?? t.label, size: Number(t.size) })),
    tags: c.tags.map((t) => ({ id: Number(t.id), tagSet: t.tag_set, name: t.name })),
    segments: c.segments.map((s) => ({ id: Number(s.segment), customers: Number(s.n) })),
  };
}
