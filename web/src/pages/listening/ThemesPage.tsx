import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client.js';
import type { ThemeCard } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Tile } from '../../components/ui.js';
import { countOf, formatMoney, formatDateTime, formatInt, humanize } from '../../lib/format.js';
import { useApi, useValueCurrency } from '../../lib/hooks.js';
import { usePageTitle } from '../../lib/title.js';
import { ListeningFrame, SentimentBadge, Sparkline } from './ListeningTabs.js';

const SORTS = { value: 'Value at stake', size: 'Most items', recent: 'Most recent' } as const;
type Sort = keyof typeof SORTS;

function topIntent(intents: Record<string, number>): string | null {
  let best: string | null = null;
  let n = 0;
  for (const [k, v] of Object.entries(intents)) if (v > n) [best, n] = [k, v];
  return best;
}

function ThemeTile({ t }: { t: ThemeCard }) {
  const currency = useValueCurrency();
  const intent = topIntent(t.intents);
  return (
    <article className="theme-card" data-testid="theme-card">
      <header className="theme-card-head">
        <Link to={`/listening/themes/${t.id}`} className="theme-name">
          {t.name}
        </Link>
        {t.renamed && <span className="muted" title={`generated label: ${t.label}`}>renamed</span>}
        {t.general && (
          <span className="badge" title="feedback without a topic (praise, thanks, remarks): kept apart so that it pulls no need or defect theme together">
            general
          </span>
        )}
      </header>
      <div className="theme-phrases">
        {t.keyPhrases.slice(0, 5).map((p) => (
          <span key={p} className="chip">
            {p}
          </span>
        ))}
      </div>
      <dl className="theme-figures">
        <div>
          <dt>Items</dt>
          <dd>{formatInt(t.size)}</dd>
        </div>
        <div>
          <dt>Customers</dt>
          <dd>{formatInt(t.customers)}</dd>
        </div>
        <div>
          <dt title="sum of the CLV of the customers who raised it">Value at stake</dt>
          <dd data-testid="theme-value">{formatMoney(t.valueAtStake, currency)}</dd>
        </div>
      </dl>
      <div className="theme-signals">
        <SentimentBadge score={t.sentiment} />
        {intent && <span className="badge">{humanize(intent)}</span>}
        {t.duplicates > 0 && <span className="badge" title="items that repeat another item nearly word for word">{countOf(t.duplicates, 'repeat')}</span>}
        <Sparkline values={t.trend.map((p) => p.items)} label={`items per month: ${t.trend.map((p) => `${p.month} ${p.items}`).join(', ')}`} />
      </div>
      {t.quotes[0] && <blockquote className="theme-quote">“{t.quotes[0].text}”</blockquote>}
    </article>
  );
}

export function ThemesPage() {
  usePageTitle('Themes');
  const [params, setParams] = useSearchParams();
  const sort = (params.get('sort') as Sort | null) ?? 'value';
  const state = useApi((signal) => api.themes({ sort: sort in SORTS ? sort : 'value' }, signal), [sort]);
  return (
    <ListeningFrame title="Listening" lede="What customers ask for and what hurts them, grouped into themes and weighed by the value of the customers who say it.">
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
      {state.status === 'ready' && !state.data.available && (
        <Empty title="No themes yet">Themes are found in stored feedback by `rapport themes run` (it also runs after the demo loads and after new feedback arrives).</Empty>
      )}
      {state.status === 'ready' && state.data.available && (
        <>
          <div className="tiles">
            <Tile label="Themes" value={formatInt(state.data.themes.length)} />
            <Tile label="Feedback analysed" value={formatInt(state.data.analysed)} sub={state.data.run ? `last run ${formatDateTime(state.data.run.finishedAt)}` : undefined} />
            <Tile label="Not in a theme" value={formatInt(state.data.unassigned)} how="Items less similar to every theme than that theme's own members are. They stay unassigned until the themes are discovered afresh (rapport themes run --rebuild), which keeps the team's names." />
          </div>
          <div className="toolbar">
            <div className="field field-inline">
              <label htmlFor="theme-sort">Sort by</label>
              <select id="theme-sort" value={sort} onChange={(e) => setParams({ sort: e.target.value }, { replace: true })}>
                {Object.entries(SORTS).map(([k, label]) => (
                  <option key={k} value={k}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <details className="how">
              <summary>How themes are made</summary>
              <ul>
                {state.data.explanation.map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            </details>
          </div>
          <div className="theme-grid">
            {state.data.themes.map((t) => (
              <ThemeTile key={t.id} t={t} />
            ))}
          </div>
        </>
      )}
    </ListeningFrame>
  );
}
