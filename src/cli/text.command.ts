import type { Command } from 'commander';
import { action, type CliContext } from './context.js';

interface TagFlags {
  train: string;
  predict: string;
  textColumn: string;
  labelColumn: string;
  json?: boolean;
}

/** `rapport text …`: text models on files (no database needed). */
export function registerText(program: Command, _ctx: () => Promise<CliContext>): void {
  const text = program.command('text').description('text models on CSV files: tagging (themes and search come next)');
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
        const { tagFiles } = await import('../text/tag.js');
        const r = tagFiles({ train: flags.train, predict: flags.predict, textColumn: flags.textColumn, labelColumn: flags.labelColumn });
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ...(r.n !== undefined ? { accuracy: r.accuracy, macroF1: r.macroF1, n: r.n } : {}), tags: r.tags, trained: r.trained, trainSeconds: r.trainSeconds, predictions: r.predictions.map(({ text: _t, ...p }) => p), warnings: r.warnings })}\n`,
          );
        } else {
          const lines = r.predictions.map((p) => `${p.row}\t${p.label}\t${p.confidence.toFixed(3)}${p.truth !== undefined && p.truth !== p.label ? `\t(labelled ${p.truth})` : ''}`);
          lines.push(`trained on ${r.trained} examples of ${r.tags} tags in ${r.trainSeconds.toFixed(1)} s`);
          if (r.n !== undefined) lines.push(`accuracy ${(r.accuracy! * 100).toFixed(1)}%, macro-F1 ${(r.macroF1! * 100).toFixed(1)}% on ${r.n} labelled rows`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      }),
    );
}
