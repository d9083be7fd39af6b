import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client.js';
import type { ReviewItem, TagSet } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Tile } from '../../components/ui.js';
import { countOf, formatAmount, formatDateTime, formatInt, humanize } from '../../lib/format.js';
import { useApi } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { ListeningFrame } from './ListeningTabs.js';

function ReviewRow({ item, tags, onDone }: { item: ReviewItem; tags: string[]; onDone: (id: number) => void }) {
  const [choice, setChoice] = useState(item.suggested);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (tag: string) => {
    setBusy(true);
    setError(null);
    try {
      await api.tagItem(item.feedbackId, item.tagSet, tag);
      onDone(item.feedbackId);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <li className="member review-item" data-testid="review-item">
      <p className="feedback-text">{item.text}</p>
      <div className="member-meta">
        <span className="badge">{humanize(item.kind)}</span>
        {item.userId && <Link to={`/customers/${encodeURIComponent(item.userId)}`}>{item.userId}</Link>}
        {item.clv !== null && <span className="muted">CLV {formatAmount(item.clv)}</span>}
        <span className="muted">{formatDateTime(item.at)}</span>
      </div>
      <div className="toolbar">
        <span>
          {humanize(item.tagSet)}: <strong>{item.suggested}</strong> <span className="muted" title="the model's confidence in its suggestion">({Math.round(item.confidence * 100)}% sure)</span>
        </span>
        <button type="button" className="button" disabled={busy} onClick={() => void save(item.suggested)}>
          Accept
        </button>
        <div className="field field-inline">
          <label htmlFor={`tag-${item.feedbackId}`}>or</label>
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
    </li>
  );
}

function Queue({ sets, tagSet }: { sets: TagSet[]; tagSet: string | undefined }) {
  const state = useApi((signal) => api.reviewQueue({ tagSet }, signal), [tagSet]);
  const [done, setDone] = useState<Set<number>>(new Set());
  const tagsOf = (set: string) => sets.find((s) => s.tagSet === set)?.tags.map((t) => t.name) ?? [];
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorPanel error={state.error} onRetry={state.reload} />;
  const items = state.data.items.filter((i) => !done.has(i.feedbackId));
  if (items.length === 0) return <Empty title="Nothing to review">Every suggestion is at least {Math.round(state.data.threshold * 100)}% sure, or has been reviewed.</Empty>;
  return (
    <>
      <p className="muted">
        {countOf(Math.max(0, state.data.total - done.size), 'suggestion')} below {Math.round(state.data.threshold * 100)}% confidence, least sure first. What you accept or correct becomes an example; the model retrains at the next listening run.
      </p>
      <ul className="member-list" data-testid="review-queue">
        {items.map((i) => (
          <ReviewRow key={`${i.feedbackId}:${i.tagSet}`} item={i} tags={tagsOf(i.tagSet)} onDone={(id) => setDone((d) => new Set(d).add(id))} />
        ))}
      </ul>
    </>
  );
}

export function ReviewPage() {
  usePageTitle('Tag review');
  const [params, setParams] = useSearchParams();
  const sets = useApi((signal) => api.tagSets(signal), []);
  const tagSet = params.get('set') ?? undefined;
  return (
    <ListeningFrame title="Listening" lede="Tags the team defined, learned from the examples they labelled; the model's least confident suggestions wait here for a person.">
      {sets.status === 'loading' && <Loading />}
      {sets.status === 'error' && <ErrorPanel error={sets.error} onRetry={sets.reload} />}
      {sets.status === 'ready' && sets.data.tagSets.length === 0 && <Empty title="No tags yet">Define tags with POST /api/tags, or tag a few items: the model learns from them.</Empty>}
      {sets.status === 'ready' && sets.data.tagSets.length > 0 && (
        <>
          <div className="tiles">
            {sets.data.tagSets.map((s) => (
              <Tile
                key={s.tagSet}
                label={`Tag set: ${humanize(s.tagSet)}`}
                value={`${formatInt(s.toReview)} to review`}
                sub={`${countOf(s.tags.length, 'tag')} · ${countOf(s.examples, 'example')} · ${formatInt(s.suggested)} suggested${s.model?.accuracy != null ? ` · ${Math.round(s.model.accuracy * 100)}% accurate` : ''}${s.model?.stale ? ' · retrains at the next run' : ''}`}
                how={`Accuracy: cross-validated on the examples people labelled (5 folds), each fold tagged the way the items are. How the items were tagged: ${s.model?.method ?? 'not trained yet'}. Suggestions below the threshold are not counted as tags until reviewed.`}
              />
            ))}
          </div>
          <div className="toolbar">
            <div className="field field-inline">
              <label htmlFor="review-set">Tag set</label>
              <select id="review-set" value={tagSet ?? ''} onChange={(e) => setParams(e.target.value ? { set: e.target.value } : {}, { replace: true })}>
                <option value="">all</option>
                {sets.data.tagSets.map((s) => (
                  <option key={s.tagSet} value={s.tagSet}>
                    {humanize(s.tagSet)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <Queue key={tagSet ?? ''} sets={sets.data.tagSets} tagSet={tagSet} />
        </>
      )}
    </ListeningFrame>
  );
}
