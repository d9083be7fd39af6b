/**
 * Text to sparse features: lower-cased word unigrams, bigrams and trigrams, and character
 * 2–6-grams within word boundaries (padded with spaces), hashed into 2^20 buckets (FNV-1a).
 * Weights are sublinear TF × IDF, L2-normalised per text. Character n-grams carry spelling
 * variants and typos ("recieved", "cards'") that whole words miss.
 */

export const FEATURE_BITS = 20;
export const DIMENSION = 1 << FEATURE_BITS;
const MASK = DIMENSION - 1;

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) & MASK;
}

/** Raw counts of the hashed n-grams of one text. */
export function countFeatures(text: string): Map<number, number> {
  const m = new Map<number, number>();
  const add = (k: string): void => {
    const h = hash(k);
    m.set(h, (m.get(h) ?? 0) + 1);
  };
  const t = text.toLowerCase();
  const words = t.match(/[\p{L}\p{N}']+|[^\s\p{L}\p{N}]/gu) ?? [];
  for (let i = 0; i < words.length; i++) {
    add(`w:${words[i]}`);
    if (i + 1 < words.length) add(`b:${words[i]} ${words[i + 1]}`);
    if (i + 2 < words.length) add(`t:${words[i]} ${words[i + 1]} ${words[i + 2]}`);
  }
  for (const w of t.split(/\s+/)) {
    if (w.length === 0) continue;
    const p = ` ${w} `;
    for (let n = 2; n <= 6; n++) for (let i = 0; i + n <= p.length; i++) add(`c:${p.slice(i, i + n)}`);
  }
  return m;
}

/** A text as sorted-free parallel arrays of feature indexes and weights. */
export interface SparseVector {
  index: Int32Array;
  value: Float32Array;
}

/** Document frequencies over a corpus of counted texts, as IDF weights ln((1+N)/(1+df)) + 1. */
export function idfWeights(docs: readonly Map<number, number>[]): Float32Array {
  const df = new Float32Array(DIMENSION);
  for (const d of docs) for (const k of d.keys()) df[k]!++;
  const n = docs.length;
  const idf = new Float32Array(DIMENSION);
  for (let k = 0; k < DIMENSION; k++) idf[k] = Math.log((1 + n) / (1 + df[k]!)) + 1;
  return idf;
}

/** (1 + ln tf) × idf, L2-normalised. */
export function weigh(counts: Map<number, number>, idf: Float32Array): SparseVector {
  const index = new Int32Array(counts.size);
  const value = new Float32Array(counts.size);
  let j = 0;
  let norm = 0;
  for (const [k, c] of counts) {
    const v = (1 + Math.log(c)) * idf[k]!;
    index[j] = k;
    value[j] = v;
    norm += v * v;
    j++;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < value.length; i++) value[i]! /= norm;
  return { index, value };
}
