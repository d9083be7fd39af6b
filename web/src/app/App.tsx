import { useCallback, useEffect, useMemo, useState } from 'react';
import { Route, Routes } from 'react-router';
import { api, onUnauthorized } from '../api/client.js';
import type { SessionUser } from '../api/types.js';
import { ErrorPanel, Loading } from '../components/ui.js';
import { NotFoundPage } from '../pages/NotFoundPage.js';
import { CAPABILITIES } from './capabilities.js';
import { SessionContext, type Session } from './session.js';
import { Shell } from './Shell.js';
import { SignIn } from './SignIn.js';

type State =
  | { status: 'loading' }
  | { status: 'error'; error: Error }
  | { status: 'anonymous'; reason: 'signed-out' | 'expired' | 'link-used' | 'none' }
  | { status: 'signed-in'; user: SessionUser };

/** Checks the session once, then shows the signed-in app or the sign-in page. */
export function App() {
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    api.session(ctl.signal).then(
      // The server sends a spent sign-in link here with ?signin=link-used.
      (user) => setState(user ? { status: 'signed-in', user } : { status: 'anonymous', reason: new URLSearchParams(window.location.search).get('signin') === 'link-used' ? 'link-used' : 'none' }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => ctl.abort();
  }, [attempt]);

  // Any 401 later on (session expired or revoked) sends the user back to the sign-in page.
  useEffect(() => onUnauthorized(() => setState({ status: 'anonymous', reason: 'expired' })), []);

  const signOut = useCallback(async () => {
    await api.signOut().catch(() => undefined);
    setState({ status: 'anonymous', reason: 'signed-out' });
  }, []);

  const session = useMemo<Session | null>(() => (state.status === 'signed-in' ? { user: state.user, signOut } : null), [state, signOut]);

  switch (state.status) {
    case 'loading':
      return (
        <div className="boot">
          <Loading />
        </div>
      );
    case 'error':
      return (
        <div className="boot">
          <ErrorPanel error={state.error} onRetry={() => setAttempt((n) => n + 1)} />
        </div>
      );
    case 'anonymous':
      return <SignIn reason={state.reason} />;
    case 'signed-in':
      return (
        <SessionContext.Provider value={session}>
          <Shell>
            <Routes>
              {CAPABILITIES.flatMap((c) => c.routes.map((r) => <Route key={r.path} path={r.path} element={r.element} />))}
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </Shell>
        </SessionContext.Provider>
      );
  }
}
