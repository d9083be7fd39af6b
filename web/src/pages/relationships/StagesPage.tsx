import { useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../../api/client.js';
import type { StagesSummary } from '../../api/types.js';
import { AXIS_STYLE, Chart, xTitle, type ChartOption } from '../../components/Chart.js';
import { Badge, Empty, ErrorPanel, Loading, Panel, Tile } from '../../components/ui.js';
import { formatDate, formatDateTime, formatInt, formatMoney } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { HistoryPanels } from './HistoryPanels.js';
import { usePageTitle } from '../../lib/title.js';
import { RelationshipsFrame } from './RelationshipsTabs.js';

export const MOMENTUM_COLORS = { warming: '#059669', steady: '#94a3b8', cooling: '#d97706' } as const;
const MOMENTA = ['warming', 'steady', 'cooling'] as const;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function ladderOption(s: StagesSummary): ChartOption {
  const stages = [...s.stages].reverse();
  return {
    grid: { left: 12, right: 24, top: 30, bottom: 28, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 10, itemHeight: 10, textStyle: { color: '#475569' } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', ...AXIS_STYLE, ...xTitle('customers'), minInterval: 1 },
    yAxis: { type: 'category', data: stages.map((x) => x.name), ...AXIS_STYLE, splitLine: { show: false } },
    series: MOMENTA.map((m) => ({ type: 'bar', stack: 'customers', name: m, barMaxWidth: 30, itemStyle: { color: MOMENTUM_COLORS[m] }, data: stages.map((x) => x.momentum[m] ?? 0) })),
  };
}

function StageCustomersList({ stage }: { stage: string }) {
  const [momentum, setMomentum] = useState<string | undefined>(undefined);
  const state = useApi((signal) => api.stageCustomers({ stage, momentum }, signal), [stage, momentum]);
  const currency = useValueCurrency();
  return (
    <div className="stack" data-testid="stage-customers">
      <div role="group" aria-label="Momentum" className="toolbar">
        {[undefined, ...MOMENTA].map((m) => (
          <button key={m ?? 'all'} type="button" className={`chip${momentum === m ? ' chip-on' : ''}`} aria-pressed={momentum === m} onClick={() => setMomentum(m)}>
            {m ?? 'all'}
          </button>
        ))}
      </div>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' &&
        (state.data.items.length === 0 ? (
          <Empty title="Nobody here" />
        ) : (
          <div className="table-scroll">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Momentum</th>
                  <th scope="col" className="num">
                    CLV
                  </th>
                  <th scope="col" className="num">
                    P(alive)
                  </th>
                </tr>
              </thead>
              <tbody>
                {state.data.items.map((c) => (
                  <tr key={c.userId ?? c.email ?? c.name}>
                    <th scope="row">{c.userId ? <Link to={`/customers/${encodeURIComponent(c.userId)}`}>{c.name ?? c.email ?? c.userId}</Link> : <span className="muted">anonymous visitor</span>}</th>
                    <td>
                      <Badge tone={c.momentum === 'warming' ? 'good' : c.momentum === 'cooling' ? 'warning' : 'neutral'}>{c.momentum}</Badge>
                    </td>
                    <td className="num">{c.clv === null ? '–' : formatMoney(c.clv, currency)}</td>
                    <td className="num">{c.pAlive === null ? '–' : `${Math.round(c.pAlive * 100)}%`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </div>
  );
}

function RulesEditor({ onSaved }: { onSaved: () => void }) {
  const rules = useApi((signal) => api.stageRules(signal), []);
  const [draft, setDraft] = useState<string | null>(null);
  const [issues, setIssues] = useState<string[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  if (rules.status === 'loading') return <Loading />;
  if (rules.status === 'error') return <ErrorPanel error={rules.error} onRetry={rules.reload} />;
  const r = rules.data;
  const text = draft ?? r.source;
  const check = async () => {
    const c = await api.checkStageRules(text);
    setIssues(c.issues);
    setMessage(c.ok ? 'The rules are valid.' : null);
  };
  const save = async () => {
    try {
      const saved = await api.saveStageRules(text);
      setIssues([]);
      setMessage(`Saved as version ${saved.version}. Run the stages to place customers with them.`);
      setDraft(null);
      rules.reload();
      onSaved();
    } catch (e) {
      if (e instanceof ApiError) {
        setIssues(e.issues.length > 0 ? e.issues.map((i) => i.message) : [e.message]);
        setMessage(null);
      } else throw e;
    }
  };
  return (
    <div className="stack">
      <p className="muted">
        {r.version === null ? 'The default rules that ship with Rapport.' : `Version ${r.version}, saved ${r.savedAt ? formatDateTime(r.savedAt) : ''}${r.savedBy ? ` by ${r.savedBy}` : ''}.`} A file with errors is refused whole: the rules in force stay.
      </p>
      <label className="field">
        <span>Rules (YAML)</span>
        <textarea className="code" rows={18} spellCheck={false} value={text} onChange={(e) => setDraft(e.target.value)} data-testid="rules-text" />
      </label>
      <div className="toolbar">
        <button type="button" className="button" onClick={() => void check()}>
          Check
        </button>
        <button type="button" className="button button-primary" onClick={() => void save()} disabled={draft === null}>
          Save as a new version
        </button>
      </div>
      {message && <p role="status">{message}</p>}
      {issues && issues.length > 0 && (
        <ul className="issues" role="alert" data-testid="rules-issues">
          {issues.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function StagesPage() {
  usePageTitle('Relationships');
  const state = useApi((signal) => api.stagesSummary(signal), []);
  const [open, setOpen] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [runError, setRunError] = useState<Error | null>(null);
  const currency = useValueCurrency();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  const s = state.data;
  const run = async () => {
    setRunning(true);
    setRunError(null);
    try {
      await api.runStages();
      state.reload();
    } catch (e) {
      setRunError(e as Error);
    } finally {
      setRunning(false);
    }
  };
  return (
    <RelationshipsFrame title="Relationships" lede="Where each customer relationship stands on the LOVE ladder (Introduction → Information → Commitment → Affinity → Co-creation), and which way it is moving.">
      {s.notes.map((n) => (
        <p key={n} className="notice" role="note">
          {n}
        </p>
      ))}
      <div className="tiles">
        <Tile label="Customers placed" value={formatInt(s.customers)} how="Every customer the latest stages run saw, anonymous visitors included (they are at Introduction)." testId="stages-customers" />
        <Tile
          label="Warming / cooling"
          value={`${formatInt(s.momentum['warming'] ?? 0)} / ${formatInt(s.momentum['cooling'] ?? 0)}`}
          how="Momentum is separate from the stage: a customer's own touches in the last window against the one before, and P(alive) now against one window ago; when the two disagree the relationship is steady."
        />
        <Tile label="As of" value={s.run ? formatDate(s.run.asOf) : '–'} sub={s.run ? `rules: ${s.run.rules.name}${s.run.rules.version === null ? ' (default)' : ` v${s.run.rules.version}`}` : undefined} how="Now for live data; the latest activity when the data end earlier (an imported history)." />
      </div>
      <div className="toolbar">
        <button type="button" className="button" onClick={() => void run()} disabled={running}>
          {running ? 'Placing customers…' : 'Run now'}
        </button>
        {runError && <span role="alert">{runError.message}</span>}
      </div>
      <Panel
        title="The ladder"
        how="Each customer sits at the highest stage whose rule they meet (the rules are below); the bars split each stage by momentum. CLV is the latest customer-value run's, summed over the customers at the stage it valued. Lifetime Opportunity Value (LOV) = CLV (0 for customers not valued) + contributions (reviews, referrals, ideas, answers, research, at the worths of the rules file) + opportunity (the expected gain of moving up one stage, an observational estimate from the stage history); the LOV column adds all three, so it exceeds the CLV column by the contributions and the opportunity."
      >
        {s.customers === 0 ? (
          <Empty title="No stages yet">Run the stages once customers and their interactions are stored.</Empty>
        ) : (
          <>
            <Chart option={ladderOption(s)} label="Bar chart of customers per stage, split by momentum" height={260} />
            <div className="table-scroll">
              <table className="table" data-testid="ladder">
                <thead>
                  <tr>
                    <th scope="col">Stage</th>
                    <th scope="col" className="num">
                      Customers
                    </th>
                    <th scope="col" className="num">
                      Share
                    </th>
                    <th scope="col" className="num">
                      Warming · steady · cooling
                    </th>
                    <th scope="col" className="num">
                      Accounts
                    </th>
                    <th scope="col" className="num">
                      CLV (valued customers)
                    </th>
                    <th scope="col" className="num">
                      Mean CLV
                    </th>
                    <th scope="col" className="num">
                      Opportunity
                    </th>
                    <th scope="col" className="num">
                      LOV
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {s.stages.map((x) => (
                    <tr key={x.key}>
                      <th scope="row">
                        <button type="button" className="link-button" aria-expanded={open === x.key} onClick={() => setOpen(open === x.key ? null : x.key)} title={x.description}>
                          {x.name}
                        </button>
                      </th>
                      <td className="num">{formatInt(x.customers)}</td>
                      <td className="num">{pct(x.share)}</td>
                      <td className="num">{MOMENTA.map((m) => formatInt(x.momentum[m] ?? 0)).join(' · ')}</td>
                      <td className="num">{formatInt(x.accounts)}</td>
                      <td className="num">{x.clv === null ? '–' : `${formatMoney(x.clv, currency)} (${formatInt(x.valued)})`}</td>
                      <td className="num">{x.meanClv === null ? '–' : formatMoney(x.meanClv, currency)}</td>
                      <td className="num">{x.opportunity === null ? '–' : formatMoney(x.opportunity, currency)}</td>
                      <td className="num">{x.lov === null ? '–' : formatMoney(x.lov, currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Panel>
      {s.lov && s.lov.notes.length > 0 && s.lov.notes.map((n) => (
        <p key={n} className="notice" role="note">
          {n}
        </p>
      ))}
      {s.segments.some((x) => x.lov !== null) && (
        <Panel title="Lifetime Opportunity Value by micro-segment" how="The same parts as the ladder, summed per micro-segment of the latest customer-value run: CLV, contributions and the opportunity of moving each customer up one stage.">
          <details>
            <summary>Show the {s.segments.length} segments</summary>
            <div className="table-scroll">
              <table className="table table-compact" data-testid="lov-segments">
                <thead>
                  <tr>
                    <th scope="col">Segment</th>
                    <th scope="col" className="num">
                      Customers
                    </th>
                    <th scope="col" className="num">
                      CLV
                    </th>
                    <th scope="col" className="num">
                      Contributions
                    </th>
                    <th scope="col" className="num">
                      Opportunity
                    </th>
                    <th scope="col" className="num">
                      LOV
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {s.segments.map((x) => (
                    <tr key={x.segment ?? 'none'}>
                      <th scope="row">{x.label}</th>
                      <td className="num">{formatInt(x.customers)}</td>
                      <td className="num">{x.clv === null ? '–' : formatMoney(x.clv, currency)}</td>
                      <td className="num">{x.contribution === null ? '–' : formatMoney(x.contribution, currency)}</td>
                      <td className="num">{x.opportunity === null ? '–' : formatMoney(x.opportunity, currency)}</td>
                      <td className="num">{x.lov === null ? '–' : formatMoney(x.lov, currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </Panel>
      )}
      <HistoryPanels />
      {open && (
        <Panel title={`${s.stages.find((x) => x.key === open)?.name ?? open}: most valuable first`} how={s.stages.find((x) => x.key === open)?.description}>
          <StageCustomersList stage={open} />
        </Panel>
      )}
      <Panel title="Stages and their rules" how="Each stage's description; the rules file says which measures place a customer there. Its errors are shown with their line and rule.">
        <dl className="stage-list">
          {s.stages.map((x) => (
            <div key={x.key}>
              <dt>{x.name}</dt>
              <dd>{x.description}</dd>
            </div>
          ))}
        </dl>
        <details>
          <summary>Edit the rules</summary>
          <RulesEditor onSaved={state.reload} />
        </details>
      </Panel>
    </RelationshipsFrame>
  );
}
