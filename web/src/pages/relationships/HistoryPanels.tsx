import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client.js';
import type { StageFlow, StageHistory } from '../../api/types.js';
import { AXIS_STYLE, Chart, PALETTE, xTitle, yTitle, type ChartOption } from '../../components/Chart.js';
import { Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { formatInt, formatMoney } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';

export const STAGE_COLORS = ['#94a3b8', '#0891b2', '#4f46e5', '#db2777', '#059669'];
const NOT_YET = 'not yet seen';

function sankeyOption(f: StageFlow): ChartOption {
  const names = f.stages.map((s) => s.name);
  const left = (k: number): string => `${k < names.length ? names[k] : NOT_YET} · ${f.overall.from}`;
  const right = (k: number): string => `${names[k]} · ${f.overall.to}`;
  const data: { name: string; itemStyle: { color: string } }[] = [];
  const links: { source: string; target: string; value: number }[] = [];
  f.overall.matrix.forEach((row, a) =>
    row.forEach((v, b) => {
      if (v > 0) links.push({ source: left(a), target: right(b), value: v });
    }),
  );
  const used = new Set(links.flatMap((l) => [l.source, l.target]));
  for (let k = 0; k <= names.length; k++) if (used.has(left(k))) data.push({ name: left(k), itemStyle: { color: k < names.length ? STAGE_COLORS[k]! : '#cbd5e1' } });
  for (let k = 0; k < names.length; k++) if (used.has(right(k))) data.push({ name: right(k), itemStyle: { color: STAGE_COLORS[k]! } });
  return {
    tooltip: { trigger: 'item' },
    series: [{ type: 'sankey', data, links, left: 8, right: 150, top: 8, bottom: 8, nodeGap: 10, lineStyle: { color: 'gradient', opacity: 0.35 }, label: { color: '#334155', fontSize: 11 }, emphasis: { focus: 'adjacency' } }],
  };
}

function countsOption(f: StageFlow): ChartOption {
  return {
    grid: { left: 12, right: 16, top: 30, bottom: 36, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: f.months, ...AXIS_STYLE, ...xTitle('month-end') },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('customers', 48), minInterval: 1 },
    series: f.stages.map((s, k) => ({ type: 'bar', stack: 'c', name: s.name, barMaxWidth: 26, itemStyle: { color: STAGE_COLORS[k] }, data: f.counts.map((c) => c[k] ?? 0) })),
  };
}

function FlowPanel({ months }: { months: string[] }) {
  const [from, setFrom] = useState<string | undefined>(undefined);
  const [to, setTo] = useState<string | undefined>(undefined);
  const state = useApi((signal) => api.stageFlow({ from, to }, signal), [from, to]);
  const shown = state.status === 'ready' ? state.data : null;
  return (
    <Panel
      title="How customers move"
      how="Every customer is placed at the end of each month with the rules in force, from what was stored up to then; the flow shows where the customers of one month-end stood at another. Customers count from the month they were first seen."
    >
      <div className="toolbar">
        <label className="field field-inline">
          <span>From</span>
          <select value={from ?? shown?.overall.from ?? ''} onChange={(e) => setFrom(e.target.value)} data-testid="flow-from">
            {months.slice(0, -1).map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>to</span>
          <select value={to ?? shown?.overall.to ?? ''} onChange={(e) => setTo(e.target.value)} data-testid="flow-to">
            {months.slice(1).map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
      </div>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {shown && (
        <div className="stack" data-testid="stage-flow">
          <p>
            From {shown.overall.from} to {shown.overall.to}: <strong>{formatInt(shown.overall.moved.up)}</strong> moved up, {formatInt(shown.overall.moved.same)} stayed, <strong>{formatInt(shown.overall.moved.down)}</strong> fell back and {formatInt(shown.overall.moved.new)} were new.
          </p>
          <Chart option={sankeyOption(shown)} label={`Flow of customers between stages from ${shown.overall.from} to ${shown.overall.to}`} height={340} />
          <Chart option={countsOption(shown)} label="Bar chart of customers per stage at each month-end" height={240} />
          <details>
            <summary>Show the numbers</summary>
            <div className="table-scroll">
              <table className="table table-compact" data-testid="flow-matrix">
                <thead>
                  <tr>
                    <th scope="col">
                      {shown.overall.from} ↓ / {shown.overall.to} →
                    </th>
                    {shown.stages.map((s) => (
                      <th key={s.key} scope="col" className="num">
                        {s.name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {shown.overall.matrix.map((row, a) => (
                    <tr key={a}>
                      <th scope="row">{shown.stages[a]?.name ?? NOT_YET}</th>
                      {row.map((v, b) => (
                        <td key={b} className="num">
                          {formatInt(v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </div>
      )}
    </Panel>
  );
}

function timeToOption(h: StageHistory): ChartOption {
  const maxAge = Math.min(36, h.timeTo[0]?.curve.length ?? 0);
  return {
    grid: { left: 12, right: 16, top: 30, bottom: 36, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${(Number(v) * 100).toFixed(1)}%` },
    xAxis: { type: 'category', data: Array.from({ length: maxAge }, (_, a) => String(a)), ...AXIS_STYLE, ...xTitle('months since first seen') },
    yAxis: { type: 'value', max: 1, ...AXIS_STYLE, ...yTitle('reached', 44), axisLabel: { ...AXIS_STYLE.axisLabel, formatter: (v: number) => `${Math.round(v * 100)}%` } },
    series: h.timeTo.map((t, k) => ({ type: 'line', step: 'end', name: t.name, showSymbol: false, itemStyle: { color: STAGE_COLORS[k + 1] ?? PALETTE[k] }, data: t.curve.slice(0, maxAge).map((c) => c.p) })),
  };
}

function CustomersList({ kind, stage }: { kind: 'stuck' | 'fell'; stage?: string }) {
  const state = useApi((signal) => api.stageHistoryCustomers({ kind, stage }, signal), [kind, stage]);
  const currency = useValueCurrency();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  const d = state.data;
  if (d.note) return <p className="muted">{d.note}</p>;
  if (d.customers.length === 0) return <Empty title="Nobody here" />;
  return (
    <div className="table-scroll">
      <table className="table table-compact" data-testid={`history-${kind}`}>
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col">Now</th>
            <th scope="col" className="num">
              Months there
            </th>
            <th scope="col">Highest</th>
            <th scope="col" className="num">
              CLV
            </th>
            <th scope="col">Month by month</th>
          </tr>
        </thead>
        <tbody>
          {d.customers.map((c) => (
            <tr key={c.userId ?? c.email ?? c.history}>
              <th scope="row">{c.userId ? <Link to={`/customers/${encodeURIComponent(c.userId)}`}>{c.name ?? c.email ?? c.userId}</Link> : <span className="muted">anonymous visitor</span>}</th>
              <td>{c.stage}</td>
              <td className="num">{c.monthsAtStage}</td>
              <td>{c.peak}</td>
              <td className="num">{c.clv === null ? '–' : formatMoney(c.clv, currency)}</td>
              <td>
                <HistoryStrip history={c.history} months={d.months} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A customer's months as small coloured cells (stage colours; blank before first seen). */
export function HistoryStrip({ history, months }: { history: string; months: string[] }) {
  return (
    <span className="history-strip" role="img" aria-label={`stage at each month-end from ${months[0]} to ${months.at(-1)}: ${history}`}>
      {[...history].map((c, k) => (
        <span key={k} className="history-cell" style={{ background: c === '-' ? 'transparent' : STAGE_COLORS[Number(c)] }} title={`${months[k]}: ${c === '-' ? NOT_YET : c}`} />
      ))}
    </span>
  );
}

function OpportunitiesPanel() {
  const state = useApi((signal) => api.stageOpportunities({}, signal), []);
  const currency = useValueCurrency();
  return (
    <Panel title="Top opportunities" how={state.status === 'ready' ? state.data.basis : 'The customers whose move up one stage is worth most.'}>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' &&
        (state.data.items.length === 0 ? (
          <Empty title="No opportunity values yet">They need a stage history and a customer-value run, then a stages run.</Empty>
        ) : (
          <div className="table-scroll">
            <table className="table table-compact" data-testid="opportunities">
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Stage</th>
                  <th scope="col" className="num">
                    Opportunity (90% interval)
                  </th>
                  <th scope="col" className="num">
                    CLV
                  </th>
                  <th scope="col" className="num">
                    Contributions
                  </th>
                  <th scope="col" className="num">
                    LOV
                  </th>
                </tr>
              </thead>
              <tbody>
                {state.data.items.map((c) => (
                  <tr key={c.userId ?? c.email ?? c.name}>
                    <th scope="row">{c.userId ? <Link to={`/customers/${encodeURIComponent(c.userId)}`}>{c.name ?? c.email ?? c.userId}</Link> : <span className="muted">anonymous visitor</span>}</th>
                    <td>{c.stage}</td>
                    <td className="num">
                      {formatMoney(c.opportunity, currency)}{' '}
                      <span className="muted">
                        ({c.opportunityLow === null ? '–' : formatMoney(c.opportunityLow, currency)} to {c.opportunityHigh === null ? '–' : formatMoney(c.opportunityHigh, currency)})
                      </span>
                    </td>
                    <td className="num">{c.clv === null ? '–' : formatMoney(c.clv, currency)}</td>
                    <td className="num">{c.contribution === null ? '–' : formatMoney(c.contribution, currency)}</td>
                    <td className="num">{c.lov === null ? '–' : formatMoney(c.lov, currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </Panel>
  );
}

/** The history panels of the Relationships page: flow, time to each stage, stuck and fallen back, top opportunities. */
export function HistoryPanels() {
  const state = useApi((signal) => api.stageHistory(signal), []);
  const [list, setList] = useState<{ kind: 'stuck' | 'fell'; stage?: string } | null>(null);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error')
    return (
      <Panel title="How customers move" how="The monthly stage history.">
        <p className="muted">{state.error.message}</p>
      </Panel>
    );
  const h = state.data;
  const fell = h.fellBack.reduce((a, x) => a + x.customers, 0);
  return (
    <>
      <FlowPanel months={h.months} />
      <Panel title="Time to reach each stage" how={h.basis['timeTo'] ?? ''}>
        <Chart option={timeToOption(h)} label="Kaplan–Meier curves: share of customers who reached each stage by months since first seen" height={260} />
        <p className="muted" data-testid="time-to">
          {h.timeTo.map((t) => `${t.name}: ${t.medianMonths === null ? 'half never reach it within the history' : `half reach it within ${t.medianMonths} month${t.medianMonths === 1 ? '' : 's'}`}`).join(' · ')}
        </p>
      </Panel>
      <Panel title="Stuck and fallen back" how={`${h.basis['stays'] ?? ''} ${h.basis['fellBack'] ?? ''}`}>
        <div className="table-scroll">
          <table className="table table-compact" data-testid="stays">
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col" className="num">
                  Completed stays
                </th>
                <th scope="col" className="num">
                  Usual stay (months)
                </th>
                <th scope="col" className="num">
                  Stuck now
                </th>
                <th scope="col" className="num">
                  Moved up within {h.moves.horizonMonths} months (from {h.moves.from})
                </th>
              </tr>
            </thead>
            <tbody>
              {h.stays.map((s) => {
                const m = h.moves.stages.find((x) => x.key === s.key);
                return (
                  <tr key={s.key}>
                    <th scope="row">{s.name}</th>
                    <td className="num">{formatInt(s.completed)}</td>
                    <td className="num">{s.usualMonths ?? '–'}</td>
                    <td className="num">
                      {s.usualMonths === null ? (
                        '–'
                      ) : (
                        <button type="button" className="link-button" onClick={() => setList({ kind: 'stuck', stage: s.key })}>
                          {formatInt(s.stuck)}
                        </button>
                      )}
                    </td>
                    <td className="num">{m ? `${formatInt(m.moved)} of ${formatInt(m.atRisk)} (${(m.share * 100).toFixed(1)}%)` : '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p>
          <button type="button" className="link-button" onClick={() => setList({ kind: 'fell' })} data-testid="show-fell">
            {formatInt(fell)} customers
          </button>{' '}
          are below the highest stage they held in the history{fell > 0 ? `: ${h.fellBack.map((x) => `${formatInt(x.customers)} from ${x.from} to ${x.to}`).join(', ')}` : ''}.
        </p>
        {list && <CustomersList kind={list.kind} {...(list.stage ? { stage: list.stage } : {})} />}
      </Panel>
      <OpportunitiesPanel />
    </>
  );
}
