import { useEffect, useId, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client.js';
import type { AccountSummary } from '../../api/types.js';
import { Icon } from '../../components/Icon.js';
import { Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { countOf, formatInt, formatMoney } from '../../lib/format.js';
import { useDebounced, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { RelationshipsFrame } from './RelationshipsTabs.js';

const PAGE_SIZE = 50;

interface ListState {
  key: string;
  items: AccountSummary[];
  total: number | null;
  nextCursor: string | null;
  loading: boolean;
  error: Error | null;
}

/** The link to an account's page. */
export const accountPath = (groupId: string): string => `/relationships/accounts/${encodeURIComponent(groupId)}`;

/** Accounts most valuable first, with their stage, people, LOV and opportunity; filtered by name or group id. */
export function AccountsPage() {
  usePageTitle('Accounts');
  const searchId = useId();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
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
  }, [settled]);
  useEffect(() => setText((t) => (t.trim() === q.trim() ? t : q)), [q]);

  const currency = useValueCurrency();
  const [list, setList] = useState<ListState>({ key: '', items: [], total: null, nextCursor: null, loading: true, error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setList((l) => ({ ...l, loading: true, error: null }));
    api.accounts({ q, limit: PAGE_SIZE }, ctl.signal).then(
      (page) => setList({ key: q, items: page.items, total: page.total, nextCursor: page.nextCursor, loading: false, error: null }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setList({ key: q, items: [], total: null, nextCursor: null, loading: false, error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => ctl.abort();
  }, [q, attempt]);
  const more = () => {
    if (!list.nextCursor || list.loading) return;
    const cursor = list.nextCursor;
    setList((l) => ({ ...l, loading: true }));
    api.accounts({ q, limit: PAGE_SIZE, cursor }).then(
      (page) => setList((l) => (l.key === q ? { ...l, items: [...l.items, ...page.items], nextCursor: page.nextCursor, loading: false } : l)),
      (error: unknown) => setList((l) => (l.key === q ? { ...l, loading: false, error: error instanceof Error ? error : new Error(String(error)) } : l)),
    );
  };
  const money = (v: number | null): string => (v === null ? '–' : formatMoney(v, currency));

  return (
    <RelationshipsFrame title="Accounts" lede="Companies and teams (Segment groups): each account's LOVE stage from its people, what its relationships are worth, and who they are.">
      <div className="toolbar" role="search">
        <div className="field field-search">
          <label htmlFor={searchId} className="sr-only">
            Search accounts
          </label>
          <Icon name="search" size={16} className="field-icon" />
          <input id={searchId} type="search" placeholder="Search name or group id" value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" spellCheck={false} data-testid="account-search" />
        </div>
      </div>
      <Panel
        title={list.total === null ? 'Accounts' : countOf(list.total, 'account')}
        how="Most valuable first: by the account's Lifetime Opportunity Value (LOV), the sum of its people's at the latest stages run (each person's CLV + contributions + opportunity). Stage: the highest stage at least two of its people reached (min_people in the rules), or its most valuable person's when higher. People: customers linked to it by group calls now. Opportunity: the sum of its people's expected gain of moving up one stage, an observational estimate from the stage history. Accounts not placed by a run yet (no people when it ran, or new since) come last."
      >
        {list.error && list.items.length === 0 ? (
          <ErrorPanel error={list.error} onRetry={() => setAttempt((n) => n + 1)} />
        ) : list.loading && list.items.length === 0 ? (
          <Loading label="Loading accounts…" />
        ) : list.items.length === 0 ? (
          <Empty title={q ? `No account matches “${q}”` : 'No accounts yet'}>{q ? 'Search looks at account names and group ids.' : 'Accounts appear once a Segment group call links a customer to one.'}</Empty>
        ) : (
          <div className="stack">
            <div className="table-scroll">
              <table className={`table table-compact${list.key !== q ? ' is-stale' : ''}`} data-testid="accounts-list" aria-busy={list.loading}>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Stage</th>
                    <th scope="col" className="num">
                      People
                    </th>
                    <th scope="col" className="num">
                      LOV
                    </th>
                    <th scope="col" className="num">
                      Opportunity
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.map((a) => (
                    <tr key={a.groupId}>
                      <th scope="row">
                        <Link to={accountPath(a.groupId)}>{a.name ?? a.groupId}</Link> {a.name && <code className="muted small">{a.groupId}</code>}
                      </th>
                      <td>{a.stageName ?? <span className="muted">not placed</span>}</td>
                      <td className="num">{formatInt(a.people)}</td>
                      <td className="num">{money(a.lov)}</td>
                      <td className="num">{money(a.opportunity)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {list.nextCursor && (
              <button type="button" className="button" onClick={more} disabled={list.loading}>
                {list.loading ? 'Loading…' : 'Show more'}
              </button>
            )}
          </div>
        )}
      </Panel>
    </RelationshipsFrame>
  );
}
