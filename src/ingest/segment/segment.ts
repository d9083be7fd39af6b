import { createHash } from 'node:crypto';
import { z } from 'zod';
import { invalid, RapportError } from '../../core/errors.js';
import { amountProblem, MAX_QUANTITY, timeProblem, timeWindow, valueProblem, type TimeWindow } from '../../core/limits.js';
import { zodError } from '../../core/validation.js';
import { DIRECTIONS, type Direction } from '../../core/vocabulary.js';
import { type IngestRecord, type OrderLine, type Who } from '../records.js';
import { traitTime } from '../traits.js';

/**
 * The Segment HTTP Tracking API spec (segment.com/docs/connections/spec): the common fields
 * and the six message types. Unknown fields are kept, as Segment keeps them.
 */

export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;

const Id = z.union([z.string().min(1).max(512), z.number().transform((n) => String(n))]);
const Timestamp = z.union([z.string().min(1), z.number()]);
const Dict = z.record(z.string(), z.unknown());

const Common = {
  messageId: z.string().min(1).max(512).optional(),
  userId: Id.optional().nullable(),
  anonymousId: Id.optional().nullable(),
  timestamp: Timestamp.optional(),
  originalTimestamp: Timestamp.optional(),
  sentAt: Timestamp.optional(),
  context: Dict.optional(),
  integrations: Dict.optional(),
};

export const IdentifySchema = z.looseObject({ ...Common, type: z.literal('identify').optional(), traits: Dict.optional() });
export const TrackSchema = z.looseObject({
  ...Common,
  type: z.literal('track').optional(),
  event: z.string().min(1).max(512),
  properties: Dict.optional(),
});
export const PageSchema = z.looseObject({
  ...Common,
  type: z.literal('page').optional(),
  name: z.string().max(512).optional().nullable(),
  category: z.string().max(512).optional().nullable(),
  properties: Dict.optional(),
});
export const ScreenSchema = z.looseObject({
  ...Common,
  type: z.literal('screen').optional(),
  name: z.string().max(512).optional().nullable(),
  properties: Dict.optional(),
});
export const GroupSchema = z.looseObject({ ...Common, type: z.literal('group').optional(), groupId: Id, traits: Dict.optional() });
export const AliasSchema = z.looseObject({
  ...Common,
  type: z.literal('alias').optional(),
  previousId: Id,
  userId: Id,
});

export type MessageType = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';
export const MESSAGE_TYPES: readonly MessageType[] = ['identify', 'track', 'page', 'screen', 'group', 'alias'];

export const SCHEMAS = {
  identify: IdentifySchema,
  track: TrackSchema,
  page: PageSchema,
  screen: ScreenSchema,
  group: GroupSchema,
  alias: AliasSchema,
} as const;

export const BatchSchema = z.looseObject({
  batch: z.array(z.looseObject({ type: z.enum(MESSAGE_TYPES as [MessageType, ...MessageType[]]) })),
  context: Dict.optional(),
  integrations: Dict.optional(),
  sentAt: Timestamp.optional(),
});

/** Where a message sits, for error messages: `batch[3]` or the empty path. */
export interface MessageOrigin {
  /** Field prefix, e.g. `batch[3].` for the fourth message of a batch. */
  prefix: string;
  /** 1-based line/row number when the message came from a file. */
  row?: number | undefined;
}

function fail(origin: MessageOrigin, field: string, message: string): RapportError {
  return invalid(`${origin.prefix}${field}`, message, origin.row);
}

/**
 * zod's issues as `zodError` words them, below the message's origin. An issue about the
 * message as a whole names `(message)`, as {@link fail} does, and path indexes are kept as
 * written (`batch.0.type`), so the path is handed over as strings.
 */
function zodFail(origin: MessageOrigin, error: z.ZodError): RapportError {
  const issues = error.issues.map((i) => ({ ...i, path: i.path.length === 0 ? ['(message)'] : i.path.map(String) }));
  return zodError(new z.ZodError(issues), { prefix: origin.prefix.replace(/\.$/, ''), ...(origin.row === undefined ? {} : { row: origin.row }) });
}

/**
 * Parses an ISO-8601 string or epoch milliseconds; names the field when it cannot, and, given
 * a window, when the time lies outside it (core/limits.ts).
 */
export function parseTime(value: unknown, field: string, origin: MessageOrigin, window?: TimeWindow): number {
  let t: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw fail(origin, field, 'expected a date, got a non-finite number');
    t = Math.round(value);
  } else if (typeof value === 'string') {
    t = Date.parse(value);
    if (Number.isNaN(t)) throw fail(origin, field, `expected an ISO-8601 date, got "${value.slice(0, 40)}"`);
  } else {
    throw fail(origin, field, 'expected an ISO-8601 date');
  }
  const problem = window ? timeProblem(t, window) : undefined;
  if (problem) throw fail(origin, field, problem);
  return t;
}

/**
 * When a message happened, as Segment reads it: `timestamp` as given (a backfill sets it);
 * else `originalTimestamp`, corrected for the sender's clock when `sentAt` says how far that
 * clock was off (receivedAt − (sentAt − originalTimestamp)); else the time received. The result
 * must lie in the window.
 */
function messageTime(msg: { timestamp?: unknown; originalTimestamp?: unknown; sentAt?: unknown }, opts: NormalizeOptions, origin: MessageOrigin, window: TimeWindow): number {
  if (msg.timestamp !== undefined) return parseTime(msg.timestamp, 'timestamp', origin, window);
  if (msg.originalTimestamp === undefined) return opts.receivedAt;
  const original = parseTime(msg.originalTimestamp, 'originalTimestamp', origin);
  const sentAt = msg.sentAt ?? opts.batchSentAt;
  if (opts.live && sentAt !== undefined) {
    const sent = parseTime(sentAt, msg.sentAt !== undefined ? 'sentAt' : 'sentAt (of the batch)', origin);
    const corrected = opts.receivedAt - (sent - original);
    const problem = timeProblem(corrected, window);
    if (problem) throw fail(origin, 'originalTimestamp', `${problem} (corrected by sentAt)`);
    return corrected;
  }
  const problem = timeProblem(original, window);
  if (problem) throw fail(origin, 'originalTimestamp', problem);
  return original;
}

const OUTBOUND_EVENT = /\b(email|push|notification|sms|text message|message|newsletter|campaign|in-app message)\b.*\b(sent|delivered|scheduled)$/i;
const MUTUAL_EVENT = /\b(call|meeting|interview|visit|chat|conversation|demo)\b.*\b(held|completed|ended|finished|took place)$/i;

/**
 * The direction of a touch. An explicit `direction` property wins; otherwise messages the
 * company sends ("Email Sent", "Push Notification Delivered") are outbound, conversations
 * ("Call Completed", "Meeting Held") are mutual, and everything the customer does is inbound.
 */
export function directionOf(event: string, properties: Record<string, unknown>): Direction {
  const explicit = properties['direction'];
  if (typeof explicit === 'string' && (DIRECTIONS as readonly string[]).includes(explicit)) return explicit as Direction;
  if (OUTBOUND_EVENT.test(event)) return 'outbound';
  if (MUTUAL_EVENT.test(event)) return 'mutual';
  return 'inbound';
}

/** Where a conversation by phone is meant: a call centre, a voice line, an IVR. */
const PHONE = /\b(phone|call|calls|voice|telephony|ivr|call[\s_-]?cent(er|re)|contact[\s_-]?cent(er|re)|voicemail)\b/i;
/** What an event's name says about its channel when nothing else does, tried in order. */
const NAMED_CHANNELS: readonly (readonly [RegExp, string])[] = [
  [/\b(call|phone call|voicemail)\b/i, 'phone'],
  [/\b(sms|text message)\b/i, 'sms'],
  [/\b(push|push notification)\b/i, 'push'],
  [/\b(email|e-mail|newsletter)\b/i, 'email'],
  [/\b(chat|live chat)\b/i, 'chat'],
];
/** Segment's own `context.channel` values name the library that sent the message, not the customer's channel. */
const SDK_CHANNELS: Readonly<Record<string, string | null>> = { browser: 'web', client: 'web', mobile: 'mobile', server: null };

function words(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The channel of a touch, first of:
 *  1. the `channel` property;
 *  2. the context's channel (`context.channel`): `browser` is web, `mobile` mobile, a phone or
 *     call-centre word (`phone`, `call_center`, `voice`, `ivr`) phone, anything else as given;
 *     `server` only says which library sent it and decides nothing;
 *  3. a phone or call-centre context elsewhere (`context.source`, `context.medium`,
 *     `context.app.name`, `context.library.name`): phone;
 *  4. the event's name: calls are phone, SMS sms, pushes push, e-mails and newsletters email, chats chat;
 *  5. the message type: page → web, screen → mobile, anything else product.
 */
export function channelOf(type: string, properties: Record<string, unknown>, context: Record<string, unknown> | undefined, event?: string): string {
  const explicit = words(properties['channel']);
  if (explicit !== undefined) return explicit.toLowerCase();
  const ctx = words(context?.['channel'])?.toLowerCase();
  if (ctx !== undefined) {
    if (ctx in SDK_CHANNELS) {
      const c = SDK_CHANNELS[ctx];
      if (c) return c;
    } else {
      return PHONE.test(ctx) ? 'phone' : ctx;
    }
  }
  if (context) {
    const app = context['app'] as Record<string, unknown> | undefined;
    const library = context['library'] as Record<string, unknown> | undefined;
    for (const v of [context['source'], context['medium'], typeof app === 'object' && app ? app['name'] : undefined, typeof library === 'object' && library ? library['name'] : undefined]) {
      const w = words(v);
      if (w !== undefined && PHONE.test(w)) return 'phone';
    }
  }
  if (event !== undefined && type === 'track') {
    for (const [re, channel] of NAMED_CHANNELS) if (re.test(event)) return channel;
  }
  if (ctx === 'mobile' || type === 'screen') return 'mobile';
  if (type === 'page') return 'web';
  return 'product';
}

/** A stable id for a record that came without one, so that re-imports find it again. */
export function contentId(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

function whoOf(msg: { userId?: string | null | undefined; anonymousId?: string | null | undefined }, origin: MessageOrigin): Who {
  const userId = msg.userId ?? undefined;
  const anonymousId = msg.anonymousId ?? undefined;
  if (userId === undefined && anonymousId === undefined) throw fail(origin, 'userId', 'userId or anonymousId is required');
  return { userId, anonymousId };
}

function num(value: unknown, field: string, origin: MessageOrigin, opts: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw fail(origin, field, `expected a number, got ${String(JSON.stringify(value)).slice(0, 40)}`);
  if (opts.min !== undefined && n < opts.min) throw fail(origin, field, `must be at least ${opts.min}, got ${n}`);
  const problem = amountProblem(n, opts.max);
  if (problem) throw fail(origin, field, problem);
  return n;
}

function str(value: unknown): string | null {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number') return String(value);
  return null;
}

/** Segment Ecommerce spec v2 "Order Completed" → an order with lines. */
function orderOf(
  who: Who,
  properties: Record<string, unknown>,
  at: number,
  source: string,
  origin: MessageOrigin,
): IngestRecord[] {
  const orderId = str(properties['order_id']) ?? str(properties['checkout_id']);
  if (!orderId) throw fail(origin, 'properties.order_id', 'Order Completed needs an order_id');
  const products = properties['products'] ?? [];
  if (!Array.isArray(products)) throw fail(origin, 'properties.products', 'expected an array of products');
  const lines: OrderLine[] = products.map((p: unknown, i: number) => {
    const f = `properties.products[${i}]`;
    if (typeof p !== 'object' || p === null) throw fail(origin, f, 'expected a product object');
    const o = p as Record<string, unknown>;
    const productId = str(o['product_id']) ?? str(o['sku']) ?? str(o['id']) ?? str(o['name']);
    if (!productId) throw fail(origin, `${f}.product_id`, 'a product needs product_id, sku or name');
    return {
      productId,
      name: str(o['name']),
      category: str(o['category']),
      price: num(o['price'], `${f}.price`, origin, { min: 0 }) ?? 0,
      quantity: num(o['quantity'], `${f}.quantity`, origin, { min: 0, max: MAX_QUANTITY }) ?? 1,
    };
  });
  const linesTotal = lines.reduce((s, l) => s + l.price * l.quantity, 0);
  const total =
    num(properties['total'], 'properties.total', origin, { min: 0 }) ??
    num(properties['revenue'], 'properties.revenue', origin, { min: 0 }) ??
    linesTotal;
  const currency = (str(properties['currency']) ?? 'USD').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw fail(origin, 'properties.currency', `expected an ISO-4217 code, got "${currency}"`);
  const rest: Record<string, unknown> = { ...properties };
  delete rest['products'];
  const records: IngestRecord[] = [
    { kind: 'order', who, orderId, at, total, currency, lines, properties: rest, source, sourceId: orderId },
  ];
  for (const l of lines) {
    records.push({ kind: 'product', productId: l.productId, name: l.name, category: l.category, price: l.price });
  }
  return records;
}

export interface NormalizeOptions {
  source: string;
  /** Server receipt time, used when a message has no timestamp. */
  receivedAt: number;
  origin?: MessageOrigin;
  /** Batch-level context merged under each message's own (Segment batch semantics). */
  batchContext?: Record<string, unknown> | undefined;
  /** The batch's `sentAt`, for messages without their own. */
  batchSentAt?: unknown;
  /** Accepted times; default: core/limits.ts's window around `receivedAt`. */
  window?: TimeWindow | undefined;
  /**
   * Received just now over HTTP: an `originalTimestamp` is corrected for the sender's clock by
   * `sentAt`, as Segment does. (A file's messages were received long ago: taken as written.)
   */
  live?: boolean;
  /** The message's values were checked already (core/limits.ts `valueProblem`), as a batch does first. */
  checked?: boolean;
}

/**
 * Validates one Segment message of the given type and turns it into records.
 * Throws a RapportError naming the field (with the batch index or file row) when invalid.
 */
export function normalizeMessage(type: MessageType, raw: unknown, opts: NormalizeOptions): IngestRecord[] {
  const origin = opts.origin ?? { prefix: '' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail(origin, '(message)', 'expected a JSON object');
  }
  const bad = opts.checked ? undefined : valueProblem(raw, '');
  if (bad) throw fail(origin, bad.field.replace(/^\./, '') || '(message)', bad.message);
  const parsed = SCHEMAS[type].safeParse(raw);
  if (!parsed.success) throw zodFail(origin, parsed.error);
  const msg = parsed.data;
  const window = opts.window ?? timeWindow(opts.receivedAt);
  const at = messageTime(msg, opts, origin, window);
  const context = opts.batchContext ? { ...opts.batchContext, ...(msg.context ?? {}) } : msg.context;
  const messageId = msg.messageId;

  switch (type) {
    case 'identify': {
      const m = msg as z.infer<typeof IdentifySchema>;
      const signedUp = traitTime(m.traits ?? {});
      const problem = signedUp === null ? undefined : timeProblem(signedUp, window);
      if (problem) throw fail(origin, `traits.${m.traits?.['createdAt'] !== undefined ? 'createdAt' : 'created_at'}`, problem);
      return [{ kind: 'identify', who: whoOf(m, origin), traits: m.traits ?? {}, at }];
    }
    case 'group': {
      const m = msg as z.infer<typeof GroupSchema>;
      return [{ kind: 'group', who: whoOf(m, origin), groupId: m.groupId, traits: m.traits ?? {}, at }];
    }
    case 'alias': {
      const m = msg as z.infer<typeof AliasSchema>;
      return [{ kind: 'alias', previousId: m.previousId, userId: m.userId, at }];
    }
    case 'track':
    case 'page':
    case 'screen': {
      const who = whoOf(msg, origin);
      const properties = (msg as { properties?: Record<string, unknown> }).properties ?? {};
      let name: string;
      if (type === 'track') {
        name = (msg as z.infer<typeof TrackSchema>).event;
        if (name === 'Order Completed') return orderOf(who, properties, at, opts.source, origin);
      } else {
        const m = msg as z.infer<typeof PageSchema>;
        name = [m.category, m.name].filter((s) => typeof s === 'string' && s.length > 0).join(' / ') || (type === 'page' ? 'Page Viewed' : 'Screen Viewed');
      }
      const sourceId = messageId ?? contentId([type, who.userId, who.anonymousId, name, at, properties]);
      return [
        {
          kind: 'interaction',
          who,
          type,
          name,
          channel: channelOf(type, properties, context, name),
          direction: directionOf(name, properties),
          at,
          properties,
          source: opts.source,
          sourceId,
        },
      ];
    }
  }
}

/** Byte length of a JSON value as it travelled (approximate for parsed input). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Validates a whole /v1/batch body: every message or none (nothing half-written).
 * `bodyBytes` is the size the body travelled at: only a body larger than one message's limit
 * can hold an oversized message, so smaller ones skip measuring each message again.
 */
export function normalizeBatch(body: unknown, opts: Omit<NormalizeOptions, 'origin'> & { bodyBytes?: number }): IngestRecord[] {
  const parsed = BatchSchema.safeParse(body);
  if (!parsed.success) throw zodFail({ prefix: '' }, parsed.error);
  const out: IngestRecord[] = [];
  const measure = opts.bodyBytes === undefined || opts.bodyBytes > MAX_MESSAGE_BYTES;
  parsed.data.batch.forEach((m, i) => {
    const origin = { prefix: `batch[${i}].` };
    // Checked before it is measured: JSON.stringify of a value nested 100,000 deep overflows the stack.
    const bad = valueProblem(m, '');
    if (bad) throw fail(origin, bad.field.replace(/^\./, '') || '(message)', bad.message);
    if (measure && jsonBytes(m) > MAX_MESSAGE_BYTES) {
      throw new RapportError('payload_too_large', `batch[${i}]: message larger than ${MAX_MESSAGE_BYTES / 1024} KB`, [
        { field: `batch[${i}]`, message: `larger than ${MAX_MESSAGE_BYTES} bytes` },
      ]);
    }
    out.push(...normalizeMessage(m.type, m, { ...opts, origin, batchContext: parsed.data.context, batchSentAt: parsed.data.sentAt, checked: true }));
  });
  return out;
}
