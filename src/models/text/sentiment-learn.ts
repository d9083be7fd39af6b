import { seededRandom } from '../random.js';
import { sentiment as ruleSentiment, SENTIMENT_LABELS, type Sentiment, type SentimentCue, type SentimentLabel } from './sentiment.js';

/**
 * Sentiment learned from labels, on top of the rules (sentiment.ts).
 *
 * A multinomial logistic regression reads two kinds of features of a text: its words (unigrams
 * and bigrams, a word after a negation marked as negated until the next punctuation: "not_good",
 * Das & Chen 2001; Pang, Lee & Vaithyanathan 2002) and the rules' own reading of it (their
 * score, their negative and positive evidence, whether it asks a question, how many complaint
 * patterns it has). The rules' features let a few hundred labels go far: the model learns how
 * much to trust the rules in the team's own domain, and the words carry what the lexicon lacks
 * ("rebooked", "connection", "gate agent"). Trained by AdaGrad on the log-loss with L2, classes
 * weighted by the inverse square root of their frequency (so that a rare class is not ignored
 * without giving up the accuracy on the common one).
 *
 * Where the labels come from: a team's labelled file (`rapport text sentiment --train`), the
 * ratings and NPS scores of reviews and surveys, tagged items. Without any labels, {@link adapt}
 * learns the words of the texts at hand from the rules' confident readings of them
 * (self-training: Yarowsky 1995), and uses them only where the rules found nothing to go on.
 */

export interface SentimentModel {
  version: 1;
  /** The classes the model was trained on (two: negative/positive, or all three). */
  classes: SentimentLabel[];
  /** Feature → row in `weights`. */
  vocabulary: Map<string, number>;
  /** vocabulary.size × classes.length, feature-major. */
  weights: Float64Array;
  bias: Float64Array;
  /** Whether the rules' features are part of it (false for a words-only model). */
  rules: boolean;
  /** How many labelled examples of each class it saw. */
  examples: Partial<Record<SentimentLabel, number>>;
  /** Where its labels came from ("file", "ratings", "self-training"). */
  source: string;
}

export interface LabelledText {
  text: string;
  label: SentimentLabel;
  /** How much the example counts (default 1; weak labels less). */
  weight?: number;
}

export interface LearnOptions {
  /** Passes over the examples (default 30). */
  epochs?: number;
  /** L2 penalty per example (default 1e-4). */
  l2?: number;
  /** AdaGrad's step (default 0.5). */
  rate?: number;
  /** Read the rules' features too (default true). */
  rules?: boolean;
  seed?: number;
  source?: string;
}

const NEGATORS = /^(?:not|no|never|cannot|nothing|nobody|none|neither|nor|without|hardly|barely|.*n't)$/;
const TOKEN = /[a-z0-9]+(?:'[a-z]+)?|[!?.,;:]/g;

/** The word features of a text: negation-marked unigrams and plain bigrams, each once. */
export function wordFeatures(text: string): string[] {
  const tokens = text.toLowerCase().replace(/[’‘]/g, "'").match(TOKEN) ?? [];
  const out = new Set<string>();
  let negated = false;
  let prev: string | undefined;
  for (const t of tokens) {
    if (/^[!?.,;:]$/.test(t)) {
      negated = false;
      prev = undefined;
      if (t === '!' || t === '?') out.add(t);
      continue;
    }
    out.add(negated ? `not_${t}` : t);
    if (prev !== undefined) out.add(`${prev} ${t}`);
    prev = t;
    if (NEGATORS.test(t)) negated = true;
  }
  return [...out];
}

/** The rules' reading of a text as features (name → value, about −1…1). */
export function ruleFeatures(s: Sentiment): [string, number][] {
  let pos = 0;
  let neg = 0;
  let patterns = 0;
  let question = 0;
  for (const c of s.cues) {
    if (c.weight > 0) pos += c.weight;
    else neg -= c.weight;
    if (c.word.includes(' ') && !c.word.endsWith('(question)')) patterns++;
    if (c.word.endsWith('(question)')) question = 1;
  }
  return [
    ['rules: score', s.score],
    ['rules: positive evidence', Math.tanh(pos / 4)],
    ['rules: negative evidence', Math.tanh(neg / 4)],
    ['rules: complaint patterns', Math.min(1, patterns / 2)],
    ['rules: question', question],
    ['rules: no evidence', s.cues.length === 0 ? 1 : 0],
  ];
}

interface Encoded {
  index: Int32Array;
  value: Float64Array;
}

function encode(model: Pick<SentimentModel, 'vocabulary' | 'rules'>, text: string, rules: Sentiment | undefined, grow: boolean): Encoded {
  const idx: number[] = [];
  const val: number[] = [];
  const words = wordFeatures(text);
  const w = words.length > 0 ? 1 / Math.sqrt(words.length) : 0;
  const add = (f: string, v: number): void => {
    let i = model.vocabulary.get(f);
    if (i === undefined) {
      if (!grow) return;
      i = model.vocabulary.size;
      model.vocabulary.set(f, i);
    }
    idx.push(i);
    val.push(v);
  };
  for (const f of words) add(f, w);
  if (model.rules) for (const [f, v] of ruleFeatures(rules ?? ruleSentiment(text))) add(f, v);
  return { index: Int32Array.from(idx), value: Float64Array.from(val) };
}

function logits(model: SentimentModel, x: Encoded, out: Float64Array): Float64Array {
  const k = model.classes.length;
  for (let c = 0; c < k; c++) out[c] = model.bias[c]!;
  for (let j = 0; j < x.index.length; j++) {
    const row = x.index[j]! * k;
    const v = x.value[j]!;
    for (let c = 0; c < k; c++) out[c]! += model.weights[row + c]! * v;
  }
  return out;
}

function softmax(z: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += z[c] = Math.exp(z[c]! - m);
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
  return z;
}

/** Trains a model on labelled texts (at least one example of two classes). */
export function learnSentiment(examples: readonly LabelledText[], options: LearnOptions = {}): SentimentModel {
  const present = SENTIMENT_LABELS.filter((l) => examples.some((e) => e.label === l));
  if (present.length < 2) throw new RangeError(`sentiment needs labelled examples of at least two classes (got ${present.join(', ') || 'none'})`);
  const counts: Partial<Record<SentimentLabel, number>> = {};
  for (const e of examples) counts[e.label] = (counts[e.label] ?? 0) + 1;
  const model: SentimentModel = { version: 1, classes: present, vocabulary: new Map(), weights: new Float64Array(0), bias: new Float64Array(present.length), rules: options.rules ?? true, examples: counts, source: options.source ?? 'labels' };
  const xs = examples.map((e) => encode(model, e.text, undefined, true));
  const ys = examples.map((e) => present.indexOf(e.label));
  const k = present.length;
  const maxCount = Math.max(...present.map((l) => counts[l] ?? 0));
  const classWeight = present.map((l) => Math.sqrt(maxCount / (counts[l] ?? 1)));
  model.weights = new Float64Array(model.vocabulary.size * k);
  const g2 = new Float64Array(model.weights.length).fill(1e-8);
  const gb = new Float64Array(k).fill(1e-8);
  const epochs = options.epochs ?? 30;
  const l2 = options.l2 ?? 1e-4;
  const rate = options.rate ?? 0.5;
  const random = seededRandom(options.seed ?? 7);
  const order = Array.from(examples, (_, i) => i);
  const p = new Float64Array(k);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const n of order) {
      const x = xs[n]!;
      softmax(logits(model, x, p));
      const scale = classWeight[ys[n]!]! * (examples[n]!.weight ?? 1);
      for (let c = 0; c < k; c++) {
        const g = (p[c]! - (c === ys[n] ? 1 : 0)) * scale;
        gb[c]! += g * g;
        model.bias[c]! -= (rate * g) / Math.sqrt(gb[c]!);
        for (let j = 0; j < x.index.length; j++) {
          const at = x.index[j]! * k + c;
          const gw = g * x.value[j]! + l2 * model.weights[at]!;
          g2[at]! += gw * gw;
          model.weights[at]! -= (rate * gw) / Math.sqrt(g2[at]!);
        }
      }
    }
  }
  return model;
}

export interface LearnedSentiment extends Sentiment {
  /** The probability of each class the model knows. */
  probabilities: Partial<Record<SentimentLabel, number>>;
}

/** How many learned features an explanation lists. */
const EXPLAINED = 6;

/**
 * Scores a text with a learned model: label = the most probable class, score = P(positive) −
 * P(negative), cues = the rules' cues and then the learned features that moved the score most
 * (`learned: "rebooked"` with its weight on the positive-minus-negative logit).
 */
export function predictSentiment(model: SentimentModel, text: string, rules: Sentiment = ruleSentiment(text)): LearnedSentiment {
  const x = encode(model, text, rules, false);
  const k = model.classes.length;
  const p = softmax(logits(model, x, new Float64Array(k)));
  const probabilities: Partial<Record<SentimentLabel, number>> = {};
  model.classes.forEach((c, i) => (probabilities[c] = p[i]!));
  let best = 0;
  for (let c = 1; c < k; c++) if (p[c]! > p[best]!) best = c;
  const ip = model.classes.indexOf('positive');
  const ineg = model.classes.indexOf('negative');
  const score = (ip >= 0 ? p[ip]! : 0) - (ineg >= 0 ? p[ineg]! : 0);
  const names = [...model.vocabulary.keys()];
  const learned: SentimentCue[] = [];
  for (let j = 0; j < x.index.length; j++) {
    const row = x.index[j]! * k;
    const w = ((ip >= 0 ? model.weights[row + ip]! : 0) - (ineg >= 0 ? model.weights[row + ineg]! : 0)) * x.value[j]!;
    if (Math.abs(w) > 1e-3) learned.push({ word: `learned: ${names[x.index[j]!]}`, weight: w });
  }
  learned.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  return { score, label: model.classes[best]!, cues: [...rules.cues, ...learned.slice(0, EXPLAINED)], probabilities };
}

/** A score from the learned lean alone is kept small: it is a lean, not a judgement. */
const NO_EVIDENCE_SCALE = 0.25;

export interface AdaptOptions {
  /** Rule scores at least this far from 0 are taken as labels (default 0.3). */
  confident?: number;
  /** Where the rules found no evidence, the learned lean decides when P(pos) − P(neg) is at least this far from 0 (default 0.2). */
  lean?: number;
}

/**
 * Sentiment of many texts without labels: the rules read each; their confident readings train
 * a words-only model on these very texts (self-training), whose lean decides the statements in
 * which the rules found no evidence at all. A text with rule cues keeps the rules' reading, and
 * a question without cues stays neutral.
 */
export function adapt(texts: readonly string[], options: AdaptOptions = {}): { results: Sentiment[]; model: SentimentModel | null } {
  const confident = options.confident ?? 0.3;
  const lean = options.lean ?? 0.2;
  const rules = texts.map((t) => ruleSentiment(t));
  const examples: LabelledText[] = [];
  rules.forEach((r, i) => {
    if (Math.abs(r.score) >= confident) examples.push({ text: texts[i]!, label: r.score > 0 ? 'positive' : 'negative' });
  });
  if (!examples.some((e) => e.label === 'positive') || !examples.some((e) => e.label === 'negative')) return { results: rules, model: null };
  const model = learnSentiment(examples, { rules: false, source: 'self-training', epochs: 15 });
  const results = rules.map((r, i) => {
    // A text with cues keeps the rules' reading; a question without any stays neutral (it asks).
    if (r.cues.length > 0 || texts[i]!.includes('?')) return r;
    const m = predictSentiment(model, texts[i]!, r);
    const score = m.score * NO_EVIDENCE_SCALE;
    const label: SentimentLabel = Math.abs(m.score) < lean ? 'neutral' : m.score > 0 ? 'positive' : 'negative';
    return { score, label, cues: m.cues } satisfies Sentiment;
  });
  return { results, model };
}


/** A model as plain data (for the models table): the vocabulary as a list of features in row order. */
export interface StoredSentimentModel {
  version: 1;
  classes: SentimentLabel[];
  features: string[];
  weights: Float64Array;
  bias: Float64Array;
  rules: boolean;
  examples: Partial<Record<SentimentLabel, number>>;
  source: string;
}

export function storeSentimentModel(m: SentimentModel): StoredSentimentModel {
  return { version: 1, classes: m.classes, features: [...m.vocabulary.keys()], weights: m.weights, bias: m.bias, rules: m.rules, examples: m.examples, source: m.source };
}

export function loadSentimentModel(s: StoredSentimentModel): SentimentModel {
  return { version: 1, classes: s.classes, vocabulary: new Map(s.features.map((f, i) => [f, i])), weights: s.weights, bias: s.bias, rules: s.rules, examples: s.examples, source: s.source };
}

/**
 * Sentiment labels from ratings: 1–5 stars (1–2 negative, 3 neutral, 4–5 positive) or, when the
 * scale goes above 5, 0–10 as NPS (0–6 detractors negative, 7–8 passives neutral, 9–10
 * promoters positive). `max` is the largest rating of the same kind of feedback. Ratings off
 * those scales give no label.
 */
export function labelOfRating(rating: number, max: number): SentimentLabel | undefined {
  if (!Number.isFinite(rating)) return undefined;
  if (max > 5) {
    if (rating < 0 || rating > 10) return undefined;
    return rating <= 6 ? 'negative' : rating <= 8 ? 'neutral' : 'positive';
  }
  if (rating < 1 || rating > 5) return undefined;
  return rating < 2.5 ? 'negative' : rating < 3.5 ? 'neutral' : 'positive';
}
