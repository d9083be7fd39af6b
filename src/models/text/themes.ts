/**
 * Unsupervised theme discovery for customer feedback: TF-IDF over stemmed words, bigrams and
 * character n-grams (vocabulary.ts), a k-nearest-neighbour graph of the texts and its spectral
 * embedding (spectral.ts), k-means++ on the row-normalised embedding (Ng, Jordan & Weiss
 * 2001) weighted as a diffusion map, then per theme a centroid in TF-IDF space, key phrases by class-based TF-IDF and
 * typical quotes. The model is a plain JSON-able object: new feedback is assigned to the
 * stored themes by cosine similarity to their centroids, so re-running on stored feedback
 * keeps the themes people have named.
 *
 * Everything is deterministic: the same texts, options and seed give the same model.
 */
import { seededRandom } from '../random.js';
import { fastKMeans as kmeans } from './kmeans-fast.js';
import { knnGraph, spectralEmbedding, type Graph, type SpectralEmbedding } from './spectral.js';
import { GENERAL_LABEL, isGeneral, meaningful, nameGroups, surfaceForms } from './naming.js';
import { fitVocabulary, isWordFeature, selectRows, vectorize, type CsrMatrix, type Vocabulary } from './vocabulary.js';

export interface SparseVector {
  index: number[];
  value: number[];
}

export interface Theme {
  /** Stable id: kept by merges (the first theme listed), new ids for the parts of a split. */
  id: number;
  /** A readable name in the customers' words (naming.ts), for display until someone names the theme. */
  label: string;
  /** The words and pairs most specific to the theme, as customers spell them. */
  keyPhrases: string[];
  /** The general bucket: texts without a topic ("Five stars", "Great!"); new contentless texts join it, no other text does. */
  general?: boolean;
  size: number;
  /** Members nearest the centroid (distinct texts), most typical first. */
  quotes: string[];
  /** L2-normalised sum of the members' TF-IDF vectors. */
  centroid: SparseVector;
  /** An item less similar than this to its nearest theme is a new-theme candidate: the 5th percentile of the members' similarities. */
  threshold: number;
  /** Word features (vocabulary indexes) and the number of members containing each: what c-TF-IDF key phrases are computed from. */
  terms: { index: number[]; count: number[] };
}

export interface ThemeModel {
  version: 1;
  /** Feature strings (stemmed words, bigrams, `#`-prefixed character n-grams). */
  vocabulary: string[];
  idf: number[];
  /** Readable spelling of each word feature ('' for character n-grams). */
  display: string[];
  themes: Theme[];
  nextId: number;
}

export interface DiscoverOptions {
  /** Number of themes, or 'auto' to choose it by the silhouette (default 'auto'). */
  k?: number | 'auto';
  seed?: number;
  /** Neighbours per text in the similarity graph (default 12). */
  neighbours?: number;
  /** Above this many texts the graph is built on a seeded sample and the rest assigned to the nearest centroid (default 10,000). */
  maxGraphItems?: number;
  /** k-means restarts on the embedding; the lowest inertia wins (default 4). */
  restarts?: number;
  /** Range searched by k = 'auto' (default 2 … min(100, √(n/2))). */
  minK?: number;
  maxK?: number;
  quotes?: number;
  keyPhrases?: number;
  /** Put contentless texts and pure praise (naming.ts's isGeneral) into a general bucket theme of their own instead of clustering them (default true). */
  generalBucket?: boolean;
}

export interface ThemeDiscovery {
  model: ThemeModel;
  /** Theme index (into model.themes) of each text. */
  assignment: number[];
  /** Cosine similarity of each text to its theme's centroid. */
  similarity: number[];
  /** With k = 'auto': the silhouette of each k tried. */
  kScores?: { k: number; silhouette: number }[];
}

const vocabularyOf = (m: ThemeModel): Vocabulary => ({ terms: m.vocabulary, idf: Float64Array.from(m.idf), display: m.display });

/** Row-normalised rows of an n × d embedding (Ng, Jordan & Weiss 2001, step 4). */
function normalizeRows(v: Float64Array, d: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length / d; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += v[i * d + t]! ** 2;
    s = Math.sqrt(s) || 1;
    for (let t = 0; t < d; t++) out[i * d + t] = v[i * d + t]! / s;
  }
  return out;
}

/**
 * Refines a clustering on its similarity graph: every text takes the theme with the largest
 * summed edge weight among its graph neighbours (its own theme wins ties), all texts at once,
 * `rounds` times. This is label propagation (Zhu & Ghahramani 2002, CMU-CALD-02-107, §2)
 * seeded with the k-means labels and, unlike Raghavan, Albert & Kumara's community detection
 * (2007, Phys. Rev. E 76, 036106), kept to the k themes found: a theme can lose all its
 * members but no new one appears. k-means on the embedding draws straight borders between
 * themes; texts near a border follow the majority of their nearest neighbours instead. On
 * BANKING77 it raised the V-measure on each of the five folds (mean 0.683 → 0.688); gains
 * stop after about six rounds (3: 0.688, 6: 0.688, 12: 0.689).
 */
function graphVote(graph: Graph, labels: Int32Array, k: number, rounds: number): Int32Array {
  const score = new Float64Array(k);
  for (let r = 0; r < rounds; r++) {
    const next = new Int32Array(labels.length);
    let changed = 0;
    for (let i = 0; i < graph.n; i++) {
      score.fill(0);
      for (let p = graph.start[i]!; p < graph.start[i + 1]!; p++) score[labels[graph.index[p]!]!]! += graph.weight[p]!;
      let best = labels[i]!;
      for (let c = 0; c < k; c++) if (score[c]! > score[best]!) best = c;
      next[i] = best;
      if (best !== labels[i]) changed++;
    }
    labels = next;
    if (changed === 0) break;
  }
  return labels;
}

/**
 * The first `k` eigenvectors of a spectral embedding as a diffusion map (Coifman & Lafon 2006,
 * "Diffusion maps", Appl. Comput. Harmon. Anal. 21, §2): column d scaled by λ_d^t, rows then
 * normalised as before (the row scaling by the degree that separates the random walk's
 * eigenvectors from these cancels). The diffusion time t makes the k-th column weigh a tenth
 * of the first: λ_k^t = 0.1.
 *
 * Why: plain k-means gives the k-th eigenvector, barely smoother than the ones left out, as
 * much say as the first; weighted, the coarse and well-separated directions lead and the fine
 * ones only settle what those leave open. On BANKING77 a fixed t = 4 or 8 raised ten
 * fold-sized splits from 0.696 to 0.703 and 0.704, but a fixed t does not carry over between
 * corpus sizes (λ_77 is 0.75 on 2,000 texts, 0.92 on 10,000), hence the rule on λ_k: with the
 * k-th column at 0.2, 0.1, 0.05 of the first, fifteen fold-sized splits (three seeded
 * partitions into five) went from 0.696 (lowest 0.686) to 0.703, 0.703 (lowest 0.695), 0.703,
 * and the whole file from 0.685 to 0.701 (means over seeds 1–3).
 */
function diffusionColumns(emb: SpectralEmbedding, k: number): Float64Array {
  const d = emb.dims;
  const n = emb.vectors.length / d;
  const last = emb.values[k - 1]!;
  // A k-th eigenvalue of 1 (k separate components) or ≤ 0 leaves nothing to weigh by.
  const t = last > 0 && last < 1 ? Math.log(0.1) / Math.log(last) : 0;
  const scale = Float64Array.from({ length: k }, (_, c) => Math.min(1, Math.max(0, emb.values[c]!)) ** t);
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = emb.vectors[i * d + c]! * scale[c]!;
  return out;
}

/** All pairwise cosine similarities of the rows of x (m × m), through an inverted index. */
function cosineMatrix(x: CsrMatrix): Float64Array {
  const m = x.rows;
  const out = new Float64Array(m * m);
  const postings = new Map<number, [number, number][]>();
  for (let i = 0; i < m; i++)
    for (let p = x.start[i]!; p < x.start[i + 1]!; p++) {
      const f = x.index[p]!;
      let l = postings.get(f);
      if (!l) postings.set(f, (l = []));
      l.push([i, x.value[p]!]);
    }
  for (const l of postings.values()) for (const [i, a] of l) for (const [j, b] of l) out[i * m + j]! += a * b;
  return out;
}

/**
 * Mean silhouette (Rousseeuw 1987, J. Comput. Appl. Math. 20, eq. 1: s(i) = (b − a) / max(a, b))
 * with cosine distance 1 − similarity, from a precomputed similarity matrix.
 */
function silhouetteCosine(sim: Float64Array, labels: Int32Array, k: number): number {
  const m = labels.length;
  const sizes = new Int32Array(k);
  for (const l of labels) sizes[l]!++;
  const sum = new Float64Array(k);
  let total = 0;
  let counted = 0;
  for (let i = 0; i < m; i++) {
    sum.fill(0);
    for (let j = 0; j < m; j++) if (j !== i) sum[labels[j]!]! += 1 - sim[i * m + j]!;
    const own = labels[i]!;
    if (sizes[own]! <= 1) {
      counted++; // s(i) = 0 for a singleton (Rousseeuw's convention)
      continue;
    }
    const a = sum[own]! / (sizes[own]! - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, sum[c]! / sizes[c]!);
    if (!Number.isFinite(b)) continue;
    total += (b - a) / Math.max(a, b, 1e-12);
    counted++;
  }
  return counted > 0 ? total / counted : 0;
}

/** Spectral clustering of the rows of x into k groups (or a k chosen by silhouette). */
function clusterRows(x: CsrMatrix, k: number | 'auto', o: { seed: number; neighbours: number; restarts: number; minK?: number; maxK?: number }): { labels: Int32Array; k: number; kScores?: { k: number; silhouette: number }[] } {
  const n = x.rows;
  if (k !== 'auto') {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer or 'auto', got ${k}`);
    if (n < k) throw new RangeError(`k = ${k} themes need at least ${k} texts, got ${n}`);
    if (k === 1) return { labels: new Int32Array(n), k };
  }
  // Edge weights are cosine similarities to the 4th power (see knnGraph). On BANKING77 it
  // raised the V-measure on fold-sized samples (2,000 texts, ten splits: mean 0.689 → 0.697,
  // nine of the ten up; on the bench's five folds powers 1, 2, 3, 4, 6 gave means of 0.688,
  // 0.689, 0.696, 0.698, 0.696, power 8 lowered the whole file to 0.664) and left the whole
  // file level (0.687 → 0.685): with 130 texts per topic, the 12 nearest neighbours rarely
  // leave the topic, so there is little to fade.
  const graph = knnGraph(x, o.neighbours, 4);
  if (k !== 'auto') {
    const emb = spectralEmbedding(graph, k, { seed: o.seed });
    const fit = kmeans(normalizeRows(diffusionColumns(emb, emb.dims), emb.dims), emb.dims, k, { seed: o.seed, restarts: o.restarts, maxIterations: 40 });
    return { labels: graphVote(graph, fit.labels, k, 6), k };
  }
  const minK = Math.max(2, o.minK ?? 2);
  // The silhouette of text clusterings keeps rising slowly with k (on BANKING77 it rose from
  // 0.02 at k = 2 to 0.10 at k = 100, with no knee and no eigengap to go by), so the range is
  // bounded by the rule of thumb k ≈ √(n/2) (Mardia, Kent & Bibby 1979, "Multivariate
  // Analysis", §13.1), and at most 60 themes, the most a person reads on a board, unless the
  // caller sets maxK; the silhouette picks within it.
  const maxK = Math.min(o.maxK ?? Math.min(60, Math.round(Math.sqrt(n / 2))), n - 1);
  if (maxK < minK) return { labels: new Int32Array(n), k: 1 };
  const emb = spectralEmbedding(graph, maxK, { seed: o.seed });
  // A geometric grid of candidates: the silhouette changes slowly with k, and every
  // candidate costs a k-means run.
  const grid = new Set<number>();
  for (let c = minK; c < maxK; c = Math.max(c + 1, Math.round(c * 1.25))) grid.add(c);
  grid.add(maxK);
  const m = Math.min(n, 1000);
  const sampleIdx = Int32Array.from({ length: m }, (_, s) => Math.floor((s * n) / m));
  const sim = cosineMatrix(selectRows(x, sampleIdx));
  let best: { labels: Int32Array; k: number; score: number } | undefined;
  const kScores: { k: number; silhouette: number }[] = [];
  for (const c of grid) {
    const fit = kmeans(normalizeRows(diffusionColumns(emb, c), c), c, c, { seed: o.seed + c, restarts: Math.min(o.restarts, 2), maxIterations: 40 });
    const score = silhouetteCosine(sim, Int32Array.from(sampleIdx, (i) => fit.labels[i]!), c);
    kScores.push({ k: c, silhouette: score });
    if (!best || score > best.score + 1e-9) best = { labels: fit.labels, k: c, score };
  }
  return { labels: graphVote(graph, best!.labels, best!.k, 6), k: best!.k, kScores };
}

/** Feature-major dense centroids (cols × k) for fast scoring of sparse rows. */
function centroidTable(centroids: readonly SparseVector[], cols: number): Float32Array {
  const k = centroids.length;
  const t = new Float32Array(cols * k);
  centroids.forEach((c, m) => c.index.forEach((f, p) => (t[f * k + m] = c.value[p]!)));
  return t;
}

/** Nearest centroid of each row and its cosine similarity. */
function nearest(x: CsrMatrix, table: Float32Array, k: number): { theme: Int32Array; similarity: Float64Array } {
  const theme = new Int32Array(x.rows);
  const similarity = new Float64Array(x.rows);
  const s = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    s.fill(0);
    for (let p = x.start[i]!; p < x.start[i + 1]!; p++) {
      const v = x.value[p]!;
      const o = x.index[p]! * k;
      for (let m = 0; m < k; m++) s[m]! += v * table[o + m]!;
    }
    let best = 0;
    for (let m = 1; m < k; m++) if (s[m]! > s[best]!) best = m;
    theme[i] = best;
    similarity[i] = s[best]!;
  }
  return { theme, similarity };
}

/** L2-normalised sum of the given rows. */
function centroidOf(x: CsrMatrix, rows: readonly number[]): SparseVector {
  const acc = new Map<number, number>();
  for (const i of rows) for (let p = x.start[i]!; p < x.start[i + 1]!; p++) acc.set(x.index[p]!, (acc.get(x.index[p]!) ?? 0) + x.value[p]!);
  const index = [...acc.keys()].sort((a, b) => a - b);
  let norm = 0;
  for (const f of index) norm += acc.get(f)! ** 2;
  norm = Math.sqrt(norm) || 1;
  return { index, value: index.map((f) => acc.get(f)! / norm) };
}

function dot(x: CsrMatrix, i: number, c: SparseVector): number {
  // Both sides are sorted by feature: a merge walk.
  let s = 0;
  let q = 0;
  for (let p = x.start[i]!; p < x.start[i + 1]! && q < c.index.length; p++) {
    const f = x.index[p]!;
    while (q < c.index.length && c.index[q]! < f) q++;
    if (c.index[q] === f) s += x.value[p]! * c.value[q]!;
  }
  return s;
}

/** 5th percentile of a theme's member similarities (type-7 quantile). */
function percentile5(values: number[]): number {
  if (values.length === 0) return 0;
  const v = [...values].sort((a, b) => a - b);
  const h = (v.length - 1) * 0.05;
  const lo = Math.floor(h);
  return v[lo]! + (h - lo) * ((v[Math.min(lo + 1, v.length - 1)] ?? v[lo]!) - v[lo]!);
}

/** Builds a theme (without key phrases) from member rows of x. */
function buildTheme(id: number, x: CsrMatrix, texts: readonly string[], vocab: Vocabulary, rows: readonly number[], quotes: number): { theme: Theme; similarity: number[]; typical: string[] } {
  const centroid = centroidOf(x, rows);
  const similarity = rows.map((i) => dot(x, i, centroid));
  const order = rows.map((_, j) => j).sort((a, b) => similarity[b]! - similarity[a]! || rows[a]! - rows[b]!);
  const seen = new Set<string>();
  const q: string[] = [];
  for (const j of order) {
    if (q.length >= quotes) break;
    const t = texts[rows[j]!]!;
    const key = t.toLowerCase().replace(/\s+/g, ' ');
    if (seen.has(key)) continue;
    seen.add(key);
    q.push(t);
  }
  const counts = new Map<number, number>();
  for (const i of rows)
    for (let p = x.start[i]!; p < x.start[i + 1]!; p++) {
      const f = x.index[p]!;
      if (isWordFeature(vocab.terms[f]!)) counts.set(f, (counts.get(f) ?? 0) + 1);
    }
  const termIndex = [...counts.keys()].sort((a, b) => a - b);
  return {
    theme: { id, label: '', keyPhrases: [], size: rows.length, quotes: q, centroid, threshold: percentile5(similarity), terms: { index: termIndex, count: termIndex.map((f) => counts.get(f)!) } },
    similarity,
    typical: order.map((j) => texts[rows[j]!]!),
  };
}

/**
 * Key phrases and names of themes. Key phrases by class-based TF-IDF (Grootendorst 2022,
 * "BERTopic", eq. 1): W(t, c) = tf(t, c) · log(1 + A / tf(t)), with tf(t, c) the number of the
 * theme's members containing word feature t, tf(t) its total over themes and A the average
 * number of word features per theme. A word already shown inside a chosen bigram is skipped; a
 * phrase must occur in at least two members (when the theme has two) and hold a content word.
 *
 * `members` gives, for the themes to (re)label, their member texts, most typical first: the
 * key phrases are then shown as the members spell them and the label is a phrase of the
 * typical members (naming.ts). Themes not listed keep their label and key phrases; without
 * `members` every theme is relabelled from the corpus-wide spellings of its features.
 */
export function labelThemes(model: ThemeModel, count = 6, members?: ReadonlyMap<number, readonly string[]>): ThemeModel {
  const total = new Map<number, number>();
  let all = 0;
  for (const t of model.themes)
    t.terms.index.forEach((f, p) => {
      total.set(f, (total.get(f) ?? 0) + t.terms.count[p]!);
      all += t.terms.count[p]!;
    });
  const a = all / Math.max(1, model.themes.length);
  const listed = members ? [...members.keys()].sort((x, y) => x - y) : model.themes.map((_, i) => i);
  const names = members ? nameGroups(listed.map((i) => members.get(i)!)) : [];
  const nameOf = new Map(listed.map((i, j) => [i, names[j]?.name ?? '']));
  const themes = model.themes.map((t, ti) => {
    if (!nameOf.has(ti)) return t;
    const scored = t.terms.index
      .map((f, p) => ({ f, tf: t.terms.count[p]!, w: t.terms.count[p]! * Math.log(1 + a / total.get(f)!) }))
      .filter((s) => s.tf >= Math.min(2, t.size))
      .sort((x, y) => y.w - x.w || x.f - y.f);
    const texts = members?.get(ti);
    const spelled = texts ? surfaceForms(scored.slice(0, count * 8).map((s) => model.vocabulary[s.f]!), texts.slice(0, 400)) : undefined;
    const chosen: string[] = [];
    const shownWords = new Set<string>();
    for (const s of scored) {
      if (chosen.length >= count) break;
      const phrase = spelled ? spelled.get(model.vocabulary[s.f]!) : model.display[s.f] || model.vocabulary[s.f]!;
      if (!phrase || !meaningful(phrase)) continue;
      const ws = phrase.split(' ');
      if (ws.length === 1 && shownWords.has(phrase)) continue;
      if (chosen.includes(phrase)) continue;
      chosen.push(phrase);
      for (const w of ws) shownWords.add(w);
    }
    const named = nameOf.get(ti) ?? '';
    const label = t.general ? GENERAL_LABEL : named || (chosen.length > 0 ? chosen[0]!.charAt(0).toUpperCase() + chosen[0]!.slice(1) : '(no words)');
    return { ...t, keyPhrases: chosen, label };
  });
  return { ...model, themes };
}

/**
 * Discovers themes in a corpus of short texts.
 *
 * Why spectral clustering rather than k-means on the vectors: see spectral.ts. Above
 * `maxGraphItems` texts, the graph and the clustering use a seeded sample (the themes of a
 * large corpus show in a sample of 10,000), and every text is then assigned to the nearest
 * theme centroid, which keeps 100,000 texts within a minute on two cores.
 *
 * @example
 * const { model, assignment } = discoverThemes(feedback, { k: 20, seed: 1 });
 * model.themes[assignment[0]].label // e.g. 'refund / money back / returned'
 */
export function discoverThemes(texts: readonly string[], options: DiscoverOptions = {}): ThemeDiscovery {
  const seed = options.seed ?? 1;
  const k = options.k ?? 'auto';
  const n = texts.length;
  if (n === 0) throw new RangeError('discoverThemes: no texts');
  const { vocabulary, matrix: x } = fitVocabulary(texts);
  // Contentless texts ("Five stars", "Great!") and pure praise go to the general bucket and
  // take no part in the clustering: grouped by their shared praise words they would pull need
  // and defect themes together.
  const general: number[] = [];
  const content: number[] = [];
  for (let i = 0; i < n; i++) (options.generalBucket !== false && isGeneral(texts[i]!) ? general : content).push(i);
  if (content.length < 2 || (k !== 'auto' && content.length < k)) {
    content.push(...general.splice(0));
    content.sort((a, b) => a - b);
  }
  const maxGraph = options.maxGraphItems ?? 10_000;
  let sample: number[] = content;
  if (content.length > maxGraph) {
    sample = [...content];
    const rand = seededRandom(seed ^ 0x5bd1e995);
    for (let s = sample.length - 1; s > 0; s--) {
      const j = Math.floor(rand() * (s + 1));
      [sample[s], sample[j]] = [sample[j]!, sample[s]!];
    }
    sample = sample.slice(0, maxGraph).sort((a, b) => a - b);
  }
  const xs = sample.length === n ? x : selectRows(x, sample);
  const cl = clusterRows(xs, k, { seed, neighbours: options.neighbours ?? 12, restarts: options.restarts ?? 4, ...(options.minK !== undefined ? { minK: options.minK } : {}), ...(options.maxK !== undefined ? { maxK: options.maxK } : {}) });
  // One Lloyd step in TF-IDF space: every text goes to the theme whose centroid it is most
  // similar to. This is the rule assignThemes applies to new texts, so stored and new
  // feedback are assigned alike; it also assigns the texts outside the graph sample. On
  // BANKING77 it raised the V-measure by about 0.01 (a second step lowered it again).
  const members: number[][] = Array.from({ length: cl.k }, () => []);
  cl.labels.forEach((c, s) => members[c]!.push(sample[s]!));
  const cents = members.filter((m) => m.length > 0).map((m) => centroidOf(x, m));
  const xc = content.length === n ? x : selectRows(x, content);
  const near = nearest(xc, centroidTable(cents, x.cols), cents.length).theme;
  // Themes ordered by size (largest first), empty clusters dropped; the general bucket last.
  const groups: number[][] = [];
  near.forEach((c, j) => (groups[c] ??= []).push(content[j]!));
  const ordered = groups.filter((g) => g !== undefined && g.length > 0).sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  if (general.length > 0) ordered.push(general);
  const assignment = new Array<number>(n);
  const similarity = new Array<number>(n);
  const quotes = options.quotes ?? 3;
  const typical = new Map<number, string[]>();
  const themes = ordered.map((rows, t) => {
    const built = buildTheme(t, x, texts, vocabulary, rows, quotes);
    rows.forEach((i, j) => {
      assignment[i] = t;
      similarity[i] = built.similarity[j]!;
    });
    typical.set(t, built.typical);
    return general.length > 0 && t === ordered.length - 1 ? { ...built.theme, general: true } : built.theme;
  });
  const model = labelThemes(
    { version: 1, vocabulary: vocabulary.terms, idf: Array.from(vocabulary.idf), display: vocabulary.display, themes, nextId: themes.length },
    options.keyPhrases ?? 6,
    typical,
  );
  return { model, assignment, similarity, ...(cl.kScores ? { kScores: cl.kScores } : {}) };
}

export interface ThemeAssignment {
  /** Id of the theme, or null when the text is a new-theme candidate (below the threshold). */
  theme: number | null;
  /** Id of the most similar theme, even when below its threshold. */
  nearest: number;
  similarity: number;
}

/**
 * Assigns new texts to the themes of a model, by cosine similarity to the theme centroids in
 * the model's TF-IDF space (the vocabulary and IDF are the model's: assigning never moves
 * the themes). A text below the nearest theme's threshold (or `minSimilarity`, when given)
 * is left unassigned: a candidate for a new theme.
 *
 * @example assignThemes(model, ['where is my card?'])[0] // { theme: 3, nearest: 3, similarity: 0.41 }
 */
export function assignThemes(model: ThemeModel, texts: readonly string[], options: { minSimilarity?: number } = {}): ThemeAssignment[] {
  if (model.themes.length === 0) throw new RangeError('assignThemes: the model has no themes');
  const x = vectorize(texts, vocabularyOf(model));
  // The general bucket takes the contentless texts and competes for no other.
  const bucket = model.themes.find((t) => t.general === true);
  const topical = bucket && model.themes.length > 1 ? model.themes.filter((t) => t !== bucket) : model.themes;
  const k = topical.length;
  const r = nearest(
    x,
    centroidTable(
      topical.map((t) => t.centroid),
      x.cols,
    ),
    k,
  );
  return texts.map((text, i) => {
    if (bucket && topical !== model.themes && isGeneral(text)) return { theme: bucket.id, nearest: bucket.id, similarity: dot(x, i, bucket.centroid) };
    const t = topical[r.theme[i]!]!;
    const s = r.similarity[i]!;
    return { theme: s >= (options.minSimilarity ?? t.threshold) && s > 0 ? t.id : null, nearest: t.id, similarity: s };
  });
}

/**
 * Splits one theme into `k` by clustering its member texts (the same graph and spectral
 * clustering, over the model's vocabulary); the parts get new ids and replace the theme in
 * place, named from their members (the other themes keep their names and key phrases).
 *
 * @example const next = splitTheme(model, 4, textsOfTheme4, 2, 1)
 */
export function splitTheme(model: ThemeModel, themeIndex: number, memberTexts: readonly string[], k = 2, seed = 1): ThemeModel {
  if (!Number.isInteger(themeIndex) || themeIndex < 0 || themeIndex >= model.themes.length) throw new RangeError(`splitTheme: no theme at index ${themeIndex} (the model has ${model.themes.length})`);
  if (memberTexts.length < k) throw new RangeError(`splitTheme: splitting into ${k} needs at least ${k} member texts, got ${memberTexts.length}`);
  const vocab = vocabularyOf(model);
  const x = vectorize(memberTexts, vocab);
  const { labels } = clusterRows(x, k, { seed, neighbours: 12, restarts: 4 });
  const groups: number[][] = Array.from({ length: k }, () => []);
  labels.forEach((c, i) => groups[c]!.push(i));
  const built = groups
    .filter((g) => g.length > 0)
    .sort((a, b) => b.length - a.length || a[0]! - b[0]!)
    .map((rows, j) => buildTheme(model.nextId + j, x, memberTexts, vocab, rows, model.themes[themeIndex]!.quotes.length || 3));
  const parts = built.map((b) => b.theme);
  const themes = [...model.themes.slice(0, themeIndex), ...parts, ...model.themes.slice(themeIndex + 1)];
  // The parts are named and phrased from their members; the other themes keep theirs.
  const typical = new Map(built.map((b, j) => [themeIndex + j, b.typical]));
  return labelThemes({ ...model, themes, nextId: model.nextId + parts.length }, Math.max(...model.themes.map((t) => t.keyPhrases.length), 1), typical);
}

/**
 * Merges themes into one, which keeps the id, position and name of the first index listed: its
 * centroid is the size-weighted sum of theirs, renormalised (the member texts are not needed;
 * it approximates the centroid of the union, exactly when the themes are equally tight), its
 * terms the sum of theirs, its quotes the most central of theirs, its threshold the lowest.
 *
 * @example const next = mergeThemes(model, [2, 7])
 */
export function mergeThemes(model: ThemeModel, indices: readonly number[]): ThemeModel {
  const idx = [...new Set(indices)];
  for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= model.themes.length) throw new RangeError(`mergeThemes: no theme at index ${i} (the model has ${model.themes.length})`);
  if (idx.length < 2) throw new RangeError('mergeThemes: give at least two different theme indexes');
  const parts = idx.map((i) => model.themes[i]!);
  const acc = new Map<number, number>();
  for (const t of parts) t.centroid.index.forEach((f, p) => acc.set(f, (acc.get(f) ?? 0) + t.size * t.centroid.value[p]!));
  const index = [...acc.keys()].sort((a, b) => a - b);
  const norm = Math.sqrt(index.reduce((s, f) => s + acc.get(f)! ** 2, 0)) || 1;
  const centroid = { index, value: index.map((f) => acc.get(f)! / norm) };
  const counts = new Map<number, number>();
  for (const t of parts) t.terms.index.forEach((f, p) => counts.set(f, (counts.get(f) ?? 0) + t.terms.count[p]!));
  const termIndex = [...counts.keys()].sort((a, b) => a - b);
  const allQuotes = [...new Set(parts.flatMap((t) => t.quotes))];
  const qx = vectorize(allQuotes, vocabularyOf(model));
  const quotes = allQuotes
    .map((q, i) => ({ q, s: dot(qx, i, centroid), i }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, Math.max(...parts.map((t) => t.quotes.length)))
    .map((e) => e.q);
  // The merged theme keeps the first one's name; its key phrases are theirs, the largest themes' first.
  const bySize = [...parts].sort((x, y) => y.size - x.size);
  const phrases = [...new Set(bySize.flatMap((t) => t.keyPhrases))].slice(0, Math.max(...parts.map((t) => t.keyPhrases.length)));
  const merged: Theme = {
    id: parts[0]!.id,
    label: parts[0]!.label,
    keyPhrases: phrases,
    ...(parts[0]!.general ? { general: true as const } : {}),
    size: parts.reduce((s, t) => s + t.size, 0),
    quotes,
    centroid,
    threshold: Math.min(...parts.map((t) => t.threshold)),
    terms: { index: termIndex, count: termIndex.map((f) => counts.get(f)!) },
  };
  const drop = new Set(idx.slice(1));
  const themes = model.themes.flatMap((t, i) => (i === idx[0] ? [merged] : drop.has(i) ? [] : [t]));
  return { ...model, themes };
}
