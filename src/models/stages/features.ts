/**
 * What the stage rules count, per customer, from a stream of their interactions, orders and
 * feedback: the rules are compiled into slots (one per distinct measure and window), and each
 * row adds to the slots it belongs to. The same accumulator serves a run over every customer
 * (typed arrays indexed by the customer's position) and one customer's explanation, so the
 * two always agree.
 *
 * Rows come coded (the repository does the coding in SQL): a direction 0 inbound, 1 outbound,
 * 2 mutual; an interaction's event groups as a bit mask over the rules' `events` in order; a
 * feedback item's kind as a bit mask over `plan.feedbackKinds`, its rating (NaN without), its
 * sentiment label (1 positive, −1 negative, 0 otherwise or not analysed) and sentiment (NaN
 * when not analysed). Rows after the as-of time are ignored.
 */
import { DAY_MS, monthOfMs } from '../time.js';
import { BASE_MEASURES, leaves, MAX_MONTHS, MONTH_MEASURES, type BaseMeasure, type Measure, type StageRules } from './rules.js';

export const INBOUND = 0;
export const OUTBOUND = 1;
export const MUTUAL = 2;
/** Set in an interaction's group mask when it went through a conversation channel (the rules' `conversation_channels`). */
export const CONVERSATION_BIT = 1 << 30;
/** Set when the interaction is a reaction to a company message (an e-mail opened, a link clicked): not the customer's own word. */
export const REACTION_BIT = 1 << 29;

/** One counted quantity: a measure over a window. */
export interface Slot {
  measure: Measure;
  windowDays: number | null;
}

type Source = 'interaction' | 'order' | 'feedback' | 'derived';

/** How a slot is filled, compiled to numbers for the scan's inner loop. */
interface SlotCode {
  source: Source;
  /** interaction: 0 any, 1 a direction (param), 2 an event group (param = bit); feedback: 0 any, 1 a kind (param = bit), 2 promoters, 3 detractors, 4 positive, 5 sentiment; order: 0 count, 1 spend. */
  test: number;
  param: number;
  /** Index into the month-mask store, −1 for plain counts. */
  months: number;
  /** Only rows at or after this time (−∞ without a window). */
  from: number;
}

export interface FeaturePlan {
  readonly asOf: number;
  readonly slots: readonly Slot[];
  /** Feedback kinds the rules name, in bit order. */
  readonly feedbackKinds: readonly string[];
  /** Event groups in bit order (the rules' `events`). */
  readonly groups: readonly string[];
  /** The slot of a measure and window. */
  slotOf(measure: Measure, windowDays: number | null): number;
  readonly momentumWindowMs: number;
  readonly promoterMin: number;
  readonly detractorMax: number;
  readonly codes: readonly SlotCode[];
  /** Words per customer in the count store (sentiment takes two: sum and count). */
  readonly width: number;
  /** Offsets of each slot in the count store. */
  readonly offsets: readonly number[];
  /** Month masks per customer (each two 32-bit words). */
  readonly masks: number;
}

const key = (m: Measure, w: number | null): string => `${m}@${w ?? ''}`;

/** Compiles the rules' measures into slots, as of `asOf` (epoch ms). */
export function featurePlan(rules: StageRules, asOf: number): FeaturePlan {
  const groups = Object.keys(rules.events);
  const feedbackKinds: string[] = [];
  const slots: Slot[] = [];
  const index = new Map<string, number>();
  const codes: SlotCode[] = [];
  const offsets: number[] = [];
  let width = 0;
  let masks = 0;
  const add = (measure: Measure, windowDays: number | null): number => {
    const k = key(measure, windowDays);
    const known = index.get(k);
    if (known !== undefined) return known;
    const from = windowDays === null ? Number.NEGATIVE_INFINITY : asOf - windowDays * DAY_MS;
    let code: SlotCode;
    if (measure.startsWith('events:')) {
      const g = groups.indexOf(measure.slice(7));
      if (g < 0) throw new Error(`no event group ${measure.slice(7)}`);
      code = { source: 'interaction', test: 2, param: 1 << g, months: -1, from };
    } else if (measure.startsWith('feedback:')) {
      const kind = measure.slice(9);
      let b = feedbackKinds.indexOf(kind);
      if (b < 0) b = feedbackKinds.push(kind) - 1;
      code = { source: 'feedback', test: 1, param: 1 << b, months: -1, from };
    } else {
      const m = measure as BaseMeasure;
      if (!BASE_MEASURES.includes(m)) throw new Error(`unknown measure ${measure}`);
      code = baseCode(m, from);
      if (MONTH_MEASURES.includes(m)) {
        code.months = masks;
        masks += m === 'two_way_months' ? 3 : 1;
      }
    }
    const slot = slots.push({ measure, windowDays }) - 1;
    codes.push(code);
    offsets.push(width);
    width += code.source === 'feedback' && code.test === 5 ? 2 : 1;
    index.set(k, slot);
    return slot;
  };
  for (const s of rules.stages) if (s.when) for (const l of leaves(s.when)) add(l.measure, l.windowDays);
  // Contributions (Lifetime Opportunity Value) count their groups' events over all history.
  for (const c of rules.value?.contributions ?? []) add(`events:${c.group}`, null);
  // Promoters and detractors are survey answers: the rows must say which feedback is a survey.
  if (codes.some((c) => c.source === 'feedback' && (c.test === 2 || c.test === 3)) && !feedbackKinds.includes('survey')) feedbackKinds.push('survey');
  return {
    asOf,
    slots,
    feedbackKinds,
    groups,
    slotOf: (measure, windowDays) => {
      const s = index.get(key(measure, windowDays));
      if (s === undefined) throw new Error(`no slot for ${measure}`);
      return s;
    },
    momentumWindowMs: rules.momentum.windowDays * DAY_MS,
    promoterMin: rules.scores.promoterMin,
    detractorMax: rules.scores.detractorMax,
    codes,
    width,
    offsets,
    masks,
  };
}

function baseCode(m: BaseMeasure, from: number): SlotCode {
  const c = (source: Source, test: number, param = 0): SlotCode => ({ source, test, param, months: -1, from });
  switch (m) {
    case 'interactions':
      return c('interaction', 0);
    case 'inbound':
      return c('interaction', 1, INBOUND);
    case 'outbound':
      return c('interaction', 1, OUTBOUND);
    case 'mutual':
      return c('interaction', 1, MUTUAL);
    case 'two_way_months':
    case 'active_months':
    case 'order_months':
    case 'tenure_days':
    case 'days_since_contact':
      return c('derived', 0);
    case 'orders':
      return c('order', 0);
    case 'spend':
      return c('order', 1);
    case 'feedback':
      return c('feedback', 0);
    case 'promoters':
      return c('feedback', 2);
    case 'detractors':
      return c('feedback', 3);
    case 'positive_feedback':
      return c('feedback', 4);
    case 'sentiment':
      return c('feedback', 5);
  }
}

/**
 * The counts of `n` customers (positions 0…n−1): add rows, then read values. A run adds tens of
 * millions of rows in time order, so each row touches one customer's state at random: what a
 * customer has is kept together (their counts in one run of `width` numbers, their month masks
 * in one, their activity and first and last times in one), and what a row adds is looked up once
 * per kind of row (event groups × direction), not tested slot by slot.
 * Memory: 8 × (width + 4) + 8 × month masks bytes per customer.
 */
export class Features {
  readonly counts: Float64Array;
  readonly monthBits: Uint32Array;
  /** Per customer: activity in the momentum window, in the window before, the first time seen, the last touch. */
  readonly state: Float64Array;
  /** How many threads counted the rows (set by whoever fills it). */
  threads = 1;
  private readonly asOfMonth: number;
  private readonly from: Float64Array;
  private readonly offsets: Int32Array;
  private readonly interactionSlots: number[];
  private readonly orderSlots: number[];
  private readonly feedbackSlots: number[];
  /** Month slots: their slot, kind (0 two-way, 1 order months, 2 active months) and first mask. */
  private readonly monthSlot: Int32Array;
  private readonly monthKind: Int8Array;
  private readonly monthBase: Int32Array;
  private readonly interactionPlans = new Map<number, Int32Array>();
  /** The bit of feedback kind `survey` in the rows' kind masks (promoters and detractors are survey answers). */
  readonly surveyBit: number;

  constructor(
    readonly plan: FeaturePlan,
    readonly n: number,
  ) {
    this.counts = new Float64Array(n * plan.width);
    this.monthBits = new Uint32Array(n * plan.masks * 2);
    this.state = new Float64Array(n * 4);
    for (let i = 0; i < n; i++) {
      this.state[i * 4 + 2] = Number.POSITIVE_INFINITY;
      this.state[i * 4 + 3] = Number.NEGATIVE_INFINITY;
    }
    this.asOfMonth = monthOfMs(plan.asOf);
    this.from = Float64Array.from(plan.codes, (c) => c.from);
    this.offsets = Int32Array.from(plan.offsets);
    const of = (s: Source): number[] => plan.codes.flatMap((c, i) => (c.source === s ? [i] : []));
    this.interactionSlots = of('interaction');
    this.orderSlots = of('order');
    this.feedbackSlots = of('feedback');
    const survey = plan.feedbackKinds.indexOf('survey');
    this.surveyBit = survey < 0 ? 0 : 1 << survey;
    const months = plan.codes.flatMap((c, i) => (c.months >= 0 ? [i] : []));
    this.monthSlot = Int32Array.from(months);
    this.monthKind = Int8Array.from(months, (i) => (plan.slots[i]!.measure === 'two_way_months' ? 0 : plan.slots[i]!.measure === 'order_months' ? 1 : 2));
    this.monthBase = Int32Array.from(months, (i) => plan.codes[i]!.months);
  }

  recentOf(i: number): number {
    return this.state[i * 4]!;
  }

  /** When customer i was first seen (+∞ if not by the as-of time). */
  firstOf(i: number): number {
    return this.state[i * 4 + 2]!;
  }

  previousOf(i: number): number {
    return this.state[i * 4 + 1]!;
  }

  /** Adds what another accumulator of the same plan and customers counted (another slice of the rows). */
  merge(o: { counts: Float64Array; monthBits: Uint32Array; state: Float64Array }): void {
    if (o.counts.length !== this.counts.length || o.monthBits.length !== this.monthBits.length || o.state.length !== this.state.length) throw new Error('Features.merge: another plan or another set of customers');
    for (let k = 0; k < o.counts.length; k++) this.counts[k]! += o.counts[k]!;
    for (let k = 0; k < o.monthBits.length; k++) this.monthBits[k]! |= o.monthBits[k]!;
    const s = this.state;
    for (let k = 0; k < s.length; k += 4) {
      s[k]! += o.state[k]!;
      s[k + 1]! += o.state[k + 1]!;
      if (o.state[k + 2]! < s[k + 2]!) s[k + 2] = o.state[k + 2]!;
      if (o.state[k + 3]! > s[k + 3]!) s[k + 3] = o.state[k + 3]!;
    }
  }

  /** Records that the customer was first seen at `at` (customers.first_seen), if earlier than their rows. */
  seen(i: number, at: number): void {
    if (at <= this.plan.asOf && at < this.state[i * 4 + 2]!) this.state[i * 4 + 2] = at;
  }

  /** The slots an interaction of these groups and direction counts in (windows aside), computed once per kind. */
  private slotsFor(direction: number, groups: number): Int32Array {
    const key = groups * 4 + direction;
    let slots = this.interactionPlans.get(key);
    if (!slots) {
      const codes = this.plan.codes;
      slots = Int32Array.from(
        this.interactionSlots.filter((s) => {
          const c = codes[s]!;
          return c.test === 0 || (c.test === 1 && direction === c.param) || (c.test === 2 && (groups & c.param) !== 0);
        }),
      );
      this.interactionPlans.set(key, slots);
    }
    return slots;
  }

  addInteraction(i: number, at: number, direction: number, groups: number): void {
    if (!(at <= this.plan.asOf)) return;
    const st = i * 4;
    if (at < this.state[st + 2]!) this.state[st + 2] = at;
    const slots = this.slotsFor(direction, groups);
    if (slots.length > 0) {
      const base = i * this.plan.width;
      for (let k = 0; k < slots.length; k++) {
        const s = slots[k]!;
        if (at >= this.from[s]!) this.counts[base + this.offsets[s]!]! += 1;
      }
    }
    // A reaction (an e-mail opened) answers nothing and is no activity of the customer's own.
    if ((groups & REACTION_BIT) !== 0) return;
    if (direction !== OUTBOUND) this.touch(st, at);
    if (this.monthSlot.length > 0) {
      // Months with a two-way exchange: a mutual interaction anywhere, or inbound and outbound
      // ones through conversation channels (a push and a page view in one month are not an exchange).
      const conversation = (groups & CONVERSATION_BIT) !== 0;
      this.month(i, at, direction === MUTUAL ? 4 | 32 : direction === INBOUND ? (conversation ? 1 | 32 : 32) : conversation ? 2 : 0);
    }
  }

  addOrder(i: number, at: number, total: number): void {
    const { plan, counts } = this;
    if (!(at <= plan.asOf)) return;
    const st = i * 4;
    if (at < this.state[st + 2]!) this.state[st + 2] = at;
    const base = i * plan.width;
    for (const s of this.orderSlots) {
      // Spend is summed in cents, so that a run and a history of the same rows agree to the cent.
      if (at >= this.from[s]!) counts[base + this.offsets[s]!]! += plan.codes[s]!.test === 0 ? 1 : Math.round(total * 100);
    }
    this.touch(st, at);
    if (this.monthSlot.length > 0) this.month(i, at, 8);
  }

  addFeedback(i: number, at: number, kinds: number, rating: number, label: number, sentiment: number): void {
    const { plan, counts } = this;
    if (!(at <= plan.asOf)) return;
    const st = i * 4;
    if (at < this.state[st + 2]!) this.state[st + 2] = at;
    const base = i * plan.width;
    const survey = (kinds & this.surveyBit) !== 0;
    for (const s of this.feedbackSlots) {
      const c = plan.codes[s]!;
      if (at < c.from) continue;
      const o = base + this.offsets[s]!;
      switch (c.test) {
        case 0:
          counts[o]! += 1;
          break;
        case 1:
          if ((kinds & c.param) !== 0) counts[o]! += 1;
          break;
        case 2:
          if (survey && rating >= plan.promoterMin) counts[o]! += 1;
          break;
        case 3:
          if (survey && rating <= plan.detractorMax) counts[o]! += 1;
          break;
        case 4:
          if (label === 1) counts[o]! += 1;
          break;
        case 5:
          if (!Number.isNaN(sentiment)) {
            // Summed in ten-thousandths (integers: the same sum in any order).
            counts[o]! += Math.round(sentiment * 10_000);
            counts[o + 1]! += 1;
          }
          break;
      }
    }
    this.touch(st, at);
    if (this.monthSlot.length > 0) this.month(i, at, 16);
  }

  private touch(st: number, at: number): void {
    const s = this.state;
    if (at > s[st + 3]!) s[st + 3] = at;
    const w = this.plan.momentumWindowMs;
    const age = this.plan.asOf - at;
    if (age <= w) s[st]! += 1;
    else if (age <= 2 * w) s[st + 1]! += 1;
  }

  /** Sets month bits: what = 1 inbound and 2 outbound through a conversation channel, 4 mutual, 8 order, 16 feedback, 32 the customer's own interaction. */
  private month(i: number, at: number, what: number): void {
    if (what === 0) return;
    const back = this.asOfMonth - monthOfMs(at);
    if (back < 0 || back >= MAX_MONTHS) return;
    const word = back >> 5;
    const bit = 1 << (back & 31);
    const bits = this.monthBits;
    const customer = i * this.plan.masks;
    for (let k = 0; k < this.monthSlot.length; k++) {
      if (at < this.from[this.monthSlot[k]!]!) continue;
      const base = (customer + this.monthBase[k]!) * 2 + word;
      const kind = this.monthKind[k]!;
      if (kind === 0) {
        if (what & 1) bits[base]! |= bit;
        if (what & 2) bits[base + 2]! |= bit;
        if (what & 4) bits[base + 4]! |= bit;
      } else if (kind === 1) {
        if (what & 8) bits[base]! |= bit;
      } else if (what & (8 | 16 | 32)) {
        bits[base]! |= bit;
      }
    }
  }

  /** The value of slot `s` for customer `i` (NaN for a mean of nothing). */
  value(i: number, s: number): number {
    const { plan } = this;
    const slot = plan.slots[s]!;
    const c = plan.codes[s]!;
    if (c.months >= 0) {
      const base = (i * plan.masks + c.months) * 2;
      const b = this.monthBits;
      if (slot.measure === 'two_way_months') return popcount((b[base]! & b[base + 2]!) | b[base + 4]!) + popcount((b[base + 1]! & b[base + 3]!) | b[base + 5]!);
      return popcount(b[base]!) + popcount(b[base + 1]!);
    }
    if (slot.measure === 'tenure_days') return this.tenureDays(i);
    if (slot.measure === 'days_since_contact') {
      const last = this.state[i * 4 + 3]!;
      return last === Number.NEGATIVE_INFINITY ? this.tenureDays(i) : (plan.asOf - last) / DAY_MS;
    }
    const o = i * plan.width + plan.offsets[s]!;
    if (c.source === 'feedback' && c.test === 5) return this.counts[o + 1]! > 0 ? this.counts[o]! / this.counts[o + 1]! / 10_000 : Number.NaN;
    if (c.source === 'order' && c.test === 1) return this.counts[o]! / 100;
    return this.counts[o]!;
  }

  tenureDays(i: number): number {
    const f = this.state[i * 4 + 2]!;
    return f === Number.POSITIVE_INFINITY ? 0 : Math.max(0, (this.plan.asOf - f) / DAY_MS);
  }
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
