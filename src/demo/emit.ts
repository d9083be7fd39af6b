import { round } from '../core/numbers.js';
import { MINUTE_MS } from '../core/time.js';
import type { FeedbackRecord, Who } from '../ingest/records.js';
import type { MessageType } from '../ingest/segment/segment.js';
import type { FeedbackKind } from '../store/schema.js';
import { CATEGORIES, MIN_PRICE_BY_CATEGORY, PRODUCTS_BY_CATEGORY, type Product } from './catalog.js';
import { itemAt, last, type Rng } from './random.js';

/**
 * Builds the Segment spec messages (and feedback records) one demo person produces. Every
 * message gets a deterministic messageId, so loading the same demo twice stores nothing new.
 */

export interface Message {
  type: MessageType;
  body: Record<string, unknown>;
}

/** Written first: anonymous traffic, so identify/alias later merge it as in real life. */
export type Phase = 'anonymous' | 'known';

export type Channel = 'web' | 'mobile';

export interface LineItem {
  product: Product;
  quantity: number;
}

export function iso(t: number): string {
  return new Date(t).toISOString();
}

const CONTEXT: Record<Channel, Record<string, unknown>> = {
  web: { channel: 'browser' },
  mobile: { channel: 'mobile', app: { name: 'Shop', version: '4.1' } },
};

export class Emitter {
  readonly anonymous: Message[] = [];
  readonly known: Message[] = [];
  readonly feedback: FeedbackRecord[] = [];
  private n = 0;
  private f = 0;

  constructor(
    private readonly prefix: string,
    /** Nothing happens at or after this time (the observation end). */
    readonly end: number,
  ) {}

  message(phase: Phase, type: MessageType, body: Record<string, unknown>, at: number): void {
    if (at >= this.end) return;
    const full = { ...body, messageId: `${this.prefix}-${this.n++}`, timestamp: iso(at) };
    (phase === 'anonymous' ? this.anonymous : this.known).push({ type, body: full });
  }

  track(phase: Phase, who: Who, event: string, at: number, properties: Record<string, unknown>, channel?: Channel): void {
    this.message(phase, 'track', { ...whoFields(who), event, properties, ...(channel ? { context: CONTEXT[channel] } : {}) }, at);
  }

  /** A feedback item; returns its source id (for the truth), or null when after the end. */
  addFeedback(who: Who | null, kind: FeedbackKind, text: string, rating: number | null, status: string, at: number, properties: Record<string, unknown>): string | null {
    if (at >= this.end) return null;
    // Stored times are whole milliseconds (PostgreSQL bigint); Segment messages get there via ISO strings.
    at = Math.floor(at);
    const sourceId = `${this.prefix}-f${this.f++}`;
    this.feedback.push({ kind: 'feedback', who, feedbackKind: kind, text, rating, status, at, properties, source: 'demo', sourceId });
    return sourceId;
  }

  /** Number of interaction-producing messages (everything but identify/group/alias). */
  count(): number {
    return this.anonymous.length + this.known.length;
  }
}

export function whoFields(who: Who): Record<string, string> {
  const out: Record<string, string> = {};
  if (who.userId !== undefined) out['userId'] = who.userId;
  if (who.anonymousId !== undefined) out['anonymousId'] = who.anonymousId;
  return out;
}

/** Picks a product: category by the customer's preferences, product by popularity. */
export function browseProduct(rng: Rng, prefs: readonly number[]): Product {
  const items = itemAt(PRODUCTS_BY_CATEGORY, rng.weighted(prefs));
  return rng.pickWeighted(items, items.map((p) => p.popularity));
}

/**
 * Order lines that fill a spend budget (the Gamma-Gamma draw) from the catalogue: categories
 * by preference among those with something affordable, products by popularity and by
 * closeness to a share of what is left of the budget.
 */
export function fillBasket(rng: Rng, prefs: readonly number[], budget: number): LineItem[] {
  const lines: LineItem[] = [];
  let remaining = budget;
  for (let guard = 0; guard < 10; guard++) {
    const cap = remaining * 1.15;
    const weights = prefs.map((w, c) => (itemAt(MIN_PRICE_BY_CATEGORY, c) <= cap ? w : 0));
    if (!weights.some((w) => w > 0)) break;
    const c = rng.weighted(weights);
    // Not empty: only categories with an affordable product have a positive weight.
    const candidates = itemAt(PRODUCTS_BY_CATEGORY, c).filter((p) => p.price <= cap);
    const target = remaining * rng.uniform(0.45, 1);
    const product = rng.pickWeighted(candidates, candidates.map((p) => p.popularity * Math.exp(-2 * Math.abs(Math.log(p.price / target)))));
    const quantity = product.price * 2 <= remaining * 1.1 && rng.chance(0.12) ? 2 : 1;
    const existing = lines.find((l) => l.product.id === product.id);
    if (existing) existing.quantity += quantity;
    else lines.push({ product, quantity });
    remaining -= product.price * quantity;
    if (remaining < budget * 0.1) break;
  }
  if (lines.length === 0) {
    // Budget below everything preferred: the cheapest item of a preferred category.
    const c = rng.weighted(prefs);
    const cheapest = itemAt([...itemAt(PRODUCTS_BY_CATEGORY, c)].sort((a, b) => a.price - b.price), 0);
    lines.push({ product: cheapest, quantity: 1 });
  }
  return lines;
}

export function basketTotal(lines: readonly LineItem[]): number {
  return round(lines.reduce((s, l) => s + l.product.price * l.quantity, 0));
}

const WEB_LANDINGS = [
  ['Home', '/'],
  ['Deals', '/deals'],
  ['Search Results', '/search'],
  ['New Arrivals', '/new'],
] as const;

export interface SessionSpec {
  phase: Phase;
  who: Who;
  channel: Channel;
  prefs: readonly number[];
  /** Mean extra product views (engagement). */
  depth: number;
  /** A purchase session ends with this order at exactly `at`. */
  order?: { orderId: string; lines: readonly LineItem[]; properties?: Record<string, unknown> };
  /** Probability of a wishlist add in a browse session (default 0.05). */
  wishlist?: number;
}

/**
 * One visit: a landing page or screen, product views, sometimes a search, a wishlist add or
 * an abandoned cart; a purchase session ends with Checkout Started and Order Completed.
 * Browse sessions start at `at`; purchase sessions end at `at`.
 */
export function session(em: Emitter, rng: Rng, at: number, s: SessionSpec): void {
  type Step = { kind: 'page' | 'screen' | 'track'; name: string; props: Record<string, unknown> };
  const steps: Step[] = [];
  if (s.channel === 'web') {
    const [name, path] = rng.pick(WEB_LANDINGS);
    steps.push({ kind: 'page', name, props: { path } });
  } else {
    steps.push({ kind: 'screen', name: 'Home', props: {} });
  }
  if (rng.chance(0.3)) {
    const c = rng.pickWeighted(CATEGORIES, s.prefs);
    steps.push({ kind: 'track', name: 'Products Searched', props: { query: rng.pick(c.searches) } });
  }
  const views = Math.min(6, 1 + rng.poisson(s.depth));
  for (let v = 0; v < views; v++) {
    const p = browseProduct(rng, s.prefs);
    steps.push({ kind: 'track', name: 'Product Viewed', props: { product_id: p.id, name: p.name, category: p.category, price: p.price } });
  }
  if (s.order) {
    for (const l of s.order.lines) {
      steps.push({ kind: 'track', name: 'Product Viewed', props: { product_id: l.product.id, name: l.product.name, category: l.product.category, price: l.product.price } });
      steps.push({ kind: 'track', name: 'Product Added', props: { product_id: l.product.id, name: l.product.name, price: l.product.price, quantity: l.quantity } });
    }
    const total = basketTotal(s.order.lines);
    steps.push({ kind: 'track', name: 'Checkout Started', props: { value: total, currency: 'USD' } });
    steps.push({
      kind: 'track',
      name: 'Order Completed',
      props: {
        order_id: s.order.orderId,
        total,
        currency: 'USD',
        products: s.order.lines.map((l) => ({
          product_id: l.product.id,
          sku: l.product.id,
          name: l.product.name,
          category: l.product.category,
          price: l.product.price,
          quantity: l.quantity,
        })),
        ...(s.order.properties ?? {}),
      },
    });
  } else {
    if (rng.chance(s.wishlist ?? 0.05)) {
      const p = browseProduct(rng, s.prefs);
      steps.push({ kind: 'track', name: 'Product Added to Wishlist', props: { product_id: p.id, name: p.name } });
    }
    if (rng.chance(0.1)) {
      const p = browseProduct(rng, s.prefs);
      steps.push({ kind: 'track', name: 'Product Added', props: { product_id: p.id, name: p.name, price: p.price, quantity: 1 } });
    }
    if (rng.chance(0.03)) steps.push(s.channel === 'web' ? { kind: 'page', name: 'Help Center', props: { path: '/help' } } : { kind: 'screen', name: 'Help', props: {} });
  }
  const timed = steps.map((step) => ({ step, gap: Math.round(rng.uniform(0.3, 2.5) * MINUTE_MS) }));
  let t = s.order ? at - timed.reduce((a, x) => a + x.gap, 0) + last(timed).gap : at;
  timed.forEach(({ step, gap }, k) => {
    const time = k === timed.length - 1 && s.order ? at : t;
    if (step.kind === 'track') em.track(s.phase, s.who, step.name, time, step.props, s.channel);
    else em.message(s.phase, step.kind, { ...whoFields(s.who), name: step.name, properties: step.props }, time);
    t += gap;
  });
}
