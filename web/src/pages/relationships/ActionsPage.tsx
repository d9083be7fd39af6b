import { useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../../api/client.js';
import type { RelationshipAction } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { formatDateTime, formatMoney } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { RelationshipsFrame } from './RelationshipsTabs.js';

const KIND_LABELS: Record<string, string> = {
  answer_ticket: 'Answer a ticket',
  call_before_renewal: 'Call before renewal',
  reach_out_cooling: 'Reach out (cooling)',
  thank_for_idea: 'Thank for an idea',
  start_conversation: 'Start a conversation',
  check_in: 'Check in',
  invite_survey: 'Invite to a survey',
  invite_review: 'Invite to review',
  invite_ideas: 'Invite to ideas',
  invite_referral: 'Invite to refer',
  invite_interview: 'Invite to an interview',
  invite_panel: 'Invite to a panel',
  work_toward_next_stage: 'Toward the next stage',
};

function ActionRow({ a, onClosed }: { a: RelationshipAction; onClosed: () => void }) {
  const currency = useValueCurrency();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const close = async (how: 'done' | 'dismiss') => {
    setBusy(true);
    setMessage(null);
    try {
      const r = await api.closeAction(a.id, how);
      setMessage(r.recorded ? `Done: recorded “${r.recorded.name}” (${r.recorded.direction}, ${r.recorded.channel}).` : 'Dismissed.');
      onClosed();
    } catch (e) {
      setMessage(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-testid="action-row">
      <th scope="row">{a.customer.userId ? <Link to={`/customers/${encodeURIComponent(a.customer.userId)}`}>{a.customer.name ?? a.customer.email ?? a.customer.userId}</Link> : <span className="muted">anonymous</span>}</th>
      <td>
        <strong>{a.title}</strong>
        <div className="muted">{a.reasons.join(' ')}</div>
        {message && <div role="status">{message}</div>}
      </td>
      <td>{a.stage}</td>
      <td className="num" title={a.valueBasis}>
        {formatMoney(a.value, currency)}
        <div className="muted">{a.valueBasis}</div>
      </td>
      <td>
        {a.status === 'open' ? (
          <div className="toolbar">
            <button type="button" className="button button-primary" disabled={busy} onClick={() => void close('done')}>
              Done
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => void close('dismiss')}>
              Dismiss
            </button>
          </div>
        ) : (
          <span className="muted">
            {a.status} {a.doneAt ? formatDateTime(a.doneAt) : ''}
            {a.doneBy ? ` by ${a.doneBy}` : ''}
          </span>
        )}
      </td>
    </tr>
  );
}

/** Next best relationship actions: whom to engage next, how, and what is at stake. */
export function ActionsPage() {
  usePageTitle('Actions');
  const [kind, setKind] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState<'open' | 'done' | 'dismissed'>('open');
  const [version, setVersion] = useState(0);
  const state = useApi((signal) => api.actions({ kind, status }, signal), [kind, status, version]);
  return (
    <RelationshipsFrame title="Relationships" lede="Whom to engage next and how: one action per customer, most at stake first.">
      <Panel title="Next best actions" how={state.status === 'ready' ? state.data.basis : 'One action per customer, most at stake first.'}>
        <div role="group" aria-label="Status" className="toolbar">
          {(['open', 'done', 'dismissed'] as const).map((s) => (
            <button key={s} type="button" className={`chip${status === s ? ' chip-on' : ''}`} aria-pressed={status === s} onClick={() => setStatus(s)}>
              {s}
            </button>
          ))}
        </div>
        {state.status === 'ready' && status === 'open' && (
          <div role="group" aria-label="Kind" className="toolbar">
            <button type="button" className={`chip${kind === undefined ? ' chip-on' : ''}`} aria-pressed={kind === undefined} onClick={() => setKind(undefined)}>
              all
            </button>
            {Object.entries(state.data.open).map(([k, n]) => (
              <button key={k} type="button" className={`chip${kind === k ? ' chip-on' : ''}`} aria-pressed={kind === k} onClick={() => setKind(k)}>
                {KIND_LABELS[k] ?? k} ({n})
              </button>
            ))}
          </div>
        )}
        {state.status === 'loading' && <Loading />}
        {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
        {state.status === 'ready' &&
          (state.data.items.length === 0 ? (
            <Empty title={status === 'open' ? 'No open actions' : `No ${status} actions`}>Actions are found after each stages run.</Empty>
          ) : (
            <div className="table-scroll">
              <table className="table" data-testid="actions">
                <thead>
                  <tr>
                    <th scope="col">Customer</th>
                    <th scope="col">Action and why</th>
                    <th scope="col">Stage</th>
                    <th scope="col" className="num">
                      At stake
                    </th>
                    <th scope="col">
                      <span className="sr-only">Done or dismiss</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {state.data.items.map((a) => (
                    <ActionRow key={a.id} a={a} onClosed={() => setVersion((v) => v + 1)} />
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </Panel>
    </RelationshipsFrame>
  );
}
