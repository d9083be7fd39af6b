import { useId, type ReactNode } from 'react';
import { InfoTip } from './InfoTip.js';
import { ApiError } from '../api/client.js';
import { Icon, type IconName } from './Icon.js';
import { displayValue } from '../lib/format.js';

export { InfoTip };

/** A key figure: label, big number, optional note on how it is computed and a secondary line. */
export function Tile({
  label,
  value,
  title,
  how,
  sub,
  icon,
  testId,
}: {
  label: string;
  value: ReactNode;
  title?: string;
  how?: ReactNode;
  sub?: ReactNode;
  icon?: IconName;
  testId?: string;
}) {
  return (
    <div className="tile" data-testid={testId}>
      <div className="tile-label">
        {icon && <Icon name={icon} size={15} />}
        <span>{label}</span>
        {how && <InfoTip>{how}</InfoTip>}
      </div>
      <div className="tile-value" title={title}>
        {value}
      </div>
      {sub && <div className="tile-sub">{sub}</div>}
    </div>
  );
}

export function Panel({ title, actions, how, children, className }: { title: ReactNode; actions?: ReactNode; how?: ReactNode; children: ReactNode; className?: string }) {
  const id = useId();
  return (
    <section className={className ? `panel ${className}` : 'panel'} aria-labelledby={id}>
      <header className="panel-head">
        <h2 id={id}>
          {title}
          {how && <InfoTip>{how}</InfoTip>}
        </h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorPanel({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong.</strong>
      <span>
        {error.message}
        {code && <code className="error-code">{code}</code>}
      </span>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <span>{children}</span>}
    </div>
  );
}

export function Badge({ tone = 'neutral', children, title }: { tone?: string; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const DIRECTION_TEXT = {
  inbound: { icon: 'inbound', label: 'Inbound', hint: 'the customer reached out or acted' },
  outbound: { icon: 'outbound', label: 'Outbound', hint: 'the company reached out' },
  mutual: { icon: 'mutual', label: 'Mutual', hint: 'a two-way conversation' },
} as const satisfies Record<string, { icon: IconName; label: string; hint: string }>;

export function DirectionBadge({ direction }: { direction: keyof typeof DIRECTION_TEXT }) {
  const d = DIRECTION_TEXT[direction];
  return (
    <span className={`badge badge-${direction}`} title={`${d.label}: ${d.hint}`}>
      <Icon name={d.icon} size={12} />
      {d.label}
    </span>
  );
}

/** Screen-reader-only text. */
export function VisuallyHidden({ children }: { children: ReactNode }) {
  return <span className="sr-only">{children}</span>;
}

/** Names and values, one row each (traits, properties). */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A trait's value: objects as their own fields (nested), lists one item a line, the rest as text. */
function FieldValue({ value }: { value: unknown }) {
  if (isRecord(value)) {
    const entries = Object.entries(value);
    return entries.length === 0 ? <span className="muted">—</span> : <KeyValueTable entries={entries} nested />;
  }
  if (Array.isArray(value)) {
    const list = value as unknown[];
    if (list.length === 0) return <span className="muted">—</span>;
    if (list.every((x) => !isRecord(x) && !Array.isArray(x))) return <>{list.map(displayValue).join(', ')}</>;
    return (
      <ol className="kv-list">
        {list.map((x, i) => (
          <li key={i}>
            <FieldValue value={x} />
          </li>
        ))}
      </ol>
    );
  }
  return <>{displayValue(value)}</>;
}

export function KeyValueTable({ entries, testId, nested = false }: { entries: readonly (readonly [string, unknown])[]; testId?: string; nested?: boolean }) {
  return (
    <table className={`table table-kv${nested ? ' table-kv-nested' : ''}`} data-testid={testId}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>
              <FieldValue value={v} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
