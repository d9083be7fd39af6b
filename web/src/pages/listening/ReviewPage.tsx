import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client.js';
import type { BulkAccept, ReviewItem, ReviewQueue, TagChange, TagSet } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Panel, Tile } from '../../components/ui.js';
import { countOf, formatMoney, formatDateTime, formatInt, humanize } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { ListeningFrame } from './ListeningTabs.js';

/** Suggestions at least this confident are offered for a bulk accept. */
const BULK_MIN = 0.45;

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** The set's cross-validated accuracy with its interval and the examples it rests on, or why there is none. */
export function accuracyLine(s: TagSet): string {
  const v = s.model?.validation;
  if (!s.model) return 'not trained yet';
  if (!v) return s.model.examples < 10 ? `not cross-validated: ${countOf(s.model.examples, 'example')} (10 needed)` : 'not cross-validated per tag yet (at the next run)';
  return `${pct(v.accuracy.estimate)} accurate (95% CI ${Math.round(v.accuracy.low * 100)}–${pct(v.accuracy.high)}, ${countOf(v.n, 'example')}, cross-validated)`;
}

function tagFigure(t: TagSet['tags'][number]): string {
  const p = t.validation.precision;
  if (p) return `${pct(p.estimate)} right (95% CI ${Math.round(p.low * 100)}–${pct(p.high)})`;
  return t.validation.note;
}

function ReviewRow({ item, tags, onChanged }: { item: ReviewItem; tags: string[]; onChanged: (delta: number) => void }) {
  const currency = useValueCurrency();
  const [choice, setChoice] = useState(item.suggested);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<TagChange | null>(null);
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const save = (tag: string) =>
    run(async () => {
      setDone(await api.tagItem(item.feedbackId, item.tagSet, tag));
      onChanged(-1);
    });
  const undo = () =>
    run(async () => {
      await api.undoTag(done!);
      setDone(null);
      setChoice(item.suggested);
      onChanged(1);
    });
  const held = item.heldOut;
  return (
    <li className="member review-item" data-testid={done ? 'review-done' : 'review-item'}>
      <p className="feedback-text">{item.text}</p>
      <div className="member-meta">
        <span className="badge">{humanize(item.kind)}</span>
        {item.userId && <Link to={`/customers/${encodeURIComponent(item.userId)}`}>{item.userId}</Link>}
        {item.clv !== null && <span className="muted">CLV {formatMoney(item.clv, currency)}</span>}
        <span className="muted">{formatDateTime(item.at)}</span>
      </div>
      {done ? (
        <div className="toolbar">
          <span>
            Tagged <strong>{done.tag}</strong> in {humanize(done.tagSet)}.
          </span>
          <button type="button" className="button" disabled={busy} onClick={() => void undo()}>
            Undo
          </button>
          {error && <span className="error-inline">{error}</span>}
        </div>
      ) : (
        <>
          <p className="review-question">
            <strong>{item.question}</strong>{' '}
            <span className="muted" title="the model's confidence in its suggestion: a ranking of certainty, not a probability">
              ({humanize(item.tagSet)}; the model is {pct(item.confidence)} sure
              {held && held.n > 0 ? `; at this confidence it was right on ${held.correct} of ${held.n} held-out examples` : '; none of its held-out examples had a confidence this low'})
            </span>
          </p>
          <p className="muted review-note" data-testid="review-note">
            “{item.suggested}”: {item.tagNote}
          </p>
          <div className="toolbar">
            <button type="button" className="button" disabled={busy} onClick={() => void save(item.suggested)}>
              Accept
            </button>
            <div className="field field-inline">
              <label htmlFor={`tag-${item.feedbackId}`}>or it is</label>
              <select id={`tag-${item.feedbackId}`} value={choice} onChange={(e) => setChoice(e.target.value)}>
                {tags.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" className="button" disabled={busy || choice === item.suggested} onClick={() => void save(choice)}>
              Correct
            </button>
            {error && <span className="error-inline">{error}</span>}
          </div>
        </>
      )}
    </li>
  );
}

function BulkBar({ queue, done, setDone, onChanged }: { queue: ReviewQueue; done: BulkAccept | null; setDone: (d: BulkAccept | null) => void; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const bulk = queue.bulk;
  if (!bulk) return null;
  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const held = bulk.heldOut;
  const how =
    held.n > 0 && held.accuracy
      ? `Held-out examples the model tagged at ${pct(bulk.minConfidence)}–${pct(queue.threshold)} confidence: right on ${held.correct} of ${held.n} (${pct(held.accuracy.estimate)}, 95% CI ${Math.round(held.accuracy.low * 100)}–${pct(held.accuracy.high)}).`
      : `None of the held-out examples were tagged at ${pct(bulk.minConfidence)}–${pct(queue.threshold)} confidence: how often these are right is not known.`;
  return (
    <div className="toolbar" data-testid="bulk-accept">
      {done ? (
        <>
          <span>Accepted {countOf(done.accepted, 'suggestion')}: they are examples now.</span>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() =>
              void act(async () => {
                await api.undoChanges(done.changes);
                setDone(null);
              })
            }
          >
            Undo
          </button>
        </>
      ) : (
        bulk.count > 0 && (
          <button type="button" className="button" disabled={busy} title={how} onClick={() => void act(async () => setDone(await api.acceptSuggestions(bulk.tagSet, bulk.minConfidence)))}>
            Accept {countOf(bulk.count, 'suggestion')} at ≥ {pct(bulk.minConfidence)} confidence
          </button>
        )
      )}
      {!done && bulk.count > 0 && <span className="muted">{how}</span>}
      {error && <span className="error-inline">{error}</span>}
    </div>
  );
}

function Queue({ sets, tagSet, onChanged }: { sets: TagSet[]; tagSet: string | undefined; onChanged: () => void }) {
  const [version, setVersion] = useState(0);
  const state = useApi((signal) => api.reviewQueue({ tagSet, minConfidence: BULK_MIN }, signal), [tagSet, version]);
  const [delta, setDelta] = useState(0);
  // Kept here: the queue reloads after a bulk accept, and its Undo must outlive that.
  const [bulkDone, setBulkDone] = useState<BulkAccept | null>(null);
  const tagsOf = (set: string) => sets.find((s) => s.tagSet === set)?.tags.map((t) => t.name) ?? [];
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  const items = state.data.items;
  const total = Math.max(0, state.data.total + delta);
  return (
    <>
      <BulkBar
        queue={state.data}
        done={bulkDone}
        setDone={setBulkDone}
        onChanged={() => {
          setDelta(0);
          setVersion((v) => v + 1);
          onChanged();
        }}
      />
      {items.length === 0 ? (
        <Empty title="Nothing to review">Every suggestion is at least {pct(state.data.threshold)} sure, or has been reviewed.</Empty>
      ) : (
        <>
          <p className="muted" data-testid="queue-count">
            {countOf(total, 'suggestion')} below {pct(state.data.threshold)} confidence, least sure first: the answers that teach the model most. What you accept or correct becomes an example; the model retrains at the next listening run.
          </p>
          <ul className="member-list" data-testid="review-queue">
            {items.map((i) => (
              <ReviewRow
                key={`${i.feedbackId}:${i.tagSet}`}
                item={i}
                tags={tagsOf(i.tagSet)}
                onChanged={(d) => {
                  setDelta((x) => x + d);
                  onChanged();
                }}
              />
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/** An action that asks before it goes (deleting), inline rather than in a browser dialog. */
function Confirm({ label, question, onConfirm }: { label: string; question: string; onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking)
    return (
      <button type="button" className="button" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className="button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void onConfirm().finally(() => {
            setBusy(false);
            setAsking(false);
          });
        }}
      >
        Yes, delete
      </button>
      <button type="button" className="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

function Rename({ label, value, onRename }: { label: string; value: string; onRename: (name: string) => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(value);
  if (!editing)
    return (
      <button
        type="button"
        className="button"
        onClick={() => {
          setName(value);
          setEditing(true);
        }}
      >
        Rename
      </button>
    );
  return (
    <form
      className="field field-inline"
      onSubmit={(e) => {
        e.preventDefault();
        void onRename(name.trim()).then(() => setEditing(false));
      }}
    >
      <input aria-label={label} value={name} onChange={(e) => setName(e.target.value)} />
      <button type="submit" className="button" disabled={name.trim() === '' || name.trim() === value}>
        Save
      </button>
      <button type="button" className="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

/** The tag sets and their tags, each with its own figure, and the controls to create, rename and delete them. */
function TagEditor({ sets, onChanged }: { sets: TagSet[]; onChanged: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [newSet, setNewSet] = useState(sets[0]?.tagSet ?? '');
  const [newTag, setNewTag] = useState('');
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      await onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Panel title="Tags" how="Each tag's figure is cross-validated on its own examples: how often the model was right when it gave that tag to a held-out example. A tag with fewer than 10 held-out examples says so instead of borrowing the set's accuracy.">
      {error && (
        <p className="error-inline" role="alert">
          {error}
        </p>
      )}
      {sets.map((s) => (
        <div key={s.tagSet} className="tag-set" data-testid="tag-set">
          <div className="toolbar">
            <h3>{humanize(s.tagSet)}</h3>
            <Rename label={`New name of tag set ${s.tagSet}`} value={s.tagSet} onRename={(name) => act(() => api.renameTagSet(s.tagSet, name))} />
            <Confirm label="Delete set" question={`Delete the set “${s.tagSet}”, its ${countOf(s.tags.length, 'tag')}, ${countOf(s.examples, 'example')} and ${countOf(s.suggested, 'suggestion')}?`} onConfirm={() => act(() => api.deleteTagSet(s.tagSet))} />
          </div>
          <table className="table" data-testid="tag-table">
            <thead>
              <tr>
                <th>Tag</th>
                <th className="num">Examples</th>
                <th className="num">Suggested</th>
                <th className="num">To review</th>
                <th>Its suggestions</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {s.tags.map((t) => (
                <tr key={t.id} data-testid="tag-row">
                  <td>{t.name}</td>
                  <td className="num">{formatInt(t.examples)}</td>
                  <td className="num">{formatInt(t.suggested)}</td>
                  <td className="num">{formatInt(t.toReview)}</td>
                  <td title={t.validation.note}>{tagFigure(t)}</td>
                  <td className="tag-actions">
                    <Rename label={`New name of tag ${t.name}`} value={t.name} onRename={(name) => act(() => api.renameTag(t.id, name))} />
                    <Confirm label="Delete" question={`Delete “${t.name}” with its ${countOf(t.examples, 'example')} and ${countOf(t.suggested, 'suggestion')}?`} onConfirm={() => act(() => api.deleteTag(t.id))} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.createTag(newSet.trim(), newTag.trim());
            setNewTag('');
          });
        }}
      >
        <div className="field field-inline">
          <label htmlFor="new-tag-set">Tag set</label>
          <input id="new-tag-set" list="tag-set-names" value={newSet} onChange={(e) => setNewSet(e.target.value)} />
          <datalist id="tag-set-names">
            {sets.map((s) => (
              <option key={s.tagSet} value={s.tagSet} />
            ))}
          </datalist>
        </div>
        <div className="field field-inline">
          <label htmlFor="new-tag">New tag</label>
          <input id="new-tag" value={newTag} onChange={(e) => setNewTag(e.target.value)} />
        </div>
        <button type="submit" className="button" disabled={newSet.trim() === '' || newTag.trim() === ''}>
          Create tag
        </button>
      </form>
    </Panel>
  );
}

export function ReviewPage() {
  usePageTitle('Tag review');
  const [params, setParams] = useSearchParams();
  const sets = useApi((signal) => api.tagSets(signal), []);
  // After every action the counts are read again at once, without the page going back to "Loading".
  const [fresh, setFresh] = useState<TagSet[] | null>(null);
  const refresh = async () => setFresh((await api.tagSets()).tagSets);
  const list = fresh ?? (sets.status === 'ready' ? sets.data.tagSets : null);
  const [edits, setEdits] = useState(0);
  const chosen = params.get('set') ?? undefined;
  // With a single set, the queue is that set's (so a bulk accept is offered).
  const tagSet = chosen ?? (list && list.length === 1 ? list[0]!.tagSet : undefined);
  return (
    <ListeningFrame title="Listening" lede="Tags the team defined, learned from the examples they labelled; the model's least confident suggestions wait here for a person.">
      {sets.status === 'loading' && !list && <Loading />}
      {sets.status === 'error' && !list && <ErrorPanel error={sets.error} onRetry={sets.reload} />}
      {list && (
        <>
          {list.length === 0 && <Empty title="No tags yet">Create a tag below, or tag a few items: the model learns from them.</Empty>}
          {list.length > 0 && (
            <div className="tiles">
              {list.map((s) => (
                <Tile
                  key={s.tagSet}
                  testId="tag-set-tile"
                  label={`Tag set: ${humanize(s.tagSet)}`}
                  value={`${formatInt(s.toReview)} to review`}
                  sub={`${countOf(s.tags.length, 'tag')} · ${countOf(s.examples, 'example')} · ${formatInt(s.suggested)} suggested · ${accuracyLine(s)}${s.model?.stale ? ' · retrains at the next run' : ''}`}
                  how={`Accuracy: cross-validated on the examples people labelled (5 folds), each fold tagged the way the items are; the interval is Wilson's 95% score interval. It is the set's figure: each tag has its own below, and a tag with few examples says so. How the items were tagged: ${s.model?.method ?? 'not trained yet'}. Suggestions below the threshold are not counted as tags until reviewed.`}
                />
              ))}
            </div>
          )}
          <TagEditor
            key={list.map((s) => s.tagSet).join('|')}
            sets={list}
            onChanged={async () => {
              await refresh();
              setEdits((n) => n + 1);
            }}
          />
          {list.length > 1 && (
            <div className="toolbar">
              <div className="field field-inline">
                <label htmlFor="review-set">Tag set</label>
                <select id="review-set" value={chosen ?? ''} onChange={(e) => setParams(e.target.value ? { set: e.target.value } : {}, { replace: true })}>
                  <option value="">all</option>
                  {list.map((s) => (
                    <option key={s.tagSet} value={s.tagSet}>
                      {humanize(s.tagSet)}
                    </option>
                  ))}
                </select>
              </div>
            </div>
          )}
          {list.length > 0 && <Queue key={`${tagSet ?? ''}:${edits}`} sets={list} tagSet={tagSet} onChanged={() => void refresh()} />}
        </>
      )}
    </ListeningFrame>
  );
}
