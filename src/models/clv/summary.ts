/**
 * From transactions to the per-customer repeat-purchase summary the models take, as in the
 * BG/NBD paper's data preparation: transactions of the same customer on the same day are one
 * purchase (their amounts add up); the first purchase starts the customer's clock and is not
 * a repeat; time is measured in days and divided into the chosen period.
 */
import type { RfmSummary } from './triples.js';
import { dayOfIso, isoOfDay } from '../time.js';

export type Period = 'day' | 'week' | 'month';

/** Days per period. A month is a twelfth of a Julian year (30.4375 days). */
export const PERIOD_DAYS: Record<Period, number> = { day: 1, week: 7, month: 365.25 / 12 };

/** Transactions in columns: customer (an index into the caller's ids), day (days since 1970-01-01, UTC) and amount. */
export interface Transactions {
  customer: Int32Array;
  day: Int32Array;
  amount: Float64Array;
  /** Number of distinct customers (customer indexes are 0 … customers−1). */
  customers: number;
}

export interface SummaryOptions {
  /** Last day of the calibration period (inclusive), in days since 1970-01-01. */
  calibrationEnd: number;
  /** Last day of the holdout period (inclusive); omit for no holdout. */
  holdoutEnd?: number;
  period: Period;
}

export interface CustomerSummary extends RfmSummary {
  monetary: Float64Array;
  /** For each summary row, the customer index it describes (customers whose first purchase is after the calibration end are left out). */
  customer: Int32Array;
  /** Day of the first purchase. */
  firstDay: Int32Array;
  /** Repeat purchases (distinct days) in the holdout period, when one was asked for. */
  holdoutFrequency?: Float64Array;
  /** Length of the holdout period in periods. */
  holdoutLength?: number;
  /**
   * Repeat purchases of these customers per day, from the earliest first purchase (`start`) to
   * the end of the observation (the holdout end, else the calibration end): the actual line of
   * the cumulative tracking chart.
   */
  repeatsByDay: { start: number; counts: Float64Array };
}

/**
 * Summarises transactions per customer. Transactions need not be sorted. Customers whose first
 * purchase falls after the calibration end are not in the calibration cohort and are left out.
 *
 * @example summarize(tx, { calibrationEnd: dayOf('1997-09-30'), period: 'week' })
 */
export function summarize(tx: Transactions, options: SummaryOptions): CustomerSummary {
  const { calibrationEnd, holdoutEnd, period } = options;
  if (holdoutEnd !== undefined && holdoutEnd <= calibrationEnd) throw new RangeError('the holdout end must come after the calibration end');
  const per = PERIOD_DAYS[period];
  const n = tx.customer.length;
  // Sort by (customer, day) so that each customer's days are contiguous and ordered.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((i, j) => tx.customer[i]! - tx.customer[j]! || tx.day[i]! - tx.day[j]!);
  const first = new Int32Array(tx.customers).fill(-1);
  const last = new Int32Array(tx.customers);
  const x = new Float64Array(tx.customers);
  const repeatSum = new Float64Array(tx.customers);
  const hold = holdoutEnd !== undefined ? new Float64Array(tx.customers) : undefined;
  // Running state of the current (customer, day) purchase.
  let curCustomer = -1;
  let curDay = 0;
  let curAmount = 0;
  const end = holdoutEnd ?? calibrationEnd;
  const repeatDays: number[] = [];
  const closePurchase = (): void => {
    if (curCustomer < 0) return;
    const c = curCustomer;
    if (first[c] !== -1 && curDay <= end) repeatDays.push(curDay);
    if (curDay <= calibrationEnd) {
      if (first[c] === -1) {
        first[c] = curDay;
        last[c] = curDay;
      } else {
        x[c]! += 1;
        repeatSum[c]! += curAmount;
        last[c] = curDay;
      }
    } else if (hold && curDay <= holdoutEnd! && first[c] !== -1) {
      hold[c]! += 1;
    }
  };
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const c = tx.customer[i]!;
    const d = tx.day[i]!;
    if (c !== curCustomer || d !== curDay) {
      closePurchase();
      curCustomer = c;
      curDay = d;
      curAmount = 0;
    }
    curAmount += tx.amount[i]!;
  }
  closePurchase();
  let rows = 0;
  let start = Number.POSITIVE_INFINITY;
  for (let c = 0; c < tx.customers; c++) {
    if (first[c] === -1) continue;
    rows++;
    if (first[c]! < start) start = first[c]!;
  }
  if (rows === 0) start = calibrationEnd;
  const counts = new Float64Array(Math.max(0, end - start + 1));
  for (const d of repeatDays) counts[d - start]! += 1;
  const out: CustomerSummary = {
    frequency: new Float64Array(rows),
    recency: new Float64Array(rows),
    T: new Float64Array(rows),
    monetary: new Float64Array(rows),
    customer: new Int32Array(rows),
    firstDay: new Int32Array(rows),
    repeatsByDay: { start, counts },
  };
  if (hold) {
    out.holdoutFrequency = new Float64Array(rows);
    out.holdoutLength = (holdoutEnd! - calibrationEnd) / per;
  }
  let j = 0;
  for (let c = 0; c < tx.customers; c++) {
    if (first[c] === -1) continue;
    out.frequency[j] = x[c]!;
    out.recency[j] = (last[c]! - first[c]!) / per;
    out.T[j] = (calibrationEnd - first[c]!) / per;
    out.monetary[j] = x[c]! > 0 ? repeatSum[c]! / x[c]! : 0;
    out.customer[j] = c;
    out.firstDay[j] = first[c]!;
    if (hold) out.holdoutFrequency![j] = hold[c]!;
    j++;
  }
  return out;
}

/**
 * Mean spend per repeat purchase day, the Gamma-Gamma input m̄: what was spent after the first
 * purchase day over the repeat days ((spend − first day's spend) / (purchase days − 1)), 0
 * without repeats. The first purchase is not a repeat, as in the summary above.
 */
export function meanRepeatSpend(spend: number, firstDaySpend: number, purchaseDays: number): number {
  const repeats = purchaseDays - 1;
  return repeats > 0 ? (spend - firstDaySpend) / repeats : 0;
}

/** Days since 1970-01-01 (UTC) of a `YYYY-MM-DD` date, or NaN when it is not one. */
export const dayOf = dayOfIso;
export { isoOfDay };
