import { useEffect, useId, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type SearchQuery } from '../api/client.js';
import type { SearchFilterChoices, SearchHit } from '../api/types.js';
import { Icon } from '../components/Icon.js';
import { Badge, Empty, ErrorPanel, InfoTip, Loading } from '../components/ui.js';
import { formatMoney, formatDate, formatInt, humanize, formatPAlive } from '../lib/format.js';
import { useApi, useDebounced, useValueCurrency } from '../lib/hooks.js';
import { usePageTitle } from '../lib/title.js';

/** URL parameters the page keeps its query and filters in (the API's own names). */
const FILTER_KEYS = ['kind', 'theme', 'tag', 'segment', 'from', 'to', 'customer', 'sort'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/** One hit's kind, in the singular (the filter above lists them in the plural). */
const HIT_LABELS: Record<string, string> = {
  feedback: 'Feedback',
  ticket: 'Ticket',
  review: 'Review',
  survey: 'Survey answer',
  interview: 'Interview note',
  visit_note: 'Visit note',
  other: 'Idea or other feedback',
  customer: 'Customer',
  interaction: 'Interaction',
};

const KIND_LABELS: Record<string, string> = {
  feedback: 'All feedback',
  ticket: 'Tickets',
  review: 'Reviews',
  survey: 'Survey answers',
  interview: 'Interview notes',
  visit_note: 'Visit notes',
  other: 'Ideas and other feedback',
  customer: 'Customers',
  interaction: 'Interactions (searches, chats)',
};

interface Results {
  key: string;
  items: SearchHit[];
  total: number;
  totalExact: boolean;
  ranking: 'exact' | 'newest';
  understood: string;
  nextCursor: string | null;
  tookMs: number;
  loading: boolean;
  error: Error | null;
}

const EMPTY: Results = { key: '', items: [], total: 0, totalExact: true, ranking: 'exact', understood: '', nextCursor: null, tookMs: 0, loading: false, error: null };

/** A highlighted snippet: text segments, matched ones in <mark>. Never HTML from the server. */
function Snippet({ hit }: { hit: SearchHit }) {
  return (
    <p className="search-snippet" data-testid="search-snippet">
      {hit.snippet.map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
    </p>
  );
}

function HitCustomer({ hit }: { hit: SearchHit }) {
  const currency = useValueCurrency();
  const c = hit.customer;
  if (!c) return <span className="muted">No customer</span>;
  const label = c.name ?? c.userId ?? c.email ?? 'Anonymous visitor';
  return (
    <div className="search-customer" data-testid="search-customer">
      {c.userId ? (
        <Link to={`/customers/${encodeURIComponent(c.userId)}`} className="who-name">
          {label}
        </Link>
      ) : (
        <span className="who-name">{label}</span>
      )}
      <span className="who-meta">
        {c.clv === null ? 'CLV —' : `CLV ${formatMoney(c.clv, currency)}`}
        {c.pAlive !== null && ` · P(alive) ${formatPAlive(c.pAlive)}`}
      </span>
    </div>
  );
}

export function SearchPage() {
  usePageTitle('Search');
  const [params, setParams] = useSearchParams();
  const boxId = useId();
  const q = params.get('q') ?? '';
  const filters: Partial<Record<FilterKey, string>> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const choices = useApi<SearchFilterChoices>((signal) => api.searchFilters(signal), []);

  // The box is edited freely; the URL (and so the search) follows once typing pauses.
  const [text, setText] = useState(q);
  const settled = useDebounced(text, 300);
  useEffect(() => {
    if (settled.trim() === q.trim()) return;
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (settled.trim()) next.set('q', settled.trim());
        else next.delete('q');
        return next;
      },
      { replace: true },
    );
  }, [settled]);
  useEffect(() => setText((t) => (t.trim() === q.trim() ? t : q)), [q]);

  const setFilter = (k: FilterKey, v: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (v) next.set(k, v);
        else next.delete(k);
        return next;
      },
      { replace: true },
    );

  const query: SearchQuery = { q, ...filters };
  const key = JSON.stringify(query);
  const [results, setResults] = useState<Results>(EMPTY);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!q.trim()) {
      setResults({ ...EMPTY, key });
      return;
    }
    const ctl = new AbortController();
    setResults((r) => ({ ...r, loading: true, error: null }));
    api.search(query, ctl.signal).then(
      (page) =>
        setResults({ key, items: page.items, total: page.total, totalExact: page.totalExact, ranking: page.ranking, understood: page.query, nextCursor: page.nextCursor, tookMs: page.tookMs, loading: false, error: null }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setResults({ ...EMPTY, key, error: error as Error });
      },
    );
    return () => ctl.abort();
  }, [key, attempt]);

  const loadMore = () => {
    if (!results.nextCursor || results.loading) return;
    const cursor = results.nextCursor;
    setResults((r) => ({ ...r, loading: true }));
    api.search({ ...query, cursor }).then(
      (page) => setResults((r) => (r.key === key ? { ...r, items: [...r.items, ...page.items], nextCursor: page.nextCursor, loading: false } : r)),
      (error: unknown) => setResults((r) => (r.key === key ? { ...r, loading: false, error: error as Error } : r)),
    );
  };

  const c = choices.status === 'ready' ? choices.data : null;
  const select = (k: FilterKey, label: string, options: readonly (readonly [string, string])[], none = 'Any') => (
    <div className="field field-inline">
      <label htmlFor={`${boxId}-${k}`}>{label}</label>
      <select id={`${boxId}-${k}`} value={filters[k] ?? ''} onChange={(e) => setFilter(k, e.target.value)} data-testid={`search-${k}`}>
        <option value="">{none}</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
        {filters[k] && !options.some(([v]) => v === filters[k]) && <option value={filters[k]}>{filters[k]}</option>}
      </select>
    </div>
  );

  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Search</h1>
          <p className="lede">Everything customers said: tickets, reviews, survey answers, interview and visit notes, ideas, their searches and chats, and the customers themselves.</p>
        </div>
      </header>

      <div className="toolbar search-toolbar" role="search">
        <div className="field field-search">
          <label htmlFor={boxId} className="sr-only">
            Search what customers said
          </label>
          <Icon name="search" size={16} className="field-icon" />
          <input
            id={boxId}
            type="search"
            placeholder='late delivery, "arrived damaged", refund OR return, deliv*, -newsletter'
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="search-box"
          />
        </div>
        <InfoTip>
          Words must all appear (in any form: “refunds” finds “refund”). “Quoted words” must appear together, deliv* finds words starting with deliv, OR
          accepts either neighbour, and -word leaves out what contains it.
        </InfoTip>
        {select(
          'kind',
          'Kind',
          (c?.kinds ?? Object.keys(KIND_LABELS)).map((k) => [k, KIND_LABELS[k] ?? humanize(k)] as const),
        )}
        {c && c.themes.length > 0 && select('theme', 'Theme', c.themes.map((t) => [String(t.id), t.name] as const))}
        {c && c.tags.length > 0 && select('tag', 'Tag', c.tags.map((t) => [String(t.id), `${t.tagSet}: ${t.name}`] as const))}
        {c && c.segments.length > 0 && select('segment', 'Segment', c.segments.map((s) => [String(s.id), `Segment ${s.id} (${formatInt(s.customers)})`] as const))}
        <div className="field field-inline">
          <label htmlFor={`${boxId}-from`}>From</label>
          <input id={`${boxId}-from`} type="date" value={filters.from ?? ''} onChange={(e) => setFilter('from', e.target.value)} data-testid="search-from" />
        </div>
        <div className="field field-inline">
          <label htmlFor={`${boxId}-to`}>To</label>
          <input id={`${boxId}-to`} type="date" value={filters.to ?? ''} onChange={(e) => setFilter('to', e.target.value)} data-testid="search-to" />
        </div>
        {select('sort', 'Sort', [['date', 'Newest first']], 'Most relevant')}
        {filters.customer && (
          <button type="button" className="button" onClick={() => setFilter('customer', '')} title="Search everyone again">
            Customer {filters.customer} ✕
          </button>
        )}
      </div>

      <div className="panel">
        {!q.trim() ? (
          <Empty title="Search what customers said">Type a few words; filters narrow the search to a kind, a theme, a tag, a segment, a period or one customer.</Empty>
        ) : results.error && results.items.length === 0 ? (
          <ErrorPanel error={results.error} onRetry={() => setAttempt((n) => n + 1)} />
        ) : results.loading && results.key !== key ? (
          <Loading label="Searching…" />
        ) : results.items.length === 0 ? (
          <Empty title={`Nothing matches “${q}”`}>Try fewer words, a prefix such as deliv*, or fewer filters.</Empty>
        ) : (
          <div className={results.loading ? 'is-stale' : undefined}>
            <p className="search-summary muted" data-testid="search-summary">
              {results.totalExact ? '' : 'about '}
              {formatInt(results.total)} {results.total === 1 ? 'match' : 'matches'} for <code>{results.understood}</code>
              {results.ranking === 'newest' && ' — the newest 1,000 are ranked by relevance'} · {results.tookMs} ms
            </p>
            <ol className="search-hits">
              {results.items.map((h) => (
                <li key={h.id} className="search-hit" data-testid="search-hit">
                  <div className="search-hit-main">
                    <div className="search-hit-head">
                      <Badge tone={h.source === 'feedback' ? 'inbound' : 'neutral'}>{HIT_LABELS[h.kind] ?? humanize(h.kind)}</Badge>
                      <strong className="search-hit-title">{h.title}</strong>
                      <span className="muted">{formatDate(h.at)}</span>
                    </div>
                    <Snippet hit={h} />
                  </div>
                  <HitCustomer hit={h} />
                </li>
              ))}
            </ol>
            {results.nextCursor && (
              <button type="button" className="button" onClick={loadMore} disabled={results.loading} data-testid="search-more">
                {results.loading ? 'Loading…' : 'More results'}
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
