import type { ReactNode } from 'react';
import { NavLink } from 'react-router';

const TABS = [
  { to: '/relationships', label: 'LOVE ladder', end: true },
  { to: '/relationships/actions', label: 'Actions', end: false },
  { to: '/relationships/accounts', label: 'Accounts', end: false },
  { to: '/relationships/panels', label: 'Panels', end: false },
  { to: '/relationships/visits', label: 'Visits', end: false },
  { to: '/relationships/coverage', label: 'Coverage', end: false },
] as const;

/** The tab strip the Relationships pages share: the ladder, actions, accounts, panels, visits and coverage. */
export function RelationshipsTabs() {
  return (
    <nav className="tabs" aria-label="Relationships">
      {TABS.map((t) => (
        <NavLink key={t.to} to={t.to} end={t.end} className="tab">
          {t.label}
        </NavLink>
      ))}
    </nav>
  );
}

/** The Relationships pages share a header and the tab strip. */
export function RelationshipsFrame({ title, lede, actions, children }: { title: string; lede: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <div className="page stack">
      <header className="page-head">
        <div>
          <h1>{title}</h1>
          <p className="lede">{lede}</p>
        </div>
        {actions}
      </header>
      <RelationshipsTabs />
      {children}
    </div>
  );
}
