/**
 * The launch comparison of a panel: how a group of customers bought a product or category
 * after its launch, against what the customer-value model expected of them.
 *
 * For customer i with x_i + 1 purchase days before the launch day L (first f_i, last l_i), the
 * purchases the fitted purchase model expects in the window of days L … E are
 *
 *   e_i = P(alive | x_i, t_x, T) · E[X(T, T + t] | x_i, T, alive]
 *
 * with t_x = (l_i − f_i) / 7, T = (L − 1 − f_i) / 7 and t = (E − L + 1) / 7 weeks: the
 * conditional expectation of BG/NBD (Fader, Hardie & Lee 2005, eq. 10) or MBG/NBD (Batislam et
 * al. 2007, eq. 6), as the value run scores, given the history up to the day before the launch.
 * A group's expected purchases of the subject are Σ e_i · s, with s the share of the group's
 * purchase days before the launch that held the subject; when none of them did (a new line, or
 * a group too small to have bought it), the base share of every customer's purchase days (given
 * by the caller). Its actual purchases are its purchase days in the window with an order holding
 * the subject. Customers without a purchase before the launch have no history to condition on:
 * the model expects nothing of them, so their purchases are counted apart.
 */
import { modelHorizonFactor, modelPAlive, type PurchaseModelFit } from '../clv/purchase-model.js';

/** Customers' purchase days before the launch and of the subject, one entry per customer. */
export interface LaunchHistory {
  /** Purchase days (days with an order) before the launch day; 0 for none. */
  purchaseDays: Int32Array;
  /** First and last of them (days since 1970-01-01, UTC); any value when there are none. */
  firstDay: Int32Array;
  lastDay: Int32Array;
  /** Purchase days before the launch day with an order holding the subject. */
  subjectBefore: Int32Array;
  /** Purchase days in the window (launch day … end day) with an order holding the subject. */
  subjectAfter: Int32Array;
}

export interface LaunchWindow {
  /** The launch day and the last day of the window (days since 1970-01-01, UTC), inclusive. */
  launchDay: number;
  endDay: number;
  /** Days per period of the model (7: weeks). */
  periodDays: number;
}

/**
 * e_i for every customer (NaN for those without a purchase before the launch), computed once
 * per distinct (x, t_x, T) triple.
 */
export function expectedInWindow(model: PurchaseModelFit, h: LaunchHistory, w: LaunchWindow): Float64Array {
  const n = h.purchaseDays.length;
  const out = new Float64Array(n).fill(Number.NaN);
  const per = w.periodDays;
  const t = (w.endDay - w.launchDay + 1) / per;
  if (!(t > 0)) return out.fill(0);
  const memo = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const days = h.purchaseDays[i]!;
    if (days <= 0) continue;
    const x = days - 1;
    const txDays = h.lastDay[i]! - h.firstDay[i]!;
    const TDays = w.launchDay - 1 - h.firstDay[i]!;
    const key = `${x},${txDays},${TDays}`;
    let e = memo.get(key);
    if (e === undefined) {
      const T = Math.max(TDays, 0) / per;
      const tx = Math.min(Math.max(txDays, 0) / per, T);
      e = modelPAlive(model, x, tx, T) * modelHorizonFactor(model, x, T, t);
      memo.set(key, e);
    }
    out[i] = e;
  }
  return out;
}

/** Where a group's share of the subject came from. */
export type ShareSource = 'group' | 'base';

export interface GroupFigures {
  customers: number;
  /** Customers with a purchase before the launch (the model has a history for them). */
  modelled: number;
  /** Purchases of anything the model expects of the modelled customers in the window (Σ e_i). */
  expectedAll: number;
  /** The subject's share of purchase days used, and whose it was. */
  share: number;
  shareFrom: ShareSource;
  /** Σ e_i · share. */
  expected: number;
  /** The modelled customers' purchase days with the subject in the window. */
  actual: number;
  /** actual / expected; null when nothing was expected. */
  ratio: number | null;
  /** Customers (modelled or not) with at least one purchase of the subject in the window. */
  buyers: number;
  /** Customers without a purchase before the launch, and their purchases of the subject in the window. */
  withoutHistory: { customers: number; purchases: number };
}

/** The subject's share of the purchase days before the launch of the customers at `indexes`. */
export function shareOf(h: LaunchHistory, indexes: ArrayLike<number>): { subject: number; days: number } {
  let subject = 0;
  let days = 0;
  for (let k = 0; k < indexes.length; k++) {
    const i = indexes[k]!;
    subject += h.subjectBefore[i]!;
    days += h.purchaseDays[i]!;
  }
  return { subject, days };
}

/**
 * The figures of one group (members of a segment, say): expected and actual purchases of the
 * subject in the window, the share used (the group's own, else `baseShare`), and the customers
 * the model could not speak for.
 */
export function groupFigures(h: LaunchHistory, expected: Float64Array, indexes: ArrayLike<number>, baseShare: number): GroupFigures {
  const own = shareOf(h, indexes);
  const shareFrom: ShareSource = own.subject > 0 ? 'group' : 'base';
  const share = own.subject > 0 ? own.subject / own.days : baseShare;
  let modelled = 0;
  let expectedAll = 0;
  let actual = 0;
  let buyers = 0;
  let newCustomers = 0;
  let newPurchases = 0;
  for (let k = 0; k < indexes.length; k++) {
    const i = indexes[k]!;
    const after = h.subjectAfter[i]!;
    if (after > 0) buyers++;
    if (h.purchaseDays[i]! > 0) {
      modelled++;
      expectedAll += expected[i]!;
      actual += after;
    } else {
      newCustomers++;
      newPurchases += after;
    }
  }
  const e = expectedAll * share;
  return {
    customers: indexes.length,
    modelled,
    expectedAll,
    share,
    shareFrom,
    expected: e,
    actual,
    ratio: e > 0 ? actual / e : null,
    buyers,
    withoutHistory: { customers: newCustomers, purchases: newPurchases },
  };
}
