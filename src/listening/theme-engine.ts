/**
 * The theme model as the listening run uses it: discovery over stored feedback, assignment of
 * new items, and splits, on top of src/models/text/themes.ts. This layer only maps between
 * the model's theme ids and item positions; the model stays plain JSON for `text_models`.
 */
import { assignThemes as assignModel, discoverThemes, splitTheme as splitModel, type ThemeModel } from '../models/text/themes.js';
import { vectorize } from '../models/text/vocabulary.js';

export type ThemeEngineModel = ThemeModel;

export interface BuiltTheme {
  /** The model's id of the theme. */
  modelId: number;
  label: string;
  keyPhrases: string[];
  /** The general bucket (contentless feedback). */
  general: boolean;
  /** Indices (into the texts) of the most typical members. */
  quotes: number[];
  size: number;
}

export interface BuildResult {
  model: ThemeEngineModel;
  /** Position of each text's theme in `themes`, −1 when none. */
  theme: Int32Array;
  similarity: Float64Array;
  themes: BuiltTheme[];
}

/** Positions of the quoted texts: the first member with each quote's text. */
function quoteIndices(quotes: readonly string[], members: readonly number[], texts: readonly string[]): number[] {
  const out: number[] = [];
  for (const q of quotes) {
    const i = members.find((m) => texts[m] === q);
    if (i !== undefined) out.push(i);
  }
  return out;
}

/** Discovers themes in `texts` (k a number or 'auto'), seeded. */
export function buildThemes(texts: readonly string[], opts: { k: number | 'auto'; seed: number }): BuildResult {
  const k = opts.k === 'auto' ? 'auto' : Math.min(opts.k, Math.max(2, Math.floor(texts.length / 2)));
  const d = discoverThemes(texts, { k, seed: opts.seed });
  const theme = Int32Array.from(d.assignment);
  const similarity = Float64Array.from(d.similarity);
  const members: number[][] = d.model.themes.map(() => []);
  theme.forEach((t, i) => {
    if (t >= 0) members[t]!.push(i);
  });
  const themes = d.model.themes.map((t, j) => ({
    modelId: t.id,
    label: t.label,
    keyPhrases: t.keyPhrases,
    general: t.general === true,
    quotes: quoteIndices(t.quotes, members[j]!, texts),
    size: members[j]!.length,
  }));
  return { model: d.model, theme, similarity, themes };
}

/** Model theme id (or −1: a new-theme candidate) and similarity of each text. */
export function assignThemes(model: ThemeEngineModel, texts: readonly string[]): { theme: Int32Array; similarity: Float64Array } {
  const a = assignModel(model, texts);
  return { theme: Int32Array.from(a, (x) => x.theme ?? -1), similarity: Float64Array.from(a, (x) => x.similarity) };
}

/**
 * Splits a theme of the model in `k` over its member texts: the new model, and for each
 * member the model id of the part it falls in.
 */
export function splitThemes(model: ThemeEngineModel, modelId: number, memberTexts: readonly string[], k: number, seed: number): { model: ThemeEngineModel; parts: BuiltTheme[]; partOf: Int32Array } {
  const index = model.themes.findIndex((t) => t.id === modelId);
  if (index < 0) throw new RangeError(`theme ${modelId} is not in the model`);
  const next = splitModel(model, index, memberTexts, k, seed);
  const old = new Set(model.themes.map((t) => t.id));
  const partIds = next.themes.filter((t) => !old.has(t.id)).map((t) => t.id);
  const a = assignModel({ ...next, themes: next.themes.filter((t) => partIds.includes(t.id)) }, memberTexts, { minSimilarity: -1 });
  const partOf = Int32Array.from(a, (x) => x.nearest);
  const parts = next.themes
    .filter((t) => partIds.includes(t.id))
    .map((t) => {
      const members = [...partOf.keys()].filter((i) => partOf[i] === t.id);
      return { modelId: t.id, label: t.label, keyPhrases: t.keyPhrases, general: false, quotes: quoteIndices(t.quotes, members, memberTexts), size: members.length };
    });
  return { model: next, parts, partOf };
}

/**
 * How similar (cosine, in the model's TF-IDF space) a text must be to an item a person moved
 * by hand to go where that item went: near-copies and rewordings of it, not merely texts on a
 * neighbouring topic (two messages of one BANKING77 intent are typically 0.2–0.5 apart).
 */
export const PIN_SIMILARITY = 0.7;

/**
 * For each text, the index of the moved item (`pinned`, their texts) it nearly repeats, the
 * most similar one at or above {@link PIN_SIMILARITY}, or −1.
 */
export function followPins(model: ThemeEngineModel, texts: readonly string[], pinned: readonly string[]): Int32Array {
  const out = new Int32Array(texts.length).fill(-1);
  if (pinned.length === 0 || texts.length === 0) return out;
  const vocab = { terms: model.vocabulary, idf: Float64Array.from(model.idf), display: model.display };
  const p = vectorize(pinned, vocab);
  const x = vectorize(texts, vocab);
  // An inverted index of the pinned rows: feature → [row, weight].
  const postings = new Map<number, [number, number][]>();
  for (let r = 0; r < p.rows; r++)
    for (let q = p.start[r]!; q < p.start[r + 1]!; q++) {
      let l = postings.get(p.index[q]!);
      if (!l) postings.set(p.index[q]!, (l = []));
      l.push([r, p.value[q]!]);
    }
  const score = new Float64Array(p.rows);
  for (let i = 0; i < x.rows; i++) {
    score.fill(0);
    for (let q = x.start[i]!; q < x.start[i + 1]!; q++) for (const [r, w] of postings.get(x.index[q]!) ?? []) score[r]! += w * x.value[q]!;
    let best = -1;
    for (let r = 0; r < p.rows; r++) if (score[r]! >= PIN_SIMILARITY && (best < 0 || score[r]! > score[best]!)) best = r;
    out[i] = best;
  }
  return out;
}

/**
 * The model as stored: without the verbatim quotes (they are kept as feedback ids on the theme
 * rows), so that erasing a customer leaves none of their words in `text_models`.
 */
export function storable(model: ThemeEngineModel): ThemeEngineModel {
  return { ...model, themes: model.themes.map((t) => ({ ...t, quotes: [] })) };
}
