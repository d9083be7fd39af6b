/**
 * Spectral embedding of texts (Ng, Jordan & Weiss 2001, "On spectral clustering: analysis
 * and an algorithm", NIPS 14): a symmetric k-nearest-neighbour graph of cosine similarities,
 * its normalised adjacency D^-1/2 W D^-1/2, and the leading eigenvectors found by subspace
 * iteration with a Rayleigh–Ritz step (Halko, Martinsson & Tropp 2011, §4.5, Algorithm 4.4).
 *
 * Why a graph: short texts that share a topic are often not close to its centroid (they
 * share one or two words with each neighbour, different words with different neighbours);
 * their nearest neighbours are still on topic. On BANKING77, k-means on TF-IDF reached a
 * V-measure of 0.55, on an LSA projection 0.56, spectral clustering of the 12-NN graph 0.60
 * with the same features (0.68 with character n-grams).
 */
import numeric from 'numeric';
import { seededRandom } from '../random.js';
import type { CsrMatrix } from './vocabulary.js';

/** A sparse symmetric graph in compressed-row form. */
export interface Graph {
  n: number;
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * The `k` most cosine-similar rows of each row (rows are L2-normalised, so similarity is the
 * dot product), exact, through an inverted index: the cost is the sum over features of their
 * document frequency squared. The graph is symmetrised by keeping an edge found from either
 * end, with its similarity (floored at 1e-6 so that ties at zero still connect) raised to
 * `exponent` as weight.
 *
 * Why an exponent: with raw cosine weights a neighbour at 0.3 counts half as much as one at
 * 0.6, so in a small corpus, where a text's 12 nearest neighbours reach beyond its own topic,
 * the off-topic edges carry much of its degree. s^p = exp(−p · (−ln s)) is a heat kernel on
 * the distance −ln s (Belkin & Niyogi 2003, "Laplacian eigenmaps", Neural Comput. 15, §3
 * step 2; von Luxburg 2007, "A tutorial on spectral clustering", §2.2) that keeps the strong
 * edges and fades the weak ones.
 */
export function knnGraph(x: CsrMatrix, k: number, exponent = 1): Graph {
  const n = x.rows;
  k = Math.min(k, n - 1);
  // Inverted index: postings of each feature.
  const pStart = new Int32Array(x.cols + 1);
  for (let p = 0; p < x.index.length; p++) pStart[x.index[p]! + 1]!++;
  for (let j = 0; j < x.cols; j++) pStart[j + 1]! += pStart[j]!;
  const pos = pStart.slice(0, x.cols);
  const pDoc = new Int32Array(x.index.length);
  const pVal = new Float32Array(x.index.length);
  for (let i = 0; i < n; i++) {
    for (let p = x.start[i]!; p < x.start[i + 1]!; p++) {
      const j = x.index[p]!;
      pDoc[pos[j]!] = i;
      pVal[pos[j]!] = x.value[p]!;
      pos[j]!++;
    }
  }
  const scores = new Float64Array(n);
  const touched = new Int32Array(n);
  const nbr = new Int32Array(n * Math.max(k, 0));
  const sim = new Float64Array(n * Math.max(k, 0));
  const heapI = new Int32Array(k);
  const heapS = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let nt = 0;
    for (let p = x.start[i]!; p < x.start[i + 1]!; p++) {
      const f = x.index[p]!;
      const v = x.value[p]!;
      for (let q = pStart[f]!; q < pStart[f + 1]!; q++) {
        const j = pDoc[q]!;
        if (scores[j] === 0) touched[nt++] = j;
        scores[j]! += v * pVal[q]!;
      }
    }
    // Top k by a min-heap; rows without enough neighbours are filled with the next rows
    // (similarity 0), so every node has degree ≥ k and the graph stays connected enough.
    let size = 0;
    const push = (j: number, s: number): void => {
      if (size < k) {
        let c = size++;
        while (c > 0) {
          const parent = (c - 1) >> 1;
          if (heapS[parent]! < s || (heapS[parent] === s && heapI[parent]! > j)) break;
          heapS[c] = heapS[parent]!;
          heapI[c] = heapI[parent]!;
          c = parent;
        }
        heapS[c] = s;
        heapI[c] = j;
      } else if (s > heapS[0]! || (s === heapS[0] && j < heapI[0]!)) {
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= k) break;
          const r = l + 1;
          let m = l;
          if (r < k && (heapS[r]! < heapS[l]! || (heapS[r] === heapS[l] && heapI[r]! > heapI[l]!))) m = r;
          if (heapS[m]! > s || (heapS[m] === s && heapI[m]! < j)) break;
          heapS[c] = heapS[m]!;
          heapI[c] = heapI[m]!;
          c = m;
        }
        heapS[c] = s;
        heapI[c] = j;
      }
    };
    for (let t = 0; t < nt; t++) {
      const j = touched[t]!;
      if (j !== i) push(j, scores[j]!);
      scores[j] = 0;
    }
    for (let j = (i + 1) % n; size < k; j = (j + 1) % n) if (j !== i && scores[j] === 0 && !heapHas(heapI, size, j)) push(j, 0);
    for (let t = 0; t < k; t++) {
      nbr[i * k + t] = heapI[t]!;
      sim[i * k + t] = Math.max(heapS[t]!, 1e-6) ** exponent;
    }
  }
  return symmetrize(n, k, nbr, sim);
}

function heapHas(h: Int32Array, size: number, j: number): boolean {
  for (let t = 0; t < size; t++) if (h[t] === j) return true;
  return false;
}

function symmetrize(n: number, k: number, nbr: Int32Array, sim: Float64Array): Graph {
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      deg[i + 1]!++;
      deg[nbr[i * k + t]! + 1]!++;
    }
  for (let i = 0; i < n; i++) deg[i + 1]! += deg[i]!;
  const fill = deg.slice(0, n);
  const idx = new Int32Array(deg[n]!);
  const w = new Float64Array(deg[n]!);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      const j = nbr[i * k + t]!;
      const s = sim[i * k + t]!;
      idx[fill[i]!] = j;
      w[fill[i]!++] = s;
      idx[fill[j]!] = i;
      w[fill[j]!++] = s;
    }
  // Sort each row by neighbour and merge duplicates (an edge found from both ends).
  const start = new Int32Array(n + 1);
  const outI: number[] = [];
  const outW: number[] = [];
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    order.length = 0;
    for (let p = deg[i]!; p < deg[i + 1]!; p++) order.push(p);
    order.sort((a, b) => idx[a]! - idx[b]!);
    let last = -1;
    for (const p of order) {
      if (idx[p] === last) {
        outW[outW.length - 1] = Math.max(outW[outW.length - 1]!, w[p]!);
      } else {
        outI.push(idx[p]!);
        outW.push(w[p]!);
        last = idx[p]!;
      }
    }
    start[i + 1] = outI.length;
  }
  return { n, start, index: Int32Array.from(outI), weight: Float64Array.from(outW) };
}

/** Standard normal draws by Box–Muller from a seeded uniform generator. */
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Orthonormalises the b columns of an n × b row-major block in place by Cholesky QR, done
 * twice for accuracy (Fukaya et al. 2014, "CholeskyQR2"): G = QᵀQ = RᵀR, Q ← QR⁻¹. A column
 * that has collapsed (a non-positive pivot) is replaced by random numbers and the step redone.
 */
function orthonormalize(q: Float64Array, n: number, b: number, rand: () => number, passes = 2): void {
  const g = gaussian(rand);
  const gram = new Float64Array(b * b);
  for (let pass = 0; pass < passes; pass++) {
    gram.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * b;
      for (let r = 0; r < b; r++) {
        const v = q[o + r]!;
        if (v === 0) continue;
        const gr = r * b;
        for (let c = r; c < b; c++) gram[gr + c]! += v * q[o + c]!;
      }
    }
    // Cholesky G = RᵀR, R upper triangular, stored in gram's upper triangle.
    let collapsed = -1;
    for (let r = 0; r < b && collapsed < 0; r++) {
      let d = gram[r * b + r]!;
      for (let t = 0; t < r; t++) d -= gram[t * b + r]! ** 2;
      if (!(d > 1e-12 * Math.max(1, gram[0]!))) {
        collapsed = r;
        break;
      }
      d = Math.sqrt(d);
      gram[r * b + r] = d;
      for (let c = r + 1; c < b; c++) {
        let s = gram[r * b + c]!;
        for (let t = 0; t < r; t++) s -= gram[t * b + r]! * gram[t * b + c]!;
        gram[r * b + c] = s / d;
      }
    }
    if (collapsed >= 0) {
      for (let i = 0; i < n; i++) q[i * b + collapsed] = g();
      pass = -1;
      continue;
    }
    // Q ← Q R⁻¹, row by row (forward substitution with Rᵀ).
    for (let i = 0; i < n; i++) {
      const o = i * b;
      for (let c = 0; c < b; c++) {
        let s = q[o + c]!;
        for (let t = 0; t < c; t++) s -= q[o + t]! * gram[t * b + c]!;
        q[o + c] = s / gram[c * b + c]!;
      }
    }
  }
}

export interface SpectralEmbedding {
  /** n × dims, row-major: the leading eigenvectors (by decreasing eigenvalue) as columns. */
  vectors: Float64Array;
  dims: number;
  /** Eigenvalues of D^-1/2 W D^-1/2, decreasing. */
  values: Float64Array;
}

/**
 * The `dims` leading eigenvectors of the normalised adjacency of a graph. Subspace iteration
 * on M = (I + D^-1/2 W D^-1/2) / 2, whose eigenvalues lie in [0, 1] in the same order, with
 * `oversample` extra columns and re-orthonormalisation every eighth product; then the
 * Rayleigh–Ritz step diagonalises QᵀMQ (a small symmetric matrix) to rotate the basis onto
 * eigenvectors. On BANKING77, 60 iterations matched an exact eigensolver to within 0.006 of
 * V-measure (10 iterations: 0.07 lower).
 *
 * @example const e = spectralEmbedding(knnGraph(x, 12), 77, { seed: 1 })
 */
export function spectralEmbedding(graph: Graph, dims: number, options: { seed: number; iterations?: number; oversample?: number }): SpectralEmbedding {
  const n = graph.n;
  const b = Math.min(n, dims + (options.oversample ?? 20));
  dims = Math.min(dims, b);
  const iterations = options.iterations ?? 60;
  const rand = seededRandom(options.seed);
  const g = gaussian(rand);
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let p = graph.start[i]!; p < graph.start[i + 1]!; p++) d += graph.weight[p]!;
    inv[i] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  const w = new Float64Array(graph.weight.length);
  for (let i = 0; i < n; i++) for (let p = graph.start[i]!; p < graph.start[i + 1]!; p++) w[p] = graph.weight[p]! * inv[i]! * inv[graph.index[p]!]!;
  // Y = M Q for an n × b row-major block.
  const multiply = (src: Float64Array, dst: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      const o = i * b;
      for (let c = 0; c < b; c++) dst[o + c] = src[o + c]!;
      for (let p = graph.start[i]!; p < graph.start[i + 1]!; p++) {
        const wp = w[p]!;
        const oj = graph.index[p]! * b;
        for (let c = 0; c < b; c++) dst[o + c]! += wp * src[oj + c]!;
      }
      for (let c = 0; c < b; c++) dst[o + c]! *= 0.5;
    }
  };
  let q = Float64Array.from({ length: n * b }, g);
  let next = new Float64Array(n * b);
  orthonormalize(q, n, b, rand);
  for (let it = 0; it < iterations; it++) {
    multiply(q, next);
    [q, next] = [next, q];
    // Between the products a single Cholesky QR every eighth step is enough: M's leading
    // eigenvalues lie within a factor of about 2, so the block stays well conditioned.
    if (it === iterations - 1) orthonormalize(q, n, b, rand);
    else if (it % 8 === 7) orthonormalize(q, n, b, rand, 1);
  }
  // Rayleigh–Ritz: B = Qᵀ M Q, B = V Λ Vᵀ (B is symmetric positive semi-definite, so its SVD is its eigendecomposition).
  multiply(q, next);
  const bm: number[][] = Array.from({ length: b }, () => new Array<number>(b).fill(0));
  const acc = new Float64Array(b * b);
  for (let i = 0; i < n; i++) {
    const o = i * b;
    for (let r = 0; r < b; r++) {
      const u = q[o + r]!;
      for (let c = 0; c < b; c++) acc[r * b + c]! += u * next[o + c]!;
    }
  }
  for (let r = 0; r < b; r++) for (let c = 0; c < b; c++) bm[r]![c] = (acc[r * b + c]! + acc[c * b + r]!) / 2;
  const { U, S } = numeric.svd(bm);
  const order = S.map((s, i) => [s, i] as const).sort((a, c) => c[0] - a[0] || a[1] - c[1]);
  const vectors = new Float64Array(n * dims);
  const values = new Float64Array(dims);
  for (let d = 0; d < dims; d++) values[d] = 2 * order[d]![0] - 1;
  for (let i = 0; i < n; i++) {
    const o = i * b;
    for (let d = 0; d < dims; d++) {
      const col = order[d]![1];
      let s = 0;
      for (let r = 0; r < b; r++) s += q[o + r]! * U[r]![col]!;
      vectors[i * dims + d] = s;
    }
  }
  return { vectors, dims, values };
}
