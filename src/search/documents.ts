import type { FeedbackKind } from '../core/vocabulary.js';
import type { SearchDocsTable, SearchSource } from '../store/schema.js';
import { parseTraits } from '../ingest/traits.js';

/**
 * Search documents: what the indexer makes of a feedback item, a customer or an interaction,
 * the time-ordered document ids, and the filter tokens stored with them. Pure: the indexer
 * (search.indexer.ts) and the queries (search.repository.ts, index.repository.ts) share it.
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
export const KIND_TOKENS: Record<FeedbackKind | 'customer' | 'interaction', string> = {
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
/** The `meta` token of a kind; kinds outside the list share `other`'s. */
export const kindToken = (kind: string): string => (KIND_TOKENS as Record<string, string | undefined>)[kind] ?? KIND_TOKENS.other;
/** The `meta` token of one customer's documents. */
export const customerToken = (customerId: number): string => `xxcust${customerId}`;
/** A document's `meta` column: its kind, feedback's source token and its customer, as FTS5 terms. */
export function metaOf(source: SearchSource, kind: string, customerId: number | null): string {
  const tokens = [kindToken(kind)];
  if (source === 'feedback') tokens.push(FEEDBACK_TOKEN);
  if (customerId !== null) tokens.push(customerToken(customerId));
  return tokens.join(' ');
}

/** Ids per millisecond: the low bits of a document id. */
export const ID_SPREAD = 1024;
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

/** A feedback item's document: its text, titled by the properties that name it (a ticket's subject, the product). */
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

/** An interaction's document, or null when none of its properties holds what the customer typed or said. */
export function interactionDoc(r: { id: number; customer_id: number; name: string; properties: string; occurred_at: number }): Omit<DocRow, 'id'> | null {
  const text = strings(parseTraits(r.properties), INTERACTION_TEXT_KEYS);
  if (text.length === 0) return null;
  return { source: 'interaction', source_id: r.id, kind: 'interaction', customer_id: r.customer_id, at: r.occurred_at, title: clean(r.name, 500), body: clean(text.join('\n')) };
}

/** A customer's document (name, e-mail, user id, short text traits), or null for an anonymous customer. */
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
