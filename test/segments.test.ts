import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseK, kmeans, silhouette } from '../src/models/segments/kmeans.js';
import { seededRandom } from '../src/models/random.js';
import { microSegments } from '../src/models/segments/micro.js';

/** n points around each of the centres, with a seeded normal spread. */
function blobs(centres: number[][], n: number, spread: number, seed: number): { x: Float64Array; truth: Int32Array; d: number } {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const d = centres[0]!.length;
  const x = new Float64Array(centres.length * n * d);
  const truth = new Int32Array(centres.length * n);
  let i = 0;
  for (let c = 0; c < centres.length; c++) {
    for (let k = 0; k < n; k++, i++) {
      truth[i] = c;
      for (let t = 0; t < d; t++) x[i * d + t] = centres[c]![t]! + spread * normal();
    }
  }
  return { x, truth, d };
}

/** Share of pairs of points on which two labelings agree (same cluster or not): the Rand index. */
function randIndex(a: Int32Array, b: Int32Array): number {
  let agree = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i += 3) {
    for (let j = i + 1; j < a.length; j += 7) {
      pairs++;
      if ((a[i] === a[j]) === (b[i] === b[j])) agree++;
    }
  }
  return agree / pairs;
}

describe('k-means and the choice of k', () => {
  const centres = [
    [0, 0, 0],
    [6, 0, 0],
    [0, 6, 0],
    [0, 0, 6],
  ];

  it('recovers well-separated clusters, and the silhouette picks their number', () => {
    const { x, truth, d } = blobs(centres, 150, 1, 3);
    const fit = chooseK(x, d, { minK: 2, maxK: 7, seed: 1 });
    assert.equal(fit.k, 4, JSON.stringify(fit.scores));
    assert.ok(randIndex(fit.labels, truth) > 0.99);
    const s4 = fit.scores.find((s) => s.k === 4)!.silhouette;
    assert.ok(fit.scores.every((s) => s.silhouette <= s4));
    assert.ok(s4 > 0.5);
  });

  it('gives the same clusters for the same seed, and never an empty cluster', () => {
    const { x, d } = blobs(centres, 100, 2.5, 8);
    const a = kmeans(x, d, 5, { seed: 42 });
    const b = kmeans(x, d, 5, { seed: 42 });
    assert.deepEqual([...a.labels], [...b.labels]);
    assert.equal(a.inertia, b.inertia);
    const sizes = new Set(a.labels);
    assert.equal(sizes.size, 5);
  });

  it('scores a clustering that contradicts the data below one that follows it', () => {
    const { x, truth, d } = blobs(centres, 60, 1, 5);
    const shuffled = Int32Array.from(truth, (_, i) => i % 4);
    assert.ok(silhouette(x, d, truth, 4) > 0.5);
    assert.ok(silhouette(x, d, shuffled, 4) < 0.05);
    assert.throws(() => kmeans(new Float64Array(6), 3, 3, { seed: 1 }), /at least k = 3 points/);
  });
});

describe('micro-segments', () => {
  it('finds customers by what they buy and describes each segment in words', () => {
    const categories = ['Jazz', 'Books', 'Garden'];
    const rand = seededRandom(11);
    const n = 900;
    const spend = new Float64Array(n * 3);
    const cadence = new Float64Array(n);
    const value = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const fav = i % 3;
      for (let j = 0; j < 3; j++) spend[i * 3 + j] = j === fav ? 80 + 40 * rand() : 10 * rand();
      // Jazz lovers buy monthly and are worth more; the others mostly buy once.
      cadence[i] = fav === 0 ? 28 + 6 * rand() : rand() < 0.8 ? Number.NaN : 90 + 30 * rand();
      value[i] = fav === 0 ? 300 + 50 * rand() : 40 + 20 * rand();
    }
    const input = { n, categories, categorySpend: spend, cadenceDays: cadence, value, channels: [], channelCounts: new Float64Array(0) };
    const r = microSegments(input, { seed: 1 });
    assert.ok(r.k >= 3, `k = ${r.k}`);
    const jazz = r.cards.find((c) => c.label.startsWith('Mostly Jazz'))!;
    assert.ok(jazz, r.cards.map((c) => c.label).join(' / '));
    assert.match(jazz.label, /buys monthly/);
    assert.match(jazz.label, /high value/);
    assert.equal(jazz.customers, 300);
    assert.match(jazz.distinguishing.join(' '), /Jazz \d+% of spend \(everyone: 3\d%\)/);
    assert.ok(r.cards.some((c) => /^Mostly Books, mostly one-time buyers, low value/.test(c.label)));
    assert.equal(r.cards.reduce((s, c) => s + c.customers, 0), n);
    assert.deepEqual([...microSegments(input, { seed: 1 }).labels], [...r.labels], 'same data and seed, same segments');
  });
});
