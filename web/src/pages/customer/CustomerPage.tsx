import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { StagePanel } from './StagePanel.js';
import { VisitsPanel } from './VisitsPanel.js';
import { accountPath } from '../relationships/AccountsPage.js';
import { ApiError, api } from '../../api/client.js';
import { DIRECTIONS, type Customer360, type CustomerValue, type Direction } from '../../api/types.js';
import { AXIS_STYLE, Chart, DIRECTION_COLORS, xTitle, yTitleTop, type ChartOption } from '../../components/Chart.js';
import { Icon } from '../../components/Icon.js';
import { Badge, DirectionBadge, Empty, ErrorPanel, KeyValueTable, Loading, Panel, Tile } from '../../components/ui.js';
import { countOf, formatDate, formatDateTime, formatInt, formatMoney, formatRelative, humanize, initials } from '../../lib/format.js';
import { useApi, useNow } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { Timeline } from './Timeline.js';


function mixOption(mix: Customer360['interactionMix']): ChartOption {
  const totals = new Map<string, number>();
  for (const m of mix) totals.set(m.channel, (totals.get(m.channel) ?? 0) + m.count);
  // Largest channel on top: echarts draws a category axis from the bottom up.
  const channels = [...totals.entries()].sort((a, b) => a[1] - b[1]).map(([c]) => c);
  return {
    grid: { left: 8, right: 16, top: 48, bottom: 26, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', ...AXIS_STYLE, ...xTitle('interactions'), minInterval: 1 },
    yAxis: { type: 'category', data: channels.map(humanize), ...AXIS_STYLE, ...yTitleTop('channel'), splitLine: { show: false } },
    series: DIRECTIONS.map((d) => ({
      type: 'bar' as const,
      name: humanize(d),
      stack: 'direction',
      barMaxWidth: 22,
      itemStyle: { color: DIRECTION_COLORS[d] },
      emphasis: { focus: 'series' as const },
      data: channels.map((c) => mix.find((m) => m.channel === c && m.direction === d)?.count ?? 0),
    })),
  };
}

export function CustomerPage() {
  const { userId = '' } = useParams();
  const state = useApi((signal) => api.customer(userId, signal), [userId]);
  const c = state.status === 'ready' ? state.data : null;
  usePageTitle(c ? (c.name ?? c.email ?? c.userId) : 'Customer');

  return (
    <div className="page">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/customers">
          <Icon name="arrowLeft" size={14} /> Customers
        </Link>
      </nav>
      {state.status === 'loading' && <Loading label="Loading customer…" />}
      {state.status === 'error' &&
        (state.error instanceof ApiError && state.error.status === 404 ? (
          <Empty title="Customer not found">
            There is no customer with user id <code>{userId}</code>. It may have been erased, or merged into another profile.
          </Empty>
        ) : (
          <ErrorPanel error={state.error} onRetry={state.reload} />
        ))}
      {c && <CustomerBody c={c} />}
    </div>
  );
}

function CustomerBody({ c }: { c: Customer360 }) {
  const now = useNow();
  // A logged visit adds to the history and may change the stage: those panels read again.
  const [changes, setChanges] = useState(0);
  const mix = useMemo(() => mixOption(c.interactionMix), [c]);
  const byDirection = useMemo(() => {
    const t: Record<Direction, number> = { inbound: 0, outbound: 0, mutual: 0 };
    for (const m of c.interactionMix) t[m.direction] += m.count;
    return t;
  }, [c]);
  const channelCount = new Set(c.interactionMix.map((m) => m.channel)).size;
  const displayName = c.name ?? c.email ?? c.userId;
  const oneCurrency = c.revenueByCurrency.length === 1 ? c.revenueByCurrency[0] : undefined;
  const traits = Object.entries(c.traits).sort(([a], [b]) => a.localeCompare(b));

  return (
    <>
      <header className="profile-head" data-testid="customer-header">
        <span className="avatar avatar-lg" aria-hidden="true">
          {initials(displayName)}
        </span>
        <div className="profile-main">
          <h1>{displayName}</h1>
          <div className="profile-meta">
            {c.email && <a href={`mailto:${c.email}`}>{c.email}</a>}
            <span className="meta-item" title="User id">
              <Icon name="key" size={13} />
              <code>{c.userId}</code>
            </span>
            {c.accounts.map((a) => (
              <Link key={a.groupId} to={accountPath(a.groupId)} className="chip" title={`Account ${a.groupId}: its stage, value and people`}>
                <Icon name="building" size={13} />
                {a.name ?? a.groupId}
              </Link>
            ))}
          </div>
          <dl className="profile-dates">
            <div>
              <dt>First seen</dt>
              <dd>{c.firstSeen ? <time dateTime={c.firstSeen}>{formatDateTime(c.firstSeen)}</time> : '—'}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>
                {c.lastSeen ? (
                  <>
                    <time dateTime={c.lastSeen}>{formatDateTime(c.lastSeen)}</time> <span className="muted">({formatRelative(c.lastSeen, now)})</span>
                  </>
                ) : (
                  '—'
                )}
              </dd>
            </div>
          </dl>
        </div>
      </header>

      <div className="tiles">
        <Tile
          label="Orders"
          icon="order"
          value={formatInt(c.orders)}
          sub={c.orders > 0 ? `avg ${formatMoney(c.revenue / c.orders, c.revenueCurrency)} per order${oneCurrency ? '' : ', currencies unconverted'}` : 'no orders yet'}
          how="Completed orders of this customer, each counted once however often it was sent. The average is revenue ÷ orders."
          testId="customer-orders"
        />
        <Tile
          label="Revenue"
          value={formatMoney(c.revenue, c.revenueCurrency)}
          sub={
            c.revenueByCurrency.length > 1
              ? c.revenueByCurrency.map((r) => formatMoney(r.total, r.currency)).join(' + ')
              : oneCurrency
                ? `all in ${oneCurrency.currency}`
                : 'no orders yet'
          }
          how={
            c.revenueByCurrency.length > 1
              ? `Sum of order totals in ${c.revenueCurrency ?? 'their main currency'}, with those in ${c.otherCurrencies.join(', ')} added unconverted (no exchange rates are applied); the line below splits it by currency.`
              : 'Sum of this customer’s order totals.'
          }
          testId="customer-revenue"
        />
        <Tile
          label="Interactions"
          icon="interaction"
          value={formatInt(c.interactions)}
          sub={`${formatInt(byDirection.inbound)} in · ${formatInt(byDirection.outbound)} out · ${formatInt(byDirection.mutual)} mutual`}
          how="Every touch with this customer: product events, page and screen views, e-mails, calls and meetings, split by direction. Orders and feedback are counted separately."
          testId="customer-interactions"
        />
        <Tile
          label="Feedback"
          icon="feedback"
          value={formatInt(c.feedback)}
          sub={c.feedbackByKind.length > 0 ? c.feedbackByKind.map((f) => `${formatInt(f.count)} ${humanize(f.kind).toLowerCase()}`).join(' · ') : 'none yet'}
          how="Tickets, reviews, survey answers, interviews and visit notes from this customer."
          testId="customer-feedback"
        />
        {c.value && c.value.clv !== null && (
          <Tile
            label="CLV"
            icon="value"
            value={formatMoney(c.value.clv, c.value.currency)}
            sub={`P(alive) ${c.value.pAliveText} · ${humanize(c.value.rfm.group)}`}
            how={`Expected discounted margin over the coming months from ${c.value.model.label} (purchases) and Gamma-Gamma (spend)${c.value.currency ? `, in ${c.value.currency} (the currency of most order value)` : ''}; the Value panel shows each step with this customer’s numbers.`}
            testId="customer-clv"
          />
        )}
      </div>

      <div className="grid-main-aside">
        <div className="stack">
          <Panel
            title="Interaction mix"
            how="Interactions counted by channel and direction. The channel is the event’s channel property, else Segment’s context.channel, else the message type (page → web, screen → mobile, track → product)."
            actions={<span className="muted">{countOf(channelCount, 'channel')}</span>}
          >
            {c.interactionMix.length === 0 ? (
              <Empty title="No interactions yet" />
            ) : (
              <>
                <Chart option={mix} label={`Stacked bar chart of ${displayName}'s interactions by channel and direction`} height={Math.max(150, channelCount * 38 + 50)} />
                <details className="data-table">
                  <summary>Show the numbers</summary>
                  <div className="table-scroll">
                    <table className="table table-compact">
                      <thead>
                        <tr>
                          <th scope="col">Channel</th>
                          <th scope="col">Direction</th>
                          <th scope="col" className="num">
                            Interactions
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {c.interactionMix.map((m) => (
                          <tr key={`${m.channel}-${m.direction}`}>
                            <th scope="row">{humanize(m.channel)}</th>
                            <td>
                              <DirectionBadge direction={m.direction} />
                            </td>
                            <td className="num">{formatInt(m.count)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </details>
              </>
            )}
          </Panel>
          <VisitsPanel userId={c.userId} onChange={() => setChanges((n) => n + 1)} />
          <Timeline key={changes} userId={c.userId} />
        </div>

        <aside className="stack" aria-label="Profile details">
          <StagePanel key={changes} userId={c.userId} />
          {c.value && <ValuePanel v={c.value} />}
          {c.listening && <ListeningPanel l={c.listening} />}
          <Panel title="Traits" how="The latest value of each trait from identify calls and imports; a newer value replaces an older one.">
            {traits.length === 0 ? (
              <Empty title="No traits" />
            ) : (
              <KeyValueTable entries={traits} testId="traits" />
            )}
          </Panel>
          {c.accounts.length > 0 && (
            <Panel title={c.accounts.length === 1 ? 'Account' : 'Accounts'} how="Companies or teams this customer belongs to, from Segment group calls. Open one for its LOVE stage from its people, its value and its people.">
              <ul className="account-list">
                {c.accounts.map((a) => (
                  <li key={a.groupId}>
                    <div className="account-name">
                      <Icon name="building" size={15} />
                      <strong>
                        <Link to={accountPath(a.groupId)} data-testid="customer-account-link">
                          {a.name ?? a.groupId}
                        </Link>
                      </strong>
                      <code>{a.groupId}</code>
                    </div>
                    {Object.keys(a.traits).length > 0 && (
                      <KeyValueTable entries={Object.entries(a.traits).filter(([k]) => k !== 'name')} />
                    )}
                  </li>
                ))}
              </ul>
            </Panel>
          )}
          {c.revenueByCurrency.length > 1 && (
            <Panel title="Revenue by currency" how="Order totals summed per currency; no exchange rates are applied anywhere.">
              <table className="table table-compact">
                <thead>
                  <tr>
                    <th scope="col">Currency</th>
                    <th scope="col" className="num">
                      Orders
                    </th>
                    <th scope="col" className="num">
                      Total
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {c.revenueByCurrency.map((r) => (
                    <tr key={r.currency}>
                      <th scope="row">{r.currency}</th>
                      <td className="num">{formatInt(r.orders)}</td>
                      <td className="num">{formatMoney(r.total, r.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Panel>
          )}
          <Panel title="Identities" how="The user id and every anonymous id (browser or device) linked to this customer by identify or alias calls.">
            <ul className="id-list">
              <li>
                <span className="muted">User id</span>
                <code>{c.userId}</code>
              </li>
              {c.anonymousIds.map((a) => (
                <li key={a}>
                  <span className="muted">Anonymous</span>
                  <code>{a}</code>
                </li>
              ))}
            </ul>
          </Panel>
        </aside>
      </div>
    </>
  );
}

/** CLV, P(alive) and RFM, with every step of the computation and this customer's numbers in it. */
function ListeningPanel({ l }: { l: NonNullable<Customer360['listening']> }) {
  const intents = Object.entries(l.intents).sort((a, b) => b[1] - a[1]);
  return (
    <Panel title="What they say" how="From the listening run over their feedback: the themes their items fall in, their mean sentiment (VADER, −1…+1) and the intents of their items.">
      <div data-testid="customer-listening">
        <p className="muted">
          {countOf(l.analysed, 'item')}{l.sentiment === null ? '' : `, mean sentiment ${l.sentiment.toFixed(2)}`}
          {intents.length > 0 && ` · ${intents.map(([k, n]) => `${humanize(k)} ${n}`).join(', ')}`}
        </p>
        {l.themes.length > 0 && (
          <ul className="plain-list">
            {l.themes.map((t) => (
              <li key={t.id}>
                <Link to={`/listening/themes/${t.id}`}>{t.name}</Link> <span className="muted">({formatInt(t.items)})</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Panel>
  );
}

function ValuePanel({ v }: { v: CustomerValue }) {
  const risk = v.churnRisk;
  return (
    <Panel title="Value" how={`From the customer-value run of ${v.asOf}: purchase days, recency and age in weeks go into the fitted models (${v.model.label} for purchases, chosen by the run: ${v.model.why}; Gamma-Gamma for spend); each step is listed below. P(alive) speaks of purchases only: beside it, when they last bought and whether they have been active in the product since. It is shown rounded, never as 100% or 0%, and "about" for a customer who bought once.`}>
      <dl className="value-figures" data-testid="customer-value">
        <div>
          <dt>CLV</dt>
          <dd>{v.clv === null ? '—' : formatMoney(v.clv, v.currency)}</dd>
        </div>
        <div>
          <dt>P(alive)</dt>
          <dd>
            <span title={`${(v.pAlive * 100).toFixed(1)}% by the model`}>{v.pAliveText}</span>{' '}
            {risk >= 0.5 ? (
              <Badge tone="status-open">{v.activity.activeSincePurchase ? 'not buying' : 'likely gone'}</Badge>
            ) : risk >= 0.25 ? (
              <Badge tone="neutral">slipping</Badge>
            ) : null}
            <span className="muted small" data-testid="purchase-activity">
              {' '}
              ({v.activity.statement})
            </span>
          </dd>
        </div>
        <div>
          <dt>Expected purchases</dt>
          <dd>{v.expectedPurchases.toFixed(2)}</dd>
        </div>
        <div>
          <dt>Value at risk</dt>
          <dd>{v.valueAtRisk === null ? '—' : formatMoney(v.valueAtRisk, v.currency)}</dd>
        </div>
        <div>
          <dt>RFM</dt>
          <dd>
            {humanize(v.rfm.group)}{' '}
            <span className="muted">
              (R{v.rfm.r} F{v.rfm.f} M{v.rfm.m})
            </span>
          </dd>
        </div>
        <div>
          <dt>Purchase model</dt>
          <dd data-testid="customer-model" title={v.model.why}>
            {v.model.label}
          </dd>
        </div>
        {v.segment && (
          <div>
            <dt>Segment</dt>
            <dd title={v.segment.distinguishing.join(' · ')} data-testid="customer-segment">
              <Link to={`/value?segment=${v.segment.id}`}>{v.segment.label}</Link>
            </dd>
          </div>
        )}
      </dl>
      <div className="outlook" data-testid="purchase-outlook">
        <span className="muted small">Purchases in the coming months, by probability</span>
        <ul>
          {v.purchaseOutlook.map((o) => (
            <li key={o.purchases} title={`P(exactly ${o.purchases} purchases | history), ${v.model.label}`}>
              <span className="outlook-bar" style={{ height: `${Math.max(2, Math.round(o.probability * 48))}px` }} />
              <strong>{(o.probability * 100).toFixed(0)}%</strong>
              <span className="muted">{o.purchases === '0' ? 'none' : o.purchases}</span>
            </li>
          ))}
        </ul>
      </div>
      <details className="how-computed" data-testid="value-how">
        <summary>How this was computed</summary>
        <p className="small">
          {v.inputs.purchases} purchase days from {formatDate(`${v.inputs.firstPurchase}T00:00:00Z`)} to {formatDate(`${v.inputs.lastPurchase}T00:00:00Z`)}: x ={' '}
          {countOf(v.inputs.repeatPurchases, 'repeat purchase')}, t<sub>x</sub> = {v.inputs.recencyWeeks} weeks to the last one, T = {v.inputs.ageWeeks} weeks known, mean repeat spend{' '}
          {formatMoney(v.inputs.meanRepeatSpend, v.currency)}.
        </p>
        <ol className="steps">
          {v.steps.map((s) => (
            <li key={s.name}>
              <strong>{s.name}</strong> = {s.value === null ? '—' : s.money ? formatMoney(s.value, v.currency) : s.value.toLocaleString()}
              <div className="muted small">{s.meaning}</div>
              <code className="formula">{s.formula}</code>
            </li>
          ))}
        </ol>
      </details>
    </Panel>
  );
}
