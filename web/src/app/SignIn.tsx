import { usePageTitle } from '../lib/title.js';

/** Shown without a session: staff sign in with a one-time link, there is no password form. */
export function SignIn({ reason }: { reason: 'signed-out' | 'expired' | 'link-used' | 'none' }) {
  usePageTitle('Sign in');
  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <span>Rapport</span>
        </div>
        <h1>Sign in</h1>
        {reason === 'signed-out' && <p className="notice">You are signed out.</p>}
        {reason === 'expired' && <p className="notice">Your session has ended. Sign in again to continue.</p>}
        {reason === 'link-used' && (
          <p className="notice" role="alert" data-testid="link-used">
            This sign-in link has already been used or has expired: each link signs in once, within 24 hours. Make a new one as described below.
          </p>
        )}
        <p>Rapport signs staff in with one-time links instead of passwords.</p>
        <ol className="signin-steps">
          <li>
            open the one-time sign-in link that <code>rapport&nbsp;serve</code> printed when it started, or
          </li>
          <li>
            create a new link on the server with
            <pre>
              <code>rapport staff link</code>
            </pre>
            and open it in this browser. A link works once and for 24 hours.
          </li>
        </ol>
      </div>
    </main>
  );
}
