/**
 * k-means clustering with k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd's
 * iterations, and the choice of k by the mean silhouette (Rousseeuw 1987). Deterministic:
 * the same data and seed give the same clusters. Points are rows of a row-major
 * Float64Array (n × d).
 */
import { seededRandom } from '../random.js';

export interface KMeansResult {
  k: number;
  /** k × d, row-major. */
  centroids: Float64Array;
  /** Cluster of each point. */
  labels: Int32Array;
  /** Sum of squared distances to the assigned centroids. */
  inertia: number;
  iterations: number;
}

function sqDist(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  const oi = i * d;
  const oj = j * d;
  for (let t = 0; t < d; t++) {
    const x = a[oi + t]! - b[oj + t]!;
    s += x * x;
  }
  return s;
}

/** k-means++: each next centre drawn with probability proportional to its squared distance to the nearest centre so far. */
function seedCentroids(x: Float64Array, n: number, d: number, k: number, rand: () => number): Float64Array {
  const c = new Float64Array(k * d);
  const first = Math.floor(rand() * n);
  c.set(x.subarray(first * d, first * d + d), 0);
  const near = new Float64Array(n);
  for (let i = 0; i < n; i++) near[i] = sqDist(x, i, c, 0, d);
  for (let m = 1; m < k; m++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += near[i]!;
    let pick: number;
    if (total > 0) {
      let u = rand() * total;
      for (pick = 0; pick < n - 1; pick++) {
        u -= near[pick]!;
        if (u <= 0) break;
      }
    } else {
      pick = Math.floor(rand() * n);
    }
    c.set(x.subarray(pick * d, pick * d + d), m * d);
    for (let i = 0; i < n; i++) {
      const dd = sqDist(x, i, c, m, d);
      if (dd < near[i]!) near[i] = dd;
    }
  }
  return c;
}

/** Assigns every point to its nearest centroid; returns the inertia. */
export function assign(x: Float64Array, d: number, centroids: Float64Array, labels: Int32Array): number {
  const n = labels.length;
  const k = centroids.length / d;
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let m = 0; m < k; m++) {
      const dd = sqDist(x, i, centroids, m, d);
      if (dd < bestD) {
        bestD = dd;
        best = m;
      }
    }
    labels[i] = best;
    inertia += bestD;
  }
  return inertia;
}

/**
 * Lloyd's algorithm from `restarts` k-means++ seedings; the run with the lowest inertia wins.
 * An emptied cluster is re-seeded with the point farthest from its centroid.
 */
export function kmeans(x: Float64Array, d: number, k: number, options: { seed: number; restarts?: number; maxIterations?: number }): KMeansResult {
  const n = x.length / d;
  if (!Number.isInteger(n) || n < k || k < 1) throw new RangeError(`kmeans: need at least k = ${k} points of dimension ${d}, got ${n}`);
  const rand = seededRandom(options.seed);
  const restarts = options.restarts ?? 4;
  const maxIterations = options.maxIterations ?? 100;
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const c = seedCentroids(x, n, d, k, rand);
    const labels = new Int32Array(n).fill(-1);
    const next = new Int32Array(n);
    let inertia = 0;
    let it = 0;
    for (; it < maxIterations; it++) {
      inertia = assign(x, d, c, next);
      let changed = 0;
      for (let i = 0; i < n; i++) if (next[i] !== labels[i]) changed++;
      labels.set(next);
      if (changed === 0) break;
      const sums = new Float64Array(k * d);
      const counts = new Int32Array(k);
      for (let i = 0; i < n; i++) {
        const m = labels[i]!;
        counts[m]!++;
        for (let t = 0; t < d; t++) sums[m * d + t]! += x[i * d + t]!;
      }
      for (let m = 0; m < k; m++) {
        if (counts[m] === 0) {
          let far = 0;
          let farD = -1;
          for (let i = 0; i < n; i++) {
            const dd = sqDist(x, i, c, labels[i]!, d);
            if (dd > farD) {
              farD = dd;
              far = i;
            }
          }
          c.set(x.subarray(far * d, far * d + d), m * d);
        } else {
          for (let t = 0; t < d; t++) c[m * d + t] = sums[m * d + t]! / counts[m]!;
        }
      }
    }
    if (!best || inertia < best.inertia) best = { k, centroids: c, labels, inertia, iterations: it + 1 };
  }
  return best!;
}

/**
 * Mean silhouette of a clustering: for each point, (b − a) / max(a, b) with a its mean
 * distance to its own cluster and b the smallest mean distance to another cluster. O(n²):
 * callers pass a sample.
 */
export function silhouette(x: Float64Array, d: number, labels: Int32Array, k: number): number {
  const n = labels.length;
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;
  const sum = new Float64Array(k);
  let total = 0;
  let counted = 0;
  for (let i = 0; i < n; i++) {
    sum.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sum[labels[j]!]! += Math.sqrt(sqDist(x, i, x, j, d));
    const own = labels[i]!;
    if (sizes[own]! <= 1) continue;
    const a = sum[own]! / (sizes[own]! - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let m = 0; m < k; m++) if (m !== own && sizes[m]! > 0) b = Math.min(b, sum[m]! / sizes[m]!);
    if (!Number.isFinite(b)) continue;
    total += (b - a) / Math.max(a, b, 1e-12);
    counted++;
  }
  return counted > 0 ? total / counted : 0;
}

export interface ChooseKResult extends KMeansResult {
  /** Mean silhouette of each k tried, on the silhouette sample. */
  scores: { k: number; silhouette: number }[];
}

/**
 * Clusters with the k in [minK, maxK] whose clustering has the highest mean silhouette on a
 * systematic sample of at most `sampleSize` points (ties: the smaller k).
 */
export function chooseK(x: Float64Array, d: number, options: { minK: number; maxK: number; seed: number; sampleSize?: number; restarts?: number }): ChooseKResult {
  const n = x.length / d;
  const maxK = Math.min(options.maxK, n - 1);
  if (maxK < options.minK) throw new RangeError(`chooseK: ${n} points are too few for ${options.minK} clusters`);
  const m = Math.min(n, options.sampleSize ?? 2000);
  const step = n / m;
  const sample = new Float64Array(m * d);
  const sampleIndex = new Int32Array(m);
  for (let s = 0; s < m; s++) {
    const i = Math.floor(s * step);
    sampleIndex[s] = i;
    sample.set(x.subarray(i * d, i * d + d), s * d);
  }
  const scores: { k: number; silhouette: number }[] = [];
  let best: KMeansResult | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let k = options.minK; k <= maxK; k++) {
    const fit = kmeans(x, d, k, { seed: options.seed + k, ...(options.restarts !== undefined ? { restarts: options.restarts } : {}) });
    const labels = Int32Array.from(sampleIndex, (i) => fit.labels[i]!);
    const score = silhouette(sample, d, labels, k);
    scores.push({ k, silhouette: score });
    if (score > bestScore + 1e-9) {
      bestScore = score;
      best = fit;
    }
  }
  return { ...best!, scores };
}
