import type { Direction, FeedbackKind } from '../core/vocabulary.js';

/**
 * The few record shapes every source is turned into. Nothing but the ingestion writer
 * stores raw records, so every source (Segment HTTP, files, the demo) goes through here.
 */

/** Who a record is about: a known user id, an anonymous id, or both (which links them). */
export interface Who {
  userId?: string | undefined;
  anonymousId?: string | undefined;
}

export type Traits = Record<string, unknown>;

export interface IdentifyRecord {
  kind: 'identify';
  who: Who;
  traits: Traits;
  at: number;
}

export interface GroupRecord {
  kind: 'group';
  who: Who;
  groupId: string;
  traits: Traits;
  at: number;
}

export interface AliasRecord {
  kind: 'alias';
  previousId: string;
  userId: string;
  at: number;
}

export interface InteractionRecord {
  kind: 'interaction';
  who: Who;
  type: string;
  name: string;
  channel: string;
  direction: Direction;
  at: number;
  properties: Record<string, unknown>;
  source: string;
  sourceId: string;
}

export interface OrderLine {
  productId: string;
  name: string | null;
  category: string | null;
  price: number;
  quantity: number;
}

export interface OrderRecord {
  kind: 'order';
  who: Who;
  orderId: string;
  at: number;
  total: number;
  currency: string;
  lines: OrderLine[];
  properties: Record<string, unknown>;
  source: string;
  sourceId: string;
}

export interface FeedbackRecord {
  kind: 'feedback';
  who: Who | null;
  feedbackKind: FeedbackKind;
  text: string;
  rating: number | null;
  status: string;
  at: number;
  properties: Record<string, unknown>;
  source: string;
  sourceId: string;
}

export interface ProductRecord {
  kind: 'product';
  productId: string;
  name: string | null;
  category: string | null;
  price: number | null;
}

export type IngestRecord =
  | IdentifyRecord
  | GroupRecord
  | AliasRecord
  | InteractionRecord
  | OrderRecord
  | FeedbackRecord
  | ProductRecord;

/** What a write did, counted per input record. */
export interface WriteCounts {
  inserted: number;
  updated: number;
  duplicates: number;
}

/** What `rapport import --kind` accepts. */
export type ImportKind = 'customers' | 'orders' | 'events' | 'feedback';
export const IMPORT_KINDS: readonly ImportKind[] = ['customers', 'orders', 'events', 'feedback'];
export { DIRECTIONS, FEEDBACK_KINDS } from '../core/vocabulary.js';
