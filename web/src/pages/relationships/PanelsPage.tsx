import { useId, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, ApiError } from '../../api/client.js';
import type { PanelCreate, PanelFilters, PanelPreview } from '../../api/types.js';
import { Badge, Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { formatDate, formatInt } from '../../lib/format.js';
import { useApi, useDebounced } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { RelationshipsTabs } from './RelationshipsTabs.js';

const MOMENTA = ['warming', 'steady', 'cooling'] as const;
type StageKey = NonNullable<PanelFilters['stages']>[number];
type Momentum = (typeof MOMENTA)[number];

export const STATUS_TONE: Record<string, string> = { draft: 'neutral', active: 'good', closed: 'warning' };

/** A number typed into a field: undefined when empty, NaN (refused by the server, naming the field) when not a number. */
const numberOf = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s));

interface Draft {
  stages: StageKey[];
  momentum: Momentum[];
  segments: number[];
  clvMin: string;
  clvMax: string;
  seen: string;
  traitKey: string;
  traitValue: string;
  account: string;
}

const EMPTY: Draft = { stages: [], momentum: [], segments: [], clvMin: '', clvMax: '', seen: '', traitKey: '', traitValue: '', account: '' };

/** The filters as the API takes them: only those given. */
function filtersOf(d: Draft): PanelFilters {
  const f: PanelFilters = {};
  if (d.stages.length > 0) f.stages = d.stages;
  if (d.momentum.length > 0) f.momentum = d.momentum;
  if (d.segments.length > 0) f.segments = d.segments;
  const min = numberOf(d.clvMin);
  const max = numberOf(d.clvMax);
  const seen = numberOf(d.seen);
  if (min !== undefined) f.clvMin = min;
  if (max !== undefined) f.clvMax = max;
  if (seen !== undefined) f.seenWithinDays = seen;
  if (d.traitKey.trim() !== '') f.traits = [{ key: d.traitKey.trim(), value: d.traitValue.trim() }];
  if (d.account.trim() !== '') f.account = d.account.trim();
  return f;
}

const toggle = <T,>(list: readonly T[], v: T): T[] => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

/** What an API error says, field by field. */
function issuesOf(e: unknown): string[] {
  if (e instanceof ApiError) return e.issues.length > 0 ? e.issues.map((i) => `${i.field}: ${i.message}`) : [e.message];
  return [e instanceof Error ? e.message : String(e)];
}

export function AllocationTable({ s, testId }: { s: Pick<PanelPreview, 'segments' | 'eligible' | 'selected' | 'size'>; testId: string }) {
  return (
    <div className="table-scroll">
      <table className="table table-compact" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Segment</th>
            <th scope="col" className="num">
              Eligible
            </th>
            <th scope="col" className="num">
              Asked
            </th>
            <th scope="col" className="num">
              Selected
            </th>
          </tr>
        </thead>
        <tbody>
          {s.segments.map((x) => (
            <tr key={x.segment ?? 'none'}>
              <th scope="row">{x.label}</th>
              <td className="num">{formatInt(x.eligible)}</td>
              <td className="num">{formatInt(x.asked)}</td>
              <td className="num">{formatInt(x.selected)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">All segments</th>
            <td className="num">{formatInt(s.eligible)}</td>
            <td className="num">{formatInt(s.size)}</td>
            <td className="num">{formatInt(s.selected)}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function Builder() {
  const navigate = useNavigate();
  const ids = { name: useId(), purpose: useId(), size: useId(), seed: useId(), clvMin: useId(), clvMax: useId(), seen: useId(), traitKey: useId(), traitValue: useId(), account: useId(), kind: useId(), subject: useId(), launched: useId(), started: useId() };
  const [name, setName] = useState('');
  const [purpose, setPurpose] = useState('');
  const [size, setSize] = useState('20');
  const [seed, setSeed] = useState('');
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [kind, setKind] = useState<'' | 'product' | 'category'>('');
  const [subject, setSubject] = useState('');
  const [launched, setLaunched] = useState('');
  const [started, setStarted] = useState('');
  const [issues, setIssues] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  const stages = useApi((signal) => api.stagesSummary(signal), []);
  // Every segment of the latest value run, with its customers: the choices of the segment filter.
  const all = useApi((signal) => api.previewPanel({ filters: {}, size: 0 }, signal), []);
  const filters = useMemo(() => filtersOf(draft), [draft]);
  const asked = numberOf(size);
  const request = useDebounced(JSON.stringify({ filters, size: asked !== undefined && Number.isInteger(asked) && asked >= 0 ? asked : 0, seed: numberOf(seed) ?? 1 }), 250);
  const preview = useApi((signal) => api.previewPanel(JSON.parse(request) as { filters: PanelFilters; size: number; seed: number }, signal), [request]);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const create = async () => {
    setCreating(true);
    setIssues([]);
    try {
      const body: PanelCreate = { name, purpose, size: numberOf(size) ?? Number.NaN, filters, underTest: kind && subject.trim() ? { kind, value: subject.trim() } : null, launchedAt: launched || null, startedAt: started || null };
      const s = numberOf(seed);
      if (s !== undefined) body.seed = s;
      const p = await api.createPanel(body);
      void navigate(`/relationships/panels/${p.id}`);
    } catch (e) {
      setIssues(issuesOf(e));
    } finally {
      setCreating(false);
    }
  };

  return (
    <div className="grid-2">
      <Panel title="Build a panel" how="Filters are combined: a customer must meet every one given. The seats are shared equally among the micro-segments present among the eligible customers; a segment with fewer eligible customers than its share gives all of them and the others fill its seats. The same seed draws the same members.">
        <div className="panel-form" data-testid="panel-builder">
          <div className="form-row">
            <label htmlFor={ids.name}>Name</label>
            <input id={ids.name} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="Early readers of the new series" />
          </div>
          <div className="form-row">
            <label htmlFor={ids.purpose}>Purpose</label>
            <input id={ids.purpose} value={purpose} maxLength={2000} onChange={(e) => setPurpose(e.target.value)} placeholder="What the panel tries, and what you want to learn" />
          </div>
          <div className="form-row form-row-pair">
            <span>
              <label htmlFor={ids.size}>Seats</label>
              <input id={ids.size} type="number" min={1} max={10000} value={size} onChange={(e) => setSize(e.target.value)} />
            </span>
            <span>
              <label htmlFor={ids.seed}>Seed</label>
              <input id={ids.seed} type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} placeholder="from the clock" />
            </span>
            <span>
              <label htmlFor={ids.started}>Started on</label>
              <input id={ids.started} type="date" value={started} onChange={(e) => setStarted(e.target.value)} title="When the panel started, if before today (else: when you start it)" />
            </span>
          </div>
          <fieldset className="form-row">
            <legend>LOVE stage</legend>
            <div className="chip-toggles">
              {stages.status === 'ready' &&
                stages.data.stages.map((s) => (
                  <label key={s.key} className={`chip-toggle${draft.stages.includes(s.key) ? ' is-on chip-on' : ''}`} title={s.description}>
                    <input type="checkbox" checked={draft.stages.includes(s.key)} onChange={() => set({ stages: toggle(draft.stages, s.key) })} />
                    {s.name}
                  </label>
                ))}
            </div>
          </fieldset>
          <fieldset className="form-row">
            <legend>Momentum</legend>
            <div className="chip-toggles">
              {MOMENTA.map((m) => (
                <label key={m} className={`chip-toggle${draft.momentum.includes(m) ? ' is-on chip-on' : ''}`}>
                  <input type="checkbox" checked={draft.momentum.includes(m)} onChange={() => set({ momentum: toggle(draft.momentum, m) })} />
                  {m}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset className="form-row">
            <legend>Micro-segment</legend>
            {all.status === 'ready' && all.data.segments.filter((s) => s.segment !== null).length === 0 && <span className="muted">No segments yet: they come with a customer-value run.</span>}
            <div className="chip-toggles">
              {all.status === 'ready' &&
                all.data.segments.map((s) =>
                  s.segment === null ? null : (
                    <label key={s.segment} className={`chip-toggle${draft.segments.includes(s.segment) ? ' is-on chip-on' : ''}`} title={`${formatInt(s.eligible)} identified customers`}>
                      <input type="checkbox" checked={draft.segments.includes(s.segment)} onChange={() => set({ segments: toggle(draft.segments, s.segment!) })} />
                      {s.label}
                    </label>
                  ),
                )}
            </div>
          </fieldset>
          <div className="form-row form-row-pair">
            <span>
              <label htmlFor={ids.clvMin}>CLV at least</label>
              <input id={ids.clvMin} type="number" value={draft.clvMin} onChange={(e) => set({ clvMin: e.target.value })} />
            </span>
            <span>
              <label htmlFor={ids.clvMax}>CLV at most</label>
              <input id={ids.clvMax} type="number" value={draft.clvMax} onChange={(e) => set({ clvMax: e.target.value })} />
            </span>
            <span>
              <label htmlFor={ids.seen}>Seen within (days)</label>
              <input id={ids.seen} type="number" min={1} value={draft.seen} onChange={(e) => set({ seen: e.target.value })} />
            </span>
          </div>
          <div className="form-row form-row-pair">
            <span>
              <label htmlFor={ids.traitKey}>Trait</label>
              <input id={ids.traitKey} value={draft.traitKey} maxLength={100} onChange={(e) => set({ traitKey: e.target.value })} placeholder="plan" />
            </span>
            <span>
              <label htmlFor={ids.traitValue}>equals</label>
              <input id={ids.traitValue} value={draft.traitValue} maxLength={200} onChange={(e) => set({ traitValue: e.target.value })} placeholder="plus" />
            </span>
            <span>
              <label htmlFor={ids.account}>Account (group id)</label>
              <input id={ids.account} value={draft.account} maxLength={512} onChange={(e) => set({ account: e.target.value })} />
            </span>
          </div>
          <div className="form-row form-row-pair">
            <span>
              <label htmlFor={ids.kind}>Under test</label>
              <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value as '' | 'product' | 'category')}>
                <option value="">nothing yet</option>
                <option value="category">a category</option>
                <option value="product">a product</option>
              </select>
            </span>
            <span>
              <label htmlFor={ids.subject}>{kind === 'product' ? 'Product id' : 'Category'}</label>
              <input id={ids.subject} value={subject} maxLength={200} disabled={kind === ''} onChange={(e) => setSubject(e.target.value)} />
            </span>
            <span>
              <label htmlFor={ids.launched}>Launched on</label>
              <input id={ids.launched} type="date" value={launched} disabled={kind === ''} onChange={(e) => setLaunched(e.target.value)} />
            </span>
          </div>
          <div className="toolbar">
            <button type="button" className="button button-primary" onClick={() => void create()} disabled={creating || name.trim() === ''}>
              {creating ? 'Drawing the panel…' : 'Create the panel'}
            </button>
            <button type="button" className="button button-ghost" onClick={() => setDraft(EMPTY)}>
              Clear the filters
            </button>
          </div>
          {issues.length > 0 && (
            <ul className="issues" role="alert" data-testid="panel-issues">
              {issues.map((i) => (
                <li key={i}>{i}</li>
              ))}
            </ul>
          )}
        </div>
      </Panel>
      <Panel title="Who is eligible" how="Counted live from the latest stages and customer-value runs as the filters change; nothing is saved until you create the panel.">
        <div data-testid="panel-preview" aria-live="polite">
          {preview.status === 'loading' && <Loading label="Counting…" />}
          {preview.status === 'error' && (
            <ul className="issues" role="alert" data-testid="preview-issues">
              {issuesOf(preview.error).map((i) => (
                <li key={i}>{i}</li>
              ))}
            </ul>
          )}
          {preview.status === 'ready' && (
            <div className="stack stack-tight">
              <p>
                <strong data-testid="preview-eligible">{formatInt(preview.data.eligible)}</strong> eligible customers in {formatInt(preview.data.segments.length)} segments
                {preview.data.size > 0 && (
                  <>
                    ; {formatInt(preview.data.selected)} of {formatInt(preview.data.size)} seats filled
                  </>
                )}
                .
              </p>
              {preview.data.segments.length > 0 && <AllocationTable s={preview.data} testId="preview-segments" />}
              {preview.data.notes.map((n) => (
                <p key={n} className="muted">
                  {n}
                </p>
              ))}
            </div>
          )}
        </div>
      </Panel>
    </div>
  );
}

function PanelList() {
  const state = useApi((signal) => api.panels(signal), []);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  if (state.data.items.length === 0) return <Empty title="No panels yet">Build one above: pick who may take part, check who is eligible, and create it.</Empty>;
  return (
    <div className="table-scroll">
      <table className="table" data-testid="panel-list">
        <thead>
          <tr>
            <th scope="col">Panel</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Members
            </th>
            <th scope="col" className="num">
              Took part
            </th>
            <th scope="col">Under test</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {state.data.items.map((p) => (
            <tr key={p.id}>
              <th scope="row">
                <Link to={`/relationships/panels/${p.id}`}>{p.name}</Link>
              </th>
              <td>
                <Badge tone={STATUS_TONE[p.status]}>{p.status}</Badge>
              </td>
              <td className="num">{formatInt(p.members.total)}</td>
              <td className="num">{formatInt(p.members.byStatus['participated'] ?? 0)}</td>
              <td>{p.underTest ? `${p.underTest.kind} ${p.underTest.value}` : '–'}</td>
              <td>{formatDate(p.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Co-creation panels: build one from filters with a live count of who is eligible, and the panels so far. */
export function PanelsPage() {
  usePageTitle('Panels');
  return (
    <div className="page stack">
      <header className="page-head">
        <div>
          <h1>Relationships</h1>
          <p className="lede">Co-creation panels: reference customers who try new lines before they go wide, chosen across segments, invited, heard, and compared after the launch.</p>
        </div>
      </header>
      <RelationshipsTabs />
      <Builder />
      <Panel title="Panels">
        <PanelList />
      </Panel>
    </div>
  );
}
