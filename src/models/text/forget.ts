/**
 * Forgetting one person's words in a theme model (an erasure). The vocabulary, the labels and
 * the key phrases of a model are made of the features of every text it was built from: stemmed
 * words, bigrams and character 3-grams (vocabulary.ts). A feature that occurs in the erased
 * person's texts and in no other stored text came from them alone (their name in a message,
 * an order number, a rare word), and goes; a feature others use too stays, since it is theirs
 * as much.
 *
 * Removing a feature cannot change how the model places any text left: no text left has it, so
 * its weight in a centroid never meets a non-zero value. Centroids keep their norms for the
 * same reason (similarities stay as they were), and the theme ids and everything the team did
 * with them (names, merges, pins) stay.
 */
import { countTerms, isWordFeature } from './vocabulary.js';
import type { Theme, ThemeModel } from './themes.js';

/** Every feature of the texts. */
export function featuresOf(texts: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const t of texts) for (const f of countTerms(t).keys()) out.add(f);
  return out;
}

/** Removes from `candidates` the features that `text` has too (it is someone else's). */
export function dropShared(candidates: Set<string>, text: string): void {
  for (const f of countTerms(text).keys()) candidates.delete(f);
}

/** Whether a phrase (a label, a key phrase) has any of the word features. */
export function mentions(phrase: string, features: ReadonlySet<string>): boolean {
  for (const f of countTerms(phrase).keys()) if (isWordFeature(f) && features.has(f)) return true;
  return false;
}

/** The word features of a model's phrases and vocabulary: where a person's words can be. */
export function modelFeatures(model: ThemeModel): Set<string> {
  const out = new Set(model.vocabulary);
  for (const t of model.themes) for (const f of featuresOf([t.label, ...t.keyPhrases])) if (isWordFeature(f)) out.add(f);
  return out;
}

/**
 * A theme's label and key phrases without the phrases that have any of `features`. A label that
 * has one is replaced by the first key phrases left (or `fallback` when none is).
 */
export function scrubPhrases(label: string, keyPhrases: readonly string[], features: ReadonlySet<string>, fallback: string): { label: string; keyPhrases: string[]; changed: boolean } {
  const kept = keyPhrases.filter((p) => !mentions(p, features));
  const badLabel = mentions(label, features);
  const newLabel = badLabel ? kept.slice(0, 3).join(', ') || fallback : label;
  return { label: newLabel, keyPhrases: kept, changed: badLabel || kept.length !== keyPhrases.length };
}

/** Keeps the entries of a sparse vector whose index survives, renumbered. */
function remap(v: { index: number[]; value?: number[]; count?: number[] }, to: Int32Array): { index: number[]; values: number[] } {
  const index: number[] = [];
  const values: number[] = [];
  const src = v.value ?? v.count ?? [];
  v.index.forEach((i, k) => {
    if (to[i]! < 0) return;
    index.push(to[i]!);
    values.push(src[k]!);
  });
  return { index, values };
}

function forgetInTheme(t: Theme, to: Int32Array, features: ReadonlySet<string>): Theme {
  const centroid = remap(t.centroid, to);
  const terms = remap({ index: t.terms.index, count: t.terms.count }, to);
  const phrases = scrubPhrases(t.label, t.keyPhrases, features, `theme ${t.id}`);
  // Quotes are not stored (listening/theme-engine.ts storable) but a model saved before that was may hold them.
  return { ...t, label: phrases.label, keyPhrases: phrases.keyPhrases, quotes: [], centroid: { index: centroid.index, value: centroid.values }, terms: { index: terms.index, count: terms.values } };
}

/**
 * The model without the features in `features` (vocabulary entries, and the phrases made of
 * them), and how many vocabulary entries went.
 */
export function forgetFeatures(model: ThemeModel, features: ReadonlySet<string>): { model: ThemeModel; removed: number } {
  const to = new Int32Array(model.vocabulary.length).fill(-1);
  const keep: number[] = [];
  model.vocabulary.forEach((term, i) => {
    if (features.has(term)) return;
    to[i] = keep.length;
    keep.push(i);
  });
  return {
    model: {
      ...model,
      vocabulary: keep.map((i) => model.vocabulary[i]!),
      idf: keep.map((i) => model.idf[i]!),
      display: keep.map((i) => model.display[i]!),
      themes: model.themes.map((t) => forgetInTheme(t, to, features)),
    },
    removed: model.vocabulary.length - keep.length,
  };
}
