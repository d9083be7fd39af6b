/**
 * Lifetime Opportunity Value (pure): per customer, LOV = CLV + contributions + opportunity.
 *
 *  - CLV: the customer-value run's (0 for a customer it did not value: no purchase yet);
 *  - contributions: what the customer gave, each event of a group at its worth (rules `value`);
 *  - opportunity: the expected gain of moving up one stage = P(moving up within the horizon)
 *    × (mean CLV at the next stage − mean CLV at the current one), both among similar customers:
 *    the same stage, tenure band and micro-segment. P is read from the monthly history (how many
 *    of the customers at the stage at the horizon's start were above it within the horizon),
 *    shrunk toward the stage's rate when the cell is small; the CLV means come from the finest
 *    level (segment and band, band, stage) where both stages have enough customers (a customer
 *    without a segment has not bought yet, so their peers are the band's, whatever the segment). Zero at
 *    Co-creation. A bootstrap over customers gives a 90% interval. It is an observational
 *    estimate: customers who moved up may differ from those who did not in more than their stage.
 */
import { seededRandom } from '../random.js';
import type { MoveCell } from './history.js';

/** Customers a CLV mean needs at both stages before a finer level is used. */
export const MIN_CELL = 10;
/** The weight (in customers) of the stage's rate in a cell's P(moving up). */
export const PRIOR_WEIGHT = 20;
export const BOOTSTRAP = 200;
/** Resamples of a large cell draw this many values and rescale (an m-out-of-n bootstrap of the mean). */
const MAX_DRAWS = 400;
export const INTERVAL = 0.9;

export type Level = 'segment and tenure band' | 'tenure band' | 'stage';

export interface OpportunityCell {
  stage: number;
  band: number;
  segment: number;
  /** P(moving up within the horizon) and what it was read from. */
  p: number;
  atRisk: number;
  moved: number;
  /** The stage's own rate (all segments and bands), the prior of the cell's. */
  stageP: number;
  clvNow: number;
  clvNext: number;
  level: Level;
  /** Customers behind the two means. */
  nNow: number;
  nNext: number;
  opportunity: number;
  low: number;
  high: number;
}

export interface LovInput {
  stage: Uint8Array;
  band: Uint8Array;
  segment: Int32Array;
  /** CLV per customer, NaN when not valued (counted as 0). */
  clv: Float64Array;
  /** Moves up from the history; null without a history (no opportunity then). */
  moves: readonly MoveCell[] | null;
  stages: number;
  seed?: number;
}

const key = (s: number, b: number, g: number): string => `${s}/${b}/${g}`;

/** Opportunity per (stage, band, segment) present among the customers, with its interval. */
export function opportunityCells(input: LovInput): Map<string, OpportunityCell> {
  const { stage, band, segment, clv, stages } = input;
  const n = stage.length;
  const out = new Map<string, OpportunityCell>();
  if (!input.moves) return out;
  // CLV values at three levels.
  const values = new Map<string, number[]>();
  const push = (k: string, v: number): void => {
    const a = values.get(k);
    if (a) a.push(v);
    else values.set(k, [v]);
  };
  const present = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v = Number.isNaN(clv[i]!) ? 0 : clv[i]!;
    const s = stage[i]!;
    push(key(s, band[i]!, segment[i]!), v);
    push(key(s, band[i]!, -2), v);
    push(key(s, -2, -2), v);
    if (s < stages - 1) present.add(key(s, band[i]!, segment[i]!));
  }
  // Moves up per cell and per stage.
  const moveOf = new Map<string, { atRisk: number; moved: number }>();
  const stageMoves = Array.from({ length: stages }, () => ({ atRisk: 0, moved: 0 }));
  for (const c of input.moves) {
    moveOf.set(key(c.stage, c.band, c.segment), { atRisk: c.atRisk, moved: c.moved });
    stageMoves[c.stage]!.atRisk += c.atRisk;
    stageMoves[c.stage]!.moved += c.moved;
  }
  const rng = seededRandom(input.seed ?? 20_100_301);
  for (const k of present) {
    const [s, b, g] = k.split('/').map(Number) as [number, number, number];
    const sm = stageMoves[s]!;
    const stageP = sm.atRisk > 0 ? sm.moved / sm.atRisk : 0;
    const m = moveOf.get(k) ?? { atRisk: 0, moved: 0 };
    const shrink = (moved: number, atRisk: number): number => (moved + PRIOR_WEIGHT * stageP) / (atRisk + PRIOR_WEIGHT);
    const p = shrink(m.moved, m.atRisk);
    let level: Level = 'stage';
    let now = values.get(key(s, -2, -2)) ?? [];
    let next = values.get(key(s + 1, -2, -2)) ?? [];
    const fine = [values.get(key(s, b, g)), values.get(key(s + 1, b, g))];
    const mid = [values.get(key(s, b, -2)), values.get(key(s + 1, b, -2))];
    // A customer without a micro-segment has not bought yet: their peers at the next stage are
    // every customer of the band, not only the others who have not bought.
    if (g >= 0 && (fine[0]?.length ?? 0) >= MIN_CELL && (fine[1]?.length ?? 0) >= MIN_CELL) {
      level = 'segment and tenure band';
      [now, next] = fine as [number[], number[]];
    } else if ((mid[0]?.length ?? 0) >= MIN_CELL && (mid[1]?.length ?? 0) >= MIN_CELL) {
      level = 'tenure band';
      [now, next] = mid as [number[], number[]];
    }
    const clvNow = mean(now);
    const clvNext = mean(next);
    const opportunity = p * (clvNext - clvNow);
    // Bootstrap: customers resampled within the cell's moves and within both CLV groups.
    const draws = new Float64Array(BOOTSTRAP);
    const pRaw = m.atRisk > 0 ? m.moved / m.atRisk : stageP;
    for (let r = 0; r < BOOTSTRAP; r++) {
      const moved = binomial(rng, m.atRisk, pRaw);
      draws[r] = shrink(moved, m.atRisk) * (resampledMean(rng, next, clvNext) - resampledMean(rng, now, clvNow));
    }
    draws.sort();
    const lo = draws[Math.floor(((1 - INTERVAL) / 2) * (BOOTSTRAP - 1))]!;
    const hi = draws[Math.ceil((1 - (1 - INTERVAL) / 2) * (BOOTSTRAP - 1))]!;
    // When every resample falls on one side of the estimate, the interval is widened to include it.
    out.set(k, { stage: s, band: b, segment: g, p, atRisk: m.atRisk, moved: m.moved, stageP, clvNow, clvNext, level, nNow: now.length, nNext: next.length, opportunity, low: Math.min(lo, opportunity), high: Math.max(hi, opportunity) });
  }
  return out;
}

export function cellKey(stage: number, band: number, segment: number): string {
  return key(stage, band, segment);
}

function mean(a: readonly number[]): number {
  if (a.length === 0) return 0;
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/** The mean of a resample with replacement; a large group draws MAX_DRAWS values and rescales the deviation by √(m/n). */
function resampledMean(rng: () => number, a: readonly number[], full: number): number {
  const n = a.length;
  if (n === 0) return 0;
  const m = Math.min(n, MAX_DRAWS);
  let s = 0;
  for (let j = 0; j < m; j++) s += a[Math.floor(rng() * n)]!;
  const x = s / m;
  return m === n ? x : full + (x - full) * Math.sqrt(m / n);
}

/** A binomial draw: direct for small n, normal approximation (rounded, clamped) when n·p·(1−p) is large. */
function binomial(rng: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const v = n * p * (1 - p);
  if (n <= 200) {
    let k = 0;
    for (let j = 0; j < n; j++) if (rng() < p) k++;
    return k;
  }
  if (v < 25) {
    // Rare events among many: Poisson(n·p) (Knuth's product of uniforms).
    const limit = Math.exp(-n * p);
    let k = 0;
    let prod = rng();
    while (prod > limit && k < n) {
      k++;
      prod *= rng();
    }
    return k;
  }
  const u1 = Math.max(rng(), 1e-12);
  const u2 = rng();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.min(n, Math.max(0, Math.round(n * p + z * Math.sqrt(v))));
}
