import type { z } from 'zod';
import type {
  Customer360 as Customer360Schema,
  CustomerPage as CustomerPageSchema,
  Overview as OverviewSchema,
  TimelinePage as TimelinePageSchema,
} from '../../../src/customers/customer.service.js';
import type { ClvSummary as ClvSummarySchema, CurrencyReply as CurrencyReplySchema, RankedPage as RankedPageSchema } from '../../../src/value/value.service.js';
import type { ThemeBoard as ThemeBoardSchema, ThemeDetail as ThemeDetailSchema } from '../../../src/listening/themes.service.js';
import type { AcceptResult as AcceptResultSchema, ReviewQueue as ReviewQueueSchema, Removed as RemovedSchema, TagChange as TagChangeSchema, TagSetSummary as TagSetSchema, UndoResult as UndoResultSchema } from '../../../src/listening/tags.service.js';
import type { DefectLedger as DefectLedgerSchema } from '../../../src/listening/defects.js';
import type { SearchFilterChoices as SearchFilterChoicesSchema, SearchPage as SearchPageSchema } from '../../../src/search/search.service.js';
import type { ImportPreview as ImportPreviewSchema } from '../../../src/ingest/files/preview.js';
import type { ImportResult as ImportResultSchema } from '../../../src/ingest/files/import.service.js';
import type {
  AccountStageReply as AccountStageSchema,
  CustomerStageReply as CustomerStageSchema,
  RulesCheck as RulesCheckSchema,
  RulesReply as RulesReplySchema,
  StageCustomers as StageCustomersSchema,
  StagesSummary as StagesSummarySchema,
  Opportunities as OpportunitiesSchema,
} from '../../../src/relationships/stages.service.js';
import type { ActionList as ActionListSchema, CloseReply as CloseReplySchema } from '../../../src/relationships/actions.service.js';
import type { FlowReply as FlowReplySchema, HistoryReply as HistoryReplySchema, HistoryList as HistoryListSchema } from '../../../src/relationships/history.service.js';
import type {
  MemberStatusReply as MemberStatusReplySchema,
  Panel as PanelSchema,
  PanelCreate as PanelCreateSchema,
  PanelFeedback as PanelFeedbackSchema,
  PanelFilters as PanelFiltersSchema,
  PanelLaunch as PanelLaunchSchema,
  PanelList as PanelListSchema,
  PanelMembers as PanelMembersSchema,
  PanelPatch as PanelPatchSchema,
  PanelPreview as PanelPreviewSchema,
} from '../../../src/relationships/panels.service.js';
import type { CoverageReport as CoverageReportSchema } from '../../../src/relationships/coverage.service.js';
import type { AccountList as AccountListSchema, AccountReply as AccountReplySchema } from '../../../src/relationships/accounts.service.js';
import type { Visit as VisitSchema, VisitBody as VisitBodySchema, VisitPage as VisitPageSchema, VisitPatch as VisitPatchSchema } from '../../../src/relationships/visits.service.js';
import type { StageExplanation as StageExplanationType, ExplainedCondition as ExplainedConditionType } from '../../../src/models/stages/engine.js';

/**
 * API types for the web app, inferred from the server's own zod schemas (a type-only import:
 * nothing of the server reaches the bundle). A change to a schema shows up here as a type error.
 */
export type Overview = z.infer<typeof OverviewSchema>;
export type CustomerPage = z.infer<typeof CustomerPageSchema>;
export type CustomerSummary = CustomerPage['items'][number];
export type Customer360 = z.infer<typeof Customer360Schema>;
export type TimelinePage = z.infer<typeof TimelinePageSchema>;
export type TimelineItem = TimelinePage['items'][number];
export type TimelineKind = TimelineItem['kind'];
export type Direction = Customer360['interactionMix'][number]['direction'];
export type ClvSummary = z.infer<typeof ClvSummarySchema>;
export type RankedPage = z.infer<typeof RankedPageSchema>;
export type ValueCurrency = z.infer<typeof CurrencyReplySchema>;
export type RankedCustomer = RankedPage['items'][number];
export type CustomerValue = NonNullable<Customer360['value']>;
export type ThemeBoard = z.infer<typeof ThemeBoardSchema>;
export type ThemeCard = ThemeBoard['themes'][number];
export type ThemeDetail = z.infer<typeof ThemeDetailSchema>;
export type TagSet = z.infer<typeof TagSetSchema>;
export type ReviewQueue = z.infer<typeof ReviewQueueSchema>;
export type ReviewItem = ReviewQueue['items'][number];
export type TagChange = z.infer<typeof TagChangeSchema>;
export type BulkAccept = z.infer<typeof AcceptResultSchema>;
export type UndoResult = z.infer<typeof UndoResultSchema>;
export type RemovedTags = z.infer<typeof RemovedSchema>;
export type DefectLedger = z.infer<typeof DefectLedgerSchema>;
export type LedgerRow = DefectLedger['byTypeCause'][number];
export type SearchPage = z.infer<typeof SearchPageSchema>;
export type SearchHit = SearchPage['items'][number];
export type SearchFilterChoices = z.infer<typeof SearchFilterChoicesSchema>;
export type ImportPreview = z.infer<typeof ImportPreviewSchema>;
export type ImportKind = ImportPreview['kind'];
export type PreviewField = ImportPreview['fields'][number];
export type PreviewRow = ImportPreview['rows'][number];
export type ImportResult = z.infer<typeof ImportResultSchema>;
export type DateOrder = NonNullable<ImportPreview['dates'][number]['order']>;

export const TIMELINE_KINDS: readonly TimelineKind[] = ['order', 'interaction', 'feedback'];
export { DIRECTIONS } from '../../../src/core/vocabulary.js';

export const CUSTOMER_SORTS = ['last_seen', 'first_seen', 'revenue', 'orders', 'interactions', 'name', 'clv'] as const;
export type CustomerSort = (typeof CUSTOMER_SORTS)[number];
export type SortOrder = 'asc' | 'desc';

export interface SessionUser {
  name: string;
  email: string;
  role: 'admin' | 'member';
}

/** The `details` of each timeline kind, as the server documents them. */
export interface OrderLineDetails {
  productId: string;
  name: string | null;
  category: string | null;
  price: number;
  quantity: number;
}
export interface OrderDetails {
  orderId: string;
  total: number;
  currency: string;
  source?: string;
  lines: OrderLineDetails[];
}
export interface InteractionDetails {
  type: string;
  source: string;
  properties: Record<string, unknown>;
}
export interface FeedbackDetails {
  kind: string;
  text: string;
  rating: number | null;
  status: string;
  source?: string;
  properties: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A string field, or numbers written as text; anything else reads as ''. */
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/**
 * Reads `details` defensively: the schema only promises an object, so a field of the wrong
 * type degrades to an empty value instead of breaking the page.
 */
export function orderDetails(d: Record<string, unknown>): OrderDetails {
  const lines = Array.isArray(d['lines']) ? d['lines'].filter(isRecord) : [];
  return {
    orderId: text(d['orderId']),
    total: Number(d['total'] ?? 0),
    currency: text(d['currency']),
    lines: lines.map((l) => ({
      productId: text(l['productId']),
      name: typeof l['name'] === 'string' ? l['name'] : null,
      category: typeof l['category'] === 'string' ? l['category'] : null,
      price: Number(l['price'] ?? 0),
      quantity: Number(l['quantity'] ?? 0),
    })),
  };
}

export function interactionDetails(d: Record<string, unknown>): InteractionDetails {
  return {
    type: text(d['type']),
    source: text(d['source']),
    properties: isRecord(d['properties']) ? d['properties'] : {},
  };
}

export function feedbackDetails(d: Record<string, unknown>): FeedbackDetails {
  return {
    kind: text(d['kind']),
    text: text(d['text']),
    rating: typeof d['rating'] === 'number' ? d['rating'] : null,
    status: text(d['status']),
    properties: isRecord(d['properties']) ? d['properties'] : {},
  };
}

export type StagesSummary = z.infer<typeof StagesSummarySchema>;
export type CustomerStage = z.infer<typeof CustomerStageSchema>;
export type AccountStage = z.infer<typeof AccountStageSchema>;
export type AccountList = z.infer<typeof AccountListSchema>;
export type AccountSummary = AccountList['items'][number];
export type Account = z.infer<typeof AccountReplySchema>;
export type AccountPerson = Account['people'][number];
export type StageRules = z.infer<typeof RulesReplySchema>;
export type StageRulesCheck = z.infer<typeof RulesCheckSchema>;
export type StageCustomers = z.infer<typeof StageCustomersSchema>;
export type StageExplanation = StageExplanationType;
export type StageFlow = z.infer<typeof FlowReplySchema>;
export type RelationshipActions = z.infer<typeof ActionListSchema>;
export type RelationshipAction = RelationshipActions['items'][number];
export type ActionClosed = z.infer<typeof CloseReplySchema>;
export type StageHistory = z.infer<typeof HistoryReplySchema>;
export type StageHistoryList = z.infer<typeof HistoryListSchema>;
export type StageOpportunities = z.infer<typeof OpportunitiesSchema>;
export type ExplainedCondition = ExplainedConditionType;

export type Panel = z.infer<typeof PanelSchema>;
export type PanelList = z.infer<typeof PanelListSchema>;
export type PanelPreview = z.infer<typeof PanelPreviewSchema>;
export type PanelFilters = z.input<typeof PanelFiltersSchema>;
export type PanelCreate = z.input<typeof PanelCreateSchema>;
export type PanelPatch = z.input<typeof PanelPatchSchema>;
export type PanelMembers = z.infer<typeof PanelMembersSchema>;
export type PanelMember = PanelMembers['items'][number];
export type PanelMemberStatus = PanelMember['status'];
export type MemberStatusReply = z.infer<typeof MemberStatusReplySchema>;
export type PanelFeedback = z.infer<typeof PanelFeedbackSchema>;
export type PanelLaunch = z.infer<typeof PanelLaunchSchema>;
export type Visit = z.infer<typeof VisitSchema>;
export type VisitPage = z.infer<typeof VisitPageSchema>;
/** What the log form sends (defaults may be left out). */
export type VisitInput = z.input<typeof VisitBodySchema>;
export type VisitChange = z.input<typeof VisitPatchSchema>;
export { VISIT_KINDS, VISIT_STATUSES } from '../../../src/core/vocabulary.js';
export type CoverageReport = z.infer<typeof CoverageReportSchema>;
export type CoverageAlert = CoverageReport['alerts'][number];
export type CoverageRow = CoverageReport['rows'][number];
