/**
 * A linear text classifier: a Crammer–Singer multi-class linear SVM trained by the sequential
 * dual method (see trainCrammerSinger), on the hashed TF-IDF features of features.ts.
 * Confidence is a softmax over the class margins, so it ranks which predictions to review
 * first; it is not a calibrated probability.
 *
 * Each tag's name is also one training text ("card_arrival" → "card arrival"): the name is the
 * team's own one-line description of the tag, and with few examples per tag it carries words
 * the examples may lack (the idea of "dataless" classification from label names: Chang, Ratinov,
 * Roth & Srikumar 2008, "Importance of semantic representation: dataless classification",
 * AAAI). On BANKING77 with 10 examples per tag it added 1.2 points of accuracy (69.9% → 71.0%,
 * 5-fold CV, measured with one-vs-rest SVMs); with all 10,003 examples it changed nothing.
 *
 * Each text also carries a dense vector: the IDF-weighted mean of word vectors learned from the
 * training texts and the texts to tag (embedding.ts), at half the weight of its n-gram features
 * (both parts of unit length, the whole rescaled to unit length). It lets a tag's weights reach
 * words its examples never used but that keep the same company. On BANKING77 (5-fold CV, the
 * held-out fifth given unlabelled) it added 0.3 points with all data (90.6% → 90.9%) and 0.6–1.0
 * with 10 examples per tag (72.1% → 72.7–73.1% over three seeds and iteration counts); weights
 * 0.3 and 0.7 were no better than 0.5. Without the texts to tag the vectors still helped with
 * all data (90.8%) but hardly with 10 per tag (72.3%).
 */
import { countFeatures, DIMENSION, idfWeights, weigh, type FeatureCounts, type SparseVector } from './features.js';
import { seededRandom } from '../random.js';
import { learnWordVectors, textVector, wordIndex, wordsOf, type WordVectors } from './embedding.js';

export interface TextModel {
  labels: string[];
  /** The hashed features seen in training, most frequent first: only they have weights. */
  features: Int32Array;
  /** IDF of each seen feature; a feature never seen in training weighs unseenIdf (ln(1+N) + 1). */
  idf: Float32Array;
  unseenIdf: number;
  /**
   * features.length × labels.length, feature-major: the weights of one feature for every class
   * are contiguous, so scoring a text reads one short run per feature instead of one cache line
   * per feature and class.
   */
  weights: Float32Array;
  bias: Float64Array;
  /**
   * Word vectors learned at training time; a text's vector (times denseWeight) follows its n-gram
   * features, its weights in the last dims rows of the weight table.
   */
  wordVectors?: WordVectors;
  denseWeight?: number;
}

export interface TrainOptions {
  /** Cost of a margin violation (LIBLINEAR's C; default 1, LIBLINEAR's). */
  C?: number;
  /** Passes over the data at most (default 10). */
  epochs?: number;
  /** Stop when no example's dual optimality violation exceeds this (default 0.1, LIBLINEAR's). */
  tolerance?: number;
  /** Add each tag's name as one training text (default true; see above). */
  labelNames?: boolean;
  /**
   * Texts without labels that the word vectors also learn from: the texts to be tagged, when
   * they are at hand (their co-occurrences only; nothing is read from their tags).
   */
  unlabelled?: readonly string[];
  /** Dimensions of the word vectors (default 100; 0: none). */
  wordVectorDims?: number;
  /** Weight of the text vector against the n-gram features, each of unit length (default 0.5). */
  denseWeight?: number;
  seed?: number;
}

/** "card_arrival", "Card-Arrival", "cardArrival" → "card arrival". */
export function labelText(label: string): string {
  return label
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/[_\-./:]+/g, ' ')
    .trim();
}

/**
 * Learn tags from labelled texts. Deterministic for a given seed, so a retrained model tags the
 * same way. About 1.6 times the CPU time of the n-grams alone (word vectors, and 100 more
 * features a text) for 10,000 short texts and 77 tags on this project's bench.
 *
 * @example
 * const model = train(['where is my card', 'charged twice'], ['card_arrival', 'double_charge'], { unlabelled: ['card not here yet'] });
 * predict(model, 'my card has not come').label; // 'card_arrival'
 */
export function train(texts: readonly string[], labels: readonly string[], options: TrainOptions = {}): TextModel {
  if (texts.length !== labels.length) throw new RangeError('train: one label per text');
  const names = [...new Set(labels)].sort();
  if (names.length < 2) throw new RangeError('train: at least two different labels are needed');
  const classOf = new Map(names.map((l, i) => [l, i]));
  const counts = texts.map(countFeatures);
  const y = Array.from(labels, (l) => classOf.get(l)!);
  if (options.labelNames ?? true) {
    names.forEach((l, c) => {
      const named = countFeatures(labelText(l));
      if (named.index.length === 0) return;
      counts.push(named);
      y.push(c);
    });
  }
  const idfFull = idfWeights(counts);
  const unseenIdf = Math.log(1 + counts.length) + 1;
  // Training and scoring work on compact feature numbers: only the features seen here (55,600
  // of the 262,144 buckets on BANKING77), the most frequent first, so that the weight rows read
  // for almost every text sit together in a few memory pages (tagging about 10% faster than in
  // bucket order on BANKING77).
  const present = new Uint8Array(DIMENSION);
  for (const d of counts) for (const k of d.index) present[k] = 1;
  const seen: number[] = [];
  for (let k = 0; k < DIMENSION; k++) if (present[k] === 1) seen.push(k);
  seen.sort((a, b) => idfFull[a]! - idfFull[b]! || a - b);
  const F = seen.length;
  const features = Int32Array.from(seen);
  const idf = Float32Array.from(seen, (k) => idfFull[k]!);
  const row = new Int32Array(DIMENSION).fill(-1);
  features.forEach((k, r) => (row[k] = r));
  const dims = options.wordVectorDims ?? 100;
  const gamma = options.denseWeight ?? 0.5;
  const wordVectors = dims > 0 ? learnWordVectors([...texts, ...(options.unlabelled ?? [])], { dims, seed: options.seed ?? 1 }) : undefined;
  const D = wordVectors?.dims ?? 0;
  const allTexts = [...texts];
  if (options.labelNames ?? true) for (const l of names) if (countFeatures(labelText(l)).index.length > 0) allTexts.push(labelText(l));
  const dense = new Float32Array(D);
  const x = counts.map((d: FeatureCounts, i): SparseVector => {
    const v = weigh(d, idfFull);
    if (!wordVectors) return { index: Int32Array.from(v.index, (k) => row[k]!), value: v.value };
    textVector(wordVectors, allTexts[i]!, dense);
    const scale = 1 / Math.sqrt(1 + gamma * gamma);
    const index = new Int32Array(v.index.length + D);
    const value = new Float32Array(v.index.length + D);
    for (let j = 0; j < v.index.length; j++) {
      index[j] = row[v.index[j]!]!;
      value[j] = v.value[j]! * scale;
    }
    for (let k = 0; k < D; k++) {
      index[v.index.length + k] = F + k;
      value[v.index.length + k] = gamma * scale * dense[k]!;
    }
    return { index, value };
  });
  const K = names.length;
  const { weights, bias } = trainCrammerSinger(x, Int32Array.from(y), K, F + D, options);
  return wordVectors ? { labels: names, features, idf, unseenIdf, weights, bias, wordVectors, denseWeight: gamma } : { labels: names, features, idf, unseenIdf, weights, bias };
}

/**
 * The multi-class SVM of Crammer & Singer (2001, "On the algorithmic implementation of
 * multiclass kernel-based vector machines", JMLR 2, problem 2 with the bias as a constant
 * feature), trained by the sequential dual method of Keerthi, Sundararajan, Chang, Hsieh & Lin
 * (2008, "A sequential dual method for large scale multi-class linear SVMs", KDD, algorithm 1 and
 * the sub-problem solution of section 3, as in LIBLINEAR's -s 4): one example at a time, the dual
 * variables of all classes for that example are re-optimised exactly.
 *
 * Why not one-vs-rest: the classes are ranked by margins that are trained together, instead of
 * 77 separately scaled binary problems. On BANKING77 (5-fold CV, same features) it was more
 * accurate with all data (90.3% vs 89.9%) and with 10 examples per tag (72.1% vs 71.4%), and
 * trained in half the time: with the weights stored feature-major, one example's 77 margins are
 * one contiguous run per feature, and shrinking sets aside the classes an example cannot move.
 * C = 1 and the 0.1 tolerance are LIBLINEAR's defaults; 30 passes instead of 10 changed nothing.
 */
function trainCrammerSinger(x: readonly SparseVector[], y: Int32Array, K: number, F: number, options: TrainOptions): { weights: Float32Array; bias: Float64Array } {
  const C = options.C ?? 1;
  const epochs = options.epochs ?? 10;
  const tolerance = options.tolerance ?? 0.1;
  const rand = seededRandom(options.seed ?? 1);
  const n = x.length;
  const weights = new Float32Array(F * K);
  const bias = new Float64Array(K);
  const alpha = new Float64Array(n * K);
  // A_i = ‖x_i‖² + 1 (the bias feature).
  const A = Float64Array.from(x, (v) => {
    let s = 1;
    for (const a of v.value) s += a * a;
    return s;
  });
  const G = new Float64Array(K);
  const Bm = new Float64Array(K);
  const D = new Float64Array(K);
  // Shrinking (Keerthi et al. 2008, section 4; LIBLINEAR): each example keeps its classes in
  // cls[i·K …], the first live[i] of them still active. A class at its bound whose gradient is
  // below the smallest movable one is set aside; an example with one class left is set aside
  // whole. When the remaining violation falls under a loosening threshold, everything is
  // restored and re-checked, so the result is that of the unshrunk method.
  const cls = new Int32Array(n * K);
  const live = new Int32Array(n).fill(K);
  const resetClasses = (): void => {
    for (let i = 0; i < n; i++) for (let m = 0; m < K; m++) cls[i * K + m] = m;
    live.fill(K);
  };
  resetClasses();
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let active = n;
  let shrinkAt = Math.max(10 * tolerance, 1);
  let fromAll = true;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let s = active - 1; s > 0; s--) {
      const j = Math.floor(rand() * (s + 1));
      const t = order[s]!;
      order[s] = order[j]!;
      order[j] = t;
    }
    let worst = 0;
    for (let s = 0; s < active; s++) {
      const i = order[s]!;
      const { index, value } = x[i]!;
      const yi = y[i]!;
      const ai = i * K;
      const L = live[i]!;
      // Gradient of the dual: G_m = w_m·x_i + b_m + e_m, with e_m = 1 for m ≠ y_i, 0 for y_i.
      for (let q = 0; q < L; q++) {
        const m = cls[ai + q]!;
        G[q] = bias[m]! + (m === yi ? 0 : 1);
      }
      if (L === K) {
        for (let t = 0; t < index.length; t++) {
          const off = index[t]! * K;
          const v = value[t]!;
          for (let m = 0; m < K; m++) G[m]! += weights[off + m]! * v;
        }
      } else {
        for (let t = 0; t < index.length; t++) {
          const off = index[t]! * K;
          const v = value[t]!;
          for (let q = 0; q < L; q++) G[q]! += weights[off + cls[ai + q]!]! * v;
        }
      }
      // Optimality violation (Keerthi et al. 2008, eq. 10): max G_m − min over movable m of G_m.
      let minG = Number.POSITIVE_INFINITY;
      let maxG = Number.NEGATIVE_INFINITY;
      for (let q = 0; q < L; q++) {
        const m = cls[ai + q]!;
        const movable = m === yi ? alpha[ai + m]! < C : alpha[ai + m]! < 0;
        if (movable && G[q]! < minG) minG = G[q]!;
        if (G[q]! > maxG) maxG = G[q]!;
      }
      let Lnext = L;
      for (let q = 0; q < Lnext; q++) {
        const m = cls[ai + q]!;
        const atBound = alpha[ai + m] === (m === yi ? C : 0);
        if (atBound && G[q]! < minG) {
          Lnext--;
          cls[ai + q] = cls[ai + Lnext]!;
          cls[ai + Lnext] = m;
          const g = G[q]!;
          G[q] = G[Lnext]!;
          G[Lnext] = g;
          q--;
        }
      }
      live[i] = Lnext;
      if (Lnext <= 1) {
        active--;
        order[s] = order[active]!;
        order[active] = i;
        s--;
        continue;
      }
      if (maxG - minG > worst) worst = maxG - minG;
      if (maxG - minG <= 1e-12) continue;
      // The sub-problem min ½A Σα_m² + Σ B_m α_m, Σα_m = 0, α_m ≤ C·[m = y_i], solved exactly:
      // α_m = min(C_m, (β − B_m)/A) with β found from the sorted D_m = B_m + A·C_m (section 3).
      // Classes set aside keep their α (at the bound) and take no part.
      const Ai = A[i]!;
      const Dl = D.subarray(0, Lnext);
      let yq = -1;
      for (let q = 0; q < Lnext; q++) {
        const m = cls[ai + q]!;
        Bm[q] = G[q]! - Ai * alpha[ai + m]!;
        Dl[q] = Bm[q]!;
        if (m === yi) {
          Dl[q]! += Ai * C;
          yq = q;
        }
      }
      Dl.sort();
      let beta = Dl[Lnext - 1]! - Ai * C;
      let r = 1;
      for (; r < Lnext && beta < r * Dl[Lnext - 1 - r]!; r++) beta += Dl[Lnext - 1 - r]!;
      beta /= r;
      for (let q = 0; q < Lnext; q++) {
        const m = cls[ai + q]!;
        const next = Math.min(q === yq ? C : 0, (beta - Bm[q]!) / Ai);
        const d = next - alpha[ai + m]!;
        if (Math.abs(d) < 1e-12) continue;
        alpha[ai + m] = next;
        bias[m]! += d;
        for (let t = 0; t < index.length; t++) weights[index[t]! * K + m]! += d * value[t]!;
      }
    }
    if (worst < shrinkAt) {
      if (worst < tolerance && fromAll) break;
      active = n;
      resetClasses();
      shrinkAt = Math.max(shrinkAt / 2, tolerance);
      fromAll = true;
    } else {
      fromAll = false;
    }
  }
  return { weights, bias };
}

export interface Prediction {
  label: string;
  /**
   * Softmax of the margins (temperature 0.25): a ranking of certainty, not a calibrated
   * probability. For a batch tagged through its neighbourhoods (transduce.ts), the tag's share
   * of the spread scores.
   */
  confidence: number;
  /** The winning class's margin (NaN for a batch tagged through its neighbourhoods). */
  margin: number;
}

/** Hashed feature → row of the model's weight table (-1 when unseen), built once per model. */
const rows = new WeakMap<TextModel, Int32Array>();
function rowsOf(model: TextModel): Int32Array {
  let r = rows.get(model);
  if (!r) {
    r = new Int32Array(DIMENSION).fill(-1);
    model.features.forEach((k, i) => (r![k] = i));
    rows.set(model, r);
  }
  return r;
}

/** Each known word's vector times the dense weight rows: words × labels, built once per model. */
const projections = new WeakMap<TextModel, Float32Array>();
function projectionsOf(model: TextModel, wv: WordVectors): Float32Array {
  let p = projections.get(model);
  if (!p) {
    const K = model.labels.length;
    const D = wv.dims;
    const F = model.features.length;
    const W = model.weights;
    p = new Float32Array(wv.words.length * K);
    for (let i = 0; i < wv.words.length; i++) {
      for (let k = 0; k < D; k++) {
        const v = wv.vectors[i * D + k]!;
        const off = (F + k) * K;
        for (let c = 0; c < K; c++) p[i * K + c]! += v * W[off + c]!;
      }
    }
    projections.set(model, p);
  }
  return p;
}

/**
 * The class margins of one text (bias + w·x for every label, in model.labels order), for callers
 * that need more than the best tag (the runner-up, a threshold of their own).
 *
 * @example
 * const m = margins(model, 'my card has not come'); // m[model.labels.indexOf('card_arrival')] is the largest
 */
export function margins(model: TextModel, text: string): Float64Array {
  const counts = countFeatures(text);
  const row = rowsOf(model);
  const K = model.labels.length;
  const m = counts.index.length;
  const at = new Int32Array(m);
  const value = new Float64Array(m);
  let norm = 0;
  for (let j = 0; j < m; j++) {
    const r = row[counts.index[j]!]!;
    at[j] = r;
    const v = (1 + Math.log(counts.count[j]!)) * (r >= 0 ? model.idf[r]! : model.unseenIdf);
    value[j] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  const wv = model.wordVectors;
  const gamma = model.denseWeight ?? 0.5;
  if (wv) norm *= Math.sqrt(1 + gamma * gamma);
  // Seen features are gathered first, then scored four at a time: each class's running score is
  // read and written once per four features instead of once per feature (2–3× faster here).
  let seen = 0;
  for (let j = 0; j < m; j++) {
    if (at[j]! < 0) continue;
    at[seen] = at[j]! * K;
    value[seen] = value[j]! / norm;
    seen++;
  }
  const scores = new Float64Array(K);
  scores.set(model.bias);
  const W = model.weights;
  let j = 0;
  for (; j + 4 <= seen; j += 4) {
    const o1 = at[j]!;
    const o2 = at[j + 1]!;
    const o3 = at[j + 2]!;
    const o4 = at[j + 3]!;
    const x1 = value[j]!;
    const x2 = value[j + 1]!;
    const x3 = value[j + 2]!;
    const x4 = value[j + 3]!;
    for (let c = 0; c < K; c++) scores[c]! += W[o1 + c]! * x1 + W[o2 + c]! * x2 + W[o3 + c]! * x3 + W[o4 + c]! * x4;
  }
  for (; j < seen; j++) {
    const off = at[j]!;
    const x = value[j]!;
    for (let c = 0; c < K; c++) scores[c]! += W[off + c]! * x;
  }
  if (wv) {
    // The text vector's scores without building it: each word's vector is projected on the
    // dense weight rows once per model (words × labels), so a text costs its words × (dims +
    // labels) instead of dims × labels; only the vector's length needs the dims.
    const D = wv.dims;
    const proj = projectionsOf(model, wv);
    const at = wordIndex(wv);
    const sum = new Float64Array(D);
    const dense = new Float64Array(K);
    for (const w of wordsOf(text)) {
      const i = at.get(w);
      if (i === undefined) continue;
      const g = wv.idf[i]!;
      for (let k = 0; k < D; k++) sum[k]! += g * wv.vectors[i * D + k]!;
      for (let c = 0; c < K; c++) dense[c]! += g * proj[i * K + c]!;
    }
    let len = 0;
    for (let k = 0; k < D; k++) len += sum[k]! * sum[k]!;
    if (len > 0) {
      const scale = gamma / Math.sqrt(1 + gamma * gamma) / Math.sqrt(len);
      for (let c = 0; c < K; c++) scores[c]! += dense[c]! * scale;
    }
  }
  return scores;
}

/**
 * The best tag for one text, with a confidence to rank predictions for review.
 *
 * @example
 * predict(model, 'I was charged twice'); // { label: 'double_charge', confidence: 0.97, margin: 0.8 }
 */
export function predict(model: TextModel, text: string): Prediction {
  const scores = margins(model, text);
  const K = scores.length;
  let best = 0;
  for (let c = 1; c < K; c++) if (scores[c]! > scores[best]!) best = c;
  let z = 0;
  for (let c = 0; c < K; c++) z += Math.exp((scores[c]! - scores[best]!) / 0.25);
  return { label: model.labels[best]!, confidence: 1 / z, margin: scores[best]! };
}

/**
 * A model as plain JSON, for storing it: typed arrays as base64 of their little-endian bytes
 * (23 MB for the BANKING77 model; a sparse weight table would save only a fifth, 38% of its
 * entries being non-zero).
 */
export interface SerialisedTextModel {
  version: 1;
  labels: string[];
  features: string;
  idf: string;
  unseenIdf: number;
  weights: string;
  bias: string;
  /** The word vectors, when the model has them (see TextModel.wordVectors). */
  words?: string[];
  wordDims?: number;
  wordVectors?: string;
  wordIdf?: string;
  denseWeight?: number;
}

const base64 = (a: Int32Array | Float32Array | Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromBase64<T>(s: string, make: (b: ArrayBuffer, offset: number, length: number) => T, bytes: number): T {
  const buf = Buffer.from(s, 'base64');
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return make(copy, 0, buf.length / bytes);
}

/**
 * Store a trained model.
 *
 * @example
 * const stored = JSON.stringify(serialiseModel(model));
 * const again = deserialiseModel(JSON.parse(stored) as SerialisedTextModel); // tags exactly as model
 */
export function serialiseModel(model: TextModel): SerialisedTextModel {
  const wv = model.wordVectors;
  return {
    version: 1,
    labels: model.labels,
    features: base64(model.features),
    idf: base64(model.idf),
    unseenIdf: model.unseenIdf,
    weights: base64(model.weights),
    bias: base64(model.bias),
    ...(wv ? { words: wv.words, wordDims: wv.dims, wordVectors: base64(wv.vectors), wordIdf: base64(wv.idf), denseWeight: model.denseWeight ?? 1 } : {}),
  };
}

/** The inverse of serialiseModel. */
export function deserialiseModel(s: SerialisedTextModel): TextModel {
  if (s.version !== 1) throw new RangeError(`deserialiseModel: unknown model version ${String(s.version)}`);
  return {
    labels: s.labels,
    features: fromBase64(s.features, (b, o, l) => new Int32Array(b, o, l), 4),
    idf: fromBase64(s.idf, (b, o, l) => new Float32Array(b, o, l), 4),
    unseenIdf: s.unseenIdf,
    weights: fromBase64(s.weights, (b, o, l) => new Float32Array(b, o, l), 4),
    bias: fromBase64(s.bias, (b, o, l) => new Float64Array(b, o, l), 8),
    ...(s.words !== undefined && s.wordVectors !== undefined && s.wordIdf !== undefined
      ? {
          wordVectors: { words: s.words, dims: s.wordDims ?? 0, vectors: fromBase64(s.wordVectors, (b, o, l) => new Float32Array(b, o, l), 4), idf: fromBase64(s.wordIdf, (b, o, l) => new Float32Array(b, o, l), 4) },
          denseWeight: s.denseWeight ?? 1,
        }
      : {}),
  };
}

/** Accuracy and macro-averaged F1 of predictions against true labels. */
export function evaluate(truth: readonly string[], predicted: readonly string[]): { accuracy: number; macroF1: number; n: number } {
  const classes = [...new Set([...truth, ...predicted])];
  let correct = 0;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === predicted[i]) {
      correct++;
      tp.set(truth[i]!, (tp.get(truth[i]!) ?? 0) + 1);
    } else {
      fp.set(predicted[i]!, (fp.get(predicted[i]!) ?? 0) + 1);
      fn.set(truth[i]!, (fn.get(truth[i]!) ?? 0) + 1);
    }
  }
  const truthClasses = classes.filter((c) => truth.includes(c));
  let f1 = 0;
  for (const c of truthClasses) {
    const t = tp.get(c) ?? 0;
    const p = t + (fp.get(c) ?? 0);
    const r = t + (fn.get(c) ?? 0);
    f1 += t === 0 ? 0 : (2 * t) / (p + r);
  }
  return { accuracy: truth.length > 0 ? correct / truth.length : 0, macroF1: truthClasses.length > 0 ? f1 / truthClasses.length : 0, n: truth.length };
}
