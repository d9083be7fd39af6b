import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { Icon } from '../components/Icon.js';
import { initials } from '../lib/format.js';
import { CAPABILITIES } from './capabilities.js';
import { useSession } from './session.js';

/** The signed-in frame: navigation on the left, the user in the header, the page in the middle. */
export function Shell({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Rapport</span>
        </div>
        <nav aria-label="Main">
          <ul className="nav-list">
            {CAPABILITIES.map((c) => (
              <li key={c.id}>
                <NavLink to={c.path} end={c.end ?? false} className="nav-link" title={c.description}>
                  <Icon name={c.icon} />
                  <span>{c.label}</span>
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <a href="/api/openapi.json" className="muted-link">
            API reference (OpenAPI)
          </a>
        </div>
      </aside>
      <div className="workspace">
        <header className="topbar">
          <div className="topbar-spacer" />
          <div className="user" aria-label="Signed-in user">
            <span className="avatar" aria-hidden="true">
              {initials(user.name || user.email)}
            </span>
            <span className="user-text">
              <span className="user-name" data-testid="user-name">
                {user.name}
              </span>
              <span className="user-email">
                {user.email} · {user.role}
              </span>
            </span>
            <button type="button" className="button button-ghost" onClick={() => void signOut()}>
              <Icon name="signout" size={16} />
              Sign out
            </button>
          </div>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
