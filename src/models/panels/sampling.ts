/**
 * Balanced sampling for co-creation panels: a panel's seats are shared equally among the
 * segments present among the eligible customers, so that a panel of 40 drawn from a base where
 * one segment holds 70% of the customers still hears every segment, and each segment's members
 * are drawn at random, repeatably for a given seed.
 *
 * The rule (stratified sampling with equal allocation; Cochran 1977, "Sampling Techniques",
 * §5.9 compares it with proportional allocation):
 * 1. **Asked.** Each of the K segments with an eligible customer is asked for ⌊size / K⌋ seats;
 *    the size mod K seats left over go one each to the largest segments (most eligible
 *    customers; ties in the order given).
 * 2. **Selected.** A segment with fewer eligible customers than the equal share of the seats
 *    still open gives all of them, and the seats it cannot fill are shared equally among the
 *    other segments (repeated until every remaining segment can fill its share: water-filling);
 *    seats left over then go one each to the largest remaining segments. A panel asked for more
 *    than there are eligible customers takes everyone.
 * 3. **Who.** Within a segment, the customers are taken in ascending id order and shuffled by a
 *    partial Fisher–Yates shuffle driven by mulberry32, seeded from the panel's seed and the
 *    segment's key: the same seed and the same eligible customers give the same panel, and one
 *    segment's draw does not depend on any other segment's.
 */
import { seededRandom } from '../random.js';

/** A segment's eligible customers, by a key that names the segment ("3", "none"). */
export interface SegmentPool {
  key: string;
  ids: ArrayLike<number>;
}

/** What a segment was asked for and what it gave. */
export interface SeatAllocation {
  key: string;
  eligible: number;
  /** Its equal share of the panel's size (step 1). */
  asked: number;
  /** The seats it fills (step 2). */
  selected: number;
}

export interface Allocation {
  segments: SeatAllocation[];
  /** Seats filled in all: the size, or every eligible customer when there are fewer. */
  selected: number;
  /** What was done where a segment could not fill its share, in words keyed by segment. */
  shortfalls: { key: string; eligible: number; asked: number }[];
}

/** Indexes of the `n` largest of `sizes` among `candidates` (ties: the earlier candidate first). */
function largest(candidates: readonly number[], sizes: readonly number[], n: number): Set<number> {
  const order = [...candidates].sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  return new Set(order.slice(0, n));
}

/**
 * How many seats each segment is asked for and fills (steps 1 and 2 of the module's rule).
 *
 * @example allocateSeats([{ key: 'a', eligible: 100 }, { key: 'b', eligible: 50 }, { key: 'c', eligible: 3 }], 20)
 * // asked 7, 7, 6 (the leftover seats to a and b, the largest); selected 9, 8, 3 (c's 3 missing seats shared)
 */
export function allocateSeats(pools: readonly { key: string; eligible: number }[], size: number): Allocation {
  if (!Number.isInteger(size) || size < 0) throw new Error(`allocateSeats: size must be a whole number ≥ 0, got ${size}`);
  const eligible = pools.map((p) => {
    if (!Number.isInteger(p.eligible) || p.eligible < 0) throw new Error(`allocateSeats: segment ${p.key} has ${p.eligible} eligible`);
    return p.eligible;
  });
  const present = pools.map((_, i) => i).filter((i) => eligible[i]! > 0);
  const asked = new Array<number>(pools.length).fill(0);
  if (present.length > 0) {
    const base = Math.floor(size / present.length);
    const extra = largest(present, eligible, size % present.length);
    for (const i of present) asked[i] = base + (extra.has(i) ? 1 : 0);
  }
  const selected = new Array<number>(pools.length).fill(0);
  const total = eligible.reduce((a, b) => a + b, 0);
  let remaining = Math.min(size, total);
  let open = [...present];
  while (open.length > 0 && remaining > 0) {
    const share = Math.floor(remaining / open.length);
    const short = open.filter((i) => eligible[i]! <= share);
    if (short.length > 0) {
      for (const i of short) {
        selected[i] = eligible[i]!;
        remaining -= eligible[i]!;
      }
      open = open.filter((i) => eligible[i]! > share);
      continue;
    }
    const extra = largest(open, eligible, remaining - share * open.length);
    for (const i of open) selected[i] = share + (extra.has(i) ? 1 : 0);
    remaining = 0;
  }
  const segments = pools.map((p, i) => ({ key: p.key, eligible: eligible[i]!, asked: asked[i]!, selected: selected[i]! }));
  return {
    segments,
    selected: selected.reduce((a, b) => a + b, 0),
    shortfalls: segments.filter((s) => s.eligible < s.asked).map((s) => ({ key: s.key, eligible: s.eligible, asked: s.asked })),
  };
}

/** FNV-1a over a string's UTF-16 code units: a segment key's part of its stream's seed. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The seed of one segment's stream: the panel's seed and the segment's key mixed (murmur3's finaliser). */
export function streamSeed(seed: number, key: string): number {
  let h = (Math.trunc(seed) ^ hashKey(key)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * `k` of `ids`, drawn without replacement: the ids sorted ascending, then the first k places of
 * a Fisher–Yates shuffle (Knuth, TAOCP vol. 2, Algorithm P) with the given generator. Returned
 * in ascending order.
 */
export function drawWithout(ids: ArrayLike<number>, k: number, random: () => number): number[] {
  const a = Float64Array.from(ids).sort();
  const n = a.length;
  const take = Math.min(k, n);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return Array.from(a.subarray(0, take)).sort((x, y) => x - y);
}

export interface BalancedSample extends Allocation {
  /** The customers drawn, per segment key, ascending. */
  chosen: Map<string, number[]>;
}

/**
 * A balanced, repeatable panel: the seats allocated by {@link allocateSeats}, each segment's
 * customers drawn by {@link drawWithout} from its own stream ({@link streamSeed}).
 *
 * @example balancedSample([{ key: '0', ids: [1, 2, 3] }, { key: '1', ids: [4, 5] }], 3, 7).chosen
 */
export function balancedSample(pools: readonly SegmentPool[], size: number, seed: number): BalancedSample {
  const seen = new Set<string>();
  for (const p of pools) {
    if (seen.has(p.key)) throw new Error(`balancedSample: segment ${p.key} given twice`);
    seen.add(p.key);
  }
  const allocation = allocateSeats(pools.map((p) => ({ key: p.key, eligible: p.ids.length })), size);
  const chosen = new Map<string, number[]>();
  pools.forEach((p, i) => {
    const k = allocation.segments[i]!.selected;
    chosen.set(p.key, k === 0 ? [] : drawWithout(p.ids, k, seededRandom(streamSeed(seed, p.key))));
  });
  return { ...allocation, chosen };
}
