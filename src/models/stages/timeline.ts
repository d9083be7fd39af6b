/**
 * Where each customer stood on the LOVE ladder at the end of each month, computed from the
 * stored rows in one pass, so that the history exists on the first day Rapport sees the data.
 *
 * Placing a customer as of a month end reads the same measures as a run as of that time
 * (features.ts): counts over all history or a window, months with activity, tenure, days since
 * the last touch. Counting every row once per month would cost months × rows; instead each row
 * adds to the months whose window it falls in as a range (+1 where the range starts, −1 after
 * it ends, summed up month by month), and a month with activity counts for the range of month
 * ends whose window still reaches its latest row. The months are then placed with the run's own
 * compiled rules (engine.ts), so a history month and a run as of its end agree customer by
 * customer (test/stage-history.test.ts checks it).
 *
 * Rows are collected per customer first (a counting sort), so a customer's months are computed
 * together: 17 bytes per interaction, 33 per order or feedback item.
 */
import { DAY_MS, monthOfMs } from '../time.js';
import { placer, type StageValues } from './engine.js';
import { CONVERSATION_BIT, INBOUND, MUTUAL, OUTBOUND, REACTION_BIT, type FeaturePlan } from './features.js';
import { MAX_MONTHS, type BaseMeasure, type StageRules } from './rules.js';

/** A month in which the customer was not yet seen. */
export const ABSENT = 255;

/** The end (last millisecond, UTC) of month `m` (year × 12 + month). */
export function endOfMonth(m: number): number {
  const next = m + 1;
  return Date.UTC(Math.floor(next / 12), next % 12, 1) - 1;
}

/** `YYYY-MM` of month `m`. */
export function monthLabel(m: number): string {
  return `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
}

/** The month (year × 12 + month) of a `YYYY-MM` label, or NaN. */
export function monthOfLabel(label: string): number {
  const x = /^(\d{4})-(\d{2})$/.exec(label);
  if (!x) return Number.NaN;
  const month = Number(x[2]);
  return month >= 1 && month <= 12 ? Number(x[1]) * 12 + month - 1 : Number.NaN;
}

/** The last `months` complete months up to `asOf` (a month is complete when its end is at or before asOf), oldest first. */
export function historyMonths(asOf: number, months: number): number[] {
  let last = monthOfMs(asOf);
  if (endOfMonth(last) > asOf) last -= 1;
  return Array.from({ length: months }, (_, k) => last - months + 1 + k);
}

/** The columns of collected rows, as they cross between threads. */
export interface RowColumns {
  n: number;
  pos: Int32Array;
  at: Float64Array;
  kind: Uint8Array;
  mask: Int32Array;
}

/** Growable columns of rows: customer position, time, a small code, a mask, and two numbers. */
class Rows {
  n = 0;
  pos: Int32Array;
  at: Float64Array;
  kind: Uint8Array;
  mask: Int32Array;
  x: Float64Array;
  y: Float64Array;

  constructor(
    capacity: number,
    private readonly numbers: boolean,
  ) {
    const c = Math.max(1024, capacity);
    this.pos = new Int32Array(c);
    this.at = new Float64Array(c);
    this.kind = new Uint8Array(c);
    this.mask = new Int32Array(c);
    this.x = new Float64Array(numbers ? c : 0);
    this.y = new Float64Array(numbers ? c : 0);
  }

  push(pos: number, at: number, kind: number, mask: number, x = 0, y = 0): void {
    if (this.n === this.pos.length) this.grow();
    const k = this.n++;
    this.pos[k] = pos;
    this.at[k] = at;
    this.kind[k] = kind;
    this.mask[k] = mask;
    if (this.numbers) {
      this.x[k] = x;
      this.y[k] = y;
    }
  }

  /** Appends rows collected elsewhere (another thread's share of the interactions). */
  append(o: RowColumns): void {
    if (this.numbers) throw new Error('Rows.append: only for interactions');
    while (this.pos.length < this.n + o.n) this.grow();
    this.pos.set(o.pos.subarray(0, o.n), this.n);
    this.at.set(o.at.subarray(0, o.n), this.n);
    this.kind.set(o.kind.subarray(0, o.n), this.n);
    this.mask.set(o.mask.subarray(0, o.n), this.n);
    this.n += o.n;
  }

  private grow(): void {
    const c = this.pos.length * 2;
    const more = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(c);
      b.set(a);
      return b;
    };
    this.pos = more(this.pos, Int32Array);
    this.at = more(this.at, Float64Array);
    this.kind = more(this.kind, Uint8Array);
    this.mask = more(this.mask, Int32Array);
    if (this.numbers) {
      this.x = more(this.x, Float64Array);
      this.y = more(this.y, Float64Array);
    }
  }

  /** Row indexes grouped by customer (rows keep their order within a customer) and where each customer's start. */
  byCustomer(customers: number): { order: Int32Array; start: Int32Array } {
    const start = new Int32Array(customers + 1);
    for (let k = 0; k < this.n; k++) start[this.pos[k]! + 1]! += 1;
    for (let i = 0; i < customers; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, customers);
    const order = new Int32Array(this.n);
    for (let k = 0; k < this.n; k++) order[fill[this.pos[k]!]!++] = k;
    return { order, start };
  }
}

const ORDER = 3;
const FEEDBACK = 4;


export interface TimelineResult {
  /** The months (year × 12 + month), oldest first. */
  months: number[];
  /** Stage index per customer and month (customer i, month k at i × months + k), ABSENT before they were seen. */
  stages: Uint8Array;
  /** When each customer was first seen (their first row or customers.first_seen, at or before the last month's end; +∞ if not). */
  firstAt: Float64Array;
  /** Rows read (interactions, orders and feedback at or before the last month's end). */
  rows: number;
  /** Placements computed (a month without change in a customer's measures keeps the month before's stage when no rule reads time). */
  placements: number;
}

/**
 * Collects the rows of `n` customers (positions 0…n−1), then places each customer at the end
 * of each of `months`. The plan must be the rules' plan (any as-of: only its slots are used).
 */
export class Timeline {
  private readonly interactions: Rows;
  private readonly others: Rows;
  private readonly firstSeen: Float64Array;
  private readonly ends: Float64Array;
  private readonly last: number;

  constructor(
    readonly rules: StageRules,
    readonly plan: FeaturePlan,
    readonly months: readonly number[],
    readonly n: number,
    capacity: { interactions?: number; others?: number } = {},
  ) {
    if (months.length === 0 || months.length > MAX_MONTHS) throw new Error(`Timeline: 1 to ${MAX_MONTHS} months, not ${months.length}`);
    this.ends = Float64Array.from(months, endOfMonth);
    this.last = this.ends[this.ends.length - 1]!;
    this.interactions = new Rows(capacity.interactions ?? 1 << 16, false);
    this.others = new Rows(capacity.others ?? 1 << 14, true);
    this.firstSeen = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  }

  seen(i: number, at: number): void {
    if (at <= this.last && at < this.firstSeen[i]!) this.firstSeen[i] = at;
  }

  addInteraction(i: number, at: number, direction: number, groups: number): void {
    if (at <= this.last) this.interactions.push(i, at, direction, groups);
  }

  /** An order's total in cents. */
  addOrder(i: number, at: number, cents: number): void {
    if (at <= this.last) this.others.push(i, at, ORDER, 0, cents);
  }

  /** A feedback item: kind mask, rating (NaN without), label 1/−1/0, sentiment in ten-thousandths (NaN when not analysed). */
  addFeedback(i: number, at: number, kinds: number, rating: number, label: number, sentiment: number): void {
    if (at <= this.last) this.others.push(i, at, FEEDBACK + label + 1, kinds, rating, sentiment);
  }

  /** The interactions collected so far (for another thread's timeline to append). */
  interactionColumns(): RowColumns {
    const r = this.interactions;
    return { n: r.n, pos: r.pos, at: r.at, kind: r.kind, mask: r.mask };
  }

  /** Adds the interactions another timeline of the same customers collected. */
  appendInteractions(o: RowColumns): void {
    this.interactions.append(o);
  }

  /** Places every customer at the end of every month. */
  place(): TimelineResult {
    const { plan, rules, ends, n } = this;
    const K = ends.length;
    const m0 = this.months[0]!;
    const width = plan.width;
    const slots = plan.slots.length;
    const reading = new Uint8Array(slots);
    const windowMs = new Float64Array(slots);
    const offset = Int32Array.from(plan.offsets);
    const orderSlots: number[] = [];
    const feedbackSlots: number[] = [];
    const monthSlots: number[] = [];
    const interactionSlots: number[] = [];
    let timeDependent = false;
    plan.slots.forEach((slot, s) => {
      const c = plan.codes[s]!;
      windowMs[s] = slot.windowDays === null ? Number.POSITIVE_INFINITY : slot.windowDays * DAY_MS;
      const m = slot.measure as BaseMeasure;
      if (c.months >= 0) {
        reading[s] = 3;
        monthSlots.push(s);
      } else if (m === 'tenure_days' || m === 'days_since_contact') {
        reading[s] = m === 'tenure_days' ? 4 : 5;
        timeDependent = true;
      } else if (c.source === 'order') {
        reading[s] = c.test === 1 ? 1 : 0;
        orderSlots.push(s);
      } else if (c.source === 'feedback') {
        reading[s] = c.test === 5 ? 2 : 0;
        feedbackSlots.push(s);
      } else {
        reading[s] = 0;
        interactionSlots.push(s);
      }
    });
    const monthKind = Int8Array.from(monthSlots, (s) => (plan.slots[s]!.measure === 'two_way_months' ? 0 : plan.slots[s]!.measure === 'order_months' ? 1 : 2));
    const survey = plan.feedbackKinds.indexOf('survey');
    const surveyBit = survey < 0 ? 0 : 1 << survey;
    const kindOf = new Map<number, Int32Array>();
    const slotsFor = (direction: number, groups: number): Int32Array => {
      const key = groups * 4 + direction;
      let found = kindOf.get(key);
      if (!found) {
        found = Int32Array.from(
          interactionSlots.filter((s) => {
            const c = plan.codes[s]!;
            return c.test === 0 || (c.test === 1 && direction === c.param) || (c.test === 2 && (groups & c.param) !== 0);
          }),
        );
        kindOf.set(key, found);
      }
      return found;
    };
    // The first month end at or after t (K when none), the last at or before t (−1 when none).
    const firstAtLeast = (t: number): number => {
      let lo = 0;
      let hi = K;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ends[mid]! >= t) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const lastAtMost = (t: number): number => (t === Number.POSITIVE_INFINITY ? K - 1 : firstAtLeast(t + 1) - 1);

    // Months with activity of the customer's own: the latest row per month and kind, over the
    // months any month end can still count (MAX_MONTHS back from the first).
    const base = m0 - (MAX_MONTHS - 1);
    const span = this.months[K - 1]! - base + 1;
    const latest = new Float64Array(span * 5).fill(Number.NEGATIVE_INFINITY);
    const touched = new Int32Array(span);
    const isTouched = new Uint8Array(span);
    let touchedCount = 0;
    const markMonth = (at: number, what: number): void => {
      const mu = monthOfMs(at) - base;
      if (mu < 0) return;
      if (isTouched[mu] === 0) {
        isTouched[mu] = 1;
        touched[touchedCount++] = mu;
      }
      const b = mu * 5;
      if (what & 1 && at > latest[b]!) latest[b] = at;
      if (what & 2 && at > latest[b + 1]!) latest[b + 1] = at;
      if (what & 4 && at > latest[b + 2]!) latest[b + 2] = at;
      if (what & 8 && at > latest[b + 3]!) latest[b + 3] = at;
      if (what & (8 | 16 | 32) && at > latest[b + 4]!) latest[b + 4] = at;
    };

    const diff = new Float64Array((K + 1) * width);
    const lastTouch = new Float64Array(K);
    const sum = new Float64Array(width);
    const view = new MonthValues(sum, reading, offset);
    const place = placer(rules, plan);
    const stages = new Uint8Array(n * K).fill(ABSENT);
    const add = (from: number, to: number, o: number, v: number): void => {
      diff[from * width + o]! += v;
      diff[(to + 1) * width + o]! -= v;
    };
    const A = this.interactions;
    const B = this.others;
    const ga = A.byCustomer(n);
    const gb = B.byCustomer(n);
    let placements = 0;
    const firstAt = new Float64Array(n);

    for (let i = 0; i < n; i++) {
      diff.fill(0);
      lastTouch.fill(Number.NEGATIVE_INFINITY);
      let first = this.firstSeen[i]!;
      for (let r = ga.start[i]!; r < ga.start[i + 1]!; r++) {
        const k = ga.order[r]!;
        const at = A.at[k]!;
        const direction = A.kind[k]!;
        const groups = A.mask[k]!;
        if (at < first) first = at;
        const k1 = firstAtLeast(at);
        const matched = slotsFor(direction, groups);
        for (let j = 0; j < matched.length; j++) {
          const s = matched[j]!;
          const k2 = lastAtMost(at + windowMs[s]!);
          if (k2 >= k1) add(k1, k2, offset[s]!, 1);
        }
        if ((groups & REACTION_BIT) !== 0) continue;
        if (direction !== OUTBOUND && at > lastTouch[k1]!) lastTouch[k1] = at;
        if (monthSlots.length > 0) {
          const conversation = (groups & CONVERSATION_BIT) !== 0;
          const what = direction === MUTUAL ? 4 | 32 : direction === INBOUND ? (conversation ? 1 | 32 : 32) : conversation ? 2 : 0;
          if (what !== 0) markMonth(at, what);
        }
      }
      for (let r = gb.start[i]!; r < gb.start[i + 1]!; r++) {
        const k = gb.order[r]!;
        const at = B.at[k]!;
        const kind = B.kind[k]!;
        if (at < first) first = at;
        const k1 = firstAtLeast(at);
        if (kind === ORDER) {
          const cents = B.x[k]!;
          for (const s of orderSlots) {
            const k2 = lastAtMost(at + windowMs[s]!);
            if (k2 >= k1) add(k1, k2, offset[s]!, reading[s] === 1 ? cents : 1);
          }
          if (monthSlots.length > 0) markMonth(at, 8);
        } else {
          const kinds = B.mask[k]!;
          const rating = B.x[k]!;
          const sentiment = B.y[k]!;
          const label = kind - FEEDBACK - 1;
          const isSurvey = (kinds & surveyBit) !== 0;
          for (const s of feedbackSlots) {
            const c = plan.codes[s]!;
            let v = 0;
            switch (c.test) {
              case 0:
                v = 1;
                break;
              case 1:
                v = (kinds & c.param) !== 0 ? 1 : 0;
                break;
              case 2:
                v = isSurvey && rating >= plan.promoterMin ? 1 : 0;
                break;
              case 3:
                v = isSurvey && rating <= plan.detractorMax ? 1 : 0;
                break;
              case 4:
                v = label === 1 ? 1 : 0;
                break;
              case 5:
                v = Number.isNaN(sentiment) ? 0 : 1;
                break;
            }
            if (v === 0) continue;
            const k2 = lastAtMost(at + windowMs[s]!);
            if (k2 < k1) continue;
            if (c.test === 5) {
              add(k1, k2, offset[s]!, sentiment);
              add(k1, k2, offset[s]! + 1, 1);
            } else add(k1, k2, offset[s]!, 1);
          }
          if (monthSlots.length > 0) markMonth(at, 16);
        }
        if (at > lastTouch[k1]!) lastTouch[k1] = at;
      }
      // Each month with activity counts for the month ends whose window reaches its latest row.
      for (let t = 0; t < touchedCount; t++) {
        const mu = touched[t]!;
        const b = mu * 5;
        const month = mu + base;
        const from = Math.max(0, month - m0);
        const to0 = Math.min(K - 1, month + MAX_MONTHS - 1 - m0);
        for (let j = 0; j < monthSlots.length; j++) {
          const s = monthSlots[j]!;
          const kind = monthKind[j]!;
          const e = kind === 0 ? Math.max(Math.min(latest[b]!, latest[b + 1]!), latest[b + 2]!) : kind === 1 ? latest[b + 3]! : latest[b + 4]!;
          if (e === Number.NEGATIVE_INFINITY) continue;
          const to = Math.min(to0, lastAtMost(e + windowMs[s]!));
          if (to >= from) add(from, to, offset[s]!, 1);
        }
        isTouched[mu] = 0;
        latest.fill(Number.NEGATIVE_INFINITY, b, b + 5);
      }
      touchedCount = 0;
      firstAt[i] = first;

      sum.fill(0);
      let touch = Number.NEGATIVE_INFINITY;
      let previous = ABSENT;
      const row = i * K;
      for (let k = 0; k < K; k++) {
        let changed = false;
        const d = k * width;
        for (let w = 0; w < width; w++) {
          const v = diff[d + w]!;
          if (v !== 0) {
            sum[w]! += v;
            changed = true;
          }
        }
        if (lastTouch[k]! > touch) touch = lastTouch[k]!;
        const end = ends[k]!;
        if (!(first <= end)) continue;
        if (previous !== ABSENT && !changed && !timeDependent) {
          stages[row + k] = previous;
          continue;
        }
        view.at(end, first, touch);
        previous = place.place(view, 0).stage;
        stages[row + k] = previous;
        placements++;
      }
    }
    return { months: [...this.months], stages, firstAt, rows: A.n + B.n, placements };
  }
}

/** One customer's measures at one month end, read the way Features reads a run's. */
class MonthValues implements StageValues {
  private end = 0;
  private first = 0;
  private touch = 0;

  constructor(
    private readonly sum: Float64Array,
    private readonly reading: Uint8Array,
    private readonly offset: Int32Array,
  ) {}

  at(end: number, first: number, touch: number): void {
    this.end = end;
    this.first = first;
    this.touch = touch;
  }

  value(_i: number, s: number): number {
    const o = this.offset[s]!;
    switch (this.reading[s]!) {
      case 1:
        return this.sum[o]! / 100;
      case 2:
        return this.sum[o + 1]! > 0 ? this.sum[o]! / this.sum[o + 1]! / 10_000 : Number.NaN;
      case 4:
        return this.tenure();
      case 5:
        return this.touch === Number.NEGATIVE_INFINITY ? this.tenure() : (this.end - this.touch) / DAY_MS;
      default:
        return this.sum[o]!;
    }
  }

  private tenure(): number {
    return this.first === Number.POSITIVE_INFINITY ? 0 : Math.max(0, (this.end - this.first) / DAY_MS);
  }
}
