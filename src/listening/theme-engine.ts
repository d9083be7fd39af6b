/**
 * The theme model behind the listening run: discover themes in texts, and assign new texts
 * to stored themes. Interim engine (word TF-IDF, spherical k-means); the model is plain JSON.
 */
import { kmeans } from '../models/segments/kmeans.js';

export interface ThemeEngineModel {
  vocabulary: string[];
  idf: number[];
  centroids: number[][];
  minSimilarity: number;
}

export interface BuiltTheme {
  label: string;
  keyPhrases: string[];
  /** Indices (into the texts) of the most typical members. */
  quotes: number[];
  size: number;
}

export interface BuildResult {
  model: ThemeEngineModel;
  /** Theme index per text, −1 when none. */
  theme: Int32Array;
  similarity: Float64Array;
  themes: BuiltTheme[];
}

const STOP = new Set('a an the and or but if to of in on at for with from by is are was were be been it its this that my me i you your we our they them he she his her not no so do does did have has had can could would will just as about very too also there here what when how why which who than then into out up down off over again more most some any all am'.split(' '));

function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).filter((w) => w.length > 1 && !STOP.has(w));
}

function vectorize(text: string, index: Map<string, number>, idf: number[]): Map<number, number> {
  const v = new Map<number, number>();
  for (const w of tokens(text)) {
    const k = index.get(w);
    if (k !== undefined) v.set(k, (v.get(k) ?? 0) + 1);
  }
  let norm = 0;
  for (const [k, c] of v) {
    const x = (1 + Math.log(c)) * idf[k]!;
    v.set(k, x);
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (const [k, x] of v) v.set(k, x / norm);
  return v;
}

function dot(v: Map<number, number>, c: number[]): number {
  let s = 0;
  for (const [k, x] of v) s += x * c[k]!;
  return s;
}

export function buildThemes(texts: readonly string[], opts: { k: number | 'auto'; seed: number }): BuildResult {
  const df = new Map<string, number>();
  for (const t of texts) for (const w of new Set(tokens(t))) df.set(w, (df.get(w) ?? 0) + 1);
  const vocabulary = [...df].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3000).map(([w]) => w);
  const index = new Map(vocabulary.map((w, i) => [w, i]));
  const idf = vocabulary.map((w) => Math.log((1 + texts.length) / (1 + df.get(w)!)) + 1);
  const vecs = texts.map((t) => vectorize(t, index, idf));
  const d = vocabulary.length;
  const k = opts.k === 'auto' ? Math.max(2, Math.min(40, Math.round(Math.sqrt(texts.length / 4)))) : opts.k;
  const dense = new Float64Array(texts.length * d);
  vecs.forEach((v, i) => {
    for (const [j, x] of v) dense[i * d + j] = x;
  });
  const km = kmeans(dense, d, Math.min(k, texts.length), { seed: opts.seed, restarts: 2 });
  const centroids: number[][] = [];
  for (let c = 0; c < k; c++) {
    const row = Array.from(km.centroids.subarray(c * d, (c + 1) * d));
    const n = Math.sqrt(row.reduce((s, x) => s + x * x, 0)) || 1;
    centroids.push(row.map((x) => x / n));
  }
  const theme = new Int32Array(texts.length);
  const similarity = new Float64Array(texts.length);
  vecs.forEach((v, i) => {
    let best = -1;
    let bs = 0;
    centroids.forEach((c, j) => {
      const s = dot(v, c);
      if (s > bs) [best, bs] = [j, s];
    });
    theme[i] = best;
    similarity[i] = bs;
  });
  const themes: BuiltTheme[] = centroids.map((c, j) => {
    const top = c
      .map((x, w) => [x, w] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 6)
      .map(([, w]) => vocabulary[w]!);
    const members = [...theme.keys()].filter((i) => theme[i] === j).sort((a, b) => similarity[b]! - similarity[a]!);
    return { label: top.slice(0, 3).join(' · '), keyPhrases: top, quotes: members.slice(0, 3), size: members.length };
  });
  return { model: { vocabulary, idf, centroids, minSimilarity: 0.15 }, theme, similarity, themes };
}

export function assignThemes(model: ThemeEngineModel, texts: readonly string[]): { theme: Int32Array; similarity: Float64Array } {
  const index = new Map(model.vocabulary.map((w, i) => [w, i]));
  const theme = new Int32Array(texts.length).fill(-1);
  const similarity = new Float64Array(texts.length);
  texts.forEach((t, i) => {
    const v = vectorize(t, index, model.idf);
    model.centroids.forEach((c, j) => {
      const s = dot(v, c);
      if (s > similarity[i]!) {
        similarity[i] = s;
        theme[i] = j;
      }
    });
    if (similarity[i]! < model.minSimilarity) theme[i] = -1;
  });
  return { theme, similarity };
}
