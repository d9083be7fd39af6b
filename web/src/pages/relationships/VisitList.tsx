import { useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../../api/client.js';
import type { Visit } from '../../api/types.js';
import { Badge } from '../../components/ui.js';
import { capitalize, formatDateTime, humanize } from '../../lib/format.js';

const STATUS_TONE = { planned: 'neutral', done: 'good', cancelled: 'warning' } as const;
/** Notes longer than this are folded behind "more". */
const FOLD = 280;

function Notes({ text }: { text: string }) {
  if (text.length <= FOLD) return <p className="visit-notes">{text}</p>;
  return (
    <details className="visit-notes">
      <summary>{text.slice(0, FOLD)}… more</summary>
      <p>{text}</p>
    </details>
  );
}

/** Mark done or cancel a planned visit; the server's refusal is shown beside the buttons. */
function PlannedActions({ v, onChanged }: { v: Visit; onChanged: (v: Visit) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const change = async (status: 'done' | 'cancelled') => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await api.updateVisit(v.id, { status }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="visit-actions">
      <button type="button" className="button button-small" disabled={busy} onClick={() => void change('done')}>
        Mark done
      </button>
      <button type="button" className="button button-small button-ghost" disabled={busy} onClick={() => void change('cancelled')}>
        Cancel visit
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Visits as a list: when, what, with whom, the notes; planned ones can be marked done or cancelled. */
export function VisitList({ items, showCustomer, onChanged, testId }: { items: readonly Visit[]; showCustomer: boolean; onChanged: (v: Visit) => void; testId?: string }) {
  return (
    <ul className="visit-list" data-testid={testId}>
      {items.map((v) => (
        <li key={v.id} className={`visit visit-${v.status}`} data-testid="visit">
          <div className="visit-head">
            <time dateTime={v.at}>{formatDateTime(v.at)}</time>
            <strong>{capitalize(v.kind)}</strong>
            <Badge tone={STATUS_TONE[v.status]}>{v.status}</Badge>
            <span className="muted">
              {humanize(v.channel)}
              {v.durationMinutes !== null && ` · ${v.durationMinutes} min`}
            </span>
            {showCustomer && (
              <span>
                with{' '}
                {v.customer.userId ? <Link to={`/customers/${encodeURIComponent(v.customer.userId)}`}>{v.customer.name ?? v.customer.userId}</Link> : <span className="muted">an erased customer</span>}
                {v.account && <span className="muted"> ({v.account.name ?? v.account.groupId})</span>}
              </span>
            )}
          </div>
          {v.attendees.length > 0 && <div className="muted small">Attended by {v.attendees.join(', ')}</div>}
          {v.notes && <Notes text={v.notes} />}
          {v.status === 'done' && (
            <div className="muted small" title="What the rest of Rapport reads: the interaction counts in the LOVE stages and the customer's history; the notes are read by listening">
              Recorded as a mutual interaction ({v.event}){v.feedbackId !== null && `, the notes as ${v.kind === 'interview' ? 'an interview' : 'a visit note'}`}
            </div>
          )}
          {v.status === 'planned' && <PlannedActions v={v} onChanged={onChanged} />}
        </li>
      ))}
    </ul>
  );
}
