import type { Command } from 'commander';
import type { DefectLedger } from '../listening/defects.js';
import { action, parseFlags, READS_ONLY, withStore, type CliContext } from './context.js';
import { int, money, pct } from './format.js';

/** The defect ledger, for the terminal. */
export function formatLedger(l: DefectLedger): string {
  const lines = [
    `${int(l.tickets)} support contacts. Baseline churn ${pct(l.baseline.rate.estimate)} (${int(l.baseline.churned)} of ${int(l.baseline.customers)} valued customers).`,
    '',
    'type · cause                         contacts  customers  median h   churn [95%]              vs baseline   CLV affected   value lost',
  ];
  for (const r of l.byTypeCause) {
    const c = r.churn;
    lines.push(
      `${r.label.padEnd(36)} ${String(r.contacts).padStart(8)}  ${String(r.customersAffected).padStart(9)}  ${String(r.resolution.medianHours ?? '–').padStart(8)}   ${`${pct(c.rate.estimate)} [${pct(c.rate.low)}–${pct(c.rate.high)}]`.padEnd(24)} ${c.signal.padEnd(11)}   ${money(c.clvSum).padStart(12)}   ${money(c.valueLost).padStart(10)}`,
    );
  }
  if (l.featuresVsFixes.length > 0) {
    lines.push('', 'month     fixes  requests  fix share');
    for (const m of l.featuresVsFixes.slice(-12)) lines.push(`${m.month}   ${String(m.fixes).padStart(5)}  ${String(m.requests).padStart(8)}  ${pct(m.fixShare).padStart(9)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `rapport defects`: the defect ledger. */
export function registerDefects(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('defects')
    .description('the defect ledger: support contacts by type × cause, time to resolution, churn among those affected against the baseline, value lost; features vs fixes')
    .option('--from <date>', 'first day of contacts, YYYY-MM-DD')
    .option('--to <date>', 'last day of contacts, YYYY-MM-DD')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { from?: string; to?: string; json?: boolean }) => {
        const { LedgerParams, defectLedger } = await import('../listening/defects.js');
        const params = parseFlags(
          LedgerParams,
          { from: flags.from, to: flags.to },
          (field) => `--${field}`,
          (m) => `expected a date YYYY-MM-DD (${m})`,
        );
        const c = await ctx();
        const ledger = await withStore(c, (store) => defectLedger(store, params), READS_ONLY);
        c.out.write(flags.json ? `${JSON.stringify(ledger)}\n` : formatLedger(ledger));
      }),
    );
}
