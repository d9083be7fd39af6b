import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api } from '../../api/client.js';
import type { Account, AccountPerson } from '../../api/types.js';
import { Icon } from '../../components/Icon.js';
import { Badge, Empty, ErrorPanel, KeyValueTable, Loading, Panel, Tile } from '../../components/ui.js';
import { countOf, formatDate, formatInt, formatMoney } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { STAGE_COLORS } from './HistoryPanels.js';

const PEOPLE_PAGE = 100;
const NOT_PLACED = '#e2e8f0';

/** A bar of the account's people per stage, each stage its colour, with the counts beside it. */
function StageBar({ a }: { a: Account }) {
  const parts = [...a.counts.byStage.map((s, k) => ({ key: s.key, name: s.name, people: s.people, color: STAGE_COLORS[k]! })), { key: 'none', name: 'not placed yet', people: a.counts.notPlaced, color: NOT_PLACED }];
  const total = a.counts.people;
  if (total === 0) return <Empty title="No people" />;
  return (
    <div className="stack">
      <div className="stage-bar" role="img" aria-label={`People per stage: ${parts.filter((p) => p.people > 0).map((p) => `${p.name} ${p.people}`).join(', ')}`} data-testid="account-stage-bar">
        {parts
          .filter((p) => p.people > 0)
          .map((p) => (
            <span key={p.key} className="stage-bar-part" style={{ flexGrow: p.people, background: p.color }} title={`${p.name}: ${countOf(p.people, 'person', 'people')}`} />
          ))}
      </div>
      <ul className="stage-bar-legend" data-testid="account-stage-counts">
        {parts
          .filter((p) => p.key !== 'none' || p.people > 0)
          .map((p) => (
            <li key={p.key} className={p.people === 0 ? 'muted' : undefined}>
              <span className="stage-bar-swatch" style={{ background: p.color }} aria-hidden="true" />
              {p.name} <strong>{formatInt(p.people)}</strong>
            </li>
          ))}
      </ul>
    </div>
  );
}

function PeopleTable({ a, people, currency }: { a: Account; people: AccountPerson[]; currency: string | null }) {
  const money = (v: number | null): string => (v === null ? '–' : formatMoney(v, currency));
  return (
    <div className="table-scroll">
      <table className="table table-compact" data-testid="account-people">
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">Stage</th>
            <th scope="col">Momentum</th>
            <th scope="col" className="num">
              CLV
            </th>
            <th scope="col" className="num">
              LOV
            </th>
          </tr>
        </thead>
        <tbody>
          {people.map((p, i) => (
            <tr key={p.userId ?? `anonymous-${i}`}>
              <th scope="row">
                {p.userId ? <Link to={`/customers/${encodeURIComponent(p.userId)}`}>{p.name ?? p.userId}</Link> : <span className="muted">anonymous visitor</span>}
                {a.lead && p.userId !== null && p.userId === a.lead.userId && (
                  <>
                    {' '}
                    <Badge tone="info" title="The account's most valuable person by CLV, whose stage the account takes when it is higher">
                      most valuable
                    </Badge>
                  </>
                )}
              </th>
              <td>{p.stageName ?? <span className="muted">not placed</span>}</td>
              <td>{p.momentum ? <Badge tone={p.momentum === 'warming' ? 'good' : p.momentum === 'cooling' ? 'warning' : 'neutral'}>{p.momentum}</Badge> : '–'}</td>
              <td className="num">{money(p.clv)}</td>
              <td className="num">{money(p.lov)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AccountBody({ a }: { a: Account }) {
  const currency = useValueCurrency();
  const money = (v: number | null): string => (v === null ? '–' : formatMoney(v, currency));
  // Further pages of people, read by cursor and appended.
  const [more, setMore] = useState<{ people: AccountPerson[]; nextCursor: string | null; loading: boolean; error: Error | null }>({ people: [], nextCursor: a.nextCursor, loading: false, error: null });
  useEffect(() => setMore({ people: [], nextCursor: a.nextCursor, loading: false, error: null }), [a]);
  const loadMore = () => {
    if (!more.nextCursor || more.loading) return;
    const cursor = more.nextCursor;
    setMore((m) => ({ ...m, loading: true, error: null }));
    api.account(a.groupId, { limit: PEOPLE_PAGE, cursor }).then(
      (page) => setMore((m) => ({ people: [...m.people, ...page.people], nextCursor: page.nextCursor, loading: false, error: null })),
      (error: unknown) => setMore((m) => ({ ...m, loading: false, error: error instanceof Error ? error : new Error(String(error)) })),
    );
  };
  const traits = Object.entries(a.traits)
    .filter(([k]) => k !== 'name')
    .sort(([x], [y]) => x.localeCompare(y));
  const rule = `An account sits at the highest stage at least ${countOf(a.minPeople, 'person', 'people')} of it reached (min_people in the rules), or at its most valuable person's (by CLV) when that is higher.`;
  return (
    <>
      <div className="tiles">
        <Tile
          label="Stage"
          value={<span data-testid="account-stage">{a.stage?.name ?? 'Not placed'}</span>}
          sub={a.basis === 'most_valuable' ? 'its most valuable person’s' : a.basis === 'people' && a.counts.holders !== null ? `held by ${a.counts.holders} of ${a.counts.placed ?? a.counts.people}` : undefined}
          how={`${rule} From the latest stages run${a.asOf ? `, as of ${formatDate(a.asOf)}` : ''}; its people's stages are their own placements.`}
        />
        <Tile
          label="Lifetime Opportunity Value"
          value={<span data-testid="account-lov">{money(a.lov)}</span>}
          how="The sum of its people's Lifetime Opportunity Value at the latest stages run: each person's CLV (0 when not valued) + contributions (reviews, referrals, ideas, answers, research, at the worths of the rules file) + opportunity."
        />
        <Tile
          label="Opportunity"
          value={<span data-testid="account-opportunity">{money(a.opportunity)}</span>}
          how="The sum of its people's opportunity: for each, P(moving up one stage within the horizon, observed in the stage history among similar customers) × the CLV gap to the next stage. An observational estimate; unknown (–) before a stage history ran."
        />
        <Tile label="People" value={formatInt(a.counts.people)} sub={a.counts.notPlaced > 0 ? `${formatInt(a.counts.notPlaced)} not placed yet` : undefined} how="Customers linked to this account by Segment group calls, now. The stages run counts the people it saw; anyone who joined since is placed by the next run." />
      </div>
      <div className="grid-main-aside">
        <div className="stack">
          <Panel title="Why this stage" how={`${rule} Each line reads the stored placements of its people.`}>
            <p data-testid="account-explanation">
              <strong>{a.explanation}</strong>
            </p>
            <ul className="lov-lines" data-testid="account-why">
              {a.lines.slice(a.stage ? 1 : 0).map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          </Panel>
          <Panel title={`People (${formatInt(a.counts.people)})`} how="Most valuable first: by each person's Lifetime Opportunity Value (LOV = CLV + contributions + opportunity) at the latest stages run; people not placed yet last. CLV is the latest customer-value run's. Open a person for their own stage and its reasons.">
            {a.people.length === 0 ? (
              <Empty title="No people" />
            ) : (
              <div className="stack">
                <PeopleTable a={a} people={[...a.people, ...more.people]} currency={currency} />
                {more.error && <ErrorPanel error={more.error} onRetry={loadMore} />}
                {more.nextCursor && (
                  <button type="button" className="button" onClick={loadMore} disabled={more.loading}>
                    {more.loading ? 'Loading…' : 'Show more'}
                  </button>
                )}
              </div>
            )}
          </Panel>
        </div>
        <div className="stack">
          <Panel title="People per stage" how="Its people by their own LOVE stage at the latest stages run; the bar's lengths are the counts. People who joined since the run are not placed yet.">
            <StageBar a={a} />
          </Panel>
          <Panel title="Traits" how="The account's traits from Segment group calls; a newer value replaces an older one.">
            {traits.length === 0 ? <Empty title="No traits" /> : <KeyValueTable entries={traits} testId="account-traits" />}
          </Panel>
        </div>
      </div>
    </>
  );
}

/** One account: its stage and why, its people per stage, LOV and opportunity, and its people most valuable first. */
export function AccountPage() {
  const { groupId = '' } = useParams();
  const state = useApi((signal) => api.account(groupId, { limit: PEOPLE_PAGE }, signal), [groupId]);
  const a = state.status === 'ready' ? state.data : null;
  usePageTitle(a ? (a.name ?? a.groupId) : 'Account');
  return (
    <div className="page stack">
      <header className="page-head">
        <div>
          <p className="breadcrumb">
            <Link to="/relationships/accounts">
              <Icon name="arrowLeft" size={14} /> Accounts
            </Link>
          </p>
          <h1 data-testid="account-name">{a ? (a.name ?? a.groupId) : 'Account'}</h1>
          {a && (
            <p className="lede">
              <Icon name="building" size={14} /> <code>{a.groupId}</code> · known since {formatDate(a.firstSeen)}
            </p>
          )}
        </div>
      </header>
      {state.status === 'loading' && <Loading label="Loading account…" />}
      {state.status === 'error' &&
        (state.error instanceof ApiError && state.error.status === 404 ? (
          <Empty title="Account not found">
            There is no account with group id <code>{groupId}</code>.
          </Empty>
        ) : (
          <ErrorPanel error={state.error} onRetry={state.reload} />
        ))}
      {a && <AccountBody a={a} />}
    </div>
  );
}
