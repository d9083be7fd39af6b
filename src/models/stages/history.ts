/**
 * What the monthly stage history says about the population (pure): customers per stage per
 * month, the flow between any two months, cohorts by first-seen month, the time to reach each
 * stage (Kaplan–Meier, with customers who have not reached it yet counted as censored and
 * customers seen before the history began entering late), how long customers usually stay at
 * a stage before moving up (and who has been there longer: stuck), who fell back, and how
 * often customers moved up one stage within the horizon (the odds Lifetime Opportunity Value
 * uses).
 */
import { STAGE_KEYS } from './rules.js';
import { ABSENT } from './timeline.js';

const S = STAGE_KEYS.length;
/** Ages (months since first seen) the time-to-stage curves go to. */
export const MAX_AGE = 60;
/** Tenure bands at the start of the horizon, in months since first seen: [0, 3), [3, 12), [12, 24), 24 and more. */
export const TENURE_BANDS = [0, 3, 12, 24] as const;
/** Completed stays at a stage needed before "longer than usual" (stuck) is said of it. */
export const MIN_STAYS = 20;
/** Customers whose stay exceeds this share of completed stays are stuck (the 75th percentile). */
export const USUAL_QUANTILE = 0.75;

export function tenureBand(ageMonths: number): number {
  let b = 0;
  for (let k = 1; k < TENURE_BANDS.length; k++) if (ageMonths >= TENURE_BANDS[k]!) b = k;
  return b;
}

export interface HistoryInput {
  months: readonly number[];
  stages: Uint8Array;
  /** Month (year × 12 + month) each customer was first seen, NaN if never. */
  firstMonth: Float64Array;
  /** Micro-segment per customer, −1 without. */
  segment: Int32Array;
  horizonMonths: number;
}

export interface CurvePoint {
  age: number;
  atRisk: number;
  reached: number;
  /** P(reached the stage by this age), 0–1. */
  p: number;
}

export interface MoveCell {
  stage: number;
  band: number;
  segment: number;
  atRisk: number;
  moved: number;
}

export interface HistorySummary {
  months: number[];
  /** Customers per month and stage ([month][stage]); customers not yet seen are not counted. */
  counts: number[][];
  /** [a][b − a − 1] = transitions from month a to month b: [from 0…4, or 5 for not yet seen][to 0…4]. */
  pairs: number[][][][];
  /** Cohorts by first-seen month inside the history: size, and customers per stage by age in months. */
  cohorts: { month: number; size: number; byAge: number[][] }[];
  /** Kaplan–Meier time to reach each stage from first seen (Information…Co-creation). */
  timeTo: { stage: number; customers: number; medianMonths: number | null; curve: CurvePoint[] }[];
  /** Completed stays at each stage below Co-creation that ended in a move up, and the usual length. */
  stays: { stage: number; completed: number; usualMonths: number | null; medianMonths: number | null; stuck: number }[];
  /** Customers now below their highest stage of the history: [peak][now]. */
  fellBack: number[][];
  /** Moves up within the horizon from the month `horizonMonths` before the last. */
  moves: { from: number; horizonMonths: number; cells: MoveCell[] };
}

/** Per customer: the stage at the last month, months there without a break, the highest stage in the history. */
export interface CustomerHistory {
  stage: number;
  monthsAtStage: number;
  peak: number;
}

export function customerHistory(stages: Uint8Array, K: number, i: number): CustomerHistory | null {
  const row = i * K;
  const last = stages[row + K - 1]!;
  if (last === ABSENT) return null;
  let run = 0;
  for (let k = K - 1; k >= 0 && stages[row + k] === last; k--) run++;
  let peak = 0;
  for (let k = 0; k < K; k++) {
    const s = stages[row + k]!;
    if (s !== ABSENT && s > peak) peak = s;
  }
  return { stage: last, monthsAtStage: run, peak };
}

export function summarizeHistory(input: HistoryInput): HistorySummary {
  const { months, stages, firstMonth, segment } = input;
  const K = months.length;
  const n = firstMonth.length;
  const m0 = months[0]!;
  const counts = Array.from({ length: K }, () => new Array<number>(S).fill(0));
  const pairFlat = new Float64Array(K * K * (S + 1) * S);
  const cohortIndex = new Map<number, number>();
  const cohorts: HistorySummary['cohorts'] = [];
  const fellBack = Array.from({ length: S }, () => new Array<number>(S).fill(0));
  // Kaplan–Meier: per stage and age, entries, events and exits (censored after this age).
  const entering = Array.from({ length: S }, () => new Float64Array(MAX_AGE + 2));
  const events = Array.from({ length: S }, () => new Float64Array(MAX_AGE + 2));
  const leaving = Array.from({ length: S }, () => new Float64Array(MAX_AGE + 2));
  const entered = new Array<number>(S).fill(0);
  const stayLengths: number[][] = Array.from({ length: S }, () => []);
  const curStage = new Uint8Array(n).fill(ABSENT);
  const curRun = new Int32Array(n);
  const h = Math.min(input.horizonMonths, K - 1);
  const from = K - 1 - h;
  const cells = new Map<number, MoveCell>();
  const stageRow = new Uint8Array(K);

  for (let i = 0; i < n; i++) {
    const row = i * K;
    let present = false;
    for (let k = 0; k < K; k++) {
      const s = stages[row + k]!;
      stageRow[k] = s;
      if (s !== ABSENT) {
        counts[k]![s]! += 1;
        present = true;
      }
    }
    if (!present) continue;
    // Every pair of months: from a (or not yet seen) to b.
    for (let b = 1; b < K; b++) {
      const to = stageRow[b]!;
      if (to === ABSENT) continue;
      for (let a = 0; a < b; a++) {
        const f = stageRow[a] === ABSENT ? S : stageRow[a]!;
        pairFlat[((a * K + b) * (S + 1) + f) * S + to]! += 1;
      }
    }
    const fm = firstMonth[i]!;
    // Cohorts: customers first seen inside the history.
    if (fm >= m0) {
      let c = cohortIndex.get(fm);
      if (c === undefined) {
        c = cohorts.push({ month: fm, size: 0, byAge: [] }) - 1;
        cohortIndex.set(fm, c);
      }
      const cohort = cohorts[c]!;
      cohort.size++;
      for (let k = fm - m0; k < K; k++) {
        const s = stageRow[k]!;
        if (s === ABSENT) continue;
        const age = k - (fm - m0);
        while (cohort.byAge.length <= age) cohort.byAge.push(new Array<number>(S).fill(0));
        cohort.byAge[age]![s]! += 1;
      }
    }
    // Time to each stage: age (months since first seen) at the first month at or above it.
    let firstK = 0;
    while (firstK < K && stageRow[firstK] === ABSENT) firstK++;
    const entryAge = Math.min(MAX_AGE + 1, Math.max(0, m0 + firstK - fm));
    const lastAge = Math.min(MAX_AGE + 1, m0 + K - 1 - fm);
    for (let s = 1; s < S; s++) {
      let reachedAt = -1;
      for (let k = firstK; k < K; k++) {
        if (stageRow[k]! >= s) {
          reachedAt = k;
          break;
        }
      }
      // Reached before the history began (already there at the first month, seen earlier): not at risk inside it.
      if (reachedAt === firstK && m0 + firstK > fm) continue;
      if (entryAge > MAX_AGE) continue;
      entered[s]! += 1;
      entering[s]![entryAge]! += 1;
      if (reachedAt >= 0) {
        const age = Math.min(MAX_AGE + 1, m0 + reachedAt - fm);
        events[s]![age]! += 1;
        leaving[s]![age]! += 1;
      } else leaving[s]![lastAge]! += 1;
    }
    // Stays: runs of months at one stage; a run that ends in a move up, begun inside the history, is a completed stay.
    let k = firstK;
    while (k < K) {
      const s = stageRow[k]!;
      let e = k;
      while (e + 1 < K && stageRow[e + 1] === s) e++;
      const begunInside = k > firstK || m0 + k === fm;
      if (e + 1 < K && stageRow[e + 1]! > s && begunInside) stayLengths[s]!.push(e - k + 1);
      if (e === K - 1) {
        curStage[i] = s;
        curRun[i] = e - k + 1;
      }
      k = e + 1;
    }
    // Fell back: now below the highest stage held in the history.
    let peak = 0;
    for (let j = firstK; j < K; j++) if (stageRow[j]! > peak) peak = stageRow[j]!;
    const now = stageRow[K - 1]!;
    fellBack[peak]![now]! += 1;
    // Moves up one stage within the horizon, from the month `h` before the last.
    const at = stageRow[from]!;
    if (at !== ABSENT && at < S - 1) {
      const band = tenureBand(m0 + from - fm);
      const seg = segment[i]!;
      const key = (at * 8 + band) * 100_000 + (seg + 1);
      let cell = cells.get(key);
      if (!cell) {
        cell = { stage: at, band, segment: seg, atRisk: 0, moved: 0 };
        cells.set(key, cell);
      }
      cell.atRisk++;
      for (let j = from + 1; j < K; j++) {
        if (stageRow[j]! > at && stageRow[j] !== ABSENT) {
          cell.moved++;
          break;
        }
      }
    }
  }

  const timeTo = STAGE_KEYS.slice(1).map((_, x) => {
    const s = x + 1;
    const curve: CurvePoint[] = [];
    let atRisk = 0;
    let survive = 1;
    let median: number | null = null;
    for (let age = 0; age <= MAX_AGE; age++) {
      atRisk += entering[s]![age]!;
      const ev = events[s]![age]!;
      if (atRisk > 0) survive *= 1 - ev / atRisk;
      const p = 1 - survive;
      curve.push({ age, atRisk, reached: ev, p });
      if (median === null && p >= 0.5) median = age;
      atRisk -= leaving[s]![age]!;
    }
    return { stage: s, customers: entered[s]!, medianMonths: median, curve };
  });

  const stays = STAGE_KEYS.slice(0, S - 1).map((_, s) => {
    const lengths = stayLengths[s]!.sort((a, b) => a - b);
    const q = (p: number): number | null => (lengths.length >= MIN_STAYS ? lengths[Math.min(lengths.length - 1, Math.ceil(p * lengths.length) - 1)]! : null);
    const usual = q(USUAL_QUANTILE);
    let stuck = 0;
    if (usual !== null) for (let i = 0; i < n; i++) if (curStage[i] === s && curRun[i]! > usual) stuck++;
    return { stage: s, completed: lengths.length, usualMonths: usual, medianMonths: q(0.5), stuck };
  });

  const pairs: number[][][][] = [];
  for (let a = 0; a < K; a++) {
    const row: number[][][] = [];
    for (let b = a + 1; b < K; b++) {
      const m: number[][] = [];
      for (let f = 0; f <= S; f++) m.push(Array.from(pairFlat.subarray(((a * K + b) * (S + 1) + f) * S, ((a * K + b) * (S + 1) + f + 1) * S)));
      row.push(m);
    }
    pairs.push(row);
  }
  cohorts.sort((x, y) => x.month - y.month);
  return { months: [...months], counts, pairs, cohorts, timeTo, stays, fellBack, moves: { from: months[from]!, horizonMonths: h, cells: [...cells.values()] } };
}
