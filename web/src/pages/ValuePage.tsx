import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, csvUrl } from '../api/client.js';
import type { ClvSummary, RankedCustomer } from '../api/types.js';
import { AXIS_STYLE, Chart, PALETTE, xTitle, yTitle, type ChartOption } from '../components/Chart.js';
import { Badge, Empty, ErrorPanel, Loading, Panel, Tile } from '../components/ui.js';
import { countOf, formatDate, formatDateTime, formatInt, formatMoney, formatRelative, humanize, formatPAlive } from '../lib/format.js';
import { useApi, useNow } from '../lib/hooks.js';
import { usePageTitle } from '../lib/title.js';

type Ready = ClvSummary & Required<Pick<ClvSummary, 'run' | 'settings' | 'distribution' | 'bgnbd' | 'validation' | 'rfm'>>;

const pct = (x: number, digits = 0): string => `${(x * 100).toFixed(digits)}%`;
const PREDICTED = '#4f46e5';
const ACTUAL = '#0f172a';

/** What each RFM group means, for its card. */
const RFM_MEANING: Record<string, string> = {
  champions: 'bought recently, often',
  loyal: 'buy often, recently enough',
  'potential loyalists': 'recent, a few purchases',
  'new customers': 'first purchase just now',
  promising: 'recent, bought once',
  'need attention': 'average recency and frequency',
  'about to sleep': 'slipping: not recent, not frequent',
  "can't lose them": 'bought very often, long ago',
  'at risk': 'bought often, not lately',
  hibernating: 'long ago, rarely',
  lost: 'long ago, once',
};

function histogramOption(bins: { from: number; to: number; customers: number }[], currency: string | null): ChartOption {
  const used = bins.slice(0, bins.reduce((last, b, i) => (b.customers > 0 ? i : last), 0) + 1);
  return {
    grid: { left: 28, right: 12, top: 16, bottom: 26, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', ...xTitle('CLV band'), data: used.map((b) => `${formatMoney(b.from, currency, { compact: true })}–${formatMoney(b.to, currency, { compact: true })}`), ...AXIS_STYLE, splitLine: { show: false } },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('customers'), minInterval: 1 },
    series: [{ type: 'bar', name: 'Customers', barMaxWidth: 40, itemStyle: { color: PALETTE[0], borderRadius: [4, 4, 0, 0] }, data: used.map((b) => b.customers) }],
  };
}

function trackingOption(points: { period: number; actual: number; predicted: number }[], calibrationWeek: number, model: string): ChartOption {
  return {
    grid: { left: 28, right: 16, top: 36, bottom: 26, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', ...xTitle('week'), data: points.map((p) => String(p.period)), ...AXIS_STYLE, splitLine: { show: false } },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('repeat purchases, cumulative', 50) },
    series: [
      { type: 'line', name: 'Actual', showSymbol: false, lineStyle: { color: ACTUAL, width: 2 }, itemStyle: { color: ACTUAL }, data: points.map((p) => p.actual) },
      {
        type: 'line',
        name: `Predicted (${model})`,
        showSymbol: false,
        lineStyle: { color: PREDICTED, width: 2, type: 'dashed' },
        itemStyle: { color: PREDICTED },
        data: points.map((p) => Math.round(p.predicted * 10) / 10),
        markLine: { symbol: 'none', silent: true, label: { formatter: 'holdout starts', color: '#64748b', fontSize: 11 }, lineStyle: { color: '#94a3b8', type: 'dotted' }, data: [{ xAxis: String(calibrationWeek) }] },
      },
    ],
  };
}

function byFrequencyOption(rows: { frequency: string; predicted: number; actual: number }[]): ChartOption {
  return {
    grid: { left: 28, right: 12, top: 36, bottom: 26, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', ...xTitle('repeat purchases before the holdout'), data: rows.map((r) => r.frequency), ...AXIS_STYLE, splitLine: { show: false } },
    yAxis: { type: 'value', ...AXIS_STYLE, ...yTitle('repeat purchases per customer, holdout') },
    series: [
      { type: 'bar', name: 'Actual', barMaxWidth: 18, itemStyle: { color: ACTUAL }, data: rows.map((r) => Math.round(r.actual * 100) / 100) },
      { type: 'bar', name: 'Predicted', barMaxWidth: 18, itemStyle: { color: PREDICTED }, data: rows.map((r) => Math.round(r.predicted * 100) / 100) },
    ],
  };
}

export function ValuePage() {
  usePageTitle('Customer value');
  const state = useApi((signal) => api.clvSummary(signal), []);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Customer value</h1>
          <p className="lede">What each customer is likely to be worth over the coming months, who is slipping away, and how well the forecast held on past data.</p>
        </div>
      </header>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' &&
        (state.data.available ? (
          <ValueBody data={state.data as Ready} />
        ) : (
          <Empty title="No customer value yet">{state.data.message}</Empty>
        ))}
    </div>
  );
}

function ValueBody({ data }: { data: Ready }) {
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const group = params.get('group') ?? undefined;
  const segmentParam = params.get('segment');
  const segment = segmentParam === null || segmentParam === '' ? undefined : Number(segmentParam);
  const segments = data.segments && !data.segments.skipped ? (data.segments.cards ?? []) : [];
  const segmentCard = segments.find((c) => c.id === segment);
  const d = data.distribution;
  const s = data.settings;
  const v = data.validation;
  const currency = data.currency ?? null;
  const money = (n: number, compact = false): string => formatMoney(n, currency, { compact });
  const note = data.currencyBreakdown?.note ?? null;
  const inCurrency = currency ? (note ? `Amounts in ${currency}: ${note}.` : `Amounts in ${currency}, the currency of every order.`) : 'Amounts are order totals.';
  const hist = useMemo(() => (d.clv ? histogramOption(d.clv.histogram, currency) : null), [d, currency]);
  const calibrationWeek = useMemo(() => {
    if (!v.tracking || !v.calibrationEnd || !v.holdoutEnd) return 0;
    const holdoutWeeks = (Date.parse(v.holdoutEnd) - Date.parse(v.calibrationEnd)) / (7 * 86_400_000);
    return Math.max(0, Math.round(v.tracking.length - holdoutWeeks));
  }, [v]);
  // The validation's figures are those of the model that scored (BG/NBD in runs before the choice).
  const validatedModel = v.model === 'mbgnbd' ? 'MBG/NBD' : 'BG/NBD';
  const tracking = useMemo(() => (v.tracking ? trackingOption(v.tracking, calibrationWeek, validatedModel) : null), [v, calibrationWeek, validatedModel]);
  const byFreq = useMemo(() => (v.byFrequency ? byFrequencyOption(v.byFrequency) : null), [v]);
  const horizon = `${s.horizonMonths} months`;
  const setFilter = (key: 'group' | 'segment', value: string | undefined) => {
    const next = new URLSearchParams(params);
    // One filter at a time: a segment and an RFM group would rarely overlap enough to be useful.
    next.delete('group');
    next.delete('segment');
    if (value !== undefined) next.set(key, value);
    setParams(next, { replace: true });
  };
  const setGroup = (g: string | undefined) => setFilter('group', g);
  const setSegment = (id: number | undefined) => setFilter('segment', id === undefined ? undefined : String(id));
  const filterName = segmentCard ? segmentCard.label : group ? humanize(group) : undefined;
  const err = v.actualRepeatPurchases ? ((v.predictedRepeatPurchases ?? 0) - v.actualRepeatPurchases) / v.actualRepeatPurchases : null;

  return (
    <>
      <p className="run-line" data-testid="clv-run">
        As of <strong>{formatDate(`${data.run.asOf}T00:00:00Z`)}</strong> (<span data-testid="as-of-reason">{data.run.asOfReason}</span>) · {countOf(data.customers ?? 0, 'customer')}, {countOf(data.orders ?? 0, 'order')} · computed{' '}
        <time dateTime={data.run.finishedAt} title={formatDateTime(data.run.finishedAt)}>
          {formatRelative(data.run.finishedAt, now)}
        </time>{' '}
        ({humanize(data.run.trigger).toLowerCase()}){currency && (
          <>
            {' '}
            · amounts in{' '}
            <strong data-testid="value-currency" title={note ?? undefined}>
              {currency}
            </strong>
          </>
        )}
        {data.run.stale && <Badge tone="status-open">new orders since: recomputing soon</Badge>}
      </p>
      {(data.warnings ?? []).length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {data.warnings!.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <div className="tiles" data-testid="value-tiles">
        {d.clv && (
          <>
            <Tile
              label={`CLV, next ${horizon}`}
              icon="value"
              value={money(d.clv.total, true)}
              title={money(d.clv.total)}
              sub={`median ${money(d.clv.median)} per customer`}
              how={`Sum over customers of margin (${pct(s.margin)}) × expected order value × expected purchases in each of the next ${horizon}, discounted ${pct(s.monthlyDiscountRate, 1)} a month. ${inCurrency}`}
              testId="kpi-clv"
            />
            <Tile
              label="Top 10% hold"
              value={pct(d.clv.top10Share)}
              sub="of all future value"
              how="The share of the total CLV that the most valuable tenth of customers account for."
              testId="kpi-top10"
            />
          </>
        )}
        {d.valueAtRisk !== null && (
          <Tile
            label="Value at risk"
            value={money(d.valueAtRisk, true)}
            title={money(d.valueAtRisk)}
            sub="lost if those who seem gone have left; not a part of CLV"
            how={`For each customer: the CLV they would have if surely still active, times the probability that they have already left (1 − P(alive)); summed. It is not a part of CLV but its other side: CLV + value at risk = the value if every customer were still active. So it is larger than CLV when most of that value sits with customers who have probably left. ${inCurrency}`}
            testId="kpi-risk"
          />
        )}
        <Tile
          label="Bought again"
          value={pct((data.repeatCustomers ?? 0) / Math.max(1, data.customers ?? 0))}
          sub={`${formatInt(data.repeatCustomers ?? 0)} of ${countOf(data.customers ?? 0, 'buyer')}`}
          how="Customers with purchases on at least two different days (orders on the same day are one purchase)."
        />
        {err !== null && (
          <Tile
            label="Forecast error"
            value={`${err >= 0 ? '+' : ''}${pct(err, 1)}`}
            sub="predicted vs actual, holdout"
            how={`The models were refitted on orders up to ${v.calibrationEnd} and asked how many repeat purchases the customers known then would make up to ${v.holdoutEnd}; this is how far the forecast was from what they actually bought.`}
            testId="kpi-forecast-error"
          />
        )}
      </div>

      <div className="grid-2">
        <Panel
          title="How CLV is distributed"
          how="Customers per CLV band (bands grow 1-2-5 so that the long tail stays readable)."
          actions={d.clv ? <span className="muted">p90 {money(d.clv.p90)} · p99 {money(d.clv.p99)}</span> : undefined}
        >
          {d.clv && hist ? (
            <>
              <Chart option={hist} label="Bar chart of customers per CLV band" height={260} />
              <details className="data-table">
                <summary>Show the numbers</summary>
                <table className="table table-compact">
                  <thead>
                    <tr>
                      <th scope="col">CLV band</th>
                      <th scope="col" className="num">Customers</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.clv.histogram
                      .filter((b) => b.customers > 0)
                      .map((b) => (
                        <tr key={b.from}>
                          <th scope="row">
                            {money(b.from)} – {money(b.to)}
                          </th>
                          <td className="num">{formatInt(b.customers)}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </details>
            </>
          ) : (
            <Empty title="No spend model">CLV needs order amounts from customers who bought at least twice.</Empty>
          )}
        </Panel>
        <Panel
          title="Did the forecast hold?"
          how="Validation on past data: the purchase model is refitted on the time before the holdout and its prediction of cumulative repeat purchases is drawn against what actually happened (as in Fader, Hardie & Lee 2005, figure 3)."
          actions={v.customers ? <span className="muted">{countOf(v.customers, 'customer')}{v.sampleEvery && v.sampleEvery > 1 ? ` (every ${v.sampleEvery}th)` : ''}</span> : undefined}
        >
          {v.skipped || !tracking ? (
            <Empty title="Not validated">{v.skipped}</Empty>
          ) : (
            <>
              <Chart option={tracking} label="Line chart of cumulative repeat purchases, actual and predicted" height={260} />
              <p className="muted small" data-testid="validation-totals">
                Holdout {v.calibrationEnd} → {v.holdoutEnd}: predicted {formatInt(Math.round(v.predictedRepeatPurchases ?? 0))} repeat purchases, actual {formatInt(v.actualRepeatPurchases ?? 0)}.
              </p>
            </>
          )}
        </Panel>
      </div>

      <div className="grid-2 grid-2-tables">
        <CustomerList
          title="Most valuable"
          sort="clv"
          currency={currency}
          group={group}
          segment={segment}
          filterName={filterName}
          how={`Customers ranked by CLV over the next ${horizon}. Open a customer to see how their value was computed.`}
          testId="top-customers"
        />
        <CustomerList
          title="Valuable and slipping away"
          sort="risk"
          currency={currency}
          group={group}
          segment={segment}
          filterName={filterName}
          how="Customers ranked by value at risk: what they would be worth if still active, times the probability that they have left. High on this list means worth a personal word now."
          testId="slipping-customers"
        />
      </div>

      <Panel
        title="Segments (RFM)"
        how="Recency (days since the last purchase), frequency (purchase days) and monetary value (total spend) each scored 1–5 by quintile; the groups are the usual recency × frequency cells. Select a segment to filter the lists above."
        actions={group ? <button type="button" className="button button-ghost" onClick={() => setGroup(undefined)}>Show all segments</button> : undefined}
      >
        <ul className="segment-cards" data-testid="rfm-cards">
          {data.rfm.map((g) => (
            <li key={g.group}>
              <button type="button" className={g.group === group ? 'segment-card selected' : 'segment-card'} aria-pressed={g.group === group} onClick={() => setGroup(g.group === group ? undefined : g.group)}>
                <span className="segment-name">{humanize(g.group)}</span>
                <span className="segment-meaning">{RFM_MEANING[g.group] ?? ''}</span>
                <span className="segment-figures">
                  <strong>{formatInt(g.customers)}</strong> customers · CLV {g.clv === null ? '—' : money(g.clv, true)} · P(alive) {formatPAlive(g.pAlive)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </Panel>

      {data.segments && (
        <Panel
          title="Micro-segments"
          how={
            data.segments.skipped
              ? 'Customers clustered on what they buy, how often, their value and their channels.'
              : `k-means on each customer's category spend shares, whether and how often they buy again, value and channel mix (features z-scored; categories weigh most). k chosen as the ${data.segments.criterion}. Seeded: the same data give the same segments. Each card names what sets its customers apart from everyone.`
          }
          actions={segment !== undefined ? <button type="button" className="button button-ghost" onClick={() => setSegment(undefined)}>Show all segments</button> : undefined}
        >
          {data.segments.skipped ? (
            <Empty title="No segments">{data.segments.skipped}</Empty>
          ) : (
            <ul className="segment-cards segment-cards-wide" data-testid="micro-segments">
              {segments.map((c) => (
                <li key={c.id}>
                  <button type="button" className={c.id === segment ? 'segment-card selected' : 'segment-card'} aria-pressed={c.id === segment} onClick={() => setSegment(c.id === segment ? undefined : c.id)}>
                    <span className="segment-name">{c.label}</span>
                    <span className="segment-figures">
                      <strong>{formatInt(c.customers)}</strong> customers ({pct(c.share)}) · mean {d.clv ? 'CLV' : 'spend'} {money(c.meanValue)}
                    </span>
                    <span className="segment-meaning">{c.distinguishing.join(' · ')}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </Panel>
      )}

      <div className="grid-2">
        <Panel title="Purchases per customer, before and during the holdout" how="Mean repeat purchases in the holdout, predicted and actual, for customers grouped by how many repeat purchases they made before it (Fader, Hardie & Lee 2005, figure 4).">
          {byFreq ? <Chart option={byFreq} label="Bar chart of mean holdout purchases by earlier purchases, actual and predicted" height={240} /> : <Empty title="Not validated" />}
        </Panel>
        <ModelPanel data={data} />
      </div>
    </>
  );
}

function params(p: { r: number; alpha: number; a: number; b: number }): string {
  return `r = ${p.r.toPrecision(4)}, α = ${p.alpha.toPrecision(4)}, a = ${p.a.toPrecision(4)}, b = ${p.b.toPrecision(4)}`;
}

function ModelPanel({ data }: { data: Ready }) {
  const b = data.bgnbd;
  const mb = data.mbgnbd;
  const g = data.gammaGamma;
  const sc = data.scoring;
  const chosen = sc?.model ?? 'bgnbd';
  const purchase = [
    { key: 'bgnbd', label: 'BG/NBD', fit: b, what: 'how often, how long: customers may leave after a repeat purchase' },
    ...(mb ? [{ key: 'mbgnbd', label: 'MBG/NBD', fit: mb, what: 'as BG/NBD, and customers may leave right after the first purchase' }] : []),
  ];
  const errorOf = (m: string): number | null => sc?.candidates.find((c) => c.model === m)?.holdoutMeanAbsoluteError ?? null;
  const byWhat = sc?.by === 'holdout' ? 'the lower holdout error' : sc?.by === 'bic' ? 'the lower BIC (no holdout)' : sc?.by === 'requested' ? 'asked for' : 'the only model fitted';
  return (
    <Panel
      title="The models"
      how="Maximum-likelihood fits on every customer's purchase history; convergence is judged from the final gradient. Holdout error: the models refitted on the time before the holdout, then the mean over customers of |predicted − actual| repeat purchases in it (lower is better)."
    >
      <p className="model-choice" data-testid="model-choice">
        Scored with <strong>{sc?.label ?? 'BG/NBD'}</strong> ({byWhat}){sc ? `: ${sc.reason}` : ''}
      </p>
      <dl className="model-params" data-testid="model-params">
        {purchase.map((m) => {
          const err = errorOf(m.key);
          return (
            <div key={m.key} data-testid={`model-${m.key}`}>
              <dt>
                {m.label} ({m.what}){m.key === chosen && <Badge tone="status-done">scored</Badge>}
              </dt>
              <dd>
                {params(m.fit)}
                <span className="muted">
                  {' '}
                  · holdout error {err === null ? '—' : `${err.toFixed(4)} purchases per customer`} · log-likelihood {m.fit.logLikelihood.toFixed(1)} · BIC {m.fit.bic.toFixed(1)} ·{' '}
                  {m.fit.convergence.converged ? 'converged' : 'not converged'}
                </span>
              </dd>
            </div>
          );
        })}
        <div>
          <dt>Gamma-Gamma (how much)</dt>
          <dd>
            {g ? (
              <>
                p = {g.p.toPrecision(4)}, q = {g.q.toPrecision(4)}, v = {g.v.toPrecision(4)}
                <span className="muted">
                  {' '}
                  · mean order {g.meanSpend === null ? '—' : formatMoney(g.meanSpend, data.currency)} · frequency/spend correlation {g.independence.correlation.toFixed(2)}
                  {g.independence.holds ? '' : ' (too strong: spend forecasts may be biased)'}
                </span>
              </>
            ) : (
              'not fitted'
            )}
          </dd>
        </div>
      </dl>
      <ul className="explanation">
        {(data.explanation ?? []).map((e) => (
          <li key={e}>{e}</li>
        ))}
      </ul>
    </Panel>
  );
}

function CustomerList({
  title,
  sort,
  currency,
  group,
  segment,
  filterName,
  how,
  testId,
}: {
  title: string;
  sort: 'clv' | 'risk';
  currency: string | null;
  group: string | undefined;
  segment: number | undefined;
  filterName: string | undefined;
  how: string;
  testId: string;
}) {
  const state = useApi((signal) => api.rankedCustomers({ sort, group, segment, limit: 10 }, signal), [sort, group, segment]);
  return (
    <Panel
      title={filterName ? `${title}: ${filterName}` : title}
      how={how}
      actions={
        state.status === 'ready' && state.data.items.length > 0 ? (
          <>
            <span className="muted" data-testid={`${testId}-total`}>
              Top {formatInt(state.data.items.length)} of {formatInt(state.data.total)} by {sort === 'clv' ? 'CLV' : 'value at risk'}
            </span>
            <a className="button button-small" href={csvUrl.ranked({ sort, group, segment })} download data-testid={`${testId}-csv`} title={`All ${countOf(state.data.total, 'customer')} of this list, as CSV`}>
              Download CSV
            </a>
          </>
        ) : undefined
      }
    >
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' &&
        (state.data.items.length === 0 ? (
          <Empty title="Nobody here" />
        ) : (
          <table className="table table-compact" data-testid={testId}>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col" className="num">{sort === 'clv' ? 'CLV' : 'At risk'}</th>
                <th scope="col" className="num">P(alive)</th>
                <th scope="col" className="num">Purchases</th>
                <th scope="col">Last purchase</th>
              </tr>
            </thead>
            <tbody>
              {state.data.items.map((c: RankedCustomer) => (
                <tr key={c.userId}>
                  <th scope="row">
                    <Link to={`/customers/${encodeURIComponent(c.userId)}`}>{c.name ?? c.email ?? c.userId}</Link>
                    <span className="muted small"> {humanize(c.rfm.group)}</span>
                  </th>
                  <td className="num">{formatMoney((sort === 'clv' ? c.clv : c.valueAtRisk) ?? 0, currency)}</td>
                  <td className="num">{formatPAlive(c.pAlive)}</td>
                  <td className="num">{formatInt(c.purchases)}</td>
                  <td>{formatDate(`${c.lastPurchase}T00:00:00Z`)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </Panel>
  );
}
