import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocateSeats, balancedSample, drawWithout, streamSeed } from '../src/models/panels/sampling.js';
import { expectedInWindow, groupFigures, type LaunchHistory } from '../src/models/panels/launch.js';
import { conditionalExpectedPurchases } from '../src/models/clv/bgnbd.js';
import { seededRandom } from '../src/models/random.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const pools = (sizes: Record<string, number>) => {
  let next = 1;
  return Object.entries(sizes).map(([key, n]) => {
    const ids = range(next, n);
    next += n;
    return { key, ids };
  });
};

describe('balanced panel seats', () => {
  it('shares the seats equally among the segments present, leftover seats to the largest', () => {
    const a = allocateSeats([{ key: 'a', eligible: 50 }, { key: 'b', eligible: 80 }, { key: 'c', eligible: 60 }, { key: 'd', eligible: 0 }], 20);
    assert.deepEqual(a.segments.map((s) => [s.key, s.asked, s.selected]), [['a', 6, 6], ['b', 7, 7], ['c', 7, 7], ['d', 0, 0]]);
    assert.equal(a.selected, 20);
    assert.deepEqual(a.shortfalls, []);
    // Ties in size: the earlier segment gets the leftover seat.
    const tie = allocateSeats([{ key: 'x', eligible: 10 }, { key: 'y', eligible: 10 }], 3);
    assert.deepEqual(tie.segments.map((s) => s.selected), [2, 1]);
  });

  it('takes all of a segment with fewer eligible than its share and shares its missing seats among the others', () => {
    const a = allocateSeats([{ key: 'big', eligible: 100 }, { key: 'mid', eligible: 50 }, { key: 'tiny', eligible: 3 }], 20);
    assert.deepEqual(a.segments.map((s) => s.asked), [7, 7, 6]);
    assert.deepEqual(a.segments.map((s) => s.selected), [9, 8, 3]);
    assert.deepEqual(a.shortfalls, [{ key: 'tiny', eligible: 3, asked: 6 }]);
    // Two segments short at once: both give all they have, the third takes the rest.
    const b = allocateSeats([{ key: 'p', eligible: 1 }, { key: 'q', eligible: 5 }, { key: 'r', eligible: 100 }], 24);
    assert.deepEqual(b.segments.map((s) => s.selected), [1, 5, 18]);
    assert.equal(b.selected, 24);
  });

  it('takes everyone when fewer are eligible than the seats, and nothing from nothing', () => {
    const a = allocateSeats([{ key: 'a', eligible: 4 }, { key: 'b', eligible: 2 }], 10);
    assert.deepEqual(a.segments.map((s) => s.selected), [4, 2]);
    assert.equal(a.selected, 6);
    assert.deepEqual(allocateSeats([], 5), { segments: [], selected: 0, shortfalls: [] });
    assert.equal(allocateSeats([{ key: 'a', eligible: 9 }], 0).selected, 0);
    assert.throws(() => allocateSeats([{ key: 'a', eligible: 1 }], 2.5), /whole number/);
  });

  it('fills every seat it can for any sizes (never more than a segment holds, sums to the size)', () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 500; trial++) {
      const k = 1 + Math.floor(random() * 8);
      const sizes = Array.from({ length: k }, () => Math.floor(random() * 40));
      const size = Math.floor(random() * 120);
      const a = allocateSeats(sizes.map((e, i) => ({ key: String(i), eligible: e })), size);
      const total = sizes.reduce((x, y) => x + y, 0);
      assert.equal(a.selected, Math.min(size, total), JSON.stringify({ sizes, size }));
      a.segments.forEach((s) => assert.ok(s.selected <= s.eligible));
      // Balanced: a segment below another's count holds all it has.
      const present = a.segments.filter((s) => s.eligible > 0);
      for (const s of present) for (const t of present) if (s.selected + 1 < t.selected) assert.equal(s.selected, s.eligible, JSON.stringify({ sizes, size }));
    }
  });
});

describe('balanced panel draws', () => {
  it('is the same panel for the same seed and a different one for another', () => {
    const p = pools({ '0': 300, '1': 120, '2': 40, none: 10 });
    const one = balancedSample(p, 40, 7);
    const again = balancedSample(p, 40, 7);
    assert.deepEqual([...again.chosen], [...one.chosen]);
    const other = balancedSample(p, 40, 8);
    assert.notDeepEqual([...other.chosen], [...one.chosen]);
    assert.deepEqual(one.segments.map((s) => s.selected), [10, 10, 10, 10]);
    for (const [key, ids] of one.chosen) {
      const pool = new Set(p.find((x) => x.key === key)!.ids);
      assert.ok(ids.every((id) => pool.has(id)), `segment ${key} draws from its own customers`);
      assert.equal(new Set(ids).size, ids.length, 'nobody twice');
    }
  });

  it('draws a segment the same whatever the order of its ids and whatever happens in other segments', () => {
    const p = pools({ a: 50, b: 50 });
    const first = balancedSample(p, 10, 3).chosen.get('a');
    const shuffled = [{ key: 'a', ids: [...p[0]!.ids].reverse() }, { key: 'b', ids: p[1]!.ids.slice(0, 30) }];
    assert.deepEqual(balancedSample(shuffled, 10, 3).chosen.get('a'), first);
    assert.notEqual(streamSeed(3, 'a'), streamSeed(3, 'b'));
    assert.throws(() => balancedSample([{ key: 'a', ids: [1] }, { key: 'a', ids: [2] }], 1, 1), /given twice/);
  });

  it('gives every customer of a segment the same chance (partial Fisher–Yates)', () => {
    const ids = range(1, 20);
    const hits = new Array<number>(21).fill(0);
    const draws = 4000;
    for (let s = 0; s < draws; s++) for (const id of drawWithout(ids, 5, seededRandom(streamSeed(s, 'x')))) hits[id]! += 1;
    // Each is taken with probability 5/20: 1000 times expected, sd ≈ 27.
    for (const id of ids) assert.ok(Math.abs(hits[id]! - 1000) < 120, `id ${id} drawn ${hits[id]} times`);
  });
});

describe('the launch comparison’s expectation', () => {
  const params = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
  const history = (rows: [days: number, first: number, last: number, before: number, after: number][]): LaunchHistory => ({
    purchaseDays: Int32Array.from(rows.map((r) => r[0])),
    firstDay: Int32Array.from(rows.map((r) => r[1])),
    lastDay: Int32Array.from(rows.map((r) => r[2])),
    subjectBefore: Int32Array.from(rows.map((r) => r[3])),
    subjectAfter: Int32Array.from(rows.map((r) => r[4])),
  });

  it("is BG/NBD's conditional expectation with the history cut at the day before the launch", () => {
    const launchDay = 1000;
    const endDay = 1069; // ten weeks
    const h = history([
      [4, 700, 950, 2, 1],
      [1, 900, 900, 0, 0],
      [0, 0, 0, 0, 3],
    ]);
    const e = expectedInWindow({ model: 'bgnbd', params }, h, { launchDay, endDay, periodDays: 7 });
    const T = (launchDay - 1 - 700) / 7;
    assert.ok(Math.abs(e[0]! - conditionalExpectedPurchases(params, 10, 3, 250 / 7, T)) < 1e-9);
    assert.ok(Math.abs(e[1]! - conditionalExpectedPurchases(params, 10, 0, 0, 99 / 7)) < 1e-9);
    assert.ok(Number.isNaN(e[2]!), 'no history: no expectation');
    const g = groupFigures(h, e, [0, 1, 2], 0.1);
    // The group's own share: 2 of its 5 purchase days held the subject.
    assert.equal(g.shareFrom, 'group');
    assert.ok(Math.abs(g.share - 0.4) < 1e-12);
    assert.ok(Math.abs(g.expected - 0.4 * (e[0]! + e[1]!)) < 1e-12);
    assert.equal(g.actual, 1);
    assert.deepEqual(g.withoutHistory, { customers: 1, purchases: 3 });
    assert.equal(g.buyers, 2);
    // A group that never bought it takes the base share.
    const other = groupFigures(h, e, [1], 0.1);
    assert.equal(other.shareFrom, 'base');
    assert.ok(Math.abs(other.expected - 0.1 * e[1]!) < 1e-12);
    assert.equal(other.ratio, 0);
  });
});
