import { Link } from 'react-router';
import { usePageTitle } from '../lib/title.js';

export function NotFoundPage() {
  usePageTitle('Not found');
  return (
    <div className="page">
      <div className="state state-empty">
        <strong>There is no page here.</strong>
        <span>
          The address may be mistyped, or the page may belong to a capability that is not installed. <Link to="/">Go to the overview</Link>.
        </span>
      </div>
    </div>
  );
}
