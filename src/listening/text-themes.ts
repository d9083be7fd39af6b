/**
 * `rapport text themes`: discover the themes of a CSV of feedback, and score them against a
 * label column when the file has one. Works on files, without a database.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { invalid } from '../core/errors.js';
import { discoverThemes } from '../models/text/themes.js';
import { vMeasure } from '../models/text/vmeasure.js';
import { readTextCsv } from './text-tag.js';

export interface ThemesReport {
  themes: { id: number; label: string; keyPhrases: string[]; size: number; quotes: string[]; rows: number[] }[];
  /** With k = 'auto': the silhouette of each k tried. */
  kScores?: { k: number; silhouette: number }[];
  /** When the file has labels: agreement of the themes with them (Rosenberg & Hirschberg 2007). */
  vMeasure?: number;
  homogeneity?: number;
  completeness?: number;
  n?: number;
  seconds: number;
  warnings: string[];
}

/** Parses `--k`: a positive integer or 'auto'. */
export function parseK(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const k = Number(value);
  if (!Number.isInteger(k) || k < 1) throw invalid('--k', `expected a positive whole number or "auto", got "${value}"`);
  return k;
}

function hasColumn(file: string, column: string): boolean {
  try {
    const head = fs.readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    const records: string[][] = parse(head, { bom: true, relax_column_count: true });
    const cols = records[0] ?? [];
    return cols.includes(column);
  } catch {
    return false;
  }
}

/**
 * Reads the file, discovers themes, and reports them with the data row numbers of their
 * members (1 = first row after the header). `labelColumn` given explicitly must exist; the
 * default (`category`) is used only when present.
 *
 * @example themesOfFile({ input: 'feedback.csv', k: 'auto', textColumn: 'text', seed: 1 })
 */
export function themesOfFile(o: { input: string; k: number | 'auto'; textColumn: string; labelColumn?: string; seed: number }): ThemesReport {
  const labelColumn = o.labelColumn ?? 'category';
  const needLabels = o.labelColumn !== undefined;
  const d = readTextCsv(o.input, o.textColumn, labelColumn, false, '--input');
  if (needLabels && !hasColumn(o.input, labelColumn)) throw invalid('--label-column', `${o.input} has no column "${labelColumn}"`);
  const warnings = [...d.warnings];
  if (d.texts.length === 0) throw invalid('--input', `${o.input} has no rows with a text in column "${o.textColumn}"`);
  if (typeof o.k === 'number' && o.k > d.texts.length) throw invalid('--k', `${o.k} themes need at least ${o.k} texts, the file has ${d.texts.length}`);
  const t0 = performance.now();
  const r = discoverThemes(d.texts, { k: o.k, seed: o.seed });
  const seconds = (performance.now() - t0) / 1000;
  const rows: number[][] = r.model.themes.map(() => []);
  r.assignment.forEach((t, i) => rows[t]!.push(d.rows[i]!));
  const report: ThemesReport = {
    themes: r.model.themes.map((t, i) => ({ id: t.id, label: t.label, keyPhrases: t.keyPhrases, size: t.size, quotes: t.quotes, rows: rows[i]! })),
    ...(r.kScores ? { kScores: r.kScores } : {}),
    seconds,
    warnings,
  };
  const labelled = d.labels.map((l, i) => [l, i] as const).filter(([l]) => l !== null);
  if (labelled.length > 0) {
    if (labelled.length < d.texts.length) warnings.push(`${d.texts.length - labelled.length} rows have no label in column "${labelColumn}": scored on the ${labelled.length} that do`);
    const v = vMeasure(
      labelled.map(([l]) => l!),
      labelled.map(([, i]) => r.assignment[i]!),
    );
    report.vMeasure = v.vMeasure;
    report.homogeneity = v.homogeneity;
    report.completeness = v.completeness;
    report.n = v.n;
  }
  return report;
}
