import { useId, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiError, csvUrl } from '../../api/client.js';
import type { Panel as PanelT, PanelLaunch, PanelMember, PanelMemberStatus } from '../../api/types.js';
import { Badge, Empty, ErrorPanel, Loading, Panel, Tile } from '../../components/ui.js';
import { SentimentBadge } from '../listening/ListeningTabs.js';
import { formatDate, formatDateTime, formatInt, formatMoney } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { AllocationTable, STATUS_TONE } from './PanelsPage.js';
import { RelationshipsTabs } from './RelationshipsTabs.js';

/** What each step's button says, and its tone on the status badge. */
const STEP_LABEL: Record<PanelMemberStatus, string> = { selected: 'Select', invited: 'Invite', accepted: 'Accepted', declined: 'Declined', participated: 'Took part' };
const MEMBER_TONE: Record<PanelMemberStatus, string> = { selected: 'neutral', invited: 'info', accepted: 'good', declined: 'warning', participated: 'good' };

const message = (e: unknown): string => (e instanceof ApiError ? (e.issues[0] ? `${e.issues[0].field}: ${e.issues[0].message}` : e.message) : String(e));

function Members({ panel, onChange }: { panel: PanelT; onChange: () => void }) {
  const state = useApi((signal) => api.panelMembers(panel.id, signal), [panel.id, panel.updatedAt]);
  const currency = useValueCurrency();
  const addId = useId();
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const step = async (m: PanelMember, status: PanelMemberStatus) => {
    setBusy(m.userId);
    setError(null);
    try {
      await api.setPanelMemberStatus(panel.id, m.userId, status);
      state.reload();
      onChange();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  };
  const add = async () => {
    setError(null);
    try {
      await api.addPanelMember(panel.id, userId.trim());
      setUserId('');
      state.reload();
      onChange();
    } catch (e) {
      setError(message(e));
    }
  };
  const remove = async (m: PanelMember) => {
    setError(null);
    try {
      await api.removePanelMember(panel.id, m.userId);
      state.reload();
      onChange();
    } catch (e) {
      setError(message(e));
    }
  };
  const closed = panel.status === 'closed';
  return (
    <div className="stack stack-tight">
      <div className="toolbar">
        <div className="field field-inline">
          <label htmlFor={addId}>Add by user id</label>
          <input id={addId} value={userId} maxLength={512} onChange={(e) => setUserId(e.target.value)} disabled={closed} />
        </div>
        <button type="button" className="button" onClick={() => void add()} disabled={closed || userId.trim() === ''}>
          Add
        </button>
        {error && (
          <span role="alert" className="issues" data-testid="member-error">
            {error}
          </span>
        )}
      </div>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' &&
        (state.data.items.length === 0 ? (
          <Empty title="Nobody on this panel">No customer met the filters; add people by user id.</Empty>
        ) : (
          <div className="table-scroll">
            <table className="table table-compact" data-testid="panel-members">
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Segment</th>
                  <th scope="col">Stage (when selected)</th>
                  <th scope="col" className="num">
                    CLV
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">Next</th>
                </tr>
              </thead>
              <tbody>
                {state.data.items.map((m) => (
                  <tr key={m.userId} data-user={m.userId}>
                    <th scope="row">
                      <Link to={`/customers/${encodeURIComponent(m.userId)}`}>{m.name ?? m.email ?? m.userId}</Link>
                    </th>
                    <td>{m.segment?.label ?? <span className="muted">not segmented</span>}</td>
                    <td>
                      {m.stage?.name ?? '–'}
                      {m.stageNow && m.stage && m.stageNow.key !== m.stage.key && <span className="muted"> → {m.stageNow.name} now</span>}
                    </td>
                    <td className="num">{m.clv === null ? '–' : formatMoney(m.clv, currency)}</td>
                    <td>
                      <Badge tone={MEMBER_TONE[m.status]} title={[m.invitedAt && `invited ${formatDateTime(m.invitedAt)}`, m.respondedAt && `answered ${formatDateTime(m.respondedAt)}`, m.participatedAt && `took part ${formatDateTime(m.participatedAt)}`].filter(Boolean).join('; ')}>
                        {m.status}
                      </Badge>
                    </td>
                    <td>
                      <div className="toolbar toolbar-tight">
                        {m.next.map((s) => (
                          <button key={s} type="button" className="button button-small" disabled={closed || busy === m.userId} onClick={() => void step(m, s)} aria-label={`${STEP_LABEL[s]}: ${m.name ?? m.userId}`}>
                            {STEP_LABEL[s]}
                          </button>
                        ))}
                        {m.status === 'selected' && (
                          <button type="button" className="button button-ghost button-small" disabled={closed} onClick={() => void remove(m)} aria-label={`Remove ${m.name ?? m.userId}`}>
                            Remove
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </div>
  );
}

function Feedback({ panel }: { panel: PanelT }) {
  const state = useApi((signal) => api.panelFeedback(panel.id, signal), [panel.id, panel.updatedAt]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  const f = state.data;
  return (
    <div className="stack stack-tight" data-testid="panel-feedback">
      <p>
        Since {formatDate(f.since)}: <strong data-testid="feedback-items">{formatInt(f.items)}</strong> items from {formatInt(f.customers)} of {formatInt(f.members)} members — {formatInt(f.sentiment.positive)} positive, {formatInt(f.sentiment.neutral)} neutral,{' '}
        {formatInt(f.sentiment.negative)} negative <SentimentBadge score={f.sentiment.mean} />
      </p>
      {f.notes.map((n) => (
        <p key={n} className="muted">
          {n}
        </p>
      ))}
      {f.themes.length > 0 && (
        <div className="table-scroll">
          <table className="table table-compact" data-testid="feedback-themes">
            <thead>
              <tr>
                <th scope="col">Theme</th>
                <th scope="col" className="num">
                  Items
                </th>
                <th scope="col" className="num">
                  Members
                </th>
                <th scope="col" className="num">
                  Share
                </th>
                <th scope="col">Sentiment</th>
              </tr>
            </thead>
            <tbody>
              {f.themes.map((t) => (
                <tr key={t.id}>
                  <th scope="row">
                    <Link to={`/listening/themes/${t.id}`}>{t.name}</Link>
                  </th>
                  <td className="num">{formatInt(t.items)}</td>
                  <td className="num">{formatInt(t.customers)}</td>
                  <td className="num">{`${Math.round(t.share * 100)}%`}</td>
                  <td>
                    <SentimentBadge score={t.sentiment} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {f.quotes.length > 0 && (
        <ul className="quote-list">
          {f.quotes.slice(0, 4).map((q) => (
            <li key={q.id}>
              <blockquote>{q.text}</blockquote>
              <span className="muted">
                {q.kind} · {formatDate(q.at)}
                {q.theme ? ` · ${q.theme}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const ratio = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)}×`);

function LaunchForm({ panel, onSaved }: { panel: PanelT; onSaved: () => void }) {
  const ids = { kind: useId(), value: useId(), date: useId() };
  const [kind, setKind] = useState<'product' | 'category'>(panel.underTest?.kind ?? 'category');
  const [value, setValue] = useState(panel.underTest?.value ?? '');
  const [date, setDate] = useState(panel.launchedAt?.slice(0, 10) ?? '');
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setError(null);
    try {
      await api.updatePanel(panel.id, { underTest: value.trim() ? { kind, value: value.trim() } : null, launchedAt: date || null });
      onSaved();
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <div className="form-row form-row-pair" data-testid="launch-form">
      <span>
        <label htmlFor={ids.kind}>Under test</label>
        <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value as 'product' | 'category')}>
          <option value="category">a category</option>
          <option value="product">a product</option>
        </select>
      </span>
      <span>
        <label htmlFor={ids.value}>{kind === 'product' ? 'Product id' : 'Category'}</label>
        <input id={ids.value} value={value} maxLength={200} onChange={(e) => setValue(e.target.value)} />
      </span>
      <span>
        <label htmlFor={ids.date}>Launched on</label>
        <input id={ids.date} type="date" value={date} onChange={(e) => setDate(e.target.value)} />
      </span>
      <span className="form-action">
        <button type="button" className="button" onClick={() => void save()}>
          Save
        </button>
      </span>
      {error && (
        <span role="alert" className="issues">
          {error}
        </span>
      )}
    </div>
  );
}

function Launch({ panel, onSaved }: { panel: PanelT; onSaved: () => void }) {
  const state = useApi((signal) => api.panelLaunch(panel.id, signal), [panel.id, panel.updatedAt]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  const l: PanelLaunch = state.data;
  return (
    <div className="stack stack-tight" data-testid="panel-launch">
      <LaunchForm panel={panel} onSaved={onSaved} />
      {!l.available ? (
        <p className="muted" data-testid="launch-reason">
          {l.reason}
        </p>
      ) : (
        <>
          <p data-testid="launch-summary">{l.summary}</p>
          <div className="table-scroll">
            <table className="table table-compact" data-testid="launch-segments">
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col" className="num">
                    Members: bought / expected
                  </th>
                  <th scope="col" className="num">
                    ratio
                  </th>
                  <th scope="col" className="num">
                    Others: bought / expected
                  </th>
                  <th scope="col" className="num">
                    ratio
                  </th>
                </tr>
              </thead>
              <tbody>
                {l.members && l.nonMembers && (
                  <tr>
                    <th scope="row">All</th>
                    <td className="num">
                      {formatInt(l.members.actual)} / {l.members.expected.toFixed(1)}
                    </td>
                    <td className="num">{ratio(l.members.ratio)}</td>
                    <td className="num">
                      {formatInt(l.nonMembers.actual)} / {l.nonMembers.expected.toFixed(1)}
                    </td>
                    <td className="num">{ratio(l.nonMembers.ratio)}</td>
                  </tr>
                )}
                {l.segments.map((s) => (
                  <tr key={s.segment ?? 'none'} title={s.suggests}>
                    <th scope="row">{s.label}</th>
                    <td className="num">
                      {formatInt(s.members.actual)} / {s.members.expected.toFixed(1)}
                    </td>
                    <td className="num">{ratio(s.members.ratio)}</td>
                    <td className="num">
                      {formatInt(s.nonMembers.actual)} / {s.nonMembers.expected.toFixed(1)}
                    </td>
                    <td className="num">{ratio(s.nonMembers.ratio)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <details>
            <summary>What each segment suggests, and how it is computed</summary>
            <ul>
              {l.segments.map((s) => (
                <li key={s.segment ?? 'none'}>
                  <strong>{s.label}</strong>: {s.suggests}
                </li>
              ))}
            </ul>
            <p className="muted">{l.formula}</p>
            {l.baseShare && <p className="muted">Base share {`${(l.baseShare.share * 100).toFixed(1)}%`}: {l.baseShare.from}.</p>}
          </details>
        </>
      )}
      <p className="notice" role="note">
        {l.caveat}
      </p>
    </div>
  );
}

const NEXT_PANEL: Record<string, { status: 'active' | 'closed'; label: string } | undefined> = {
  draft: { status: 'active', label: 'Start the panel' },
  active: { status: 'closed', label: 'Close the panel' },
  closed: { status: 'active', label: 'Reopen' },
};

/** One panel: who was drawn per segment, its members and their statuses, the CSV export, what they said, and the launch comparison. */
export function PanelPage() {
  const { id = '' } = useParams();
  const panelId = Number(id);
  const state = useApi((signal) => api.panel(panelId, signal), [panelId]);
  // While it reloads after a change, the page keeps showing the panel as it was (no flash, forms keep their state).
  const last = useRef<PanelT | null>(null);
  if (state.status === 'ready') last.current = state.data;
  const shown = last.current?.id === panelId ? last.current : null;
  usePageTitle(shown ? shown.name : 'Panel');
  const [error, setError] = useState<string | null>(null);
  if (!shown) return state.status === 'error' ? <ErrorPanel error={state.error} onRetry={state.reload} /> : <Loading />;
  const p = shown;
  const next = NEXT_PANEL[p.status];
  const move = async () => {
    if (!next) return;
    setError(null);
    try {
      await api.updatePanel(p.id, { status: next.status });
      state.reload();
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <div className="page stack">
      <header className="page-head">
        <div>
          <p className="breadcrumb">
            <Link to="/relationships/panels">Panels</Link>
          </p>
          <h1 data-testid="panel-name">{p.name}</h1>
          <p className="lede">
            <Badge tone={STATUS_TONE[p.status]}>{p.status}</Badge> {p.purpose}
          </p>
        </div>
        <div className="toolbar">
          {next && (
            <button type="button" className="button" onClick={() => void move()}>
              {next.label}
            </button>
          )}
          <a className="button button-primary" href={csvUrl.panel(p.id)} download data-testid="panel-csv" title="Every member as CSV: user id, e-mail, name, segment, stage, CLV, status">
            Export CSV
          </a>
        </div>
      </header>
      <RelationshipsTabs />
      {error && (
        <p role="alert" className="issues">
          {error}
        </p>
      )}
      <div className="tiles">
        <Tile label="Members" value={formatInt(p.members.total)} sub={`of ${formatInt(p.size)} seats asked`} testId="panel-members-total" />
        <Tile label="Invited · accepted" value={`${formatInt((p.members.byStatus['invited'] ?? 0) + (p.members.byStatus['accepted'] ?? 0) + (p.members.byStatus['participated'] ?? 0) + (p.members.byStatus['declined'] ?? 0))} · ${formatInt((p.members.byStatus['accepted'] ?? 0) + (p.members.byStatus['participated'] ?? 0))}`} how="Invited: everyone asked so far (whatever they answered); accepted: those who said yes, including those who took part." />
        <Tile label="Took part" value={formatInt(p.members.byStatus['participated'] ?? 0)} />
        <Tile label="Started" value={p.startedAt ? formatDate(p.startedAt) : 'not yet'} sub={`seed ${p.seed}`} how="The same filters, data and seed draw the same members." />
      </div>
      <Panel title="Who was drawn" how={p.selection.rule}>
        <AllocationTable s={p.selection} testId="panel-selection" />
        {p.selection.notes.map((n) => (
          <p key={n} className="muted">
            {n}
          </p>
        ))}
      </Panel>
      <Panel title="Members" how="Invite, record the answer, and record each session: every step is also an interaction on the customer's timeline (Panel Invited, Panel Joined, Panel Session Attended), which the LOVE stages read.">
        <Members panel={p} onChange={state.reload} />
      </Panel>
      <Panel title="What the panel said" how="The members' feedback since the panel started (those who declined left out), as the listening run read it: sentiment and themes.">
        <Feedback panel={p} />
      </Panel>
      <Panel title="After the launch" how="How the members bought what was under test after its launch, against what the customer-value model expected of them; and per segment the same for everyone else.">
        <Launch panel={p} onSaved={state.reload} />
      </Panel>
    </div>
  );
}
