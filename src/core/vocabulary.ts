/**
 * The words Rapport's records are made of, each defined once: the database row types, the
 * request schemas, the CLI's choices and the web app take their lists from here.
 */

/** Who spoke in an interaction: the customer (inbound), the company (outbound), or both (a conversation). */
export const DIRECTIONS = ['inbound', 'outbound', 'mutual'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** What a feedback item is. Other values an import names are kept as a property; the kind falls back. */
export const FEEDBACK_KINDS = ['ticket', 'review', 'survey', 'interview', 'visit_note', 'other'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

/** The scopes an API key can have, from least to most: an admin key can do everything. */
export const KEY_SCOPES = ['ingest', 'read', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/** Staff roles, from least to most. */
export const STAFF_ROLES = ['member', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** What a logged visit was: a visit at the customer's, a call, a meeting, a research interview. */
export const VISIT_KINDS = ['visit', 'call', 'meeting', 'interview'] as const;
export type VisitKind = (typeof VISIT_KINDS)[number];

/** A visit is planned, took place (done: it is recorded as an interaction), or was called off. */
export const VISIT_STATUSES = ['planned', 'done', 'cancelled'] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number];

/** The channels a visit can be held through (the interaction's channel; all are conversation channels). */
export const VISIT_CHANNELS = ['in_person', 'phone', 'video'] as const;
export type VisitChannel = (typeof VISIT_CHANNELS)[number];
