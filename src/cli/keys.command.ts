import type { Command } from 'commander';
import { action, READS_ONLY, withStore, type CliContext } from './context.js';
import { portOption, serverUrl } from './serve.command.js';
import { KEY_SCOPES } from '../core/vocabulary.js';
import { invalid } from '../core/errors.js';
import type { KeyScope } from '../store/schema.js';

export function registerKeys(program: Command, ctx: () => Promise<CliContext>): void {
  const keys = program.command('keys').description('API keys: ingest (write key for the tracking API), read, admin');
  keys
    .command('create')
    .description('create a key; prints the secret once, alone on the last line')
    .requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--scope <scope>', `one of ${KEY_SCOPES.join(', ')}`)
    .action(
      action(async (opts: { name: string; scope: string }) => {
        if (!(KEY_SCOPES as readonly string[]).includes(opts.scope)) {
          throw invalid('--scope', `expected one of ${KEY_SCOPES.join(', ')}, got "${opts.scope}"`);
        }
        const c = await ctx();
        const { createKey } = await import('../auth/keys.js');
        const k = await withStore(c, (s) => createKey(s.db, opts.name, opts.scope as KeyScope, Date.now()));
        c.out.write(`Created ${k.scope} key #${k.id} "${k.name}". Keep the secret: it is not shown again.\n${k.secret}\n`);
      }),
    );
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const c = await ctx();
        const { listKeys } = await import('../auth/keys.js');
        const rows = await withStore(c, (s) => listKeys(s.db), READS_ONLY);
        if (opts.json) {
          c.out.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        for (const r of rows) {
          const state = r.revoked_at ? 'revoked' : 'active';
          const used = r.last_used_at ? new Date(r.last_used_at).toISOString() : 'never';
          c.out.write(`#${r.id}\t${r.scope}\t${r.prefix}…\t${state}\tlast used ${used}\t${r.name}\n`);
        }
      }),
    );
  keys
    .command('revoke <id>')
    .description('revoke a key by its number')
    .action(
      action(async (id: string) => {
        const n = Number(id);
        if (!Number.isInteger(n)) throw invalid('id', `expected a key number, got "${id}"`);
        const c = await ctx();
        const { revokeKey } = await import('../auth/keys.js');
        await withStore(c, (s) => revokeKey(s.db, n, Date.now()));
        c.out.write(`Revoked key #${n}\n`);
      }),
    );

  const staff = program.command('staff').description('staff access to the web app');
  staff
    .command('link')
    .description('print a one-time admin sign-in link (valid 24 h)')
    .option('--url <base>', 'the address staff open Rapport at (default: RAPPORT_PUBLIC_URL, else the address `rapport serve` listens at)')
    .option('--port <n>', 'the port `rapport serve --port` was given (default: PORT or 4000)')
    .action(
      action(async (opts: { url?: string; port?: string }) => {
        const c = await ctx();
        const { createSignInToken, signInUrl } = await import('../auth/staff.js');
        const base = opts.url ?? c.config.publicUrl ?? serverUrl(c.config.host, portOption(opts.port, c.config.port));
        const token = await withStore(c, (s) => createSignInToken(s.db, Date.now()));
        c.out.write(`${signInUrl(base, token)}\n`);
      }),
    );
}
