import type { Command } from 'commander';
import type { CoverageReport } from '../relationships/coverage.service.js';
import { action, parseFlags, READS_ONLY, withStore, type CliContext } from './context.js';
import { money, oneLine } from './format.js';

const FLAGS: Record<string, string> = { top: '--top', days: '--days', answerDays: '--answer-days', visitDays: '--visit-days', minClv: '--min-clv', maxClv: '--max-clv' };
const day = (iso: string | null): string => (iso === null ? '–' : iso.slice(0, 10));

/** The coverage report for the terminal: the alerts, each with its basis, then one line per customer. */
export function formatCoverage(r: CoverageReport, verbose: boolean): string {
  const lines = [`Listening coverage of ${r.selection.words}, as of ${r.asOf.slice(0, 10)} (${r.asOfRule})`];
  if (r.note) lines.push(r.note);
  for (const a of r.alerts) {
    lines.push(`${a.count > 0 ? '!' : '✓'} ${a.message}`);
    if (verbose) lines.push(`    how: ${a.basis}`);
  }
  if (r.rows.length > 0) {
    lines.push('', `${'customer'.padEnd(34)} ${'CLV'.padStart(8)}  ${'two-way'.padEnd(10)}  ${'unanswered'.padEnd(16)}  ${'last visit'.padEnd(10)}  ${'planned'.padEnd(10)}  alerts`);
    for (const x of r.rows) {
      const who = oneLine(x.name ? `${x.name} (${x.userId})` : x.userId, 34).padEnd(34);
      const open = x.unanswered.count === 0 ? '–' : `${x.unanswered.count} (oldest ${x.unanswered.oldest!.daysAgo} d)`;
      lines.push(`${who} ${money(x.clv).padStart(8)}  ${day(x.lastTwoWay).padEnd(10)}  ${open.padEnd(16)}  ${day(x.lastVisit).padEnd(10)}  ${day(x.nextVisit).padEnd(10)}  ${x.alerts.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `rapport coverage`: are the most valuable customers heard? */
export function registerCoverage(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('coverage')
    .description('listening coverage of the most valuable customers (by CLV): last two-way contact, unanswered feedback, past and planned visits, and alerts')
    .option('--top <n>', 'how many of the most valuable customers (1–500)', '50')
    .option('--days <n>', 'two-way contact due within this many days', '90')
    .option('--answer-days <n>', 'feedback unanswered for longer than this raises an alert', '14')
    .option('--visit-days <n>', 'a visit due within this many days, or one planned', '365')
    .option('--min-clv <amount>', 'only customers with at least this CLV')
    .option('--max-clv <amount>', 'only customers with at most this CLV')
    .option('--how', 'say how each alert was computed')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (flags: { top: string; days: string; answerDays: string; visitDays: string; minClv?: string; maxClv?: string; how?: boolean; json?: boolean }) => {
        const { CoverageParams, coverage } = await import('../relationships/coverage.service.js');
        const params = parseFlags(CoverageParams, { top: flags.top, days: flags.days, answerDays: flags.answerDays, visitDays: flags.visitDays, minClv: flags.minClv, maxClv: flags.maxClv }, (f) => FLAGS[f] ?? `--${f}`);
        const c = await ctx();
        const r = await withStore(c, (store) => coverage(store, params), READS_ONLY);
        c.out.write(flags.json ? `${JSON.stringify(r)}\n` : formatCoverage(r, flags.how === true));
      }),
    );
}
