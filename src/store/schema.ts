import type { Generated } from 'kysely';
import type { Direction, FeedbackKind, KeyScope, StaffRole, VisitKind, VisitStatus } from '../core/vocabulary.js';

export type { Direction, FeedbackKind, KeyScope, StaffRole, VisitKind, VisitStatus };

/**
 * Row types, one per table. Times are epoch milliseconds (integers) on both dialects, JSON
 * documents are stored as text. Every table that holds customer data carries `customer_id`
 * so that PostgreSQL can later distribute it by customer (Citus).
 */

export interface CustomersTable {
  id: Generated<number>;
  /** The product's own user id (Segment `userId`); null while a visitor is anonymous. */
  user_id: string | null;
  email: string | null;
  name: string | null;
  /** JSON object of traits, merged shallowly by identify calls and imports. */
  traits: string;
  first_seen: number | null;
  last_seen: number | null;
  order_count: Generated<number>;
  revenue: Generated<number>;
  interaction_count: Generated<number>;
  feedback_count: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface AccountsTable {
  id: Generated<number>;
  group_id: string;
  name: string | null;
  traits: string;
  created_at: number;
  updated_at: number;
}

export interface CustomerAccountsTable {
  customer_id: number;
  account_id: number;
  created_at: number;
}

/** Anonymous ids a customer has been seen under (the user id itself lives on `customers`). */
export interface IdentitiesTable {
  kind: 'user' | 'anonymous';
  value: string;
  customer_id: number;
  created_at: number;
}


export interface InteractionsTable {
  id: Generated<number>;
  customer_id: number;
  /** track, page, screen, or a touch kind from an import (email, call, meeting, chat…). */
  type: string;
  name: string;
  channel: string;
  direction: Direction;
  occurred_at: number;
  properties: string;
  source: string;
  source_id: string;
  received_at: number;
}

export interface CustomerChannelsTable {
  customer_id: number;
  channel: string;
  direction: Direction;
  count: number;
}

export interface OrdersTable {
  id: Generated<number>;
  customer_id: number;
  order_id: string;
  occurred_at: number;
  total: number;
  currency: string;
  properties: string;
  source: string;
  source_id: string;
  received_at: number;
}

export interface OrderLinesTable {
  order_ref: number;
  line_no: number;
  customer_id: number;
  product_id: string;
  name: string | null;
  category: string | null;
  price: number;
  quantity: number;
}

export interface ProductsTable {
  product_id: string;
  name: string | null;
  category: string | null;
  price: number | null;
  updated_at: number;
}


export interface FeedbackTable {
  id: Generated<number>;
  customer_id: number | null;
  kind: FeedbackKind;
  text: string;
  rating: number | null;
  status: string;
  created_at: number;
  properties: string;
  source: string;
  source_id: string;
  received_at: number;
}


export interface ApiKeysTable {
  id: Generated<number>;
  name: string;
  scope: KeyScope;
  /** First characters of the secret, shown in listings so keys can be told apart. */
  prefix: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface StaffUsersTable {
  id: Generated<number>;
  email: string;
  name: string;
  role: StaffRole;
  created_at: number;
}

export interface StaffSessionsTable {
  hash: string;
  staff_id: number;
  created_at: number;
  expires_at: number;
}

/** One-time sign-in links (the first admin's, and later invitations). */
export interface SignInTokensTable {
  hash: string;
  role: StaffRole;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Key/value facts about this installation (demo parameters, schedule stamps). */
export interface MetaTable {
  key: string;
  value: string;
}

/** The true parameters the demo generator drew for each customer, to check models against. */
export interface DemoTruthTable {
  user_id: string;
  params: string;
}

export type ClvTrigger = 'cli' | 'import' | 'schedule' | 'demo' | 'api';

/** One CLV run: what triggered it, how it ended, and its report (JSON: fits, validation, distribution). */
/** One run of a job (customer value, listening, …): its trigger, outcome, report and error. */
export interface JobRunsTable {
  id: Generated<number>;
  /** The job's registered name (`clv`, `listen`). */
  job: string;
  trigger: string;
  status: RunStatus;
  started_at: number;
  finished_at: number | null;
  /** What the run worked on: customers valued, feedback items analysed. */
  items: number;
  /** The job's report (JSON). */
  report: string | null;
  error: string | null;
}

export type RunStatus = 'running' | 'ok' | 'failed';

/**
 * Per-customer value from the latest successful CLV run. Days are days since 1970-01-01
 * (UTC); `purchase_days` counts days with an order (same-day orders are one purchase).
 */
export interface CustomerValuesTable {
  customer_id: number;
  run_id: number;
  first_day: number;
  last_day: number;
  purchase_days: number;
  /** Total of all orders up to the run's as-of day. */
  spend: number;
  /** Mean spend per repeat purchase day (the Gamma-Gamma input), 0 without repeats. */
  repeat_spend: number;
  p_alive: number;
  expected_purchases: number;
  /** Null without a spend model. */
  expected_spend: number | null;
  clv: number | null;
  /** CLV the customer would have if surely alive, times 1 − P(alive): the value lost if they have left. */
  value_at_risk: number | null;
  rfm_r: number;
  rfm_f: number;
  rfm_m: number;
  rfm_group: string;
  /** Micro-segment (an id of the run's report.segments.cards), null when not segmented. */
  segment: number | null;
}

export type ThemeStatus = 'active' | 'merged' | 'split';

/** A theme: a group of feedback about the same need or defect. `name` is the team's rename. */
export interface ThemesTable {
  id: Generated<number>;
  /** A phrase of the typical members (models/text/naming.ts); replaced when the model is rebuilt. */
  label: string;
  /** `general`: the bucket of contentless feedback; `topic`: every other theme. */
  kind: Generated<ThemeKind>;
  /** The team's name for the theme; kept across runs. */
  name: string | null;
  /** JSON: string[]. */
  key_phrases: string;
  /** JSON: feedback ids of the most typical members. */
  quotes: string;
  size: number;
  status: ThemeStatus;
  merged_into: number | null;
  parent_id: number | null;
  created_at: number;
  updated_at: number;
}

export type Intent = 'help' | 'complaint' | 'request' | 'praise' | 'other';

/** What the listening run read out of one feedback item. */
export type ThemeKind = 'topic' | 'general';

/** A feedback item a person moved by hand: into a theme, or out of every theme (null). */
export interface ThemePinsTable {
  feedback_id: number;
  theme_id: number | null;
  /** The theme it was moved out of. */
  from_theme_id: number | null;
  pinned_by: string | null;
  pinned_at: number;
}

export interface FeedbackInsightsTable {
  feedback_id: number;
  theme_id: number | null;
  theme_similarity: number | null;
  /** Compound sentiment, −1…1. */
  sentiment: number;
  sentiment_label: 'negative' | 'neutral' | 'positive';
  intent: Intent;
  intent_confidence: number;
  /** ISO 639 code, `und` when too short to tell. */
  lang: string;
  /** The earliest item of this item's near-duplicate group; null when it has none or is that item. */
  duplicate_of: number | null;
  minhash: Buffer | null;
  analysed_at: number;
}

export interface TagsTable {
  id: Generated<number>;
  tag_set: string;
  name: string;
  description: string | null;
  created_at: number;
}

/** One tag per item and tag set: a person's (an example to learn from) or a model's suggestion. */
export interface FeedbackTagsTable {
  feedback_id: number;
  tag_set: string;
  tag_id: number;
  source: 'human' | 'model';
  /** The model's confidence (null for a person's tag). */
  confidence: number | null;
  reviewed_by: string | null;
  updated_at: number;
}

/** The latest trained model per purpose (`themes`, `tags:<set>`). */
export interface TextModelsTable {
  purpose: string;
  run_id: number | null;
  model: Buffer;
  created_at: number;
}

export type SearchSource = 'feedback' | 'customer' | 'interaction';

/**
 * One searchable record (see migration 006): a copy of its text and what filters need. The id
 * is time-ordered (`at` × 1024 + a few bits), so id order is time order.
 */
export interface SearchDocsTable {
  id: number;
  source: SearchSource;
  source_id: number;
  /** The feedback kind, or `customer` / `interaction`. */
  kind: string;
  customer_id: number | null;
  at: number;
  title: string;
  body: string;
  /** SQLite only: the kind as a token for the FTS5 index (k1…k8). */
  meta?: string;
}

/** The incremental indexer's high-water mark: the largest source id indexed, per source. */
export interface SearchStateTable {
  source: string;
  last_id: number;
}

/** Customers whose name, e-mail or traits changed since their document was made. */
export interface SearchDirtyTable {
  customer_id: number;
}

/** A version of the team's LOVE stage rules (YAML); the newest is in force. */
export interface StageRulesTable {
  id: Generated<number>;
  source: string;
  name: string;
  created_at: number;
  created_by: string | null;
}

/** The latest stages run's placement of a customer on the LOVE ladder. */
export interface CustomerStagesTable {
  customer_id: number;
  run_id: number;
  /** 0 Introduction, 1 Information, 2 Commitment, 3 Affinity, 4 Co-creation. */
  stage: number;
  /** Bit k set: the customer meets stage k's rule (bit 0, Introduction, always). */
  met: number;
  momentum: 'warming' | 'steady' | 'cooling';
  /** The customer's own touches in the momentum window, and in the window before. */
  activity_recent: number;
  activity_previous: number;
  /** P(alive) one momentum window before the customer-value run's as-of day (null without one). */
  p_alive_then: number | null;
  /** Lifetime Opportunity Value and its parts (null before a run computed them): lov = clv + contribution + opportunity. */
  clv: number | null;
  contribution: number | null;
  opportunity: number | null;
  opportunity_low: number | null;
  opportunity_high: number | null;
  lov: number | null;
}

/** A stage history run: its months and the JSON summary of the population's history (models/stages/history.ts). */
export interface StageHistoryRunsTable {
  run_id: number;
  as_of: number;
  /** The first month (year × 12 + month). */
  first_month: number;
  months: number;
  /** The rules file the history was placed with. */
  rules_source: string;
  summary: string;
  created_at: number;
}

/** A customer's stage at the end of each month of the latest history: one character a month, 0–4, or - before first seen. */
export interface CustomerStageHistoryTable {
  customer_id: number;
  run_id: number;
  first_month: number | null;
  history: string;
  /** The stage at the last month (null: not seen by then). */
  stage: number | null;
  months_at_stage: number;
  peak: number | null;
}

/** An account's stage from its people (the rules' `accounts`). */
export interface AccountStagesTable {
  account_id: number;
  run_id: number;
  stage: number;
  /** People of the account. */
  people: number;
  /** People at or above the account's stage. */
  holders: number;
  /** people: held by at least min_people; most_valuable: its most valuable person's stage. */
  basis: 'people' | 'most_valuable';
  lead_customer_id: number | null;
  /** The people's Lifetime Opportunity Value and opportunity, summed (null without LOV). */
  lov: number | null;
  opportunity: number | null;
}

export type PanelStatus = 'draft' | 'active' | 'closed';
export type PanelMemberStatus = 'selected' | 'invited' | 'accepted' | 'declined' | 'participated';

/** A co-creation panel: reference customers who try new lines before they go wide. */
export interface PanelsTable {
  id: Generated<number>;
  name: string;
  purpose: string;
  /** JSON: the filters the members were drawn with (relationships/panels.service.ts PanelFilters). */
  filters: string;
  /** Seats asked for. */
  size: number;
  /** The seed of the draw: the same filters, data and seed give the same members. */
  seed: number;
  /** JSON: eligible, asked and selected per segment, and what was done where a segment fell short. */
  selection: string;
  status: PanelStatus;
  /** What the panel tries: a product id or a category name (null: nothing under test). */
  test_kind: 'product' | 'category' | null;
  test_subject: string | null;
  /** When the product or category went wide (the launch comparison starts that day). */
  launched_at: number | null;
  /** When the panel started (set when it becomes active, unless given): its feedback counts from then. */
  started_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** A customer on a panel, with their segment and stage when they were selected. */
export interface PanelMembersTable {
  panel_id: number;
  customer_id: number;
  /** Micro-segment of the latest customer-value run at selection (null: not segmented). */
  segment: number | null;
  segment_label: string | null;
  /** LOVE stage (0–4) of the latest stages run at selection (null: not placed). */
  stage: number | null;
  status: PanelMemberStatus;
  added_at: number;
  invited_at: number | null;
  /** When they accepted or declined. */
  responded_at: number | null;
  participated_at: number | null;
}

export type ActionStatus = 'open' | 'done' | 'dismissed';

/** A next best relationship action for a customer (relationships/actions). */
export interface RelationshipActionsTable {
  id: Generated<number>;
  customer_id: number;
  run_id: number;
  kind: string;
  title: string;
  /** JSON: string[], the reasons in words. */
  reasons: string;
  /** Urgent first: 3 an unanswered ticket, 2 a renewal, 1 the rest. */
  priority: number;
  /** What is at stake (the value currency). */
  value: number;
  value_basis: string;
  stage: number;
  status: ActionStatus;
  created_at: number;
  done_at: number | null;
  done_by: string | null;
  note: string | null;
}

/** A visit, call, meeting or interview the team logged, planned or past (migration 013). */
export interface VisitsTable {
  id: Generated<number>;
  customer_id: number;
  account_id: number | null;
  kind: VisitKind;
  status: VisitStatus;
  /** When it takes or took place. */
  at: number;
  duration_minutes: number | null;
  /** The channel it was held through; null: the kind's own (visit and meeting in person, call phone, interview video). */
  channel: string | null;
  notes: string | null;
  /** JSON: the staff who took part (string[]). */
  attendees: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** What a visit that took place was recorded as (null while planned, or cancelled). */
  interaction_id: number | null;
  feedback_id: number | null;
}

export interface Database {
  customers: CustomersTable;
  accounts: AccountsTable;
  customer_accounts: CustomerAccountsTable;
  identities: IdentitiesTable;
  interactions: InteractionsTable;
  customer_channels: CustomerChannelsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  products: ProductsTable;
  feedback: FeedbackTable;
  api_keys: ApiKeysTable;
  staff_users: StaffUsersTable;
  staff_sessions: StaffSessionsTable;
  sign_in_tokens: SignInTokensTable;
  meta: MetaTable;
  demo_truth: DemoTruthTable;
  job_runs: JobRunsTable;
  customer_values: CustomerValuesTable;
  themes: ThemesTable;
  feedback_insights: FeedbackInsightsTable;
  theme_pins: ThemePinsTable;
  tags: TagsTable;
  feedback_tags: FeedbackTagsTable;
  text_models: TextModelsTable;
  search_docs: SearchDocsTable;
  search_state: SearchStateTable;
  search_dirty: SearchDirtyTable;
  stage_rules: StageRulesTable;
  customer_stages: CustomerStagesTable;
  account_stages: AccountStagesTable;
  stage_history_runs: StageHistoryRunsTable;
  customer_stage_history: CustomerStageHistoryTable;
  panels: PanelsTable;
  panel_members: PanelMembersTable;
  relationship_actions: RelationshipActionsTable;
  visits: VisitsTable;
}
