/**
 * k-means (Lloyd) with k-means++ seeding (Arthur & Vassilvitskii 2007) for the spectral
 * embedding, where n × k × d is large (10,000 × 77 × 77): distances come from dot products
 * (‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², the ‖x‖² term dropped from the comparison), and a run stops
 * once fewer than `tolerance` × n points change cluster (0.1% by default; the remaining moves
 * barely change the clustering), and Hamerly's bounds skip most distance computations. The segments module's `kmeans` does exact convergence and
 * stays the reference for small problems. Deterministic for a given seed.
 */
import { seededRandom } from '../random.js';

export function fastKMeans(x: Float64Array, d: number, k: number, options: { seed: number; restarts?: number; maxIterations?: number; tolerance?: number }): { labels: Int32Array; inertia: number } {
  const n = x.length / d;
  if (n < k || k < 1) throw new RangeError(`k-means: need at least k = ${k} points, got ${n}`);
  const rand = seededRandom(options.seed);
  const maxIt = options.maxIterations ?? 50;
  const stop = Math.floor((options.tolerance ?? 0.001) * n);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t]! ** 2;
    norms[i] = s;
  }
  const sq = (i: number, c: Float64Array, m: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = x[i * d + t]! - c[m * d + t]!;
      s += v * v;
    }
    return s;
  };
  let best: { labels: Int32Array; inertia: number } | undefined;
  for (let r = 0; r < (options.restarts ?? 4); r++) {
    const c = new Float64Array(k * d);
    const first = Math.floor(rand() * n);
    c.set(x.subarray(first * d, first * d + d), 0);
    const near = new Float64Array(n);
    for (let i = 0; i < n; i++) near[i] = sq(i, c, 0);
    for (let m = 1; m < k; m++) {
      let total = 0;
      for (let i = 0; i < n; i++) total += near[i]!;
      let pick = Math.floor(rand() * n);
      if (total > 0) {
        let u = rand() * total;
        for (pick = 0; pick < n - 1; pick++) {
          u -= near[pick]!;
          if (u <= 0) break;
        }
      }
      c.set(x.subarray(pick * d, pick * d + d), m * d);
      for (let i = 0; i < n; i++) {
        const v = sq(i, c, m);
        if (v < near[i]!) near[i] = v;
      }
    }
    const labels = new Int32Array(n).fill(-1);
    // Hamerly's bounds (Hamerly 2010, "Making k-means even faster", SDM, Algorithm 2): an
    // upper bound on the distance to the own centroid and a lower bound on the distance to
    // any other; a point whose bounds already separate keeps its cluster without a scan.
    const upper = new Float64Array(n);
    const lower = new Float64Array(n);
    const cn = new Float64Array(k);
    const half = new Float64Array(k);
    const moved = new Float64Array(k);
    const old = new Float64Array(k * d);
    const sums = new Float64Array(k * d);
    const counts = new Int32Array(k);
    const scan = (i: number): void => {
      let b1 = 0;
      let v1 = Number.POSITIVE_INFINITY;
      let v2 = Number.POSITIVE_INFINITY;
      const o = i * d;
      for (let m = 0; m < k; m++) {
        const om = m * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += x[o + t]! * c[om + t]!;
        const v = cn[m]! - 2 * s;
        if (v < v1) {
          v2 = v1;
          v1 = v;
          b1 = m;
        } else if (v < v2) v2 = v;
      }
      upper[i] = Math.sqrt(Math.max(0, v1 + norms[i]!));
      lower[i] = Math.sqrt(Math.max(0, v2 + norms[i]!));
      labels[i] = b1;
    };
    for (let it = 0; it < maxIt; it++) {
      for (let m = 0; m < k; m++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += c[m * d + t]! ** 2;
        cn[m] = s;
      }
      for (let m = 0; m < k; m++) {
        let nearest = Number.POSITIVE_INFINITY;
        for (let o = 0; o < k; o++) {
          if (o === m) continue;
          let s = 0;
          for (let t = 0; t < d; t++) s += (c[m * d + t]! - c[o * d + t]!) ** 2;
          if (s < nearest) nearest = s;
        }
        half[m] = Math.sqrt(nearest) / 2;
      }
      let changed = 0;
      for (let i = 0; i < n; i++) {
        const a = labels[i]!;
        if (a >= 0) {
          const bound = Math.max(half[a]!, lower[i]!);
          if (upper[i]! <= bound) continue;
          upper[i] = Math.sqrt(sq(i, c, a));
          if (upper[i]! <= bound) continue;
        }
        scan(i);
        if (labels[i] !== a) changed++;
      }
      if (changed <= stop && it > 0) break;
      sums.fill(0);
      counts.fill(0);
      for (let i = 0; i < n; i++) {
        const m = labels[i]!;
        counts[m]!++;
        for (let t = 0; t < d; t++) sums[m * d + t]! += x[i * d + t]!;
      }
      old.set(c);
      for (let m = 0; m < k; m++) if (counts[m]! > 0) for (let t = 0; t < d; t++) c[m * d + t] = sums[m * d + t]! / counts[m]!;
      for (let m = 0; m < k; m++) {
        if (counts[m]! > 0) continue;
        // An emptied cluster restarts from the point farthest from its centroid.
        let far = 0;
        let farV = -1;
        for (let i = 0; i < n; i++) {
          const v = sq(i, c, labels[i]!);
          if (v > farV) [farV, far] = [v, i];
        }
        c.set(x.subarray(far * d, far * d + d), m * d);
      }
      let maxMove = 0;
      for (let m = 0; m < k; m++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (c[m * d + t]! - old[m * d + t]!) ** 2;
        moved[m] = Math.sqrt(s);
        if (moved[m]! > maxMove) maxMove = moved[m]!;
      }
      for (let i = 0; i < n; i++) {
        upper[i]! += moved[labels[i]!]!;
        lower[i]! -= maxMove;
      }
    }
    let inertia = 0;
    for (let i = 0; i < n; i++) inertia += sq(i, c, labels[i]!);
    if (!best || inertia < best.inertia) best = { labels, inertia };
  }
  return best!;
}
