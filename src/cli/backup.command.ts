import type { Command } from 'commander';
import { action, withStore, type CliContext } from './context.js';
import { backup } from '../store/db.js';

export function registerBackup(program: Command, ctx: () => CliContext): void {
  program
    .command('backup <file>')
    .description('write a consistent copy of the SQLite database while it is in use')
    .action(
      action(async (file: string) => {
        const c = ctx();
        const r = await withStore(c, (s) => backup(s, file));
        c.out.write(`Backup written to ${file} (${(r.bytes / 1e6).toFixed(1)} MB)\n`);
      }),
    );
}
