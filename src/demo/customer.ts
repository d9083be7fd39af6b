import { round } from '../core/numbers.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from '../core/time.js';
import type { Who } from '../ingest/records.js';
import { CATEGORIES, categoryIndex, categoryOf, type Product } from './catalog.js';
import { basketTotal, browseProduct, Emitter, fillBasket, iso, session, type Channel, type LineItem } from './emit.js';
import { acquisitionTime, defectRates, effectiveDropout, expectedRepeat, ORDER_DEFECT_KINDS, simulatePurchases, type Population } from './model.js';
import { company, person, type Country, type Person } from './people.js';
import { itemAt, last, Rng, stableId } from './random.js';
import {
  GENERAL_ISSUES,
  IDEA_KEYS,
  IDEAS,
  ideaText,
  interviewText,
  issueText,
  ORDER_DEFECTS,
  painNote,
  reviewText,
  surveyText,
  visitText,
  type GeneralIssue,
  type IdeaKey,
  type IssueSpec,
  type OrderDefect,
} from './text.js';

/**
 * One demo customer's whole story, from first anonymous visit to the observation end: the
 * true parameters drawn, the Segment messages their behaviour produces, and their feedback.
 * Pure: depends only on (settings, index), never on other customers or the clock.
 */

export interface Settings {
  seed: number;
  /** Observation window in epoch ms, [start, end). */
  start: number;
  end: number;
  population: Population;
}

/** The LOVE stages, in order (see rules/love-stages.yaml for how Rapport reads them). */
export const STAGES = ['introduction', 'information', 'commitment', 'affinity', 'co-creation'] as const;
export type Stage = 'introduction' | 'information' | 'commitment' | 'affinity' | 'co-creation';
export type Platform = 'web' | 'app' | 'both';

export interface FeedbackTruth {
  id: string;
  kind: string;
  /** What it is about: `defect:delivery_late`, `issue:password_reset`, `idea:gift_cards`, `product:HK-1002`, `praise`… */
  themes: string[];
}

export interface DefectTruth {
  type: OrderDefect;
  orderId: string;
  at: string;
  /** Extra dropout probability this defect caused at that purchase (0 on the trial purchase). */
  hazard: number;
  ticket: boolean;
  /** The customer dropped out right after this purchase. */
  diedAfter: boolean;
}

/** The truth stored in demo_truth.params for each identified customer. */
export interface CustomerTruth {
  index: number;
  userId: string;
  signupAt: string;
  anonymousIds: string[];
  buyer: boolean;
  firstPurchaseAt: string | null;
  /** BG/NBD purchase rate per week, λ ~ Gamma(r, α). */
  lambda: number;
  /** Dropout probability per repeat purchase as drawn, p ~ Beta(a, b). */
  p: number;
  /** The dropout probability actually faced, raised by order defects (see effectiveDropout). */
  pEffective: number;
  alive: boolean;
  deathAt: string | null;
  /** Weeks from the first purchase to the end (BG/NBD T); 0 for prospects. */
  T: number;
  repeatPurchases: number;
  /** E[X(T) | λ, p_eff]. */
  expectedRepeat: number;
  /** Gamma-Gamma ν ~ Gamma(q, γ); the mean order value is p/ν. */
  nu: number;
  meanSpend: number;
  /** Mean of the realised order totals (catalogue lines filling the Gamma budgets). */
  realisedMeanSpend: number | null;
  revenue: number;
  categoryPreferences: Record<string, number>;
  /** Propensity to contribute (reviews, ideas, surveys, interviews), Beta(1.3, 4). */
  involvement: number;
  /** Latent satisfaction before defects, N(0.8, 0.8). */
  satisfaction: number;
  /** Multiplier of browsing frequency, Gamma(2, 2). */
  engagement: number;
  platform: Platform;
  country: string;
  plan: string;
  newsletter: boolean;
  account: string | null;
  big: boolean;
  /**
   * The latent LOVE stage at the observation end, drawn per customer (see drawLadder) and
   * what their stage-specific behaviour is emitted from. It is the depth the relationship
   * reached, not lost by silence: a customer who reached affinity and then went quiet is still
   * at affinity (silence shows as cooling momentum, which the stage engine reads separately).
   */
  stage: Stage;
  /** Each stage on the way up and when it was reached (introduction at sign-up), oldest first; ends at `stage`. */
  stageHistory: { stage: Stage; at: string }[];
  defects: DefectTruth[];
  issues: { type: GeneralIssue; at: string }[];
  wants: IdeaKey[];
  feedback: FeedbackTruth[];
}

export interface CustomerResult {
  truth: CustomerTruth;
  emitter: Emitter;
  groupId: string | null;
  orders: number;
  orderLines: number;
}

/** When the app's release 4.2 crashed at checkout: months 14.0–15.2 of the window. */
export function crashWindow(s: Settings): [number, number] {
  const span = s.end - s.start;
  return [s.start + span * (14 / 24), s.start + span * (15.2 / 24)];
}

/** NPS survey waves: months 3, 9, 15 and 21 of a 24-month window (scaled to other lengths). */
export function surveyWaves(s: Settings): number[] {
  const span = s.end - s.start;
  return [3, 9, 15, 21].map((m) => s.start + span * (m / 24) + 9 * HOUR_MS);
}

/** Local hour-of-day weights: quiet nights, lunch and evening peaks. */
const HOUR_WEIGHTS = [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1, 1.1, 1.2, 1.4, 1.3, 1.1, 1, 1, 1.1, 1.4, 1.8, 2, 1.9, 1.4, 0.7];

/** The same local day as t, at a typical hour; kept inside [lo, hi]. */
function localTime(rng: Rng, t: number, utcOffset: number, lo: number, hi: number): number {
  const off = utcOffset * HOUR_MS;
  const day = Math.floor((t + off) / DAY_MS) * DAY_MS - off;
  const moved = day + rng.weighted(HOUR_WEIGHTS) * HOUR_MS + rng.int(3600) * SECOND_MS;
  return Math.min(hi, Math.max(lo, moved));
}

/** Poisson-process times with `ratePerWeek` on [from, to). */
function poissonTimes(rng: Rng, ratePerWeek: number, from: number, to: number): number[] {
  const out: number[] = [];
  if (!(ratePerWeek > 0)) return out;
  let t = from;
  for (;;) {
    t += rng.exponential(ratePerWeek / WEEK_MS);
    if (!(t < to)) return out;
    out.push(t);
  }
}

/** Monthly calendar dates on `dayOfMonth` at `hourUtc` within [from, to). */
function monthly(from: number, to: number, dayOfMonth: number, hourUtc: number): number[] {
  const out: number[] = [];
  const d = new Date(from);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  for (;;) {
    const t = Date.UTC(y, m, dayOfMonth, hourUtc);
    if (t >= to) return out;
    if (t >= from) out.push(t);
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
}

function monthLabel(t: number): string {
  return iso(t).slice(0, 7);
}

/** The user id and the account a customer index gets under a seed (stable across runs). */
export function userIdOf(seed: number, index: number): string {
  return `cus_${stableId(14, seed, 'user', index)}`;
}

const ISSUE_WEIGHTS: Record<Exclude<GeneralIssue, 'app_crash_checkout'>, number> = {
  password_reset: 0.2,
  coupon_not_applying: 0.15,
  search_irrelevant: 0.1,
  return_label: 0.2,
  tracking_question: 0.15,
  change_address: 0.1,
  invoice_request: 0.1,
};

const NEEDS_ORDER = new Set<GeneralIssue>(['coupon_not_applying', 'return_label', 'tracking_question', 'change_address', 'invoice_request']);

const RESOLUTION_HOURS: Record<string, number> = { urgent: 6, high: 16, normal: 30, low: 60 };

const YEAR_MS = 52 * WEEK_MS;
const MONTH_MS = YEAR_MS / 12;
/** Positions in STAGES. */
const COMMITMENT = 2;

/**
 * Of the involvement-driven items the main stream draws (reviews, invitations, portal ideas),
 * the share kept while the customer is at each stage (indexed like STAGES): all of them once
 * they give without being asked (affinity), some before.
 */
const REVIEW_BEFORE_AFFINITY = [0.3, 0.3, 0.45, 1, 1];
const INVITE_BEFORE_AFFINITY = [0.1, 0.1, 0.15, 1, 1];
const IDEA_BEFORE_AFFINITY = [0.12, 0.12, 0.25, 1, 1];
/** Share of the main stream's survey answers kept before commitment. */
const SURVEY_BEFORE_COMMITMENT = 0.15;
/** Chance that a committed customer whom the base rate left out answers a survey wave all the same. */
const SURVEY_EXTRA = 0.55;

const QUESTION_TOPICS = ['delivery times', 'gift wrapping', 'product details', 'payment options', 'returns policy', 'stock availability'];
const BETA_PROGRAMS = ['App 5.0 beta', 'Gift cards pilot', 'New checkout beta', 'Recommendations beta'];
const STUDIES = ['Checkout research', 'Delivery experience', 'Wishlist & gifting', 'Business buying'];
type Gift = 'review' | 'referral' | 'community' | 'vote' | 'idea';
type Research = 'interview' | 'panel' | 'beta' | 'visit' | 'adopted';

export function simulateCustomer(s: Settings, index: number): CustomerResult {
  return new CustomerStory(s, index).run();
}

class CustomerStory {
  private readonly rng: Rng;
  private readonly pop: Population;
  private readonly userId: string;
  private readonly who: Who;
  private readonly em: Emitter;
  private readonly truth: CustomerTruth;
  private readonly prefs: number[];
  private readonly country: Country;
  private readonly firstName: string;
  private readonly personTraits: Pick<Person, 'name' | 'firstName' | 'lastName' | 'email'>;
  private groupId: string | null = null;
  private companyInfo: ReturnType<typeof company> | null = null;
  /** While the customer is still interested (alive for buyers); ms. */
  private activeUntil = 0;
  private orders: { id: string; at: number; lines: LineItem[]; total: number; defects: OrderDefect[] }[] = [];
  private pains: { at: number; kind: OrderDefect | GeneralIssue }[] = [];
  private ticketNo = 0;
  /** The LOVE stream: the latent stage and what it makes the customer do (the main stream stays as it was). */
  private readonly love: Rng;
  /** The stages reached, oldest first (introduction at sign-up). */
  private ladder: { stage: Stage; at: number }[] = [];
  /** Ideas posted on the portal: what an adopted idea refers to. */
  private ideaPosts: { id: string; idea: IdeaKey; at: number }[] = [];
  /** Orders that got a review. */
  private reviewed = new Set<string>();

  constructor(
    private readonly s: Settings,
    private readonly index: number,
  ) {
    this.rng = Rng.from(s.seed, 'customer', index);
    this.love = Rng.from(s.seed, 'love', index);
    this.pop = s.population;
    this.userId = userIdOf(s.seed, index);
    this.who = { userId: this.userId };
    this.em = new Emitter(`demo-${s.seed}-${index}`, s.end);
    const rng = this.rng;
    const { r, alpha, a, b } = this.pop.bgnbd;
    const gg = this.pop.gammaGamma;
    const lambda = rng.gamma(r, alpha);
    const p = rng.beta(a, b);
    const nu = rng.gamma(gg.q, gg.gamma);
    this.prefs = rng.dirichlet(CATEGORIES.map((c) => c.share * this.pop.categoryConcentration));
    const involvement = rng.beta(1.3, 4);
    const satisfaction = 0.8 + 0.8 * rng.normal();
    const engagement = rng.gamma(2, 2);
    const platformDraw = rng.float();
    const platform: Platform = platformDraw < 0.55 ? 'web' : platformDraw < 0.8 ? 'app' : 'both';
    // Heavy buyers are more often businesses; membership does not change the λ distribution.
    const b2b = rng.chance(lambda > 0.15 ? 0.25 : 0.06);
    if (b2b) {
      const block = Math.floor(index / 40);
      const k = rng.int(2);
      this.groupId = `acct_${stableId(10, s.seed, 'account', block, k)}`;
      this.companyInfo = company(Rng.from(s.seed, 'account', block, k));
    }
    const who = person(rng, this.companyInfo?.domain);
    this.country = who.country;
    this.firstName = who.firstName;
    const rates = defectRates(this.pop, this.country.lateDelivery);
    const plan = b2b ? 'business' : 'free';
    this.truth = {
      index,
      userId: this.userId,
      signupAt: '',
      anonymousIds: [],
      buyer: false,
      firstPurchaseAt: null,
      lambda,
      p,
      pEffective: effectiveDropout(this.pop, p, rates),
      alive: true,
      deathAt: null,
      T: 0,
      repeatPurchases: 0,
      expectedRepeat: 0,
      nu,
      meanSpend: gg.p / nu,
      realisedMeanSpend: null,
      revenue: 0,
      categoryPreferences: Object.fromEntries(CATEGORIES.map((c, i) => [c.key, round(itemAt(this.prefs, i), 4)])),
      involvement,
      satisfaction,
      engagement,
      platform,
      country: this.country.code,
      plan,
      newsletter: false,
      account: this.groupId,
      big: false,
      stage: 'introduction',
      stageHistory: [],
      defects: [],
      issues: [],
      wants: [],
      feedback: [],
    };
    this.personTraits = { name: who.name, firstName: who.firstName, lastName: who.lastName, email: who.email };
  }

  run(): CustomerResult {
    const { rng, s, truth } = this;
    const ts = localTime(rng, acquisitionTime(rng, s.start, s.end - DAY_MS, this.pop.acquisitionGrowth), this.country.utcOffset, s.start, s.end - 2 * HOUR_MS);
    truth.signupAt = iso(ts);
    truth.wants = this.drawWants();
    this.signup(ts);

    // Purchases (BG/NBD) and what they cause.
    const buyer = rng.chance(this.pop.buyerShare);
    let firstAt = Number.POSITIVE_INFINITY;
    let purchases: { at: number; defects: OrderDefect[]; died: boolean }[] = [];
    if (buyer) firstAt = rng.chance(0.55) ? ts + rng.uniform(30, 90) * MINUTE_MS : ts + rng.exponential(1 / (10 * DAY_MS));
    if (firstAt < s.end - MINUTE_MS) {
      truth.buyer = true;
      truth.firstPurchaseAt = iso(firstAt);
      const rates = defectRates(this.pop, this.country.lateDelivery);
      const sim = simulatePurchases(rng, this.pop, { lambda: truth.lambda, p: truth.p, rates }, firstAt, s.end);
      truth.T = (s.end - firstAt) / WEEK_MS;
      truth.repeatPurchases = sim.purchases.length - 1;
      truth.expectedRepeat = expectedRepeat(truth.lambda, truth.pEffective, truth.T);
      truth.alive = sim.deathAt === null;
      // Repeat purchases move to a typical hour of their day, keeping their order.
      let prev = ts;
      const times = sim.purchases.map((pu, k) => (prev = k === 0 ? pu.at : localTime(rng, pu.at, this.country.utcOffset, prev + HOUR_MS, s.end - MINUTE_MS)));
      const deathAt = sim.deathAt === null ? null : last(times);
      truth.deathAt = deathAt === null ? null : iso(deathAt);
      this.activeUntil = deathAt ?? s.end;
      // times is sim.purchases mapped, so times[k] exists.
      purchases = sim.purchases.map((pu, k) => ({ at: times[k]!, defects: pu.defects, died: pu.died }));
    } else {
      // A prospect: interested for a while after signing up, then drifts away.
      this.activeUntil = Math.min(s.end, ts + rng.exponential(1 / (10 * WEEK_MS)));
      truth.alive = false;
    }
    // The latent stage comes from its own stream, so the draws above and below stay as they were.
    this.drawLadder(ts, purchases);
    purchases.forEach((pu, k) => this.purchase(pu.at, pu.defects, pu.died, k));

    this.browsing(ts);
    this.newsletters(ts);
    this.pushes(ts);
    this.generalTickets(ts);
    this.surveys();
    this.ideas(ts);
    this.finishTruth();
    this.relationship(ts);
    this.loveStory(ts);

    return {
      truth,
      emitter: this.em,
      groupId: this.groupId,
      orders: this.orders.length,
      orderLines: this.orders.reduce((n, o) => n + o.lines.length, 0),
    };
  }

  private drawWants(): IdeaKey[] {
    const b2b = this.groupId !== null;
    const app = this.truth.platform !== 'web';
    const ebooks = itemAt(this.prefs, categoryIndex('ebooks'));
    const weights = IDEA_KEYS.map((k) => {
      const spec = IDEAS[k];
      let w = spec.b2b ? (b2b ? spec.weight * 1.5 : 0) : spec.weight;
      if (k === 'dark_mode' && app) w *= 4;
      if (k === 'audiobook_samples') w *= 1 + 25 * ebooks;
      return w;
    });
    const wants: IdeaKey[] = [];
    const n = 1 + (this.rng.chance(0.35) ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const k = this.rng.pickWeighted(IDEA_KEYS, weights);
      if (!wants.includes(k)) wants.push(k);
    }
    return wants;
  }

  private channel(): Channel {
    const pl = this.truth.platform;
    return pl === 'web' ? 'web' : pl === 'app' ? 'mobile' : this.rng.chance(0.5) ? 'web' : 'mobile';
  }

  /** Anonymous browsing first for some, then sign-up: identify (web) or alias (app). */
  private signup(ts: number): void {
    const { rng, em, s, truth } = this;
    const channel = this.channel();
    let anon: string | null = null;
    if (rng.chance(0.45)) {
      anon = rng.uuid();
      truth.anonymousIds.push(anon);
      const visits = 1 + rng.poisson(0.8);
      const from = Math.max(s.start, ts - 21 * DAY_MS);
      for (let v = 0; v < visits; v++) {
        const at = from + rng.float() * (ts - from) * 0.95;
        session(em, rng, at, { phase: 'anonymous', who: { anonymousId: anon }, channel, prefs: this.prefs, depth: 1.2 * truth.engagement });
      }
    }
    const subscribed = rng.chance(0.65);
    truth.newsletter = subscribed;
    const traits: Record<string, unknown> = {
      ...this.personTraits,
      createdAt: iso(ts),
      plan: truth.plan,
      country: this.country.code,
      locale: this.country.locale,
      newsletter: subscribed,
      ...(this.companyInfo ? { company: { name: this.companyInfo.name, industry: this.companyInfo.industry } } : {}),
    };
    if (anon !== null && channel === 'mobile') {
      em.message('known', 'alias', { previousId: anon, userId: this.userId }, ts);
      em.message('known', 'identify', { userId: this.userId, traits }, ts);
    } else {
      em.message('known', 'identify', { userId: this.userId, ...(anon !== null ? { anonymousId: anon } : {}), traits }, ts);
    }
    em.track('known', this.who, 'Signed Up', ts + 1000, { method: rng.pick(['email', 'email', 'google', 'apple']) }, channel);
    if (this.groupId && this.companyInfo) {
      const c = this.companyInfo;
      em.message(
        'known',
        'group',
        { userId: this.userId, groupId: this.groupId, traits: { name: c.name, industry: c.industry, employees: c.employees, plan: 'business', website: `https://${c.domain}` } },
        ts + 2000,
      );
    }
  }

  private purchase(at: number, defects: OrderDefect[], died: boolean, k: number): void {
    const { rng, em, truth, s } = this;
    const gg = this.pop.gammaGamma;
    const budget = rng.gamma(gg.p, truth.nu);
    const lines = fillBasket(rng, this.prefs, budget);
    const orderId = `ORD-${stableId(10, s.seed, 'order', this.index, k).toUpperCase()}`;
    const total = basketTotal(lines);
    const channel = this.channel();
    session(em, rng, at, {
      phase: 'known',
      who: this.who,
      channel,
      prefs: this.prefs,
      depth: 0.6 * truth.engagement,
      order: { orderId, lines, properties: { shipping: total >= 35 ? 0 : 4.99, payment_method: rng.pick(['card', 'card', 'card', 'paypal', 'apple_pay']) } },
    });
    this.orders.push({ id: orderId, at, lines, total, defects });
    em.track('known', this.who, 'Email Sent', at + 2 * MINUTE_MS, { email_type: 'order_confirmation', order_id: orderId, channel: 'email', direction: 'outbound' });
    const shipped = at + rng.uniform(0.5, 2.5) * DAY_MS;
    em.track('known', this.who, 'Email Sent', shipped, { email_type: 'shipping_confirmation', order_id: orderId, channel: 'email', direction: 'outbound' });

    // Plus membership for regular buyers.
    if (k === 2 && truth.plan === 'free' && rng.chance(0.3)) {
      truth.plan = 'plus';
      em.message('known', 'identify', { userId: this.userId, traits: { plan: 'plus' } }, at + 10 * MINUTE_MS);
      em.track('known', this.who, 'Membership Started', at + 10 * MINUTE_MS, { plan: 'plus', price: 49 }, channel);
    }

    for (const d of defects) {
      const spec = this.pop.defects[d];
      const ticket = rng.chance(spec.ticketShare);
      truth.defects.push({ type: d, orderId, at: iso(at), hazard: k === 0 ? 0 : spec.churnHazard, ticket, diedAfter: died });
      this.pains.push({ at, kind: d });
      if (ticket) {
        const delay = d === 'delivery_late' ? rng.uniform(6, 12) * DAY_MS : d === 'double_charge' ? rng.uniform(0.1, 2) * DAY_MS : rng.uniform(2, 5) * DAY_MS;
        this.ticket(at + delay, ORDER_DEFECTS[d], `defect:${d}`, { order: lines, orderId, total });
      }
    }

    // A review of one item, more likely from involved customers and after a bad experience;
    // written mostly once the customer gives without being asked (affinity), now and then before.
    if (rng.chance(0.04 + 0.25 * truth.involvement + (defects.length > 0 ? 0.1 : 0))) {
      const review = this.draftReview(rng, at, lines, defects, orderId);
      if (this.keeps(REVIEW_BEFORE_AFFINITY, review.when)) review.emit();
    }
    // Friends told about the shop: from customers at affinity, rarely before.
    if (rng.chance(0.08 * truth.involvement)) {
      const when = at + rng.uniform(1, 30) * DAY_MS;
      const via = rng.pick(['email', 'link']);
      if (this.keeps(INVITE_BEFORE_AFFINITY, when)) em.track('known', this.who, 'Invite Sent', when, { via }, channel);
    }
  }

  /**
   * A review of one item of an order, drawn now (from `rng`) and stored by `emit`. The rating
   * follows satisfaction so far, the product's quality and the order's first defect.
   */
  private draftReview(rng: Rng, at: number, lines: readonly LineItem[], defects: readonly OrderDefect[], orderId: string): { when: number; emit: () => void } {
    const line = rng.pick(lines);
    const d = defects[0] ?? null;
    const when = at + rng.uniform(4, 20) * DAY_MS;
    const y = this.satisfactionAt(when) + line.product.quality + (d ? -1.6 : 0) + 0.9 * rng.normal();
    const rating = y < -1.6 ? 1 : y < -0.9 ? 2 : y < -0.1 ? 3 : y < 0.7 ? 4 : 5;
    const categoryKey = categoryOf(line.product).key;
    const text = reviewText(rating, line.product, categoryKey, rng, d === 'delivery_late' || d === 'item_damaged' ? d : null);
    const emit = (): void => {
      const id = this.em.addFeedback(this.who, 'review', text, rating, 'published', when, {
        product_id: line.product.id,
        product_name: line.product.name,
        category: line.product.category,
        order_id: orderId,
      });
      if (!id) return;
      this.reviewed.add(orderId);
      this.em.track('known', this.who, 'Product Reviewed', when, { product_id: line.product.id, rating, review_id: id, channel: 'web', direction: 'inbound' }, 'web');
      const themes: string[] = [];
      if (line.product.quality < -1 && rating <= 3) themes.push(`product:${line.product.id}`);
      if (d) themes.push(`defect:${d}`);
      if (rating >= 4 && themes.length === 0) themes.push('praise');
      if (themes.length === 0) themes.push('complaint');
      this.truth.feedback.push({ id, kind: 'review', themes });
    };
    return { when, emit };
  }

  /** Satisfaction at time t: the latent minus what has gone wrong so far. */
  private satisfactionAt(t: number): number {
    return this.truth.satisfaction - 0.7 * this.pains.filter((p) => p.at < t).length;
  }

  private ticket(at: number, spec: IssueSpec, theme: string, ctx: { order?: LineItem[]; orderId?: string; total?: number }): void {
    const { rng, em, truth } = this;
    if (at >= this.s.end) return;
    const order = ctx.order ?? null;
    const product: Product = order ? rng.pick(order).product : browseProduct(rng, this.prefs);
    const category = categoryOf(product);
    const lastOrder = this.orders.filter((o) => o.at < at).at(-1);
    const orderId = ctx.orderId ?? lastOrder?.id ?? `ORD-${stableId(10, this.s.seed, 'order', this.index, 0).toUpperCase()}`;
    const vars = {
      order: orderId,
      product: product.name,
      days: String(rng.between(3, 12)),
      amount: `$${(ctx.total ?? lastOrder?.total ?? 40).toFixed(2)}`,
      query: rng.pick(category.searches),
      first: this.firstName,
    };
    const text = issueText(spec, rng, vars);
    const priority = rng.pick(spec.priority);
    const cause = rng.pick(spec.causes);
    const via = spec.type === 'billing' && rng.chance(0.4) ? 'phone' : rng.pick(['email', 'email', 'chat', 'chat', 'phone', 'portal'] as const);
    const resolvedAt = at + rng.exponential(1 / ((RESOLUTION_HOURS[priority] ?? 30) * HOUR_MS));
    const open = resolvedAt >= this.s.end;
    const status = open ? rng.pick(['open', 'pending']) : rng.chance(0.85) ? 'solved' : 'closed';
    const ticketId = `T-${stableId(7, this.s.seed, 'ticket', this.index, this.ticketNo++).toUpperCase()}`;
    const id = em.addFeedback(this.who, 'ticket', text, null, status, at, {
      ticket_id: ticketId,
      type: spec.type,
      cause,
      priority,
      channel: via,
      ...(ctx.orderId || text.includes(orderId) ? { order_id: orderId } : {}),
      ...(open ? {} : { resolved_at: iso(resolvedAt) }),
    });
    if (!id) return;
    truth.feedback.push({ id, kind: 'ticket', themes: [theme] });
    const minutes = Math.round(rng.uniform(4, 35));
    if (via === 'chat') {
      em.track('known', this.who, 'Support Chat Completed', at + minutes * MINUTE_MS, { ticket_id: ticketId, duration_minutes: minutes, channel: 'support', direction: 'mutual' });
    } else if (via === 'phone') {
      em.track('known', this.who, 'Call Completed', at, { ticket_id: ticketId, topic: 'support', duration_minutes: minutes, channel: 'phone', direction: 'mutual' });
    } else {
      em.track('known', this.who, 'Support Request Submitted', at, { ticket_id: ticketId, via, channel: 'support' });
      if (!open || rng.chance(0.5)) {
        em.track('known', this.who, 'Email Sent', Math.min(resolvedAt, at + rng.uniform(1, 20) * HOUR_MS), { email_type: 'support_reply', ticket_id: ticketId, channel: 'email', direction: 'outbound' });
      }
    }
  }

  /** Visits while interested, a short tail after dropping out. Frequency rises with λ. */
  private browsing(ts: number): void {
    const { rng, truth, s } = this;
    const rate = truth.buyer ? (0.08 + 2 * truth.lambda) * truth.engagement : 0.12 * truth.engagement;
    const times = poissonTimes(rng, rate, ts + HOUR_MS, this.activeUntil);
    if (this.activeUntil < s.end) {
      const tail = rng.poisson(1.2);
      const to = Math.min(s.end, this.activeUntil + 8 * WEEK_MS);
      for (let k = 0; k < tail; k++) times.push(this.activeUntil + rng.float() * (to - this.activeUntil));
    }
    for (const t of times) {
      const at = localTime(rng, t, this.country.utcOffset, ts + HOUR_MS, s.end - HOUR_MS);
      session(this.em, rng, at, { phase: 'known', who: this.who, channel: this.channel(), prefs: this.prefs, depth: 1.3 * truth.engagement, wishlist: 0.03 + 0.1 * truth.involvement });
    }
  }

  private activeAt(t: number): boolean {
    return t < this.activeUntil;
  }

  private newsletters(ts: number): void {
    const { rng, em, truth, s } = this;
    if (!truth.newsletter) return;
    for (const t of monthly(ts, s.end, 5, 8)) {
      const campaign = `Newsletter ${monthLabel(t)}`;
      em.track('known', this.who, 'Newsletter Sent', t, { campaign, channel: 'email', direction: 'outbound' });
      const active = this.activeAt(t);
      if (rng.chance(active ? 0.2 + 0.4 * truth.involvement : 0.06)) {
        const opened = t + rng.exponential(1 / (14 * HOUR_MS));
        em.track('known', this.who, 'Email Opened', opened, { campaign, channel: 'email' });
        if (rng.chance(0.25)) em.track('known', this.who, 'Email Link Clicked', opened + rng.uniform(0.2, 3) * MINUTE_MS, { campaign, channel: 'email' });
      }
      if (rng.chance(active ? 0.008 : 0.04)) {
        const when = t + rng.uniform(1, 48) * HOUR_MS;
        em.track('known', this.who, 'Unsubscribed', when, { campaign, channel: 'email' });
        em.message('known', 'identify', { userId: this.userId, traits: { newsletter: false } }, when);
        truth.newsletter = false;
        return;
      }
    }
  }

  private pushes(ts: number): void {
    const { rng, em, truth, s } = this;
    if (truth.platform === 'web' || !rng.chance(0.6)) return;
    for (const t of monthly(ts, s.end, 20, 17)) {
      const campaign = `Promo ${monthLabel(t)}`;
      em.track('known', this.who, 'Push Notification Sent', t, { campaign, channel: 'mobile', direction: 'outbound' });
      if (rng.chance(this.activeAt(t) ? 0.15 : 0.02)) em.track('known', this.who, 'Push Notification Opened', t + rng.uniform(1, 120) * MINUTE_MS, { campaign, channel: 'mobile' });
    }
  }

  /** Tickets not caused by one order: questions, account trouble, the 4.2 crash, ideas. */
  private generalTickets(ts: number): void {
    const { rng, truth, s } = this;
    const until = Math.max(this.activeUntil, Math.min(s.end, ts + 4 * WEEK_MS));
    const b2b = this.groupId !== null;
    const kinds = Object.keys(ISSUE_WEIGHTS) as Exclude<GeneralIssue, 'app_crash_checkout'>[];
    const weights = kinds.map((k) => ISSUE_WEIGHTS[k] * (k === 'invoice_request' ? (b2b ? 5 : 0.3) : 1) * (k === 'coupon_not_applying' || k === 'return_label' ? (truth.buyer ? 1 : 0.2) : 1));
    for (const t of poissonTimes(rng, 0.008, ts + HOUR_MS, until)) {
      const kind = rng.pickWeighted(kinds, weights);
      this.issue(t, kind);
    }
    if (truth.platform !== 'web') {
      const [from, to] = crashWindow(s);
      const lo = Math.max(from, ts);
      const hi = Math.min(to, until);
      if (hi > lo && this.orders.some((o) => o.at >= lo && o.at < hi + 4 * WEEK_MS)) {
        for (const t of poissonTimes(rng, 0.12, lo, hi)) this.issue(t, 'app_crash_checkout');
      }
    }
    // Feature requests sent to support.
    if (rng.chance(0.04 + 0.2 * truth.involvement)) {
      const at = ts + rng.float() * (until - ts);
      const idea = rng.pick(truth.wants);
      const text = ideaText(idea, rng);
      const id = this.em.addFeedback(this.who, 'ticket', text, null, rng.pick(['solved', 'closed']), at, {
        ticket_id: `T-${stableId(7, s.seed, 'ticket', this.index, this.ticketNo++).toUpperCase()}`,
        type: 'feature_request',
        cause: 'missing_feature',
        priority: 'low',
        channel: rng.pick(['email', 'chat', 'portal']),
        resolved_at: iso(at + rng.uniform(2, 72) * HOUR_MS),
      });
      if (id) truth.feedback.push({ id, kind: 'ticket', themes: [`idea:${idea}`] });
    }
  }

  private issue(t: number, wanted: GeneralIssue): void {
    const at = localTime(this.rng, t, this.country.utcOffset, t - 12 * HOUR_MS, this.s.end - HOUR_MS);
    // Order-related questions need an order to be about.
    const kind = NEEDS_ORDER.has(wanted) && !this.orders.some((o) => o.at < at) ? this.rng.pick(['password_reset', 'search_irrelevant'] as const) : wanted;
    this.truth.issues.push({ type: kind, at: iso(at) });
    this.pains.push({ at, kind });
    this.ticket(at, GENERAL_ISSUES[kind], `issue:${kind}`, {});
  }

  private surveys(): void {
    const { rng, em, truth, s } = this;
    if (!truth.buyer) return;
    const first = Date.parse(truth.firstPurchaseAt!);
    surveyWaves(s).forEach((wave, w) => {
      if (wave < first + WEEK_MS || wave >= s.end) return;
      const campaign = `NPS ${iso(wave).slice(0, 7)}`;
      em.track('known', this.who, 'Email Sent', wave, { email_type: 'nps_survey', campaign, channel: 'email', direction: 'outbound' });
      const active = this.activeAt(wave);
      const committed = this.stageAt(wave) >= COMMITMENT;
      if (!rng.chance(active ? 0.12 + 0.45 * truth.involvement : 0.04)) {
        // Committed customers answer more often than the base rate above.
        if (active && committed && this.love.chance(SURVEY_EXTRA)) this.draftSurvey(this.love, wave, w, campaign)();
        return;
      }
      const answer = this.draftSurvey(rng, wave, w, campaign);
      // Survey answers are part of commitment; before it, only some answer.
      if (committed || this.love.chance(SURVEY_BEFORE_COMMITMENT)) answer();
    });
  }

  /** An answer to NPS wave `w` (sent at `wave`), drawn now from `rng` and stored by the returned function. */
  private draftSurvey(rng: Rng, wave: number, w: number, campaign: string): () => void {
    const { em, truth } = this;
    const at = wave + rng.exponential(1 / (40 * HOUR_MS));
    const sat = this.satisfactionAt(at);
    const score = Math.max(0, Math.min(10, Math.round(8 + 1.5 * (sat - 0.8) + 1.3 * rng.normal())));
    const recent = this.pains.filter((p) => p.at < at && p.at > at - 26 * WEEK_MS).at(-1);
    const pain = recent && rng.chance(0.6) ? recent.kind : null;
    const idea = rng.chance(0.12 + 0.3 * truth.involvement) ? rng.pick(truth.wants) : null;
    const text = surveyText(score, rng, pain, idea);
    return () => {
      const id = em.addFeedback(this.who, 'survey', text, score, 'received', at, { survey: 'NPS', campaign, wave: w + 1, score });
      if (!id) return;
      em.track('known', this.who, 'Survey Completed', at, { survey: 'NPS', campaign, score, channel: 'email', direction: 'inbound' });
      const themes: string[] = [];
      if (pain) themes.push(pain in ORDER_DEFECTS ? `defect:${pain}` : `issue:${pain}`);
      if (idea) themes.push(`idea:${idea}`);
      if (themes.length === 0) themes.push(score >= 9 ? 'praise' : score >= 7 ? 'neutral' : 'complaint');
      truth.feedback.push({ id, kind: 'survey', themes });
    };
  }

  /** Ideas posted on the portal: involved customers post their wishes, some repeatedly. */
  private ideas(ts: number): void {
    const { rng, truth, s } = this;
    const years = (Math.max(this.activeUntil, ts) - ts) / (52 * WEEK_MS);
    const n = rng.poisson((1.2 * truth.involvement * truth.involvement + (this.groupId ? 0.25 : 0)) * years + 0.03);
    for (let k = 0; k < n; k++) {
      const at = Math.min(s.end - HOUR_MS, ts + rng.float() * (Math.max(this.activeUntil, ts + DAY_MS) - ts));
      const idea = rng.pick(truth.wants);
      const text = ideaText(idea, rng);
      const status = rng.pick(['open', 'open', 'under_review']);
      // Posting ideas unasked is affinity; before it, few do.
      if (this.keeps(IDEA_BEFORE_AFFINITY, at)) this.postIdea(at, idea, text, status);
    }
  }

  private postIdea(at: number, idea: IdeaKey, text: string, status: string): void {
    const id = this.em.addFeedback(this.who, 'other', text, null, status, at, { type: 'idea', channel: 'portal' });
    if (!id) return;
    this.em.track('known', this.who, 'Idea Submitted', at, { feedback_id: id, channel: 'web', direction: 'inbound' }, 'web');
    this.truth.feedback.push({ id, kind: 'other', themes: [`idea:${idea}`] });
    this.ideaPosts.push({ id, idea, at });
  }

  private finishTruth(): void {
    const { truth } = this;
    truth.revenue = round(this.orders.reduce((a, o) => a + o.total, 0), 2);
    truth.realisedMeanSpend = this.orders.length > 0 ? round(truth.revenue / this.orders.length, 2) : null;
    truth.big = truth.lambda * truth.meanSpend * 52 >= 1500;
  }

  /** Account management: calls, meetings and visit notes for big and business customers. */
  private relationship(ts: number): void {
    const { rng, em, truth, s } = this;
    const span = s.end - s.start;
    const quarterly = [3, 6, 9, 12, 15, 18, 21, 24].map((m) => s.start + span * (m / 24) - 5 * DAY_MS).filter((t) => t > ts && t < s.end);
    for (const q of quarterly) {
      if (!this.activeAt(q)) continue;
      const spent = this.orders.filter((o) => o.at <= q && o.at > q - 52 * WEEK_MS).reduce((a, o) => a + o.total, 0);
      const at = q + rng.uniform(0, 10) * DAY_MS + rng.between(9, 16) * HOUR_MS;
      // Large accounts (by headcount or by spend) get quarterly visits from account management.
      const largeAccount = this.companyInfo !== null && (this.companyInfo.employees >= 100 || spent > 150) && this.orders.some((o) => o.at <= q);
      if (largeAccount && rng.chance(0.5)) {
        em.track('known', this.who, 'Meeting Held', at, { topic: 'account review', duration_minutes: 60, channel: 'in_person', direction: 'mutual' });
        const c = this.companyInfo!;
        const text = visitText(rng, {
          company: c.name,
          industry: c.industry,
          employees: String(c.employees),
          name: this.personTraits.name,
          cat1: this.topCategories()[0],
          freq: this.frequency(),
          pains: this.recentPains(at),
          wishes: rng.chance(0.7) ? truth.wants : [],
        });
        const id = em.addFeedback(this.who, 'visit_note', text, null, 'noted', at + 2 * HOUR_MS, { account: this.groupId, author: rng.pick(['Maria (account manager)', 'Jon (sales)', 'Aisha (success)']) });
        if (id) truth.feedback.push({ id, kind: 'visit_note', themes: this.noteThemes(at) });
      } else if (spent > 400 && rng.chance(0.5)) {
        em.track('known', this.who, 'Call Completed', at, { topic: 'account review', duration_minutes: rng.between(10, 40), channel: 'phone', direction: 'mutual' });
      }
    }
    // Community evenings in the flagship shop (listening nights, book signings) draw advocates.
    if (truth.involvement >= 0.3) {
      for (const q of quarterly) {
        if (!this.activeAt(q) || !rng.chance(0.12)) continue;
        const event = rng.pick(['Vinyl listening night', 'Author book signing', 'Board game evening', 'Coffee tasting']);
        const at = q + rng.uniform(0, 20) * DAY_MS + rng.between(18, 20) * HOUR_MS;
        em.track('known', this.who, 'Event Attended', at, { event, channel: 'in_person', direction: 'mutual' });
      }
    }
  }


  /**
   * Draws the latent LOVE stage as a climb from introduction (at sign-up). Each step up is a
   * draw whose odds depend on what the customer already is: buyer or prospect, realised repeat
   * purchases, how lively their browsing is, involvement, satisfaction (less after defects),
   * account membership; each stage is reached at a time inside the active period. From the
   * love stream only, so every draw of the main stream stays as it was. Nothing is lost later:
   * the stage is the depth reached (see CustomerTruth.stage).
   */
  private drawLadder(ts: number, purchases: readonly { at: number; defects: readonly OrderDefect[] }[]): void {
    const { love, truth, s } = this;
    const until = Math.min(this.activeUntil, s.end - HOUR_MS);
    const ladder: { stage: Stage; at: number }[] = [{ stage: 'introduction', at: ts }];
    const climb = (stage: Stage, at: number | null): number | null => {
      if (at === null || !(at <= until)) return null;
      const t = Math.max(at, last(ladder).at);
      ladder.push({ stage, at: t });
      return t;
    };
    const weeksLeft = (t: number): number => Math.max(0, (until - t) / WEEK_MS);
    // A time in the rest of the active period after t, early rather than late; null when too little is left.
    const later = (t: number, minWeeks: number): number | null => (weeksLeft(t) < minWeeks ? null : t + (until - t) * love.beta(1.2, 2.5));
    // Sessions a week while interested, as browsing() draws them.
    const browse = truth.buyer ? (0.08 + 2 * truth.lambda) * truth.engagement : 0.12 * truth.engagement;
    const finish = (): void => {
      this.ladder = ladder;
      truth.stage = last(ladder).stage;
      truth.stageHistory = ladder.map((x) => ({ stage: x.stage, at: iso(x.at) }));
    };

    // Information: a first purchase is an exchange; a prospect gets there by asking and being
    // answered or replying to onboarding, the likelier the more they looked around.
    let tInfo: number | null = purchases[0]?.at ?? null;
    if (tInfo === null && love.chance(0.12 + 0.6 * (1 - Math.exp(-(browse * weeksLeft(ts)) / 2)))) tInfo = ts + (0.02 + 0.5 * love.float()) * (until - ts);
    const info = climb('information', tInfo);
    if (info === null) return finish();

    // Commitment: repeat purchases (the likelier, the more of them and the longer the customer
    // stayed), or regular use without them (likelier for lively browsers).
    let tCommit: number | null = null;
    const second = purchases[1];
    const stayedMonths = (until - info) / MONTH_MS;
    if (second && love.chance((purchases.length > 2 ? 0.6 : 0.4) + 0.55 * (1 - Math.exp(-stayedMonths / 3)))) tCommit = second.at;
    else if (weeksLeft(info) > 12 && love.chance((truth.buyer ? 0.06 : 0.03) + 0.6 * (1 - Math.exp(-browse / 0.6)))) tCommit = info + love.uniform(3, 10) * WEEK_MS;
    const commit = climb('commitment', tCommit);
    if (commit === null) return finish();

    // Affinity: involved, satisfied customers come to give without being asked.
    const hurt = purchases.filter((p) => p.defects.length > 0).length;
    const pAffinity = Math.min(0.9, Math.max(0.02, 0.15 + 1.6 * truth.involvement + 0.1 * (truth.satisfaction - 0.8) - 0.08 * hurt));
    const affinity = climb('affinity', love.chance(pAffinity) ? later(commit, 3) : null);
    if (affinity === null) return finish();

    // Co-creation: the most involved, business accounts and big buyers are asked to shape the product.
    const big = truth.lambda * truth.meanSpend * 52 >= 1500;
    const pCo = Math.min(0.8, 0.08 + 0.7 * truth.involvement + (this.groupId ? 0.12 : 0) + (big ? 0.08 : 0));
    climb('co-creation', love.chance(pCo) ? later(affinity, 2) : null);
    finish();
  }

  /** The position in STAGES of the stage reached by time t. */
  private stageAt(t: number): number {
    let k = 0;
    for (const x of this.ladder) if (x.at <= t) k = STAGES.indexOf(x.stage);
    return k;
  }

  private reachedAt(stage: Stage): number | null {
    return this.ladder.find((x) => x.stage === stage)?.at ?? null;
  }

  /** Whether an item the main stream drew for time t is kept, by the share `keep` gives the stage reached by then. */
  private keeps(keep: readonly number[], t: number): boolean {
    const p = itemAt(keep, this.stageAt(t));
    return p >= 1 || this.love.chance(p);
  }

  /** t moved to a typical hour of its local day, not before lo; a time past the end stays there (and is not emitted). */
  private when(t: number, lo: number): number {
    return t >= this.s.end ? t : localTime(this.love, t, this.country.utcOffset, lo, this.s.end - HOUR_MS);
  }

  /** Like channel(), from the love stream. */
  private loveChannel(): Channel {
    const pl = this.truth.platform;
    return pl === 'web' ? 'web' : pl === 'app' ? 'mobile' : this.love.chance(0.5) ? 'web' : 'mobile';
  }

  private track(event: string, at: number, properties: Record<string, unknown>, channel: string, direction: 'inbound' | 'outbound' | 'mutual'): void {
    this.em.track('known', this.who, event, at, { ...properties, channel, direction });
  }

  /**
   * What the customer's LOVE stage makes them do, from the love stream, spread over their
   * active period after each stage was reached. Stages overlap as in life: a committed customer
   * may use the shop only now and then, an affinity customer may give only once, and items the
   * main stream drew (reviews, invitations, ideas, survey answers) are kept mostly from the
   * stage they belong to on, some before (see the *_BEFORE_* shares).
   *
   * - introduction: an onboarding e-mail (as everyone gets), now and then a first question,
   *   seldom answered;
   * - information: for a prospect the exchange that got them there (a question answered, a reply
   *   to onboarding, a support chat); questions answered while interested; a first purchase;
   * - commitment: regular use (App Opened / Session Started in most months, how regular drawn
   *   per customer), a support chat or call in some quarters, survey answers more often;
   * - affinity: one to three ways of giving unasked (reviews, referrals, community answers, idea
   *   votes and comments, ideas), repeated over the time left, or once;
   * - co-creation: one or two kinds of research (interviews, panels, betas, research visits for
   *   business accounts, an idea of theirs adopted).
   */
  private loveStory(ts: number): void {
    const until = Math.min(this.activeUntil, this.s.end);
    this.onboarding(ts);
    const info = this.reachedAt('information');
    const commit = this.reachedAt('commitment');
    const affinity = this.reachedAt('affinity');
    const co = this.reachedAt('co-creation');
    if (info === null) this.firstTouches(ts, until);
    else this.exchanges(ts, info, until);
    if (commit !== null) this.regularUse(commit, until);
    if (affinity !== null) this.giving(affinity, until);
    if (co !== null) this.research(co, until);
    else if (commit !== null && this.love.chance(0.02)) {
      // Signed up for the customer panel and never took part.
      this.track('Panel Joined', this.when(commit + this.love.float() * (until - commit), commit), { panel: 'Customer panel' }, 'web', 'inbound');
    }
  }

  /** The onboarding e-mail after sign-up: a company message many never answer. */
  private onboarding(ts: number): void {
    this.track('Email Sent', ts + DAY_MS, { email_type: 'onboarding', step: 'welcome' }, 'email', 'outbound');
  }

  /** Introduction only: now and then a first question, seldom answered in a way that led anywhere. */
  private firstTouches(ts: number, until: number): void {
    const { love } = this;
    if (!love.chance(0.25)) return;
    const asked = this.when(ts + love.float() * Math.max(DAY_MS, until - ts), ts + MINUTE_MS);
    this.track('Question Asked', asked, { topic: love.pick(QUESTION_TOPICS) }, this.loveChannel(), 'inbound');
    if (love.chance(0.12)) this.track('Question Answered', asked + love.uniform(1, 30) * HOUR_MS, {}, 'email', 'outbound');
  }

  private question(asked: number, answered: number): void {
    const topic = this.love.pick(QUESTION_TOPICS);
    this.track('Question Asked', asked, { topic }, this.love.chance(0.6) ? 'web' : 'email', 'inbound');
    this.track('Question Answered', answered, { topic }, 'email', 'outbound');
  }

  /** Information: the customer asks and the company answers; for a prospect, the exchange that brought them here. */
  private exchanges(ts: number, info: number, until: number): void {
    const { love } = this;
    if (!this.truth.buyer) {
      const how = love.weighted([0.55, 0.3, 0.15]);
      if (how === 0) this.question(Math.max(ts + MINUTE_MS, info - love.uniform(0.5, 20) * HOUR_MS), info);
      else if (how === 1) this.track('Onboarding Replied', info, { step: 'welcome' }, 'email', 'inbound');
      else this.track('Support Chat Completed', info, { topic: 'pre-sale question', duration_minutes: love.between(4, 25) }, 'support', 'mutual');
    } else if (love.chance(0.12)) {
      this.track('Onboarding Replied', ts + love.uniform(1.2, 6) * DAY_MS, { step: 'welcome' }, 'email', 'inbound');
    }
    for (const t of poissonTimes(love, 0.5 / 52, info + DAY_MS, until)) {
      const asked = this.when(t, info);
      this.question(asked, asked + love.uniform(1, 30) * HOUR_MS);
    }
  }

  /** Commitment: regular use month after month (how regular is drawn per customer), and conversations both ways now and then. */
  private regularUse(commit: number, until: number): void {
    const { love, truth } = this;
    const regularity = love.beta(2, 1.2);
    const app = truth.platform === 'app' || (truth.platform === 'both' && love.chance(0.5));
    for (let m = commit, first = true; m < until; m += MONTH_MS, first = false) {
      if (!first && !love.chance(regularity)) continue;
      const uses = 1 + love.poisson(0.6);
      for (let k = 0; k < uses; k++) {
        const at = first && k === 0 ? commit : this.when(m + love.float() * MONTH_MS, m);
        if (at >= until) continue;
        if (app) this.track('App Opened', at, { version: '4.1' }, 'mobile', 'inbound');
        else this.track('Session Started', at, {}, 'web', 'inbound');
      }
    }
    for (let q = commit; q < until; q += 13 * WEEK_MS) {
      if (!love.chance(0.3)) continue;
      const at = this.when(q + love.float() * 13 * WEEK_MS, q);
      if (at >= until) continue;
      const minutes = love.between(5, 30);
      if (love.chance(0.6)) this.track('Support Chat Completed', at, { topic: love.pick(['product advice', 'gift advice', 'order advice']), duration_minutes: minutes }, 'support', 'mutual');
      else this.track('Call Completed', at, { topic: 'personal shopping', duration_minutes: minutes }, 'phone', 'mutual');
    }
  }

  /** Affinity: giving without being asked, in one to three ways, repeated over the time left; some give only once. */
  private giving(affinity: number, until: number): void {
    const { love } = this;
    const gifts: readonly Gift[] = ['review', 'referral', 'community', 'vote', 'idea'];
    const weights = [this.orders.length > 0 ? 0.3 : 0, 0.25, 0.15, 0.3, 0.2];
    const ways = 1 + love.weighted([0.25, 0.45, 0.3]);
    const once = ways === 1 && love.chance(0.5);
    const years = Math.max(0, (until - affinity) / YEAR_MS);
    const chosen: Gift[] = [];
    while (chosen.length < ways) chosen.push(love.pickWeighted(gifts, weights.map((w, i) => (chosen.includes(itemAt(gifts, i)) ? 0 : w))));
    chosen.forEach((gift, j) => {
      const n = once ? 1 : 1 + love.poisson(1.5 * years);
      for (let i = 0; i < n; i++) this.give(gift, j === 0 && i === 0 ? affinity : this.when(affinity + love.float() * (until - affinity), affinity));
    });
  }

  private give(gift: Gift, at: number): void {
    const { love, truth } = this;
    switch (gift) {
      case 'review': {
        const order = this.orders.filter((o) => o.at <= at && !this.reviewed.has(o.id)).at(-1);
        if (order) {
          this.draftReview(love, Math.max(order.at, at - 4 * DAY_MS), order.lines, order.defects, order.id).emit();
          return;
        }
        // Nothing left to review: tells a friend instead.
        this.track('Referral Sent', at, { via: love.pick(['email', 'link', 'code']) }, this.loveChannel(), 'inbound');
        return;
      }
      case 'referral':
        this.track('Referral Sent', at, { via: love.pick(['email', 'link', 'code']) }, this.loveChannel(), 'inbound');
        return;
      case 'community':
        this.track('Community Answer Posted', at, { topic: love.pickWeighted(CATEGORIES, this.prefs).name }, 'community', 'inbound');
        return;
      case 'vote': {
        const idea = love.pick(IDEA_KEYS.filter((k) => !IDEAS[k].b2b || this.groupId !== null));
        this.track('Idea Voted', at, { idea }, 'web', 'inbound');
        if (love.chance(0.4)) this.track('Idea Commented', at + love.uniform(1, 10) * MINUTE_MS, { idea }, 'web', 'inbound');
        return;
      }
      case 'idea': {
        const idea = love.pick(truth.wants);
        this.postIdea(at, idea, ideaText(idea, love), love.pick(['open', 'open', 'under_review']));
        return;
      }
    }
  }

  /** Co-creation: shaping the product through one or two kinds of research. */
  private research(co: number, until: number): void {
    const { love } = this;
    const kinds: readonly Research[] = ['interview', 'panel', 'beta', 'visit', 'adopted'];
    const weights = [0.4, 0.3, 0.3, this.companyInfo ? 0.2 : 0, 0.2];
    const chosen: Research[] = [love.pickWeighted(kinds, weights)];
    if (love.chance(0.35)) chosen.push(love.pickWeighted(kinds, weights.map((w, i) => (chosen.includes(itemAt(kinds, i)) ? 0 : w))));
    const later = Math.max(until, co + 8 * WEEK_MS);
    chosen.forEach((kind, j) => this.takePart(kind, j === 0 ? co : this.when(co + love.float() * (later - co), co), later));
  }

  private takePart(kind: Research, at: number, until: number): void {
    const { love, s } = this;
    switch (kind) {
      case 'interview': {
        this.interview(at);
        if (love.chance(0.3)) this.interview(this.when(at + love.uniform(8, 40) * WEEK_MS, at));
        return;
      }
      case 'panel': {
        this.track('Panel Joined', at, { panel: 'Customer panel' }, 'web', 'inbound');
        const sessions = 1 + love.poisson((2 * (until - at)) / YEAR_MS);
        for (let k = 0; k < sessions; k++) this.track('Panel Session Attended', this.when(at + love.uniform(1, Math.max(2, (until - at) / WEEK_MS)) * WEEK_MS, at), { panel: 'Customer panel' }, love.chance(0.7) ? 'web' : 'in_person', 'mutual');
        return;
      }
      case 'beta': {
        const program = love.pick(BETA_PROGRAMS);
        this.track('Beta Joined', at, { program }, this.loveChannel(), 'inbound');
        const notes = 1 + love.poisson(1);
        for (let k = 0; k < notes; k++) this.track('Beta Feedback Submitted', this.when(at + love.uniform(1, 10) * WEEK_MS, at), { program }, 'web', 'inbound');
        return;
      }
      case 'visit': {
        const c = this.companyInfo;
        if (!c) return;
        this.track('Visit Completed', at, { purpose: 'research visit', duration_minutes: 90 }, 'in_person', 'mutual');
        const text = visitText(love, {
          company: c.name,
          industry: c.industry,
          employees: String(c.employees),
          name: this.personTraits.name,
          cat1: this.topCategories()[0],
          freq: this.frequency(),
          pains: this.recentPains(at, love),
          wishes: this.truth.wants,
        });
        const id = this.em.addFeedback(this.who, 'visit_note', text, null, 'noted', at + 2 * HOUR_MS, { account: this.groupId, author: love.pick(['Lea (product)', 'Sam (UX research)']) });
        if (id) this.truth.feedback.push({ id, kind: 'visit_note', themes: this.noteThemes(at) });
        return;
      }
      case 'adopted': {
        let post = this.ideaPosts.filter((p) => p.at < at - WEEK_MS).at(-1);
        if (!post) {
          const idea = love.pick(this.truth.wants);
          const signup = Date.parse(this.truth.signupAt);
          const posted = Math.max(signup + HOUR_MS, at - love.uniform(6, 30) * WEEK_MS);
          this.postIdea(posted, idea, ideaText(idea, love), 'under_review');
          post = this.ideaPosts.at(-1);
        }
        if (post && at < s.end) this.track('Idea Adopted', at, { idea: post.idea, feedback_id: post.id }, 'email', 'outbound');
        return;
      }
    }
  }

  /** A research interview and its notes. */
  private interview(at: number): void {
    const { love, truth } = this;
    this.track('Interview Completed', at, { study: love.pick(STUDIES) }, love.chance(0.7) ? 'phone' : 'in_person', 'mutual');
    const cats = this.topCategories();
    const text = interviewText(love, {
      name: this.personTraits.name,
      since: truth.signupAt.slice(0, 7),
      cat1: cats[0],
      cat2: cats[1],
      freq: this.frequency(),
      pains: this.recentPains(at, love),
      wishes: truth.wants,
    });
    const id = this.em.addFeedback(this.who, 'interview', text, null, 'noted', at + HOUR_MS, { study: 'customer research', interviewer: love.pick(['Lea (product)', 'Sam (UX research)', 'Priya (product)']) });
    if (id) truth.feedback.push({ id, kind: 'interview', themes: [...this.noteThemes(at), ...truth.wants.map((w) => `idea:${w}`)] });
  }

  private recentPains(at: number, rng: Rng = this.rng): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of this.pains.filter((x) => x.at < at).slice(-3)) {
      if (seen.has(p.kind)) continue;
      seen.add(p.kind);
      out.push(painNote(p.kind, rng));
    }
    return out;
  }

  private noteThemes(at: number): string[] {
    const kinds = new Set(this.pains.filter((x) => x.at < at).slice(-3).map((p) => p.kind));
    return [...kinds].map((k) => ((ORDER_DEFECT_KINDS as readonly string[]).includes(k) ? `defect:${k}` : `issue:${k}`));
  }

  /** The names of the two most preferred categories, most preferred first. */
  private topCategories(): [string, string] {
    const ranked = this.prefs
      .map((w, i) => [w, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 2)
      .map(([, i]) => itemAt(CATEGORIES, i).name.toLowerCase());
    return [itemAt(ranked, 0), itemAt(ranked, 1)];
  }

  private frequency(): string {
    const perYear = this.truth.lambda * 52;
    return perYear >= 20 ? 'every other week' : perYear >= 8 ? 'once a month' : perYear >= 3 ? 'every few months' : 'a couple of times a year';
  }
}

/** Anonymous-only visitors: a few sessions, never identified; now and then an anonymous portal idea. */
export function simulateVisitor(s: Settings, index: number): { emitter: Emitter; feedback: FeedbackTruth[] } {
  const rng = Rng.from(s.seed, 'visitor', index);
  const em = new Emitter(`demo-${s.seed}-v${index}`, s.end);
  const anon = rng.uuid();
  const prefs = rng.dirichlet(CATEGORIES.map((c) => c.share * s.population.categoryConcentration));
  const first = acquisitionTime(rng, s.start, s.end - HOUR_MS, s.population.acquisitionGrowth);
  const channel: Channel = rng.chance(0.8) ? 'web' : 'mobile';
  const visits = 1 + rng.poisson(0.7);
  for (let v = 0; v < visits; v++) {
    const at = Math.min(s.end - HOUR_MS, first + (v === 0 ? 0 : rng.float() * 30 * DAY_MS));
    session(em, rng, at, { phase: 'anonymous', who: { anonymousId: anon }, channel, prefs, depth: 1 });
  }
  const feedback: FeedbackTruth[] = [];
  if (rng.chance(0.02)) {
    const consumer = IDEA_KEYS.filter((k) => !IDEAS[k].b2b);
    const idea = rng.pickWeighted(consumer, consumer.map((k) => IDEAS[k].weight));
    const id = em.addFeedback(null, 'other', ideaText(idea, rng), null, 'open', first + 10 * MINUTE_MS, { type: 'idea', channel: 'portal', anonymous: true });
    if (id) feedback.push({ id, kind: 'other', themes: [`idea:${idea}`] });
  }
  return { emitter: em, feedback };
}
