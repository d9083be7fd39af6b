import { useMemo } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client.js';
import { DIRECTIONS, type Overview } from '../api/types.js';
import { AXIS_STYLE, Chart, DIRECTION_COLORS, FEEDBACK_COLORS, PALETTE, xTitle, yTitle, yTitleTop, type ChartOption } from '../components/Chart.js';
import { DirectionBadge, Empty, ErrorPanel, Loading, Panel, Tile } from '../components/ui.js';
import { countOf, formatMoney, formatCompact, formatDate, formatDateTime, formatInt, formatMonth, formatRelative, humanize, initials } from '../lib/format.js';
import { useApi, useNow } from '../lib/hooks.js';
import { usePageTitle } from '../lib/title.js';
import { CoverageAlerts } from './relationships/CoveragePage.js';

const pct = (part: number, whole: number): string => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : '—');

function monthlyOption(rows: Overview['interactionsByMonth']): ChartOption {
  const months = rows.map((r) => formatMonth(r.month));
  const series = DIRECTIONS.map((d) => ({
    type: 'bar' as const,
    name: humanize(d),
    stack: 'direction',
    barMaxWidth: 36,
    itemStyle: { color: DIRECTION_COLORS[d] },
    emphasis: { focus: 'series' as const },
    data: rows.map((r) => r[d]),
  }));
  return {
    grid: { left: 28, right: 12, top: 36, bottom: 26, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: months, ...AXIS_STYLE, ...xTitle('month'), splitLine: { show: false } },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('interactions'), minInterval: 1 },
    series,
  };
}

function feedbackOption(rows: Overview['feedbackByKind']): ChartOption {
  const sorted = [...rows].sort((a, b) => a.count - b.count);
  return {
    grid: { left: 8, right: 40, top: 22, bottom: 4, containLabel: true },
    tooltip: { trigger: 'item' },
    xAxis: { type: 'value', show: false },
    yAxis: { type: 'category', data: sorted.map((r) => humanize(r.kind)), ...AXIS_STYLE, ...yTitleTop('kind'), axisLine: { show: false } },
    series: [
      {
        type: 'bar',
        name: 'Feedback items',
        barMaxWidth: 18,
        label: { show: true, position: 'right', color: '#334155', fontSize: 11 },
        data: sorted.map((r, i) => ({ value: r.count, itemStyle: { color: FEEDBACK_COLORS[r.kind] ?? PALETTE[i % PALETTE.length], borderRadius: [0, 4, 4, 0] } })),
      },
    ],
  };
}

/** Whether the most valuable customers are heard: the coverage alerts, each linking to the customers it names. */
function CoveragePanel() {
  const state = useApi((signal) => api.coverage({}, signal), []);
  if (state.status === 'ready' && !state.data.available) return null;
  return (
    <Panel title="Listening coverage" how="For your most valuable customers (top 50 by CLV): two-way contact in the last 90 days, feedback left unanswered for more than 14 days, and visits in the last year or planned. Each alert says how it was computed." actions={<Link to="/relationships/coverage">Coverage list →</Link>}>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' && <CoverageAlerts report={state.data} link={(k) => `/relationships/coverage?alert=${k}`} />}
    </Panel>
  );
}

/** The five customers seen most recently, as a way into the customer pages. */
function RecentCustomers() {
  const state = useApi((signal) => api.customers({ sort: 'last_seen', order: 'desc', limit: 5 }, signal), []);
  const now = useNow();
  return (
    <Panel title="Recently active" actions={<Link to="/customers?sort=last_seen">All customers →</Link>}>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' &&
        (state.data.items.length === 0 ? (
          <Empty title="No identified customers yet" />
        ) : (
          <ul className="mini-list">
            {state.data.items.map((c) => (
              <li key={c.userId}>
                <span className="avatar avatar-sm" aria-hidden="true">
                  {initials(c.name ?? c.email ?? c.userId)}
                </span>
                <span className="mini-main">
                  <Link to={`/customers/${encodeURIComponent(c.userId)}`} className="who-name">
                    {c.name ?? c.email ?? c.userId}
                  </Link>
                  <span className="muted">
                    {countOf(c.interactions, 'interaction')} · {countOf(c.orders, 'order')}
                  </span>
                </span>
                {c.lastSeen && (
                  <time className="mini-time" dateTime={c.lastSeen} title={`${formatDateTime(c.lastSeen)} (${formatRelative(c.lastSeen, now)})`}>
                    {formatDate(c.lastSeen)}
                  </time>
                )}
              </li>
            ))}
          </ul>
        ))}
    </Panel>
  );
}

export function OverviewPage() {
  usePageTitle('Overview');
  const state = useApi((signal) => api.overview(signal), []);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Overview</h1>
          <p className="lede">Everyone Rapport has heard from, what they bought, and how the conversation develops.</p>
        </div>
      </header>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' && <OverviewBody data={state.data} />}
    </div>
  );
}

function OverviewBody({ data }: { data: Overview }) {
  const monthly = useMemo(() => monthlyOption(data.interactionsByMonth), [data]);
  const feedback = useMemo(() => feedbackOption(data.feedbackByKind), [data]);
  const byDirection = useMemo(() => {
    const t = { inbound: 0, outbound: 0, mutual: 0 };
    for (const m of data.interactionsByMonth) {
      t.inbound += m.inbound;
      t.outbound += m.outbound;
      t.mutual += m.mutual;
    }
    return t;
  }, [data]);
  const feedbackTotal = data.feedbackByKind.reduce((s, f) => s + f.count, 0);
  const directionTotal = byDirection.inbound + byDirection.outbound + byDirection.mutual;

  if (data.customers === 0) {
    return (
      <Empty title="No customers yet">
        Send events to the Segment-compatible API under <code>/v1</code> (identify, track, page, group, batch) or import a CSV or NDJSON
        export with <code>rapport import</code>; the overview fills in as data arrives.
      </Empty>
    );
  }

  return (
    <>
      <div className="tiles" data-testid="overview-tiles">
        <Tile
          label="Customers"
          icon="customers"
          value={formatCompact(data.customers)}
          title={formatInt(data.customers)}
          how="Every customer profile, including anonymous visitors who have not been identified yet."
          testId="kpi-customers"
        />
        <Tile
          label="Identified"
          value={formatCompact(data.identified)}
          title={formatInt(data.identified)}
          sub={`${pct(data.identified, data.customers)} of customers`}
          how="Profiles with a known user id (from identify calls, orders or imports). Only these appear in the customer list."
          testId="kpi-identified"
        />
        <Tile
          label="Orders"
          icon="order"
          value={formatCompact(data.orders)}
          title={formatInt(data.orders)}
          sub={data.identified > 0 ? `${(data.orders / data.identified).toFixed(1)} per identified customer` : undefined}
          how="Completed orders across all customers and sources, each counted once."
          testId="kpi-orders"
        />
        <Tile
          label="Revenue"
          value={formatMoney(data.revenue, data.currency, { compact: true })}
          title={formatMoney(data.revenue, data.currency)}
          sub={data.currencyNote ? 'other currencies added unconverted' : data.currency ? `all in ${data.currency}` : undefined}
          how={`Sum of all order totals${data.currency ? ` in ${data.currency}, the currency of most order value` : ''}. ${data.currencyNote ? `${data.currencyNote}.` : 'Every order is in this currency.'} Open a customer for their split by currency.`}
          testId="kpi-revenue"
        />
        <Tile
          label="Interactions"
          icon="interaction"
          value={formatCompact(data.interactions)}
          title={formatInt(data.interactions)}
          how="Every touch between the company and a customer: product events, page and screen views, e-mails, calls and meetings. Orders and feedback are counted separately."
          testId="kpi-interactions"
        />
      </div>

      <CoveragePanel />

      <div className="grid-2-1">
        <Panel
          className="span-rows-2"
          title="Interactions by month"
          how="Interactions per calendar month (UTC), stacked by direction. Direction comes from the event: an explicit direction property wins; messages the company sends are outbound, conversations are mutual, everything else is inbound."
        >
          {data.interactionsByMonth.length === 0 ? (
            <Empty title="No interactions yet" />
          ) : (
            <>
              <ul className="direction-summary" aria-label="Interactions by direction, all months">
                {DIRECTIONS.map((d) => (
                  <li key={d}>
                    <DirectionBadge direction={d} />
                    <strong>{formatInt(byDirection[d])}</strong>
                    <span className="muted">{pct(byDirection[d], directionTotal)}</span>
                  </li>
                ))}
              </ul>
              <Chart option={monthly} label="Stacked bar chart of interactions per month by direction" height={300} />
              <details className="data-table">
                <summary>Show the numbers</summary>
                <div className="table-scroll">
                  <table className="table table-compact">
                    <thead>
                      <tr>
                        <th scope="col">Month</th>
                        <th scope="col" className="num">Inbound</th>
                        <th scope="col" className="num">Outbound</th>
                        <th scope="col" className="num">Mutual</th>
                        <th scope="col" className="num">Total</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.interactionsByMonth.map((m) => (
                        <tr key={m.month}>
                          <th scope="row">{formatMonth(m.month)}</th>
                          <td className="num">{formatInt(m.inbound)}</td>
                          <td className="num">{formatInt(m.outbound)}</td>
                          <td className="num">{formatInt(m.mutual)}</td>
                          <td className="num">{formatInt(m.inbound + m.outbound + m.mutual)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            </>
          )}
        </Panel>
        <Panel title="Feedback by kind" how="Feedback items (tickets, reviews, surveys, interviews, visit notes) counted by kind, whoever sent them." actions={<span className="muted">{countOf(feedbackTotal, 'item')}</span>}>
          {data.feedbackByKind.length === 0 ? (
            <Empty title="No feedback yet">Tickets, reviews and survey answers appear here once imported.</Empty>
          ) : (
            <Chart option={feedback} label="Bar chart of feedback items by kind" height={Math.max(140, data.feedbackByKind.length * 40)} />
          )}
        </Panel>
        <RecentCustomers />
      </div>
    </>
  );
}
