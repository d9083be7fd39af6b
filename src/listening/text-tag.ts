/**
 * `rapport text tag`: learn tags from a labelled CSV, tag another, and score the result when
 * the second file has labels too. Works on files, without a database.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { invalid, RapportError } from '../core/errors.js';
import { round } from '../core/numbers.js';
import { evaluate } from '../models/text/classifier.js';
import { trainAndTag } from '../models/text/transduce.js';
import { detectLanguage } from '../models/text/language.js';

/** Longer texts are cut here (and the cut is reported): support messages rarely need more. */
export const MAX_TEXT = 10_000;

export interface LabelledRows {
  texts: string[];
  labels: (string | null)[];
  /** 1-based data row numbers (1 = first row after the header). */
  rows: number[];
  warnings: string[];
  /** Rows per detected language (ISO 639-1; `und` when too short to tell). */
  languages: Record<string, number>;
  /** Whether the file has the label column. */
  hasLabelColumn: boolean;
}

/** A detection at least this sure counts when rows in other languages are reported. */
const LANGUAGE_CONFIDENCE = 0.5;

export function readTextCsv(file: string, textColumn: string, labelColumn: string | undefined, needLabels: boolean, flag: string): LabelledRows {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw invalid(flag, `cannot read ${file}: ${(e as Error).message}`);
  }
  const utf8 = new TextDecoder('utf-8', { fatal: false }).decode(raw);
  let records: string[][];
  try {
    records = parse(utf8, { relax_column_count: true, skip_empty_lines: true, bom: true });
  } catch (e) {
    throw invalid(flag, `${file} is not valid CSV: ${(e as Error).message}`);
  }
  const header = records[0];
  if (!header) throw invalid(flag, `${file} is empty`);
  const ti = header.indexOf(textColumn);
  if (ti < 0) throw invalid('--text-column', `${file} has no column "${textColumn}" (columns: ${header.join(', ')})`);
  const li = labelColumn === undefined ? -1 : header.indexOf(labelColumn);
  if (needLabels && li < 0) throw invalid('--label-column', `${file} has no column "${labelColumn ?? ''}" (columns: ${header.join(', ')})`);
  const out: LabelledRows = { texts: [], labels: [], rows: [], warnings: [], languages: {}, hasLabelColumn: li >= 0 };
  const langOf: (string | null)[] = [];
  const empty: number[] = [];
  const cut: number[] = [];
  const garbled: number[] = [];
  for (let r = 1; r < records.length; r++) {
    let text = (records[r]![ti] ?? '').trim();
    if (text.length === 0) {
      empty.push(r);
      continue;
    }
    if (text.includes('\uFFFD')) garbled.push(r);
    if (text.length > MAX_TEXT) {
      text = text.slice(0, MAX_TEXT);
      cut.push(r);
    }
    const label = li >= 0 ? (records[r]![li] ?? '').trim() : '';
    if (needLabels && label.length === 0) throw invalid(labelColumn!, 'a training row needs a label', r);
    out.texts.push(text);
    out.labels.push(label.length > 0 ? label : null);
    out.rows.push(r);
    const lang = detectLanguage(text);
    out.languages[lang.lang] = (out.languages[lang.lang] ?? 0) + 1;
    langOf.push(lang.confidence >= LANGUAGE_CONFIDENCE && lang.lang !== 'und' ? lang.lang : null);
  }
  // Rows confidently in another language than the file's main one are kept, and reported:
  // n-grams learned from one language say little about another.
  const main = Object.entries(out.languages)
    .filter(([l]) => l !== 'und')
    .sort((a, b) => b[1] - a[1])[0]?.[0];
  const foreign = out.rows.filter((_, i) => langOf[i] !== null && langOf[i] !== main);
  const list = (rows: number[]): string => `${rows.slice(0, 5).join(', ')}${rows.length > 5 ? ` and ${rows.length - 5} more` : ''}`;
  if (empty.length > 0) out.warnings.push(`${file}: ${empty.length} rows with an empty text were left out (rows ${list(empty)})`);
  if (cut.length > 0) out.warnings.push(`${file}: ${cut.length} texts longer than ${MAX_TEXT} characters were cut (rows ${list(cut)})`);
  if (garbled.length > 0) out.warnings.push(`${file}: ${garbled.length} rows are not valid UTF-8; undecodable bytes were replaced (rows ${list(garbled)})`);
  if (foreign.length > 0) {
    const by = new Map<string, number>();
    out.rows.forEach((_, i) => {
      const l = langOf[i] ?? null;
      if (l !== null && l !== undefined && l !== main) by.set(l, (by.get(l) ?? 0) + 1);
    });
    const langs = [...by].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
    out.warnings.push(`${file}: ${foreign.length} rows are in another language than most (${main}): ${langs} (rows ${list(foreign)}); they are kept, but tags learned from ${main} texts fit them poorly`);
  }
  return out;
}

export interface TagReport {
  tags: number;
  trained: number;
  /** Seconds to train and tag the whole file. */
  trainSeconds: number;
  /** How the file was tagged: by the model alone, or through its neighbourhoods with few examples. */
  method: string;
  predictions: { row: number; text: string; label: string; confidence: number; truth?: string }[];
  /** When the predict file has labels. */
  accuracy?: number;
  macroF1?: number;
  n?: number;
  warnings: string[];
}

export function tagFiles(o: { train: string; predict: string; textColumn: string; labelColumn: string }): TagReport {
  const tr = readTextCsv(o.train, o.textColumn, o.labelColumn, true, '--train');
  const pr = readTextCsv(o.predict, o.textColumn, o.labelColumn, false, '--predict');
  const warnings = [...tr.warnings, ...pr.warnings];
  const perTag = new Map<string, number>();
  for (const l of tr.labels) perTag.set(l!, (perTag.get(l!) ?? 0) + 1);
  if (perTag.size < 2) throw new RapportError('invalid_input', `--train: at least two different tags are needed, found ${perTag.size}`);
  const single = [...perTag].filter(([, n]) => n === 1).map(([t]) => t);
  if (single.length > 0) warnings.push(`${single.length} tags have a single example (${single.slice(0, 5).join(', ')}): label a few more for reliable tagging`);
  const t0 = performance.now();
  // The texts to tag are given too: the word vectors and, with few examples per tag, the batch's
  // neighbourhoods learn from them (they carry no labels).
  const tagged = trainAndTag(tr.texts, tr.labels as string[], pr.texts);
  const trainSeconds = (performance.now() - t0) / 1000;
  const predictions = pr.texts.map((text, i) => {
    const p = tagged.predictions[i]!;
    const truth = pr.labels[i];
    return { row: pr.rows[i]!, text, label: p.label, confidence: round(p.confidence, 3), ...(truth ? { truth } : {}) };
  });
  const report: TagReport = { tags: perTag.size, trained: tr.texts.length, trainSeconds, method: tagged.method.reason, predictions, warnings };
  const labelled = predictions.filter((p) => p.truth !== undefined);
  if (labelled.length > 0) {
    const e = evaluate(
      labelled.map((p) => p.truth!),
      labelled.map((p) => p.label),
    );
    report.accuracy = e.accuracy;
    report.macroF1 = e.macroF1;
    report.n = e.n;
  }
  return report;
}
