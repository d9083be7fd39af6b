/**
 * `rapport text sentiment`: the sentiment of each row of a CSV (label, score, the cues that
 * decided it), scored against a label column when there is one. Without `--train` the rules
 * read the file and learn its words from their confident readings (sentiment-learn.ts
 * `adapt`); with `--train`, a model learns from the team's labelled examples and the rules.
 * Works on files, without a database.
 */
import { invalid } from '../core/errors.js';
import { round } from '../core/numbers.js';
import { evaluate } from '../models/text/classifier.js';
import type { Sentiment, SentimentLabel } from '../models/text/sentiment.js';
import { adapt, learnSentiment, predictSentiment, type LabelledText, type SentimentModel } from '../models/text/sentiment-learn.js';
import { readTextCsv } from './text-tag.js';

const NAMED: Record<string, SentimentLabel> = { negative: 'negative', neg: 'negative', neutral: 'neutral', neu: 'neutral', positive: 'positive', pos: 'positive' };

interface ReadLabels {
  labels: (SentimentLabel | null)[];
  /** The file's labels are two-valued (0/1, or only negative and positive). */
  binary: boolean;
}

/**
 * Reads a label column as sentiment classes: negative/neutral/positive (or neg/neu/pos, any
 * case), 0/1 (negative/positive), or −1/0/1 (negative/neutral/positive, when −1 occurs).
 */
export function readLabels(raw: readonly (string | null)[], rows: readonly number[], column: string): ReadLabels {
  const values = raw.map((r) => (r === null ? null : r.trim().toLowerCase()));
  const numeric = values.filter((v) => v !== null && /^-?[01]$/.test(v));
  const minusOne = numeric.includes('-1');
  if (numeric.length > 0 && numeric.length < values.filter((v) => v !== null).length) {
    const i = values.findIndex((v) => v !== null && !/^-?[01]$/.test(v));
    throw invalid(column, `mixes numeric labels with named ones ("${raw[i]}")`, rows[i]);
  }
  const labels = values.map((v, i): SentimentLabel | null => {
    if (v === null) return null;
    if (v === '-1' || v === '-0') return 'negative';
    if (v === '0') return minusOne ? 'neutral' : 'negative';
    if (v === '1') return 'positive';
    const l = NAMED[v];
    if (l === undefined) throw invalid(column, `"${raw[i]}" is not a sentiment label (expected negative, neutral, positive, 0/1 or -1/0/1)`, rows[i]);
    return l;
  });
  return { labels, binary: !labels.includes('neutral') };
}

export interface SentimentPrediction {
  row: number;
  label: SentimentLabel;
  score: number;
  cues: { word: string; weight: number }[];
  truth?: SentimentLabel;
}

export interface SentimentFileReport {
  predictions: SentimentPrediction[];
  /** How the file was read: rules with self-training, or a model trained on `--train`. */
  method: string;
  /** The learned model's examples per class, when there is one. */
  model: { source: string; examples: Partial<Record<SentimentLabel, number>>; features: number } | null;
  accuracy?: number;
  macroF1?: number;
  n?: number;
  /** truth → predicted → count, over the labelled rows. */
  confusion?: Record<string, Record<string, number>>;
  /** Two-valued labels: a neutral reading is scored by the sign of its score. */
  binary?: boolean;
  seconds: number;
  warnings: string[];
}

/** Scores one file (see the module comment). */
export function sentimentOfFile(o: { input: string; textColumn: string; labelColumn?: string; train?: string; trainTextColumn?: string; trainLabelColumn?: string }): SentimentFileReport {
  const t0 = performance.now();
  // Rows without a label are read, not refused: only the labelled ones are scored.
  const input = readTextCsv(o.input, o.textColumn, o.labelColumn, false, '--input');
  if (o.labelColumn !== undefined && !input.hasLabelColumn) throw invalid('--label-column', `${o.input} has no column "${o.labelColumn}"`);
  const warnings = [...input.warnings];
  const truth = o.labelColumn !== undefined ? readLabels(input.labels, input.rows, o.labelColumn) : undefined;
  let results: Sentiment[];
  let model: SentimentModel | null;
  let method: string;
  if (o.train !== undefined) {
    const labelColumn = o.trainLabelColumn ?? o.labelColumn ?? 'label';
    const train = readTextCsv(o.train, o.trainTextColumn ?? o.textColumn, labelColumn, true, '--train');
    warnings.push(...train.warnings);
    const labels = readLabels(train.labels, train.rows, labelColumn).labels;
    const examples: LabelledText[] = train.texts.map((text, i) => ({ text, label: labels[i]! }));
    try {
      model = learnSentiment(examples, { source: 'file' });
    } catch (e) {
      throw invalid('--train', (e as Error).message);
    }
    const m = model;
    results = input.texts.map((text) => predictSentiment(m, text));
    method = `a model trained on ${examples.length} labelled examples of ${o.train} (words and the rules' reading)`;
  } else {
    ({ results, model } = adapt(input.texts));
    method = model ? "the rules, and where they found no cue, the words learned from the rules' confident readings of this file" : 'the rules';
  }
  const predictions: SentimentPrediction[] = results.map((r, i) => ({
    row: input.rows[i]!,
    label: r.label,
    score: round(r.score, 4),
    cues: r.cues.map((c) => ({ word: c.word, weight: round(c.weight, 3) })),
    ...(truth?.labels[i] ? { truth: truth.labels[i] } : {}),
  }));
  const report: SentimentFileReport = {
    predictions,
    method,
    model: model ? { source: model.source, examples: model.examples, features: model.vocabulary.size } : null,
    seconds: (performance.now() - t0) / 1000,
    warnings,
  };
  if (truth) {
    const scored = predictions.filter((p) => p.truth !== undefined);
    // With two-valued labels, a neutral reading counts by the sign of its score.
    const predicted = scored.map((p) => (truth.binary && p.label === 'neutral' ? (p.score >= 0 ? 'positive' : 'negative') : p.label));
    Object.assign(report, { ...scoreLabels(scored.map((p) => p.truth!), predicted), binary: truth.binary });
  }
  return report;
}

/** Accuracy, macro-F1 over the true classes (classifier.ts's `evaluate`), and the confusion matrix. */
export function scoreLabels(truth: readonly SentimentLabel[], predicted: readonly SentimentLabel[]): { accuracy: number; macroF1: number; n: number; confusion: Record<string, Record<string, number>> } {
  const confusion: Record<string, Record<string, number>> = {};
  truth.forEach((t, i) => {
    const row = (confusion[t] ??= {});
    row[predicted[i]!] = (row[predicted[i]!] ?? 0) + 1;
  });
  const { accuracy, macroF1, n } = evaluate(truth, predicted);
  return { accuracy: round(accuracy, 4), macroF1: round(macroF1, 4), n, confusion };
}
