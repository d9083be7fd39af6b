import type { Command } from 'commander';
import type { ErasureReport } from '../customers/customer.service.js';
import { action, withStore, type CliContext } from './context.js';
import { int } from './format.js';

/** `rapport erase <userId>`: the API's erasure from the terminal, with its report. */
export function registerErase(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('erase <userId>')
    .description('erase a customer and every trace of them (privacy requests), and report what was removed from where; exits 4 when no customer has that user id')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (userId: string, flags: { json?: boolean }) => {
        const c = await ctx();
        const { eraseCustomer } = await import('../customers/customer.service.js');
        const report = await withStore(c, (s) => eraseCustomer(s, userId));
        c.out.write(flags.json ? `${JSON.stringify(report)}\n` : erasureText(report));
      }),
    );
}

/** The report in words: the rows per table, the models, the search index and the files. */
export function erasureText(r: ErasureReport): string {
  const rows = r.removed.filter((t) => t.rows > 0);
  const none = r.removed.filter((t) => t.rows === 0).map((t) => t.table);
  const lines = [`Erased customer "${r.userId}".`, 'Rows removed:', ...rows.map((t) => `  ${t.table}: ${int(t.rows)}`)];
  if (none.length > 0) lines.push(`  (none in ${none.join(', ')})`);
  lines.push('Models:');
  if (r.models.length === 0) lines.push('  none learned from their feedback');
  for (const m of r.models) lines.push(`  ${m.purpose}: ${m.action} (${m.note})`);
  lines.push(`Themes: ${int(r.themes)} theme rows scrubbed of their words and items`);
  lines.push(`Search index: ${int(r.searchIndex.documents)} documents removed${r.searchIndex.merged ? '; full-text segments merged' : ''}`);
  lines.push('Database files:', ...r.storage.actions.map((a) => `  ${a}`));
  if (r.storage.limits.length > 0) lines.push('Not reached by an erasure:', ...r.storage.limits.map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}
