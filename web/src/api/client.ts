import type { ActionClosed, RelationshipActions, StageFlow, StageHistory, StageHistoryList, StageOpportunities, StagesSummary, StageCustomers, CustomerStage, StageRules, StageRulesCheck, ValueCurrency, DateOrder, ImportKind, ImportPreview, ImportResult, BulkAccept, RemovedTags, TagChange, UndoResult, ClvSummary, Customer360, CustomerPage, CustomerSort, DefectLedger, Overview, RankedPage, ReviewQueue, SearchFilterChoices, SearchPage, SessionUser, SortOrder, TagSet, ThemeBoard, ThemeDetail, TimelineKind, TimelinePage, MemberStatusReply, Panel, PanelCreate, PanelFeedback, PanelLaunch, PanelList, PanelMember, PanelMembers, PanelMemberStatus, PanelPatch, PanelPreview, PanelFilters, CoverageReport, Visit, VisitChange, VisitInput, VisitPage, Account, AccountList } from './types.js';

/** A failed API call, carrying the server's stable error code (`{error:{code,message}}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The server's issues (field, message, row), when it named any. */
    readonly issues: { field: string; message: string; row?: number }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever any API call answers 401, so the app can fall back to the sign-in page. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request<T>(path: string, init: RequestInit & { signal?: AbortSignal | undefined } = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, ...init });
  if (res.ok) return (await res.json()) as T;
  let code = 'http_error';
  let message = `${res.status} ${res.statusText}`;
  let issues: { field: string; message: string; row?: number }[] = [];
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; issues?: typeof issues } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    if (Array.isArray(body.error?.issues)) issues = body.error.issues;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401 && path !== '/api/session') for (const l of unauthorizedListeners) l();
  throw new ApiError(res.status, code, message, issues);
}

export interface CustomerQuery {
  q?: string | undefined;
  sort: CustomerSort;
  order: SortOrder;
  limit?: number;
  cursor?: string | null | undefined;
}

/** The search page's query and filters, as in its URL. */
export interface SearchQuery {
  q: string;
  kind?: string | undefined;
  theme?: string | undefined;
  tag?: string | undefined;
  segment?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  customer?: string | undefined;
  sort?: string | undefined;
  limit?: number;
  cursor?: string | null | undefined;
}

export interface TimelineQuery {
  kinds: readonly TimelineKind[];
  limit?: number;
  cursor?: string | null | undefined;
}

/** What an import is asked to do with a file (the query of /api/import and its preview). */
export interface ImportParams {
  kind: ImportKind;
  filename: string;
  /** Field → column; null: the file has no column for it. Empty: the server's guess. */
  map: Readonly<Record<string, string | null>>;
  dateOrder: DateOrder | null;
}

function importQuery(p: ImportParams): string {
  const q = new URLSearchParams({ kind: p.kind, filename: p.filename });
  for (const [field, column] of Object.entries(p.map)) q.append('map', `${field}=${column ?? ''}`);
  if (p.dateOrder) q.set('dateOrder', p.dateOrder);
  return `?${q.toString()}`;
}

/** A file as the request body: its bytes, not JSON (the server streams it to a temporary file). */
const upload = (file: Blob, signal?: AbortSignal): RequestInit & { signal?: AbortSignal | undefined } => ({
  method: 'POST',
  headers: { accept: 'application/json', 'content-type': 'application/octet-stream' },
  body: file,
  signal,
});

/**
 * Where the server streams a whole list as CSV, with the list's own filters: a plain link (the
 * session cookie goes along), so the browser saves the file as it arrives.
 */
export const csvUrl = {
  customers: (p: Omit<CustomerQuery, 'limit' | 'cursor'>) => `/api/customers.csv${query({ q: p.q?.trim(), sort: p.sort, order: p.order })}`,
  ranked: (p: { sort: 'clv' | 'risk'; group?: string | undefined; segment?: number | undefined }) => `/api/clv/customers.csv${query({ sort: p.sort, group: p.group, segment: p.segment })}`,
  panel: (id: number) => `/api/panels/${id}/export.csv`,
};

/** A JSON body for a write. */
const send = (method: string, body: unknown): RequestInit & { signal?: AbortSignal } => ({ method, headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The few endpoints the dashboard reads; every call sends the session cookie. */
export const api = {
  /** The signed-in user, or null when there is no (valid) session. */
  async session(signal?: AbortSignal): Promise<SessionUser | null> {
    try {
      return (await request<{ user: SessionUser }>('/api/session', { signal })).user;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    }
  },
  async signOut(): Promise<void> {
    await request<{ ok: boolean }>('/auth/signout', { method: 'POST' });
  },
  overview: (signal?: AbortSignal) => request<Overview>('/api/overview', { signal }),
  customers: (p: CustomerQuery, signal?: AbortSignal) =>
    request<CustomerPage>(`/api/customers${query({ q: p.q?.trim(), sort: p.sort, order: p.order, limit: p.limit ?? 50, cursor: p.cursor })}`, { signal }),
  clvSummary: (signal?: AbortSignal) => request<ClvSummary>('/api/clv/summary', { signal }),
  valueCurrency: (signal?: AbortSignal) => request<ValueCurrency>('/api/clv/currency', { signal }),
  rankedCustomers: (
    p: { sort: 'clv' | 'risk'; group?: string | undefined; segment?: number | undefined; limit?: number; cursor?: string | null | undefined },
    signal?: AbortSignal,
  ) => request<RankedPage>(`/api/clv/customers${query({ sort: p.sort, group: p.group, segment: p.segment, limit: p.limit ?? 10, cursor: p.cursor })}`, { signal }),
  themes: (p: { sort: 'value' | 'size' | 'recent' }, signal?: AbortSignal) => request<ThemeBoard>(`/api/themes${query({ sort: p.sort })}`, { signal }),
  theme: (id: number, cursor: number | null, signal?: AbortSignal) => request<ThemeDetail>(`/api/themes/${id}${query({ cursor, limit: 30 })}`, { signal }),
  renameTheme: (id: number, name: string | null) => request<{ ok: boolean }>(`/api/themes/${id}`, send('PATCH', { name })),
  splitTheme: (id: number, k: number) => request<{ parts: number[] }>(`/api/themes/${id}/split`, send('POST', { k })),
  moveThemeMembers: (id: number, feedbackIds: number[], to: number | null) => request<{ moved: number; from: number; to: number | null }>(`/api/themes/${id}/move`, send('POST', { feedbackIds, to })),
  mergeThemes: (into: number, themes: number[]) => request<{ ok: boolean }>('/api/themes/merge', send('POST', { into, themes })),
  tagSets: (signal?: AbortSignal) => request<{ tagSets: TagSet[] }>('/api/tags', { signal }),
  reviewQueue: (p: { tagSet?: string | undefined; minConfidence?: number }, signal?: AbortSignal) => request<ReviewQueue>(`/api/review-queue${query({ tagSet: p.tagSet, limit: 50, minConfidence: p.minConfidence })}`, { signal }),
  tagItem: (feedbackId: number, tagSet: string, tag: string | null) => request<TagChange>(`/api/feedback/${feedbackId}/tag`, send('PUT', { tagSet, tag })),
  undoTag: (change: TagChange) => request<UndoResult>(`/api/feedback/${change.feedbackId}/tag/undo`, send('POST', { tagSet: change.tagSet, tag: change.tag, replaced: change.replaced })),
  acceptSuggestions: (tagSet: string, minConfidence: number) => request<BulkAccept>('/api/review-queue/accept', send('POST', { tagSet, minConfidence })),
  undoChanges: (changes: TagChange[]) => request<UndoResult>('/api/review-queue/accept/undo', send('POST', { changes })),
  createTag: (tagSet: string, name: string) => request<TagSet>('/api/tags', send('POST', { tagSet, tags: [{ name }] })),
  renameTag: (id: number, name: string) => request<{ ok: boolean }>(`/api/tags/${id}`, send('PATCH', { name })),
  deleteTag: (id: number) => request<RemovedTags>(`/api/tags/${id}`, { method: 'DELETE', headers: { accept: 'application/json' } }),
  renameTagSet: (from: string, name: string) => request<{ ok: boolean }>(`/api/tag-sets/${encodeURIComponent(from)}`, send('PATCH', { name })),
  deleteTagSet: (name: string) => request<RemovedTags>(`/api/tag-sets/${encodeURIComponent(name)}`, { method: 'DELETE', headers: { accept: 'application/json' } }),
  defects: (p: { from?: string | undefined; to?: string | undefined }, signal?: AbortSignal) => request<DefectLedger>(`/api/defects${query({ from: p.from, to: p.to })}`, { signal }),
  search: (p: SearchQuery, signal?: AbortSignal) => request<SearchPage>(`/api/search${query({ ...p, limit: p.limit ?? 20 })}`, { signal }),
  importPreview: (file: Blob, p: ImportParams, signal?: AbortSignal) => request<ImportPreview>(`/api/import/preview${importQuery(p)}`, upload(file, signal)),
  runImport: (file: Blob, p: ImportParams) => request<ImportResult>(`/api/import${importQuery(p)}`, upload(file)),
  searchFilters: (signal?: AbortSignal) => request<SearchFilterChoices>('/api/search/filters', { signal }),
  stagesSummary: (signal?: AbortSignal) => request<StagesSummary>('/api/stages/summary', { signal }),
  stageCustomers: (p: { stage: string; momentum?: string | undefined; offset?: number }, signal?: AbortSignal) =>
    request<StageCustomers>(`/api/stages/customers${query({ stage: p.stage, momentum: p.momentum, limit: 25, offset: p.offset })}`, { signal }),
  customerStage: (userId: string, signal?: AbortSignal) => request<CustomerStage>(`/api/customers/${encodeURIComponent(userId)}/stage`, { signal }),
  stageRules: (signal?: AbortSignal) => request<StageRules>('/api/stages/rules', { signal }),
  checkStageRules: (source: string) => request<StageRulesCheck>('/api/stages/rules/check', send('POST', { source })),
  saveStageRules: (source: string) => request<StageRules>('/api/stages/rules', send('PUT', { source })),
  runStages: () => request<{ runId: number; customers: number; seconds: number }>('/api/stages/run', send('POST', {})),
  stageFlow: (p: { from?: string | undefined; to?: string | undefined }, signal?: AbortSignal) => request<StageFlow>(`/api/stages/flow${query({ from: p.from, to: p.to })}`, { signal }),
  actions: (p: { kind?: string | undefined; status?: string | undefined; customer?: string | undefined }, signal?: AbortSignal) =>
    request<RelationshipActions>(`/api/actions${query({ kind: p.kind, status: p.status, customer: p.customer, limit: 50 })}`, { signal }),
  closeAction: (id: number, how: 'done' | 'dismiss', note?: string) => request<ActionClosed>(`/api/actions/${id}/${how}`, send('POST', note ? { note } : {})),
  stageHistory: (signal?: AbortSignal) => request<StageHistory>('/api/stages/history', { signal }),
  stageHistoryCustomers: (p: { kind: 'stuck' | 'fell'; stage?: string | undefined }, signal?: AbortSignal) =>
    request<StageHistoryList>(`/api/stages/history/customers${query({ kind: p.kind, stage: p.stage, limit: 25 })}`, { signal }),
  stageOpportunities: (p: { stage?: string | undefined }, signal?: AbortSignal) => request<StageOpportunities>(`/api/stages/opportunities${query({ stage: p.stage, limit: 25 })}`, { signal }),
  runStageHistory: () => request<{ runId: number; mode: string; read: number; seconds: number }>('/api/stages/history/run', send('POST', {})),
  panels: (signal?: AbortSignal) => request<PanelList>('/api/panels', { signal }),
  panel: (id: number, signal?: AbortSignal) => request<Panel>(`/api/panels/${id}`, { signal }),
  previewPanel: (body: { filters: PanelFilters; size: number; seed?: number | undefined }, signal?: AbortSignal) => request<PanelPreview>('/api/panels/preview', { ...send('POST', body), signal }),
  createPanel: (body: PanelCreate) => request<Panel>('/api/panels', send('POST', body)),
  updatePanel: (id: number, patch: PanelPatch) => request<Panel>(`/api/panels/${id}`, send('PATCH', patch)),
  panelMembers: (id: number, signal?: AbortSignal) => request<PanelMembers>(`/api/panels/${id}/members?limit=1000`, { signal }),
  addPanelMember: (id: number, userId: string) => request<PanelMember>(`/api/panels/${id}/members`, send('POST', { userId })),
  setPanelMemberStatus: (id: number, userId: string, status: PanelMemberStatus) => request<MemberStatusReply>(`/api/panels/${id}/members/${encodeURIComponent(userId)}`, send('PATCH', { status })),
  removePanelMember: (id: number, userId: string) => request<{ removed: string }>(`/api/panels/${id}/members/${encodeURIComponent(userId)}`, { method: 'DELETE', headers: { accept: 'application/json' } }),
  panelFeedback: (id: number, signal?: AbortSignal) => request<PanelFeedback>(`/api/panels/${id}/feedback`, { signal }),
  panelLaunch: (id: number, signal?: AbortSignal) => request<PanelLaunch>(`/api/panels/${id}/launch`, { signal }),
  visits: (p: { customer?: string | undefined; status?: string | undefined; order?: 'asc' | 'desc'; limit?: number; cursor?: string | null | undefined }, signal?: AbortSignal) =>
    request<VisitPage>(`/api/visits${query({ customer: p.customer, status: p.status, order: p.order, limit: p.limit ?? 50, cursor: p.cursor })}`, { signal }),
  customerVisits: (userId: string, p: { limit?: number; cursor?: string | null | undefined }, signal?: AbortSignal) =>
    request<VisitPage>(`/api/customers/${encodeURIComponent(userId)}/visits${query({ limit: p.limit ?? 20, cursor: p.cursor })}`, { signal }),
  accounts: (p: { q?: string | undefined; limit?: number; cursor?: string | null | undefined }, signal?: AbortSignal) => request<AccountList>(`/api/accounts${query({ q: p.q, limit: p.limit, cursor: p.cursor })}`, { signal }),
  account: (groupId: string, p: { limit?: number; cursor?: string | null | undefined } = {}, signal?: AbortSignal) =>
    request<Account>(`/api/accounts/${encodeURIComponent(groupId)}${query({ limit: p.limit, cursor: p.cursor })}`, { signal }),
  coverage: (p: { top?: number | undefined; days?: number | undefined }, signal?: AbortSignal) => request<CoverageReport>(`/api/coverage${query({ top: p.top, days: p.days })}`, { signal }),
  logVisit: (body: VisitInput) => request<Visit>('/api/visits', send('POST', body)),
  updateVisit: (id: number, change: VisitChange) => request<Visit>(`/api/visits/${id}`, send('PATCH', change)),
  customer: (userId: string, signal?: AbortSignal) => request<Customer360>(`/api/customers/${encodeURIComponent(userId)}`, { signal }),
  timeline: (userId: string, p: TimelineQuery, signal?: AbortSignal) =>
    request<TimelinePage>(
      `/api/customers/${encodeURIComponent(userId)}/timeline${query({ limit: p.limit ?? 30, cursor: p.cursor, kinds: p.kinds.join(',') })}`,
      { signal },
    ),
};
