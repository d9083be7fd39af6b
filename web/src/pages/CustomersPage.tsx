import { useEffect, useId, useState, type MouseEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, csvUrl } from '../api/client.js';
import { CUSTOMER_SORTS, type CustomerSort, type CustomerSummary, type SortOrder } from '../api/types.js';
import { Icon } from '../components/Icon.js';
import { Empty, ErrorPanel, InfoTip, Loading } from '../components/ui.js';
import { countOf, formatDate, formatDateTime, formatInt, formatMoney, formatRelative, initials, formatPAlive } from '../lib/format.js';
import { useDebounced, useNow } from '../lib/hooks.js';
import { usePageTitle } from '../lib/title.js';

const PAGE_SIZE = 50;

const SORT_LABELS: Record<CustomerSort, string> = {
  last_seen: 'Last seen',
  first_seen: 'First seen',
  revenue: 'Revenue',
  orders: 'Orders',
  interactions: 'Interactions',
  name: 'Name',
  clv: 'CLV',
};

/** The natural first direction of each sort: newest, largest, or A to Z. */
const DEFAULT_ORDER: Record<CustomerSort, SortOrder> = {
  last_seen: 'desc',
  first_seen: 'desc',
  revenue: 'desc',
  orders: 'desc',
  interactions: 'desc',
  name: 'asc',
  clv: 'desc',
};

const isSort = (s: string | null): s is CustomerSort => s !== null && (CUSTOMER_SORTS as readonly string[]).includes(s);

interface ListState {
  key: string;
  items: CustomerSummary[];
  total: number | null;
  currency: string | null;
  nextCursor: string | null;
  loading: boolean;
  error: Error | null;
}

export function CustomersPage() {
  usePageTitle('Customers');
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const now = useNow();
  const searchId = useId();
  const sortId = useId();

  const q = params.get('q') ?? '';
  const sortParam = params.get('sort');
  const sort: CustomerSort = isSort(sortParam) ? sortParam : 'last_seen';
  const orderParam = params.get('order');
  const order: SortOrder = orderParam === 'asc' || orderParam === 'desc' ? orderParam : DEFAULT_ORDER[sort];

  // The box is edited freely; the URL (and so the query) follows once typing pauses.
  const [text, setText] = useState(q);
  const settled = useDebounced(text, 250);
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
    // Only a settled edit moves the URL; `q` changing on its own (back button) must not loop.
  }, [settled]);
  // Back and forward move the URL: show its query in the box, unless it is what is typed already.
  useEffect(() => setText((t) => (t.trim() === q.trim() ? t : q)), [q]);

  const key = `${q}|${sort}|${order}`;
  const [list, setList] = useState<ListState>({ key: '', items: [], total: null, currency: null, nextCursor: null, loading: true, error: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    // The previous rows stay (dimmed) until the new ones arrive, so the table, and the header
    // button that was just pressed, keep their place and focus.
    setList((l) => ({ ...l, loading: true, error: null }));
    api.customers({ q, sort, order, limit: PAGE_SIZE }, ctl.signal).then(
      (page) => setList({ key, items: page.items, total: page.total, currency: page.currency, nextCursor: page.nextCursor, loading: false, error: null }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setList({ key, items: [], total: null, currency: null, nextCursor: null, loading: false, error: error as Error });
      },
    );
    return () => ctl.abort();
  }, [key, q, sort, order, attempt]);

  const loadMore = () => {
    if (!list.nextCursor || list.loading) return;
    const cursor = list.nextCursor;
    setList((l) => ({ ...l, loading: true, error: null }));
    api.customers({ q, sort, order, limit: PAGE_SIZE, cursor }).then(
      (page) => setList((l) => (l.key === key ? { ...l, items: [...l.items, ...page.items], total: page.total, nextCursor: page.nextCursor, loading: false } : l)),
      (error: unknown) => setList((l) => (l.key === key ? { ...l, loading: false, error: error as Error } : l)),
    );
  };

  const setSort = (s: CustomerSort, o: SortOrder) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.set('sort', s);
        next.set('order', o);
        return next;
      },
      { replace: true },
    );

  const headerSort = (s: CustomerSort) => setSort(s, s === sort ? (order === 'desc' ? 'asc' : 'desc') : DEFAULT_ORDER[s]);

  const openRow = (e: MouseEvent<HTMLTableRowElement>, userId: string) => {
    if ((e.target as HTMLElement).closest('a, button')) return;
    void navigate(`/customers/${encodeURIComponent(userId)}`);
  };

  // A plain render function, not a component: a component defined here would remount (and
  // lose keyboard focus) on every render.
  const sortHeader = (s: CustomerSort, opts: { num?: boolean; tip?: string } = {}) => (
    <th scope="col" className={opts.num ? 'num' : undefined} aria-sort={sort === s ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <span className="th-with-tip">
        <button type="button" className={`th-sort${sort === s ? ' is-active' : ''}`} onClick={() => headerSort(s)}>
          {SORT_LABELS[s]}
          <span className="th-sort-arrow" aria-hidden="true">
            {sort === s ? (order === 'asc' ? '▲' : '▼') : '↕'}
          </span>
        </button>
        {opts.tip && <InfoTip>{opts.tip}</InfoTip>}
      </span>
    </th>
  );

  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Customers</h1>
          <p className="lede">Identified customers: search by name, e-mail or user id, and open one for the full history.</p>
        </div>
      </header>

      <div className="toolbar" role="search">
        <div className="field field-search">
          <label htmlFor={searchId} className="sr-only">
            Search customers
          </label>
          <Icon name="search" size={16} className="field-icon" />
          <input
            id={searchId}
            type="search"
            placeholder="Search name, e-mail or user id"
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="customer-search"
          />
        </div>
        <div className="field field-inline">
          <label htmlFor={sortId}>Sort by</label>
          <select id={sortId} value={sort} onChange={(e) => setSort(e.target.value as CustomerSort, DEFAULT_ORDER[e.target.value as CustomerSort])}>
            {CUSTOMER_SORTS.map((s) => (
              <option key={s} value={s}>
                {SORT_LABELS[s]}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="button button-icon"
            onClick={() => setSort(sort, order === 'desc' ? 'asc' : 'desc')}
            aria-label={order === 'desc' ? 'Descending; switch to ascending' : 'Ascending; switch to descending'}
            title={order === 'desc' ? 'Descending' : 'Ascending'}
          >
            {order === 'desc' ? '↓' : '↑'}
          </button>
        </div>
      </div>

      <div className="panel">
        {list.error && list.items.length === 0 ? (
          <ErrorPanel error={list.error} onRetry={() => setAttempt((n) => n + 1)} />
        ) : list.loading && list.items.length === 0 ? (
          <Loading label="Loading customers…" />
        ) : list.items.length === 0 && list.key === key ? (
          <Empty title={q ? `No customer matches “${q}”` : 'No identified customers yet'}>
            {q ? 'Search looks at names, e-mail addresses and user ids.' : 'Customers appear here once an identify call, order or import names them.'}
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className={`table table-customers${list.key !== key ? ' is-stale' : ''}`} aria-busy={list.loading}>
              <caption className="sr-only">
                Customers sorted by {SORT_LABELS[sort].toLowerCase()}, {order === 'asc' ? 'ascending' : 'descending'}
              </caption>
              <thead>
                <tr>
                  {sortHeader('name')}
                  {sortHeader('last_seen')}
                  {sortHeader('orders', { num: true })}
                  {sortHeader('revenue', { num: true, tip: 'Sum of the customer’s order totals, in the currency of most of them; orders in another currency (marked +) are added unconverted.' })}
                  {sortHeader('clv', { num: true, tip: `Expected discounted margin over the coming months, from the latest customer-value run${list.currency ? `, in ${list.currency}` : ''}; customers without one come last.` })}
                  {sortHeader('interactions', { num: true })}
                  <th scope="col" className="num">
                    Feedback
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.items.map((c) => (
                  <tr key={c.userId} className="row-link" onClick={(e) => openRow(e, c.userId)} data-testid="customer-row">
                    <td>
                      <div className="who">
                        <span className="avatar avatar-sm" aria-hidden="true">
                          {initials(c.name ?? c.email ?? c.userId)}
                        </span>
                        <div className="who-text">
                          <Link to={`/customers/${encodeURIComponent(c.userId)}`} className="who-name">
                            {c.name ?? c.email ?? c.userId}
                          </Link>
                          <span className="who-meta">
                            {c.email && c.name ? <span>{c.email}</span> : null}
                            <code>{c.userId}</code>
                          </span>
                        </div>
                      </div>
                    </td>
                    <td>
                      {c.lastSeen ? (
                        <span className="two-line">
                          <time dateTime={c.lastSeen} title={formatDateTime(c.lastSeen)}>
                            {formatDate(c.lastSeen)}
                          </time>
                          <span className="muted">{formatRelative(c.lastSeen, now)}</span>
                        </span>
                      ) : (
                        <span className="muted">never</span>
                      )}
                    </td>
                    <td className="num">{formatInt(c.orders)}</td>
                    <td className="num" title={c.otherCurrencies.length > 0 ? `includes orders in ${c.otherCurrencies.join(', ')}, added unconverted` : undefined}>
                      {c.revenue > 0 ? formatMoney(c.revenue, c.revenueCurrency) : <span className="muted">—</span>}
                      {c.otherCurrencies.length > 0 && <span className="muted"> + {c.otherCurrencies.join(', ')}</span>}
                    </td>
                    <td className="num" title={c.pAlive === null ? undefined : `P(alive) ${formatPAlive(c.pAlive)}`}>
                      {c.clv === null ? <span className="muted">—</span> : formatMoney(c.clv, list.currency)}
                    </td>
                    <td className="num">{formatInt(c.interactions)}</td>
                    <td className="num">{c.feedback > 0 ? formatInt(c.feedback) : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.items.length > 0 && (
          <div className="list-foot">
            <span className="muted" aria-live="polite">
              {list.nextCursor
                ? `Showing ${formatInt(list.items.length)} of ${countOf(list.total ?? list.items.length, 'customer')}`
                : `Showing all ${countOf(list.items.length, 'customer')}`}
            </span>
            <a className="button" href={csvUrl.customers({ q, sort, order })} download data-testid="customers-csv" title={`All ${countOf(list.total ?? list.items.length, 'customer')} of this list, as CSV, with their value`}>
              Download CSV
            </a>
            {list.error && <span className="error-inline">{list.error.message}</span>}
            {list.nextCursor && (
              <button type="button" className="button" onClick={loadMore} disabled={list.loading}>
                {list.loading ? 'Loading…' : 'Load more'}
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
