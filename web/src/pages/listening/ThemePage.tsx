import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client.js';
import type { ThemeCard, ThemeDetail } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Panel, Tile } from '../../components/ui.js';
import { formatMoney, formatDateTime, formatInt, humanize } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { ListeningFrame, SentimentBadge } from './ListeningTabs.js';

function Rename({ theme, onDone }: { theme: ThemeCard; onDone: () => void }) {
  const [name, setName] = useState(theme.name);
  const [error, setError] = useState<string | null>(null);
  const save = async (value: string | null) => {
    setError(null);
    try {
      await api.renameTheme(theme.id, value);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        void save(name.trim() || null);
      }}
    >
      <div className="field">
        <label htmlFor="theme-name" className="sr-only">
          Theme name
        </label>
        <input id="theme-name" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} />
      </div>
      <button type="submit" className="button">
        Rename
      </button>
      {theme.renamed && (
        <button type="button" className="button button-ghost" onClick={() => void save(null)}>
          Use the generated label
        </button>
      )}
      {error && <span className="error-inline">{error}</span>}
    </form>
  );
}

function Merge({ theme }: { theme: ThemeCard }) {
  const navigate = useNavigate();
  const others = useApi((signal) => api.themes({ sort: 'size' }, signal), []);
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (others.status !== 'ready') return null;
  const candidates = others.data.themes.filter((t) => t.id !== theme.id);
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        if (!target) return;
        api.mergeThemes(Number(target), [theme.id]).then(
          () => void navigate(`/listening/themes/${target}`),
          (err: unknown) => setError((err as Error).message),
        );
      }}
    >
      <div className="field field-inline">
        <label htmlFor="merge-into">Merge into</label>
        <select id="merge-into" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">choose a theme…</option>
          {candidates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({formatInt(t.size)})
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="button" disabled={!target}>
        Merge
      </button>
      {error && <span className="error-inline">{error}</span>}
    </form>
  );
}

function Split({ theme }: { theme: ThemeCard }) {
  const navigate = useNavigate();
  const [k, setK] = useState('2');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        api.splitTheme(theme.id, Number(k)).then(
          (r) => void navigate(`/listening/themes/${r.parts[0]}`),
          (err: unknown) => {
            setError((err as Error).message);
            setBusy(false);
          },
        );
      }}
    >
      <div className="field field-inline">
        <label htmlFor="split-k">Split into</label>
        <select id="split-k" value={k} onChange={(e) => setK(e.target.value)}>
          {[2, 3, 4].map((n) => (
            <option key={n} value={n}>
              {n} themes
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="button" disabled={busy || theme.size < 2 * Number(k)}>
        Split
      </button>
      {error && <span className="error-inline">{error}</span>}
    </form>
  );
}

type Member = ThemeDetail['members'][number];

/** Moves one member to another theme, or out of every theme; runs keep it there. */
function MoveMember({ themeId, member, targets, onMoved }: { themeId: number; member: Member; targets: ThemeCard[]; onMoved: (feedbackId: number) => void }) {
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const field = `move-${member.feedbackId}`;
  return (
    <form
      className="member-move"
      onSubmit={(e) => {
        e.preventDefault();
        if (!to) return;
        api.moveThemeMembers(themeId, [member.feedbackId], to === 'none' ? null : Number(to)).then(
          () => onMoved(member.feedbackId),
          (err: unknown) => setError((err as Error).message),
        );
      }}
    >
      <label htmlFor={field} className="sr-only">
        Move item {member.feedbackId} to
      </label>
      <select id={field} value={to} onChange={(e) => setTo(e.target.value)}>
        <option value="">move to…</option>
        {targets.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
        <option value="none">no theme</option>
      </select>
      <button type="submit" className="button button-ghost" disabled={!to} title="Later runs keep it there, and new feedback nearly the same goes there too">
        Move
      </button>
      {error && <span className="error-inline">{error}</span>}
    </form>
  );
}

function Members({ id, first, onMoved }: { id: number; first: ThemeDetail; onMoved: () => void }) {
  const [pages, setPages] = useState<ThemeDetail['members'][]>([first.members]);
  const [cursor, setCursor] = useState(first.nextCursor);
  const [gone, setGone] = useState<Set<number>>(new Set());
  const board = useApi((signal) => api.themes({ sort: 'size' }, signal), []);
  const targets = board.status === 'ready' ? board.data.themes.filter((t) => t.id !== id) : [];
  const more = async () => {
    if (cursor === null) return;
    const next = await api.theme(id, cursor);
    setPages((p) => [...p, next.members]);
    setCursor(next.nextCursor);
  };
  const members = pages.flat().filter((m) => !gone.has(m.feedbackId));
  return (
    <>
      <ul className="member-list" data-testid="theme-members">
        {members.map((m) => (
          <li key={m.feedbackId} className="member">
            <p className="feedback-text">{m.text}</p>
            <div className="member-meta">
              <span className="badge">{humanize(m.kind)}</span>
              <SentimentBadge score={m.sentiment} how={m.how.sentiment.length > 0 ? `because of: ${m.how.sentiment.map((c) => `${c.word} ${c.weight > 0 ? '+' : ''}${c.weight}`).join(', ')}` : 'no sentiment words'} />
              <span className="badge" title={m.how.intent.length > 0 ? `because of: ${m.how.intent.join(', ')}` : 'no cue for any intent'}>
                {humanize(m.intent)}
              </span>
              {m.duplicateOf !== null && <span className="badge" title={`repeats item ${m.duplicateOf}`}>repeat</span>}
              {m.repeats > 0 && (
                <span className="badge badge-good" title="later items saying nearly the same; each author is kept as evidence">
                  said again {m.repeats}× by {m.repeatedBy} {m.repeatedBy === 1 ? 'customer' : 'customers'}
                </span>
              )}
              {m.userId && <Link to={`/customers/${encodeURIComponent(m.userId)}`}>{m.userId}</Link>}
              <span className="muted">{formatDateTime(m.at)}</span>
              {m.similarity !== null && <span className="muted" title="cosine similarity to the theme's centre">similarity {m.similarity.toFixed(2)}</span>}
              {m.moved && (
                <span className="badge" title="moved here by hand: later runs keep it here">
                  moved here
                </span>
              )}
              {targets.length > 0 && (
                <MoveMember
                  themeId={id}
                  member={m}
                  targets={targets}
                  onMoved={(fid) => {
                    setGone((g) => new Set(g).add(fid));
                    onMoved();
                  }}
                />
              )}
            </div>
          </li>
        ))}
      </ul>
      <div className="list-foot">
        <span className="muted" aria-live="polite" data-testid="theme-members-total">
          {cursor === null ? `Showing all ${formatInt(members.length)}` : `Showing ${formatInt(members.length)} of ${formatInt(Math.max(members.length, first.theme.size - gone.size))}`}
        </span>
        {cursor !== null && (
          <button type="button" className="button" onClick={() => void more()}>
            Show more
          </button>
        )}
      </div>
    </>
  );
}

export function ThemePage() {
  const currency = useValueCurrency();
  const id = Number(useParams().id);
  const state = useApi((signal) => api.theme(id, null, signal), [id]);
  const title = state.status === 'ready' ? state.data.theme.name : 'Theme';
  usePageTitle(title);
  return (
    <ListeningFrame title={title} lede="One theme: what its members say, who said it, and what they are worth.">
      <p>
        <Link to="/listening">← All themes</Link>
      </p>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && (state.error.message.includes('not found') ? <Empty title="No such theme">{state.error.message}</Empty> : <ErrorPanel error={state.error} onRetry={state.reload} />)}
      {state.status === 'ready' && (
        <>
          <div className="tiles">
            <Tile label="Items" value={formatInt(state.data.theme.size)} />
            <Tile label="Customers" value={formatInt(state.data.theme.customers)} />
            <Tile label="Value at stake" value={formatMoney(state.data.theme.valueAtStake, currency)} how="The sum of the CLV of the distinct customers who raised this theme (latest customer-value run)." />
            <Tile label="Sentiment" value={state.data.theme.sentiment === null ? '–' : state.data.theme.sentiment.toFixed(2)} how="Mean compound sentiment of the items, from −1 (very negative) to +1 (very positive)." />
          </div>
          {state.data.theme.renamed && <p className="muted">Generated name: {state.data.theme.label}</p>}
          {state.data.theme.general && <p className="muted">The general bucket: feedback without a topic (praise, thanks, remarks such as “Five stars”), kept apart so that it pulls no need or defect theme together.</p>}
          <Panel title="Key phrases" how="The words and word pairs most specific to this theme compared with all feedback (class-based TF-IDF), as customers spell them. The name is a phrase of the most typical members whose words appear in as many members as possible.">
            <div className="theme-phrases">
              {state.data.theme.keyPhrases.map((p) => (
                <span key={p} className="chip">
                  {p}
                </span>
              ))}
            </div>
          </Panel>
          <Panel title="Edit">
            <Rename key={state.data.theme.name} theme={state.data.theme} onDone={state.reload} />
            <Merge theme={state.data.theme} />
            <Split theme={state.data.theme} />
          </Panel>
          <Panel title={`Members (${formatInt(state.data.theme.size)})`}>
            <Members key={id} id={id} first={state.data} onMoved={state.reload} />
          </Panel>
        </>
      )}
    </ListeningFrame>
  );
}
