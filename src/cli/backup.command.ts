import type { Command } from 'commander';
import { action, READS_ONLY, withStore, type CliContext } from './context.js';

export function registerBackup(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('backup <file>')
    .description('write a consistent, checked copy of the SQLite database while it is in use (an older copy at <file> is replaced once the new one is complete)')
    .action(
      action(async (file: string) => {
        const c = await ctx();
        const { backup } = await import('../store/db.js');
        const r = await withStore(c, (s) => backup(s, file), READS_ONLY);
        c.out.write(`Backup written to ${file} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.tables} tables, checked${r.replaced ? '; the older copy there was replaced' : ''})\n`);
      }),
    );
}
