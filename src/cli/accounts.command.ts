import type { Command } from 'commander';
import type { AccountList, AccountReply } from '../relationships/accounts.service.js';
import type { z } from 'zod';
import { action, parseFlags, READS_ONLY, withStore, type CliContext } from './context.js';
import { int, money, oneLine } from './format.js';

const amount = (v: number | null): string => (v === null ? '–' : money(v));

/** The accounts list for the terminal: one line per account, most valuable first. */
export function formatAccounts(r: z.infer<typeof AccountList>): string {
  const lines = [`${int(r.total)} account${r.total === 1 ? '' : 's'}; ${r.order}`];
  if (r.items.length > 0) {
    lines.push('', `${'account'.padEnd(40)} ${'stage'.padEnd(12)} ${'people'.padStart(6)} ${'LOV'.padStart(10)} ${'opportunity'.padStart(11)}`);
    for (const a of r.items) {
      const who = oneLine(a.name ? `${a.name} (${a.groupId})` : a.groupId, 40).padEnd(40);
      lines.push(`${who} ${(a.stageName ?? '(not placed)').padEnd(12)} ${int(a.people).padStart(6)} ${amount(a.lov).padStart(10)} ${amount(a.opportunity).padStart(11)}`);
    }
  }
  if (r.nextCursor) lines.push('', `more: --cursor ${r.nextCursor}`);
  return `${lines.join('\n')}\n`;
}

/** One account for the terminal: its stage and why, people per stage, value, then its people. */
export function formatAccount(r: z.infer<typeof AccountReply>): string {
  const lines = [`${oneLine(r.name ?? r.groupId)} (${oneLine(r.groupId)}): ${r.stage?.name ?? 'not placed'}${r.asOf ? ` (stages as of ${r.asOf.slice(0, 10)})` : ''}`];
  lines.push(`  ${r.explanation}`, ...r.lines.map((l) => `  ${l}`));
  lines.push(`LOV ${amount(r.lov)}, opportunity ${amount(r.opportunity)}; ${int(r.counts.people)} ${r.counts.people === 1 ? 'person' : 'people'}: ${r.counts.byStage.map((s) => `${s.name} ${s.people}`).join(', ')}${r.counts.notPlaced > 0 ? `, not placed ${r.counts.notPlaced}` : ''}`);
  if (r.people.length > 0) {
    lines.push('', `${'person'.padEnd(40)} ${'stage'.padEnd(12)} ${'momentum'.padEnd(8)} ${'CLV'.padStart(9)} ${'LOV'.padStart(9)}`);
    for (const p of r.people) {
      const who = oneLine(p.name && p.userId ? `${p.name} (${p.userId})` : (p.name ?? p.userId ?? 'anonymous'), 40).padEnd(40);
      lines.push(`${who} ${(p.stageName ?? '–').padEnd(12)} ${(p.momentum ?? '–').padEnd(8)} ${amount(p.clv).padStart(9)} ${amount(p.lov).padStart(9)}`);
    }
  }
  if (r.nextCursor) lines.push('', `more people: --cursor ${r.nextCursor}`);
  return `${lines.join('\n')}\n`;
}

/** `rapport accounts …`: accounts most valuable first, and one account's stage, people and value. */
export function registerAccounts(program: Command, ctx: () => Promise<CliContext>): void {
  const accounts = program.command('accounts').description('accounts (Segment groups): their LOVE stage from their people, Lifetime Opportunity Value and people');
  accounts
    .command('list')
    .description("accounts most valuable first (their people's LOV at the latest stages run), with stage and people")
    .option('--filter <text>', 'only accounts whose name or group id contains this (ignoring case)')
    .option('--limit <n>', 'how many (1–200)', '50')
    .option('--cursor <cursor>', 'the next page, as the previous one printed')
    .option('--json', 'print the list as JSON')
    .action(
      action(async (flags: { filter?: string; limit: string; cursor?: string; json?: boolean }) => {
        const { AccountListParams, listAccounts } = await import('../relationships/accounts.service.js');
        const params = parseFlags(AccountListParams, { q: flags.filter, limit: flags.limit, cursor: flags.cursor }, (f) => (f === 'q' ? '--filter' : `--${f}`));
        const c = await ctx();
        const r = await withStore(c, (store) => listAccounts(store, params), READS_ONLY);
        c.out.write(flags.json ? `${JSON.stringify(r)}\n` : formatAccounts(r));
      }),
    );
  accounts
    .command('show <groupId>')
    .description("an account's stage and why, its people per stage, LOV and opportunity, and its people most valuable first; exits 4 for an unknown group id")
    .option('--limit <n>', 'people to list (1–500)', '100')
    .option('--cursor <cursor>', 'the next page of people, as the previous one printed')
    .option('--json', 'print it as JSON')
    .action(
      action(async (groupId: string, flags: { limit: string; cursor?: string; json?: boolean }) => {
        const { AccountParams, accountOf } = await import('../relationships/accounts.service.js');
        const params = parseFlags(AccountParams, { limit: flags.limit, cursor: flags.cursor }, (f) => `--${f}`);
        const c = await ctx();
        const r = await withStore(c, (store) => accountOf(store, groupId, params), READS_ONLY);
        c.out.write(flags.json ? `${JSON.stringify(r)}\n` : formatAccount(r));
      }),
    );
}
