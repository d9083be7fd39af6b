import { NavLink } from 'react-router';

const TABS = [
  { to: '/relationships', label: 'LOVE ladder', end: true },
  { to: '/relationships/panels', label: 'Panels', end: false },
] as const;

/** The Relationships pages share a tab strip: the ladder, and the co-creation panels. */
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
