import { api } from '../../api/client.js';
import type { CustomerStage, ExplainedCondition } from '../../api/types.js';
import { Badge, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { formatDateTime, formatMoney } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { HistoryStrip } from '../relationships/HistoryPanels.js';

const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function Condition({ c }: { c: ExplainedCondition }) {
  if (c.kind === 'measure') {
    const bound = [c.atLeast !== null ? `≥ ${num(c.atLeast)}` : null, c.atMost !== null ? `≤ ${num(c.atMost)}` : null].filter(Boolean).join(', ');
    return (
      <li className={c.met ? 'met' : 'unmet'}>
        <span aria-hidden="true">{c.met ? '✓' : '✗'}</span> {c.label}
        {c.windowDays !== null && ` (last ${c.windowDays} days)`}: <strong>{c.value === null ? 'none' : num(c.value)}</strong> <span className="muted">need {bound}</span>
        <span className="sr-only">{c.met ? ' — met' : ' — not met'}</span>
      </li>
    );
  }
  const head = c.kind === 'at_least' ? `at least ${c.need} of these (${c.metCount} met)` : c.kind === 'all' ? 'all of these' : 'any of these';
  return (
    <li className={c.met ? 'met' : 'unmet'}>
      <span aria-hidden="true">{c.met ? '✓' : '✗'}</span> {head}
      <ul>
        {c.parts.map((p, i) => (
          <Condition key={i} c={p} />
        ))}
      </ul>
    </li>
  );
}

function Body({ s }: { s: CustomerStage }) {
  const currency = useValueCurrency();
  const money = (v: number): string => formatMoney(v, currency);
  const e = s.explanation as { stage: string; stages: { key: string; name: string; met: boolean; rule: ExplainedCondition | null }[]; next: { name: string; need: string } | null };
  const m = s.momentumReading;
  const shown = s.stage?.name ?? e.stages.find((x) => x.key === e.stage)?.name ?? e.stage;
  const tone = (s.momentum ?? m.momentum) === 'warming' ? 'good' : (s.momentum ?? m.momentum) === 'cooling' ? 'warning' : 'neutral';
  return (
    <div className="stack stage-explain" data-testid="customer-stage">
      <p>
        <strong data-testid="customer-stage-name">{shown}</strong> <Badge tone={tone}>{s.momentum ?? m.momentum}</Badge>
      </p>
      {s.stage && <p className="muted">{s.stage.description}</p>}
      <p className="muted">
        Momentum: {m.activityPrevious} → {m.activityRecent} touches of their own in {m.windowDays}-day windows ({m.activity ?? 'no signal'})
        {m.pAliveNow !== null && `; P(alive) ${m.pAliveThen === null ? '' : `${Math.round(m.pAliveThen * 100)}% → `}${Math.round(m.pAliveNow * 100)}% (${m.pAlive ?? 'no signal'})`}.
      </p>
      {s.note && (
        <p className="notice" role="note">
          {s.note}
        </p>
      )}
      <details open>
        <summary>Why: each stage's rule with their numbers</summary>
        <ul>
          {e.stages
            .filter((x) => x.rule)
            .map((x) => (
              <li key={x.key} className={x.met ? 'met' : 'unmet'}>
                <strong>{x.name}</strong> — {x.met ? 'rule met' : 'not met'}
                <ul>
                  <Condition c={x.rule!} />
                </ul>
              </li>
            ))}
        </ul>
      </details>
      {s.history && (
        <p className="muted" data-testid="customer-history">
          Month by month ({s.history.months[0]} to {s.history.months.at(-1)}): <HistoryStrip history={s.history.stages} months={s.history.months} />
        </p>
      )}
      <p data-testid="customer-stage-next">{e.next ? `For ${e.next.name}: ${e.next.need}.` : 'At the top of the ladder.'}</p>
      {s.lov && (
        <div className="stack" data-testid="customer-lov">
          <h3 className="subhead">Lifetime Opportunity Value</h3>
          <dl className="lov-parts">
            <div>
              <dt>CLV</dt>
              <dd>{money(s.lov.clv)}</dd>
            </div>
            <div>
              <dt>+ contributions</dt>
              <dd>{money(s.lov.contribution)}</dd>
            </div>
            <div>
              <dt>+ opportunity</dt>
              <dd>
                {s.lov.opportunity === null ? 'unknown' : money(s.lov.opportunity)}
                {s.lov.opportunityLow !== null && s.lov.opportunityHigh !== null && s.lov.opportunity !== 0 && (
                  <span className="muted">
                    {' '}
                    ({money(s.lov.opportunityLow)} to {money(s.lov.opportunityHigh)})
                  </span>
                )}
              </dd>
            </div>
            <div>
              <dt>= LOV</dt>
              <dd>
                <strong data-testid="customer-lov-total">{money(s.lov.total)}</strong>
              </dd>
            </div>
          </dl>
          <ul className="lov-lines">
            {s.lov.lines.slice(1).map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

export function StagePanel({ userId }: { userId: string }) {
  const state = useApi((signal) => api.customerStage(userId, signal), [userId]);
  return (
    <Panel
      title="Relationship"
      how={`The LOVE stage: the highest stage whose rule this customer meets, from their interactions, orders and feedback up to ${state.status === 'ready' ? formatDateTime(state.data.asOf) : 'the latest stages run'}. Momentum is separate: their own touches in the last window against the one before, and P(alive) now against one window ago.`}
    >
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' && <Body s={state.data} />}
    </Panel>
  );
}
