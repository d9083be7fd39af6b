import type { ReactNode } from 'react';
import { NavLink } from 'react-router';

const TABS = [
  { to: '/listening', label: 'Themes', end: true },
  { to: '/listening/review', label: 'Tag review', end: false },
  { to: '/listening/defects', label: 'Defect ledger', end: false },
] as const;

/** The Listening pages share a header and a tab strip. */
export function ListeningFrame({ title, lede, actions, children }: { title: string; lede: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>{title}</h1>
          <p className="lede">{lede}</p>
        </div>
        {actions}
      </header>
      <nav className="tabs" aria-label="Listening">
        {TABS.map((t) => (
          <NavLink key={t.to} to={t.to} end={t.end} className="tab">
            {t.label}
          </NavLink>
        ))}
      </nav>
      {children}
    </div>
  );
}

/** A tiny line of monthly counts, drawn inline (no chart library for a 60-pixel sparkline). */
export function Sparkline({ values, label, width = 120, height = 28 }: { values: readonly number[]; label: string; width?: number; height?: number }) {
  if (values.length < 2) return null;
  const max = Math.max(1, ...values);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth={1.6} strokeLinejoin="round" />
    </svg>
  );
}

/** A sentiment score (−1…1) as a word with a tone. */
export function SentimentBadge({ score, how }: { score: number | null; how?: string }) {
  if (score === null) return null;
  const tone = score <= -0.05 ? 'negative' : score >= 0.05 ? 'positive' : 'neutral';
  const what = how ? `compound sentiment ${score.toFixed(2)} (−1 very negative … +1 very positive), ${how}` : `mean compound sentiment ${score.toFixed(2)} (−1 very negative … +1 very positive)`;
  return (
    <span className={`badge badge-sentiment-${tone}`} title={what}>
      {tone} {score.toFixed(2)}
    </span>
  );
}
