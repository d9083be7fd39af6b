import { useMemo } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client.js';
import type { DefectLedger, LedgerRow } from '../../api/types.js';
import { AXIS_STYLE, Chart, PALETTE, xTitle, yTitle, type ChartOption } from '../../components/Chart.js';
import { Badge, Empty, ErrorPanel, Loading, Panel, Tile } from '../../components/ui.js';
import { countOf, formatMoney, formatInt, formatMonth } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { ListeningFrame } from './ListeningTabs.js';

const pct = (x: number | null, digits = 0): string => (x === null ? '–' : `${(x * 100).toFixed(digits)}%`);

function monthlyOption(rows: DefectLedger['monthly']): ChartOption {
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const types = [...new Set(rows.map((r) => r.type))].sort();
  const at = new Map(rows.map((r) => [`${r.month} ${r.type}`, r.contacts]));
  return {
    grid: { left: 28, right: 12, top: 36, bottom: 26, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: months.map(formatMonth), ...AXIS_STYLE, ...xTitle('month'), splitLine: { show: false } },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('contacts'), minInterval: 1 },
    series: types.map((t, i) => ({ type: 'bar', stack: 'contacts', name: t.replaceAll('_', ' '), barMaxWidth: 28, itemStyle: { color: PALETTE[i % PALETTE.length] }, data: months.map((m) => at.get(`${m} ${t}`) ?? 0) })),
  };
}

function balanceOption(rows: DefectLedger['featuresVsFixes']): ChartOption {
  return {
    grid: { left: 28, right: 12, top: 36, bottom: 26, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: rows.map((r) => formatMonth(r.month)), ...AXIS_STYLE, ...xTitle('month'), splitLine: { show: false } },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('feedback items'), minInterval: 1 },
    series: [
      { type: 'bar', stack: 'demand', name: 'Fixes (something broken)', barMaxWidth: 28, itemStyle: { color: '#db2777' }, data: rows.map((r) => r.fixes) },
      { type: 'bar', stack: 'demand', name: 'Requests (something new)', barMaxWidth: 28, itemStyle: { color: '#4f46e5' }, data: rows.map((r) => r.requests) },
    ],
  };
}

function ChurnCell({ row, baseline }: { row: LedgerRow; baseline: number | null }) {
  const c = row.churn;
  if (c.customers === 0) return <span className="muted">no repeat buyers among them</span>;
  const tone = c.signal === 'higher' ? 'danger' : c.signal === 'lower' ? 'good' : 'neutral';
  return (
    <span title={`${c.churned} of ${c.customers} repeat buyers churned; 95% interval ${pct(c.rate.low, 1)}–${pct(c.rate.high, 1)}; baseline ${pct(baseline, 1)}; difference from the other repeat buyers ${pct(c.difference.estimate, 1)} (${pct(c.difference.low, 1)} to ${pct(c.difference.high, 1)})`}>
      {pct(c.rate.estimate)} <span className="muted">[{pct(c.rate.low)}–{pct(c.rate.high)}]</span> {c.signal !== 'same' && <Badge tone={tone}>{c.signal} than baseline</Badge>}
    </span>
  );
}

function LedgerTable({ rows, baseline, testId, themes }: { rows: LedgerRow[]; baseline: number | null; testId: string; themes?: boolean }) {
  const currency = useValueCurrency();
  return (
    <div className="table-scroll">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{themes ? 'Theme' : 'Type · cause'}</th>
            <th scope="col" className="num">Contacts</th>
            <th scope="col" className="num">Open</th>
            <th scope="col" className="num">Customers</th>
            <th scope="col" className="num" title="median hours from creation to resolution (90th percentile in brackets)">Resolution</th>
            <th scope="col" className="num">CLV of those affected</th>
            <th scope="col">Churn among them</th>
            <th scope="col" className="num" title="value at risk of churned customers who bought nothing after raising it">Value lost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{themes && r.themeId !== undefined ? <Link to={`/listening/themes/${r.themeId}`}>{r.label}</Link> : r.label}</th>
              <td className="num">{formatInt(r.contacts)}</td>
              <td className="num">{formatInt(r.open)}</td>
              <td className="num">{formatInt(r.customersAffected)}</td>
              <td className="num nowrap">{r.resolution.medianHours === null ? '–' : `${r.resolution.medianHours} h (${r.resolution.p90Hours ?? '–'} h)`}</td>
              <td className="num">{formatMoney(r.churn.clvSum, currency)}</td>
              <td>
                <ChurnCell row={r} baseline={baseline} />
              </td>
              <td className="num">{formatMoney(r.churn.valueLost, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DefectsPage() {
  const currency = useValueCurrency();
  usePageTitle('Defect ledger');
  const state = useApi((signal) => api.defects({}, signal), []);
  const monthly = useMemo(() => (state.status === 'ready' ? monthlyOption(state.data.monthly) : null), [state]);
  const balance = useMemo(() => (state.status === 'ready' ? balanceOption(state.data.featuresVsFixes) : null), [state]);
  return (
    <ListeningFrame title="Listening" lede="Support contacts by type and cause, how fast they are resolved, and whether the customers who raised them left.">
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' && !state.data.available && <Empty title="No support contacts yet">Import tickets as feedback of kind "ticket" with `type`, `cause` and `resolved_at` properties.</Empty>}
      {state.status === 'ready' && state.data.available && (
        <>
          <div className="tiles">
            <Tile label="Support contacts" value={formatInt(state.data.tickets)} />
            <Tile
              label="Baseline churn"
              value={pct(state.data.baseline.rate.estimate, 1)}
              sub={`${formatInt(state.data.baseline.churned)} of ${countOf(state.data.baseline.customers, 'repeat buyer')}`}
              how="Share of valued repeat buyers whose P(alive) is below 0.5 in the latest customer-value run. One-time buyers are left out: the model gives them P(alive) = 1, so their churn cannot be seen."
            />
            <Tile
              label="Value lost"
              value={formatMoney(state.data.totals.valueLost, currency)}
              sub={`${formatInt(state.data.totals.churnedAfter)} churned of ${countOf(state.data.totals.customersAffected, 'customer')} who raised a ticket`}
              how="Value at risk of the churned customers who bought nothing after raising a ticket, each customer counted once."
            />
          </div>
          <Panel title="Ledger by type and cause" how={<ul>{state.data.explanation.map((e) => <li key={e}>{e}</li>)}</ul>}>
            <LedgerTable rows={state.data.byTypeCause} baseline={state.data.baseline.rate.estimate} testId="ledger-type-cause" />
          </Panel>
          {state.data.byTheme.length > 0 && (
            <Panel title="Ledger by theme">
              <LedgerTable rows={state.data.byTheme} baseline={state.data.baseline.rate.estimate} testId="ledger-themes" themes />
            </Panel>
          )}
          <div className="grid-2">
            <Panel title="Contacts by type, month by month">{monthly && <Chart option={monthly} label="Support contacts per month by type" />}</Panel>
            <Panel title="Features vs fixes" how="Per month, demand about something broken (fixes) against demand for something new (requests).">
              {balance && <Chart option={balance} label="Fixes and requests per month" />}
            </Panel>
          </div>
        </>
      )}
    </ListeningFrame>
  );
}
