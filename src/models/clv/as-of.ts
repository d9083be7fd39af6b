/**
 * The as-of day of a value run: the day the models take as "now". For live data (orders still
 * arriving) it is today. For an imported history it is the end of the data, but a stray order dated well after the rest (a typo, a test order, a
 * late straggler) must not move it: the time between the true end and the stray would count
 * as weeks without purchases for every customer, and cut every CLV.
 */

/**
 * Data whose robust end is at most this many days before today are live: orders are still
 * arriving, and the days since the latest one are days in which the customers did not buy, so
 * the as-of day is today. A week is one period of the models and covers a shop's weekly cycle
 * (quiet weekends, a weekly sync or export); data that stop for longer are more likely an
 * export that ended than a week in which nobody bought, and valuing them as of today would
 * count the time since the export as inactivity of every customer (the harm the stray rule
 * below guards against).
 */
export const LIVE_WINDOW_DAYS = 7;

/** Orders past a gap of at least this many days with no customer's last order... */
export const STRAY_GAP_DAYS = 14;
/** ...and made by at most this share of the customers are strays. */
export const STRAY_SHARE = 0.001;

export interface AsOf {
  day: number;
  /** Why this day: the latest order, or the latest before a few stray later ones. */
  reason: 'latest order' | 'stray orders ignored' | 'future orders ignored';
  /** Customers whose last order came after `day` (its orders are left out of the run). */
  ignoredCustomers: number;
  /** The latest order day in the data, future ones included. */
  latestDay: number;
}

/**
 * From every customer's last order day (days since 1970-01-01): the latest day, unless the
 * last orders after some gap of STRAY_GAP_DAYS or more belong to at most STRAY_SHARE of the
 * customers (then the day before that gap), and never after `today` (orders dated in the
 * future are ignored).
 */
export function robustAsOf(lastDays: ArrayLike<number>, today: number): AsOf {
  const n = lastDays.length;
  if (n === 0) throw new RangeError('robustAsOf: no customers');
  const days = Float64Array.from(lastDays).sort();
  const latestDay = days[n - 1]!;
  let end = n;
  while (end > 0 && days[end - 1]! > today) end--;
  const future = n - end;
  if (end === 0) return { day: today, reason: 'future orders ignored', ignoredCustomers: n, latestDay };
  const maxTail = Math.floor(STRAY_SHARE * n);
  let cut = end;
  // Walk down the tail of at most maxTail customers, looking for the lowest gap.
  for (let i = end - 1; i > 0 && end - i <= maxTail; i--) {
    if (days[i]! - days[i - 1]! >= STRAY_GAP_DAYS) cut = i;
  }
  if (cut < end) return { day: days[cut - 1]!, reason: 'stray orders ignored', ignoredCustomers: n - cut, latestDay };
  return { day: days[end - 1]!, reason: future > 0 ? 'future orders ignored' : 'latest order', ignoredCustomers: future, latestDay };
}

export interface RunAsOf extends AsOf {
  /** The end of the data (robust to strays and future-dated orders), whatever the as-of day. */
  dataEnd: number;
  /** Days from the end of the data to today. */
  daysBehind: number;
  /** Within LIVE_WINDOW_DAYS of today: the as-of day is today. */
  live: boolean;
}

/**
 * The as-of day of a run over the stored orders: today when the robust end of the data
 * (robustAsOf) is within LIVE_WINDOW_DAYS of it, else that end.
 */
export function runAsOf(lastDays: ArrayLike<number>, today: number): RunAsOf {
  const end = robustAsOf(lastDays, today);
  const daysBehind = today - end.day;
  const live = daysBehind <= LIVE_WINDOW_DAYS;
  return { ...end, day: live ? today : end.day, dataEnd: end.day, daysBehind, live };
}
