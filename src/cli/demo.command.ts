import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import type { DemoSummary } from '../demo/generate.js';
import { DEFAULT_END, DEFAULT_MONTHS } from '../demo/defaults.js';
import { action, withStore, type CliContext } from './context.js';

interface DemoFlags {
  customers: string;
  seed: string;
  months: string;
  end: string;
  json?: boolean;
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw invalid(flag, `expected a whole number, got "${value}"`);
  return Number(value);
}

export function summaryLine(s: DemoSummary, seconds: number): string {
  return (
    `Demo company (seed ${s.seed}, ${s.months} months to ${s.end}): ${s.customers} customers, ${s.visitors} anonymous visitors, ` +
    `${s.accounts} accounts, ${s.orders} orders (${s.orderLines} lines), ${s.interactions} interactions, ${s.feedback} feedback items; ` +
    `${s.inserted} records new, ${s.duplicates} already present, in ${seconds.toFixed(1)} s`
  );
}

/** `rapport demo`: loads the demo company through the normal ingestion path. */
export function registerDemo(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('demo')
    .description('generate a believable demo shop (customers, orders, usage, feedback) through the ingestion path; re-running adds nothing twice')
    .option('--customers <n>', 'identified customers to generate', '2000')
    .option('--seed <n>', 'random seed (same seed and options give the same data)', '1')
    .option('--months <n>', 'months of history', String(DEFAULT_MONTHS))
    .option('--end <date>', 'last day of the history (YYYY-MM-DD)', DEFAULT_END)
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (flags: DemoFlags) => {
        const c = await ctx();
        const { generateDemo } = await import('../demo/generate.js');
        const customers = wholeNumber('--customers', flags.customers);
        const seed = wholeNumber('--seed', flags.seed);
        const months = wholeNumber('--months', flags.months);
        const tty = !flags.json && 'isTTY' in c.err && (c.err as NodeJS.WriteStream).isTTY === true;
        const started = performance.now();
        const { runClvAfterLoad, afterLoadLine } = await import('../value/value.job.js');
        const { runListenAfterLoad, listenLine } = await import('../listening/listen.job.js');
        let value: Awaited<ReturnType<typeof runClvAfterLoad>> | undefined;
        let listening: Awaited<ReturnType<typeof runListenAfterLoad>> | undefined;
        let stages: import('../relationships/stages.job.js').StagesRunReport | undefined;
        const summary = await withStore(c, async (store) => {
          const s = await generateDemo(store, {
            customers,
            seed,
            months,
            end: flags.end,
            onProgress: tty
              ? (p) => {
                  const pct = Math.floor((100 * p.customersDone) / p.customers);
                  c.err.write(`\rGenerating demo company: ${p.customersDone}/${p.customers} customers (${pct}%), ${p.records} records`);
                  if (p.customersDone === p.customers) c.err.write('\n');
                }
              : undefined,
          });
          // The demo's orders follow BG/NBD and Gamma-Gamma: value them straight away.
          if (s.orders > 0) value = await runClvAfterLoad(store, 'demo');
          // Then listen to its feedback (weighed by those values), with the support team's tags.
          if (s.feedback > 0) {
            const { tagDemoTickets } = await import('../demo/tags.js');
            await tagDemoTickets(store, Date.now());
            listening = await runListenAfterLoad(store, 'demo');
          }
          // Then where everyone stood month by month, and their place on the LOVE ladder now (it
          // reads the values, the listening run and the history's moves up).
          const { runHistory } = await import('../relationships/history.job.js');
          await runHistory(store, { trigger: 'demo' });
          const { runStages } = await import('../relationships/stages.job.js');
          stages = (await runStages(store, { trigger: 'demo' })).report;
          const { runActions } = await import('../relationships/actions.job.js');
          await runActions(store, { trigger: 'demo' });
          return s;
        });
        const seconds = (performance.now() - started) / 1000;
        if (flags.json) c.out.write(`${JSON.stringify({ ...summary, seconds: Math.round(seconds * 10) / 10, ...(value ? { customerValue: value } : {}), ...(listening ? { listening } : {}), ...(stages ? { stages: stages.stages } : {}) })}\n`);
        else c.out.write(`${summaryLine(summary, seconds)}\n${value ? `${afterLoadLine(value)}\n` : ''}${listening ? `${listenLine(listening)}\n` : ''}${stages ? `Stages placed: ${stages.stages.map((x) => `${x.name} ${x.customers.toLocaleString('en-US')}`).join(', ')}\n` : ''}`);
      }),
    );
}
