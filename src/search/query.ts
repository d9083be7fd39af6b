import { invalid } from '../core/errors.js';

/**
 * The search box's language, parsed into a small tree, and written out for each engine from
 * that tree alone: the user's text never reaches FTS5 or PostgreSQL as query syntax. Terms are
 * reduced to word tokens (letters, digits, marks), which need no escaping in either language.
 *
 * - `refund late` — both words (implicit AND)
 * - `"arrived damaged"` — the phrase
 * - `deliv*` — words starting with "deliv"
 * - `refund OR return` — either (OR joins its neighbours: `a OR b c` is (a or b) and c)
 * - `-newsletter`, `-"gift card"` — without
 */

/** One phrase: its word tokens in order; `prefix` makes the last token a prefix. */
export interface Phrase {
  tokens: string[];
  prefix: boolean;
}

/** Each group must match (AND); a group matches when any of its phrases does (OR). */
export interface ParsedQuery {
  must: Phrase[][];
  not: Phrase[];
}

/**
 * The cost budget of one query, checked before it runs. Each phrase is a read of its words'
 * posting lists (a phrase also checks positions), each alternative of an OR is another such
 * read merged with the rest, and a prefix reads every word that starts with it: 16 two-word
 * phrases joined by OR read 32 lists and merge 16, which on a large index took seconds. Past
 * the budget the answer is a 400 that says which limit was reached; within it, a search still
 * has a time limit (search.pool.ts).
 */
export const QUERY_LIMITS = { maxLength: 256, maxTerms: 16, minPrefix: 2, maxAlternatives: 8, maxPrefixes: 4, maxWords: 32 } as const;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

function tokensOf(text: string): string[] {
  return (text.normalize('NFKC').toLowerCase().match(WORD) ?? []).slice(0, QUERY_LIMITS.maxTerms);
}

interface Item {
  phrase: Phrase;
  negated: boolean;
  quoted: boolean;
}

/**
 * Parses the search box. Throws an invalid-input error naming `field` for what cannot be read:
 * an unclosed quote, OR without a term on one side, only exclusions, nothing to search for.
 *
 * @example parseQuery('"late delivery" refund OR return -spam*').must.length // 2
 */
export function parseQuery(input: string, field = 'q'): ParsedQuery {
  const text = input.trim();
  if (text.length === 0) throw invalid(field, 'enter at least one word to search for');
  if (text.length > QUERY_LIMITS.maxLength) throw invalid(field, `at most ${QUERY_LIMITS.maxLength} characters`);
  const items: (Item | 'OR')[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    let negated = false;
    if (ch === '-' && i + 1 < text.length && !/\s/u.test(text[i + 1]!)) {
      negated = true;
      i++;
    }
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw invalid(field, `the quoted phrase starting at character ${i + 1} is not closed (add a closing ")`);
      const body = text.slice(i + 1, end);
      i = end + 1;
      const prefix = text[i] === '*';
      if (prefix) i++;
      const tokens = tokensOf(body);
      if (tokens.length === 0) continue;
      items.push({ phrase: { tokens, prefix }, negated, quoted: true });
      continue;
    }
    let end = i;
    while (end < text.length && !/\s/u.test(text[end]!) && text[end] !== '"') end++;
    const word = text.slice(i, end);
    i = end;
    if (word === 'OR' && !negated) {
      items.push('OR');
      continue;
    }
    const prefix = word.endsWith('*');
    const tokens = tokensOf(word);
    if (tokens.length === 0) {
      if (prefix) throw invalid(field, `"${word}": a * must follow at least ${QUERY_LIMITS.minPrefix} letters`);
      continue;
    }
    if (prefix && tokens[tokens.length - 1]!.length < QUERY_LIMITS.minPrefix) {
      throw invalid(field, `"${word}": a * must follow at least ${QUERY_LIMITS.minPrefix} letters`);
    }
    items.push({ phrase: { tokens, prefix }, negated, quoted: false });
  }

  const must: Phrase[][] = [];
  const not: Phrase[] = [];
  let pendingOr = false;
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    if (item === 'OR') {
      const prev = items[k - 1];
      if (prev === undefined || prev === 'OR' || prev.negated || must.length === 0) throw invalid(field, 'OR needs a word or phrase on both sides (and cannot join an -exclusion)');
      pendingOr = true;
      continue;
    }
    if (pendingOr) {
      if (item.negated) throw invalid(field, 'OR needs a word or phrase on both sides (and cannot join an -exclusion)');
      must[must.length - 1]!.push(item.phrase);
      pendingOr = false;
      continue;
    }
    if (item.negated) not.push(item.phrase);
    else must.push([item.phrase]);
  }
  if (pendingOr) throw invalid(field, 'OR needs a word or phrase on both sides (and cannot join an -exclusion)');
  if (must.length === 0) {
    throw invalid(field, not.length > 0 ? 'add at least one word to look for: exclusions (-word) only narrow a search' : 'enter at least one word to search for');
  }
  checkBudget({ must, not }, field);
  return { must, not };
}

/** Throws an invalid-input error naming `field` when the query is past one of QUERY_LIMITS. */
function checkBudget(q: ParsedQuery, field: string): void {
  const phrases = [...q.must.flat(), ...q.not];
  if (phrases.length > QUERY_LIMITS.maxTerms) throw invalid(field, `at most ${QUERY_LIMITS.maxTerms} words and phrases`);
  const widest = Math.max(...q.must.map((g) => g.length));
  if (widest > QUERY_LIMITS.maxAlternatives) {
    throw invalid(field, `at most ${QUERY_LIMITS.maxAlternatives} alternatives joined by OR (this query has ${widest}): split it into several searches`);
  }
  const prefixes = phrases.filter((p) => p.prefix).length;
  if (prefixes > QUERY_LIMITS.maxPrefixes) throw invalid(field, `at most ${QUERY_LIMITS.maxPrefixes} prefix searches (word*) in one query (this query has ${prefixes})`);
  const words = phrases.reduce((n, p) => n + p.tokens.length, 0);
  if (words > QUERY_LIMITS.maxWords) throw invalid(field, `at most ${QUERY_LIMITS.maxWords} words in all its words and phrases (this query has ${words})`);
}

/** FTS5 query text. Tokens are letters and digits only, quoted all the same. */
export function toFts5(q: ParsedQuery): string {
  const phrase = (p: Phrase): string => `"${p.tokens.join(' ')}"${p.prefix ? ' *' : ''}`;
  const groups = q.must.map((g) => (g.length === 1 ? phrase(g[0]!) : `(${g.map(phrase).join(' OR ')})`));
  let out = groups.length === 1 ? groups[0]! : `(${groups.join(' AND ')})`;
  for (const n of q.not) out = `(${out} NOT ${phrase(n)})`;
  return out;
}

/** PostgreSQL `to_tsquery` text: phrases with `<->`, prefixes with `:*`, `&`, `|`, `!`. */
export function toTsquery(q: ParsedQuery): string {
  const phrase = (p: Phrase): string => {
    const parts = p.tokens.map((t, i) => `'${t}'${p.prefix && i === p.tokens.length - 1 ? ':*' : ''}`);
    return parts.length === 1 ? parts[0]! : `(${parts.join(' <-> ')})`;
  };
  const groups = q.must.map((g) => (g.length === 1 ? phrase(g[0]!) : `(${g.map(phrase).join(' | ')})`));
  return [...groups, ...q.not.map((n) => `!${phrase(n)}`)].join(' & ');
}

/** The query as understood, for display: `"late delivery" (refund OR return) -spam`. */
export function describeQuery(q: ParsedQuery): string {
  const phrase = (p: Phrase): string => {
    const t = p.tokens.join(' ');
    return `${p.tokens.length > 1 ? `"${t}"` : t}${p.prefix ? '*' : ''}`;
  };
  const groups = q.must.map((g) => (g.length === 1 ? phrase(g[0]!) : `(${g.map(phrase).join(' OR ')})`));
  return [...groups, ...q.not.map((n) => `-${phrase(n)}`)].join(' ');
}
