import { useEffect, useId, useState, type ReactNode } from 'react';
import { api } from '../../api/client.js';
import {
  TIMELINE_KINDS,
  feedbackDetails,
  interactionDetails,
  orderDetails,
  type TimelineItem,
  type TimelineKind,
} from '../../api/types.js';
import { Icon, type IconName } from '../../components/Icon.js';
import { Badge, DirectionBadge, Empty, ErrorPanel, KeyValueTable, Loading, Panel } from '../../components/ui.js';
import { countOf, capitalize, displayValue, formatDateTime, formatDayTime, formatInt, formatMoney, formatMonthHeading, humanize, monthKey } from '../../lib/format.js';

const PAGE_SIZE = 30;

const KIND: Record<TimelineKind, { label: string; plural: string; icon: IconName }> = {
  order: { label: 'Order', plural: 'Orders', icon: 'order' },
  interaction: { label: 'Interaction', plural: 'Interactions', icon: 'interaction' },
  feedback: { label: 'Feedback', plural: 'Feedback', icon: 'feedback' },
};

interface State {
  key: string;
  items: TimelineItem[];
  nextCursor: string | null;
  loading: boolean;
  error: Error | null;
}

/** The customer's history, newest first, grouped by day, filterable by kind and paged by cursor. */
export function Timeline({ userId }: { userId: string }) {
  const [kinds, setKinds] = useState<readonly TimelineKind[]>(TIMELINE_KINDS);
  const key = `${userId}|${kinds.join(',')}`;
  const [state, setState] = useState<State>({ key: '', items: [], nextCursor: null, loading: true, error: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    // Keep showing the previous items (dimmed) until the new filter's page arrives.
    setState((st) => ({ ...st, items: st.key.startsWith(`${userId}|`) ? st.items : [], loading: true, error: null }));
    api.timeline(userId, { kinds, limit: PAGE_SIZE }, ctl.signal).then(
      (page) => setState({ key, items: page.items, nextCursor: page.nextCursor, loading: false, error: null }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setState({ key, items: [], nextCursor: null, loading: false, error: error as Error });
      },
    );
    return () => ctl.abort();
  }, [key, userId, kinds, attempt]);

  const loadMore = () => {
    if (!state.nextCursor || state.loading) return;
    const cursor = state.nextCursor;
    setState((s) => ({ ...s, loading: true, error: null }));
    api.timeline(userId, { kinds, limit: PAGE_SIZE, cursor }).then(
      (page) => setState((s) => (s.key === key ? { ...s, items: [...s.items, ...page.items], nextCursor: page.nextCursor, loading: false } : s)),
      (error: unknown) => setState((s) => (s.key === key ? { ...s, loading: false, error: error as Error } : s)),
    );
  };

  const toggle = (k: TimelineKind) =>
    setKinds((ks) => (ks.includes(k) ? ks.filter((x) => x !== k) : TIMELINE_KINDS.filter((x) => x === k || ks.includes(x))));

  // Consecutive items of one calendar month share a heading.
  const months: { key: string; label: string; items: TimelineItem[] }[] = [];
  for (const item of state.items) {
    const k = monthKey(item.at);
    const last = months[months.length - 1];
    if (last && last.key === k) last.items.push(item);
    else months.push({ key: k, label: formatMonthHeading(item.at), items: [item] });
  }

  const filterLabelId = useId();
  const filters = (
    <div className="chip-toggles" role="group" aria-labelledby={filterLabelId}>
      <span className="chip-toggles-label" id={filterLabelId}>
        Show
      </span>
      {TIMELINE_KINDS.map((k) => {
        const on = kinds.includes(k);
        return (
          <label key={k} className={`chip-toggle kind-${k}${on ? ' is-on' : ''}`}>
            <input type="checkbox" checked={on} disabled={on && kinds.length === 1} onChange={() => toggle(k)} data-testid={`filter-${k}`} />
            <Icon name={KIND[k].icon} size={13} />
            {KIND[k].plural}
          </label>
        );
      })}
    </div>
  );

  return (
    <Panel title="Timeline" how="Orders, interactions and feedback of this customer, newest first, by the time they happened (shown in your time zone)." actions={filters} className="panel-timeline">
      {state.error && state.items.length === 0 ? (
        <ErrorPanel error={state.error} onRetry={() => setAttempt((n) => n + 1)} />
      ) : state.loading && state.items.length === 0 ? (
        <Loading label="Loading timeline…" />
      ) : state.items.length === 0 && state.key === key ? (
        <Empty title="Nothing here yet">No {kinds.map((k) => KIND[k].plural.toLowerCase()).join(', ')} recorded for this customer.</Empty>
      ) : (
        <>
          <ol className={`timeline${state.key !== key ? ' is-stale' : ''}`} aria-label="Timeline, newest first" aria-busy={state.loading}>
            {months.map((m) => (
              <li key={`${m.key}-${m.items[0]?.kind}-${m.items[0]?.id}`} className="timeline-group">
                <h3 className="timeline-heading">{m.label}</h3>
                <ol className="timeline-items">
                  {m.items.map((item) => (
                    <TimelineEntry key={`${item.kind}-${item.id}`} item={item} />
                  ))}
                </ol>
              </li>
            ))}
          </ol>
          <div className="list-foot">
            <span className="muted" aria-live="polite">
              {state.nextCursor
                ? `Showing the latest ${countOf(state.items.length, 'event')}`
                : state.items.length === 1
                  ? 'Showing the only event'
                  : `Showing all ${countOf(state.items.length, 'event')}`}
            </span>
            {state.error && <span className="error-inline">{state.error.message}</span>}
            {state.nextCursor && (
              <button type="button" className="button" onClick={loadMore} disabled={state.loading} data-testid="timeline-more">
                {state.loading ? 'Loading…' : 'Load more'}
              </button>
            )}
          </div>
        </>
      )}
    </Panel>
  );
}

function TimelineEntry({ item }: { item: TimelineItem }) {
  return (
    <li className={`timeline-item kind-${item.kind}`} data-testid="timeline-item" data-kind={item.kind}>
      <span className="timeline-icon" aria-hidden="true">
        <Icon name={KIND[item.kind].icon} size={15} />
      </span>
      <div className="timeline-body">
        <div className="timeline-line">
          <span className="sr-only">{KIND[item.kind].label}: </span>
          <span className="timeline-title">{capitalize(item.title)}</span>
          <time className="timeline-time" dateTime={item.at} title={formatDateTime(item.at)}>
            {formatDayTime(item.at)}
          </time>
        </div>
        <Details
          item={item}
          badges={
            <>
              {item.channel && <Badge title="Channel">{humanize(item.channel)}</Badge>}
              {item.direction && item.kind === 'interaction' && <DirectionBadge direction={item.direction} />}
            </>
          }
        />
      </div>
    </li>
  );
}

/** Each kind puts its own badges after the shared ones (`badges`), then its body below. */
function Details({ item, badges }: { item: TimelineItem; badges: ReactNode }) {
  switch (item.kind) {
    case 'order':
      return <OrderDetails details={item.details} badges={badges} />;
    case 'interaction':
      return <InteractionDetails details={item.details} badges={badges} />;
    case 'feedback':
      return <FeedbackDetails details={item.details} badges={badges} />;
  }
}

function OrderDetails({ details, badges }: { details: Record<string, unknown>; badges: ReactNode }) {
  const o = orderDetails(details);
  const [open, setOpen] = useState(false);
  const id = useId();
  const units = o.lines.reduce((s, l) => s + l.quantity, 0);
  return (
    <>
      <div className="timeline-badges">
        {badges}
        {o.lines.length > 0 && (
          <button type="button" className="link-button" aria-expanded={open} aria-controls={id} onClick={() => setOpen((v) => !v)}>
            <Icon name={open ? 'chevronDown' : 'chevronRight'} size={14} />
            {o.lines.length === 1 ? '1 line' : `${formatInt(o.lines.length)} lines`} · {formatInt(units)} {units === 1 ? 'unit' : 'units'}
          </button>
        )}
      </div>
      {o.lines.length > 0 && (
        <div className="expand">
          <div id={id} hidden={!open} className="expand-body">
            <table className="table table-compact table-lines">
              <caption className="sr-only">Lines of order {o.orderId}</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Category</th>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col" className="num">
                    Qty
                  </th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {o.lines.map((l, i) => (
                  <tr key={`${l.productId}-${i}`}>
                    <th scope="row">
                      {l.name ?? l.productId}
                      {l.name && <code className="sub-code">{l.productId}</code>}
                    </th>
                    <td>{l.category ?? <span className="muted">—</span>}</td>
                    <td className="num">{formatMoney(l.price, o.currency)}</td>
                    <td className="num">{formatInt(l.quantity)}</td>
                    <td className="num">{formatMoney(l.price * l.quantity, o.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </>
  );
}

const INLINE_PROPS = 4;
const INLINE_VALUE = 48;

/** A few short properties read inline ("plan: pro"); more, or long ones, fold into a table. */
function PropertyList({ properties }: { properties: Record<string, unknown> }) {
  const entries = Object.entries(properties);
  if (entries.length === 0) return null;
  if (entries.length <= INLINE_PROPS && entries.every(([, v]) => displayValue(v).length <= INLINE_VALUE)) {
    return (
      <dl className="props-inline">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{displayValue(v)}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return (
    <details className="expand props">
      <summary>
        {entries.length === 1 ? '1 property' : `${formatInt(entries.length)} properties`}
      </summary>
      <KeyValueTable entries={entries} />
    </details>
  );
}

function InteractionDetails({ details, badges }: { details: Record<string, unknown>; badges: ReactNode }) {
  const d = interactionDetails(details);
  return (
    <>
      <div className="timeline-badges">
        {badges}
        <span className="meta-text">
          {humanize(d.type)} · {d.source}
        </span>
      </div>
      <PropertyList properties={d.properties} />
    </>
  );
}

function Stars({ rating }: { rating: number }) {
  // Ratings up to 5 are drawn as stars; other scales (NPS 0–10) as a number.
  if (rating < 0 || rating > 5 || !Number.isInteger(rating)) return <Badge tone="rating">rating {rating}</Badge>;
  return (
    <span className="stars" role="img" aria-label={`${rating} of 5 stars`}>
      {Array.from({ length: 5 }, (_, i) => (
        <Icon key={i} name="star" size={13} className={i < rating ? 'star-on' : 'star-off'} />
      ))}
    </span>
  );
}

function FeedbackDetails({ details, badges }: { details: Record<string, unknown>; badges: ReactNode }) {
  const f = feedbackDetails(details);
  return (
    <>
      <div className="timeline-badges">
        {badges}
        <Badge tone="feedback">{humanize(f.kind)}</Badge>
        {f.status && <Badge tone={`status-${f.status.replace(/[^a-z0-9_-]/gi, '').toLowerCase()}`}>{humanize(f.status)}</Badge>}
        {f.rating !== null && <Stars rating={f.rating} />}
      </div>
      {f.text && <blockquote className="feedback-text">{f.text}</blockquote>}
      <PropertyList properties={f.properties} />
    </>
  );
}
