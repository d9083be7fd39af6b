import { useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import { VISIT_STATUSES, type Visit } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { usePageTitle } from '../../lib/title.js';
import { RelationshipsFrame } from './RelationshipsTabs.js';
import { VisitList } from './VisitList.js';

interface ListState {
  key: string;
  items: Visit[];
  nextCursor: string | null;
  loading: boolean;
  error: Error | null;
}

/** A list of visits with "Show more" (keyset pages from the API); `version` reads it again from the start. */
function PagedVisits({ status, order, version, onChanged, testId, empty }: { status?: string | undefined; order: 'asc' | 'desc'; version: number; onChanged: () => void; testId: string; empty: string }) {
  const key = `${status ?? ''}|${order}|${version}`;
  const [list, setList] = useState<ListState>({ key: '', items: [], nextCursor: null, loading: true, error: null });
  useEffect(() => {
    const ctl = new AbortController();
    setList((l) => ({ ...l, key, loading: true, error: null }));
    api.visits({ status, order, limit: 25 }, ctl.signal).then(
      (page) => setList({ key, items: page.items, nextCursor: page.nextCursor, loading: false, error: null }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setList({ key, items: [], nextCursor: null, loading: false, error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => ctl.abort();
  }, [key]);
  const more = () => {
    if (!list.nextCursor || list.loading) return;
    const cursor = list.nextCursor;
    setList((l) => ({ ...l, loading: true }));
    api.visits({ status, order, limit: 25, cursor }).then(
      (page) => setList((l) => (l.key === key ? { ...l, items: [...l.items, ...page.items], nextCursor: page.nextCursor, loading: false } : l)),
      (error: unknown) => setList((l) => (l.key === key ? { ...l, loading: false, error: error instanceof Error ? error : new Error(String(error)) } : l)),
    );
  };
  if (list.error) return <ErrorPanel error={list.error} onRetry={onChanged} />;
  if (list.loading && list.items.length === 0) return <Loading />;
  if (list.items.length === 0) return <Empty title={empty} />;
  return (
    <div className="stack">
      <VisitList items={list.items} showCustomer onChanged={onChanged} testId={testId} />
      {list.nextCursor && (
        <button type="button" className="button" onClick={more} disabled={list.loading}>
          {list.loading ? 'Loading…' : 'Show more'}
        </button>
      )}
    </div>
  );
}

/** Planned and past visits, calls, meetings and interviews with every customer. */
export function VisitsPage() {
  usePageTitle('Visits');
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((n) => n + 1);
  return (
    <RelationshipsFrame title="Visits" lede="Visits, calls, meetings and interviews with customers, planned and past. Log one on the customer's page (or with rapport visits log); one that took place counts as a two-way conversation, and its notes are read by listening.">
      <Panel title="Coming up" how="Planned visits, soonest first. Marking one done records it (a mutual interaction, and its notes as feedback); it must then lie at most a day ahead.">
        <PagedVisits status="planned" order="asc" version={version} onChanged={changed} testId="planned-visits" empty="Nothing planned" />
      </Panel>
      <Panel
        title="All visits"
        how="Every logged visit, newest first, planned ones included; filter by status."
        actions={
          <div role="group" aria-label="Status" className="toolbar">
            {[undefined, ...VISIT_STATUSES].map((s) => (
              <button key={s ?? 'all'} type="button" className={`chip${status === s ? ' chip-on' : ''}`} aria-pressed={status === s} onClick={() => setStatus(s)}>
                {s ?? 'all'}
              </button>
            ))}
          </div>
        }
      >
        <PagedVisits status={status} order="desc" version={version} onChanged={changed} testId="all-visits" empty="No visits logged yet" />
      </Panel>
    </RelationshipsFrame>
  );
}
