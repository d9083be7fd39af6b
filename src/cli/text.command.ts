import type { Command } from 'commander';
import { action, type CliContext } from './context.js';

interface ThemesFlags {
  input: string;
  k: string;
  textColumn: string;
  labelColumn?: string;
  seed: string;
  json?: boolean;
}

interface SentimentFlags {
  input: string;
  textColumn: string;
  labelColumn?: string;
  train?: string;
  json?: boolean;
}

interface TagFlags {
  train: string;
  predict: string;
  textColumn: string;
  labelColumn: string;
  json?: boolean;
}

/** `rapport text …`: text models on files (no database needed). */
export function registerText(program: Command, _ctx: () => Promise<CliContext>): void {
  const text = program.command('text').description('text models on CSV files: sentiment, tagging and themes');
  text
    .command('tag')
    .description('learn tags from a labelled CSV and tag another; with labels in the second file, report accuracy and macro-F1')
    .requiredOption('--train <csv>', 'labelled examples: a text and a label column')
    .requiredOption('--predict <csv>', 'texts to tag (labels optional: when present, the tagging is scored)')
    .option('--text-column <name>', 'text column', 'text')
    .option('--label-column <name>', 'label column', 'category')
    .option('--json', 'print {"accuracy","macroF1","n","predictions":[…]} as JSON')
    .action(
      action(async (flags: TagFlags) => {
        const { tagFiles } = await import('../listening/text-tag.js');
        const r = tagFiles({ train: flags.train, predict: flags.predict, textColumn: flags.textColumn, labelColumn: flags.labelColumn });
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ...(r.n !== undefined ? { accuracy: r.accuracy, macroF1: r.macroF1, n: r.n } : {}), tags: r.tags, trained: r.trained, trainSeconds: r.trainSeconds, method: r.method, predictions: r.predictions.map(({ text: _t, ...p }) => p), warnings: r.warnings })}\n`,
          );
        } else {
          const lines = r.predictions.map((p) => `${p.row}\t${p.label}\t${p.confidence.toFixed(3)}${p.truth !== undefined && p.truth !== p.label ? `\t(labelled ${p.truth})` : ''}`);
          lines.push(`trained on ${r.trained} examples of ${r.tags} tags and tagged in ${r.trainSeconds.toFixed(1)} s; ${r.method}`);
          if (r.n !== undefined) lines.push(`accuracy ${(r.accuracy! * 100).toFixed(1)}%, macro-F1 ${(r.macroF1! * 100).toFixed(1)}% on ${r.n} labelled rows`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      }),
    );
  text
    .command('sentiment')
    .description('the sentiment of each row of a CSV (label, score, the cues that decided it); with a label column, accuracy, macro-F1 and the confusion matrix')
    .requiredOption('--input <csv>', 'texts: a text column (a label column is optional)')
    .option('--text-column <name>', 'text column', 'text')
    .option('--label-column <name>', 'labels to score against (negative/neutral/positive, 0/1 or -1/0/1); also the label column of --train (default there: label)')
    .option('--train <csv>', "the team's own labelled examples (same columns): a model learns from them and the rules")
    .option('--json', 'print {"accuracy","macroF1","n","confusion","method","model","predictions":[{row,label,score,cues}]} as JSON')
    .action(
      action(async (flags: SentimentFlags) => {
        const { sentimentOfFile } = await import('../listening/text-sentiment.js');
        const r = sentimentOfFile({ input: flags.input, textColumn: flags.textColumn, ...(flags.labelColumn !== undefined ? { labelColumn: flags.labelColumn } : {}), ...(flags.train !== undefined ? { train: flags.train } : {}) });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ...(r.n !== undefined ? { accuracy: r.accuracy, macroF1: r.macroF1, n: r.n, confusion: r.confusion, binary: r.binary } : {}), method: r.method, model: r.model, predictions: r.predictions, warnings: r.warnings })}\n`);
        } else {
          const cue = (c: { word: string; weight: number }): string => `${c.word} ${c.weight > 0 ? '+' : ''}${c.weight}`;
          const lines = r.predictions.map((p) => `${p.row}\t${p.label}\t${p.score.toFixed(3)}\t${p.cues.map(cue).join(', ') || 'no cue'}${p.truth !== undefined && p.truth !== p.label ? `\t(labelled ${p.truth})` : ''}`);
          lines.push(`${r.predictions.length} rows in ${r.seconds.toFixed(1)} s; ${r.method}`);
          if (r.n !== undefined) {
            lines.push(`accuracy ${(r.accuracy! * 100).toFixed(1)}%, macro-F1 ${(r.macroF1! * 100).toFixed(1)}% on ${r.n} labelled rows${r.binary ? ' (two-valued labels: a neutral reading counts by the sign of its score)' : ''}`);
            const classes = ['negative', 'neutral', 'positive'].filter((c) => r.confusion![c] !== undefined || Object.values(r.confusion!).some((row) => row[c] !== undefined));
            lines.push(`confusion (rows: labelled, columns: read as): ${classes.join(' / ')}`);
            for (const t of classes) if (r.confusion![t]) lines.push(`  ${t.padEnd(8)} ${classes.map((c) => String(r.confusion![t]![c] ?? 0).padStart(6)).join('')}`);
          }
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      }),
    );
  text
    .command('themes')
    .description('discover the themes of a CSV of feedback: key phrases, size, typical quotes, member rows; with a label column, V-measure against it')
    .requiredOption('--input <csv>', 'feedback: a text column (a label column is optional)')
    .option('--k <n|auto>', 'number of themes, or auto (chosen by silhouette)', 'auto')
    .option('--text-column <name>', 'text column', 'text')
    .option('--label-column <name>', 'label column to score the themes against (default: category, when present)')
    .option('--seed <n>', 'seed: the same seed and file give the same themes', '1')
    .option('--json', 'print {"themes":[{id,label,keyPhrases,size,quotes,rows}], "vMeasure","homogeneity","completeness","n"} as JSON')
    .action(
      action(async (flags: ThemesFlags) => {
        const { invalid } = await import('../core/errors.js');
        const { parseK, themesOfFile } = await import('../listening/text-themes.js');
        const seed = Number(flags.seed);
        if (!Number.isInteger(seed)) throw invalid('--seed', `expected a whole number, got "${flags.seed}"`);
        const r = themesOfFile({ input: flags.input, k: parseK(flags.k), textColumn: flags.textColumn, seed, ...(flags.labelColumn !== undefined ? { labelColumn: flags.labelColumn } : {}) });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ...r, seconds: undefined })}\n`);
        } else {
          const lines: string[] = [];
          r.themes.forEach((t, i) => {
            lines.push(`theme ${t.id} (${t.size} items): ${t.label}`);
            lines.push(`  key phrases: ${t.keyPhrases.join(', ')}`);
            for (const q of t.quotes) lines.push(`  “${q}”`);
            lines.push(`  rows: ${t.rows.slice(0, 20).join(', ')}${t.rows.length > 20 ? ` and ${t.rows.length - 20} more` : ''}`);
            if (i < r.themes.length - 1) lines.push('');
          });
          lines.push('', `${r.themes.length} themes in ${r.seconds.toFixed(1)} s${r.kScores ? ` (k chosen by silhouette among ${r.kScores.map((s) => s.k).join(', ')})` : ''}`);
          if (r.n !== undefined) lines.push(`V-measure ${r.vMeasure!.toFixed(3)} (homogeneity ${r.homogeneity!.toFixed(3)}, completeness ${r.completeness!.toFixed(3)}) on ${r.n} labelled rows`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      }),
    );
}
