/**
 * The theme model as the listening run uses it: discovery over stored feedback, assignment of
 * new items, and splits, on top of src/models/text/themes.ts. This layer only maps between
 * the model's theme ids and item positions; the model stays plain JSON for `text_models`.
 */
import { assignThemes as assignModel, discoverThemes, splitTheme as splitModel, type ThemeModel } from '../models/text/themes.js';

export type ThemeEngineModel = ThemeModel;

export interface BuiltTheme {
  /** The model's id of the theme. */
  modelId: number;
  label: string;
  keyPhrases: string[];
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
      return { modelId: t.id, label: t.label, keyPhrases: t.keyPhrases, quotes: quoteIndices(t.quotes, members, memberTexts), size: members.length };
    });
  return { model: next, parts, partOf };
}

/**
 * The model as stored: without the verbatim quotes (they are kept as feedback ids on the theme
 * rows), so that erasing a customer leaves none of their words in `text_models`.
 */
export function storable(model: ThemeEngineModel): ThemeEngineModel {
  return { ...model, themes: model.themes.map((t) => ({ ...t, quotes: [] })) };
}
