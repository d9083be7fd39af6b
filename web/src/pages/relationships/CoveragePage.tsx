import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client.js';
import type { CoverageAlert, CoverageReport } from '../../api/types.js';
import { Badge, Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { capitalize, formatDate, formatMoney } from '../../lib/format.js';
import { useApi } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { RelationshipsFrame } from './RelationshipsTabs.js';

const ALERT_LABELS: Record<CoverageAlert['key'], string> = { no_two_way: 'no two-way contact', unanswered: 'unanswered feedback', no_visit: 'no visit' };
const BADGES: Record<CoverageAlert['key'], string> = { no_two_way: 'no two-way', unanswered: 'unanswered', no_visit: 'no visit' };
const TOPS = [25, 50, 100, 200] as const;

/** The alerts of a coverage report: the message, a link to the customers it names, and how it was computed. */
export function CoverageAlerts({ report, link }: { report: CoverageReport; link: (key: CoverageAlert['key']) => string }) {
  const raised = report.alerts.filter((a) => a.count > 0);
  if (report.alerts.length === 0) return <p className="muted">{report.note ?? 'Nothing to read yet.'}</p>;
  return (
    <ul className="coverage-alerts" data-testid="coverage-alerts">
      {raised.length === 0 && (
        <li className="coverage-alert coverage-ok">
          All {report.selection.words.replace(/^your /, 'of your ')} are covered: two-way contact within {report.windows.days} days, feedback answered, visits done or planned.
        </li>
      )}
      {raised.map((a) => (
        <li key={a.key} className="coverage-alert" data-testid={`coverage-alert-${a.key}`}>
          <Link to={link(a.key)}>{a.message}</Link>
          <details className="how">
            <summary>How this was computed</summary>
            <p className="small">{a.basis}</p>
          </details>
        </li>
      ))}
    </ul>
  );
}

const day = (iso: string | null): string => (iso === null ? '–' : formatDate(iso));

function CoverageTable({ r, only }: { r: CoverageReport; only: CoverageAlert['key'] | null }) {
  const rows = only ? r.rows.filter((x) => x.alerts.includes(only)) : r.rows;
  const currency = r.selection.valueRun?.currency ?? null;
  if (rows.length === 0) return <Empty title="Nobody here" />;
  return (
    <div className="table-scroll">
      <table className="table table-compact" data-testid="coverage-rows">
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col" className="num">
              CLV
            </th>
            <th scope="col">Stage</th>
            <th scope="col" title="The latest two-way contact: a mutual interaction, or inbound and outbound through a conversation channel in one month">Two-way</th>
            <th scope="col" title="Their feedback written after the latest answer">Unanswered</th>
            <th scope="col">Last visit</th>
            <th scope="col">Planned</th>
            <th scope="col">Alerts</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((x) => (
            <tr key={x.userId}>
              <th scope="row" className="coverage-who">
                <Link to={`/customers/${encodeURIComponent(x.userId)}`}>{x.name ?? x.userId}</Link>
              </th>
              <td className="num">{formatMoney(x.clv, currency)}</td>
              <td>{x.stage ? capitalize(x.stage) : '–'}</td>
              <td>{x.lastTwoWay ? `${day(x.lastTwoWay)} (${x.twoWayDaysAgo} d ago)` : <span className="muted">{`none in ${r.windows.lookbackDays} days`}</span>}</td>
              <td>{x.unanswered.count === 0 ? '–' : `${x.unanswered.count}, oldest ${x.unanswered.oldest!.daysAgo} d (${x.unanswered.oldest!.kind})`}</td>
              <td className="nowrap">{day(x.lastVisit)}</td>
              <td className="nowrap">{day(x.nextVisit)}</td>
              <td>
                <span className="coverage-flags">
                  {x.alerts.map((k) => (
                    <Badge key={k} tone="warning" title={ALERT_LABELS[k]}>
                      {BADGES[k]}
                    </Badge>
                  ))}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Listening coverage: are the most valuable customers heard? The alerts, then one row per customer. */
export function CoveragePage() {
  usePageTitle('Coverage');
  const [params, setParams] = useSearchParams();
  const top = Number(params.get('top') ?? 50) || 50;
  const alertParam = params.get('alert');
  const only = alertParam === 'no_two_way' || alertParam === 'unanswered' || alertParam === 'no_visit' ? alertParam : null;
  const state = useApi((signal) => api.coverage({ top }, signal), [top]);
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v === null) next.delete(k);
    else next.set(k, v);
    setParams(next);
  };
  return (
    <RelationshipsFrame title="Coverage" lede="Are your most valuable customers heard? For the top customers by CLV: the last two-way contact, feedback nobody answered, and visits done or planned.">
      <div className="toolbar" role="group" aria-label="How many customers">
        {TOPS.map((n) => (
          <button key={n} type="button" className={`chip${top === n ? ' chip-on' : ''}`} aria-pressed={top === n} onClick={() => set('top', String(n))}>
            top {n}
          </button>
        ))}
      </div>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' && (
        <>
          <Panel title="Alerts" how={`As of ${formatDate(state.data.asOf)} (${state.data.asOfRule}); the most valuable customers by CLV of the latest customer-value run. Each alert says how it was computed.`}>
            <CoverageAlerts report={state.data} link={(k) => `/relationships/coverage?top=${top}&alert=${k}`} />
          </Panel>
          {state.data.rows.length > 0 && (
            <Panel
              title={only ? `Customers with ${ALERT_LABELS[only]}` : `${capitalize(state.data.selection.words.replace(/^your /, ''))}`}
              actions={
                <div role="group" aria-label="Alert" className="toolbar">
                  {[null, 'no_two_way', 'unanswered', 'no_visit'].map((k) => (
                    <button key={k ?? 'all'} type="button" className={`chip${only === k ? ' chip-on' : ''}`} aria-pressed={only === k} onClick={() => set('alert', k)}>
                      {k ? ALERT_LABELS[k as CoverageAlert['key']] : 'all'}
                    </button>
                  ))}
                </div>
              }
            >
              <CoverageTable r={state.data} only={only} />
            </Panel>
          )}
        </>
      )}
    </RelationshipsFrame>
  );
}
