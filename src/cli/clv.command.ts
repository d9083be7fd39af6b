import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import type { FitReport, ModelChoice } from '../clv/fit.js';
import type { Period } from '../models/clv/summary.js';
import { action, type CliContext } from './context.js';

interface FitFlags {
  transactions?: string;
  summary?: string;
  customerColumn: string;
  dateColumn: string;
  amountColumn?: string;
  dateFormat: string;
  calibrationEnd?: string;
  holdoutEnd?: string;
  period: string;
  model: string;
  penalizer: string;
  json?: boolean;
}

const PERIODS: readonly Period[] = ['day', 'week', 'month'];
const MODELS: readonly ModelChoice[] = ['bgnbd', 'pareto', 'all'];

/** `rapport clv …`: customer lifetime value. `fit` works on a file, without a database. */
export function registerClv(program: Command, _ctx: () => Promise<CliContext>): void {
  const clv = program.command('clv').description('customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma');
  clv
    .command('fit')
    .description('fit the models on a CSV file of transactions or of per-customer summaries (no database needed)')
    .option('--transactions <csv>', 'one row per transaction: customer, date, amount')
    .option('--summary <csv>', 'one row per customer: customer_id,frequency,recency,T[,monetary_value] (in periods)')
    .option('--customer-column <name>', 'customer column of --transactions', 'customer_id')
    .option('--date-column <name>', 'date column of --transactions', 'date')
    .option('--amount-column <name>', 'amount column of --transactions (default: amount, when present)')
    .option('--date-format <format>', 'yyyymmdd or iso', 'iso')
    .option('--calibration-end <date>', 'last day of the calibration period, YYYY-MM-DD (default: the last transaction)')
    .option('--holdout-end <date>', 'last day of the holdout period, YYYY-MM-DD: validates forecasts against it')
    .option('--period <period>', 'day, week or month', 'week')
    .option('--model <model>', 'bgnbd, pareto or all', 'bgnbd')
    .option('--penalizer <x>', 'L2 penalty on the parameters (0: plain maximum likelihood)', '0')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (flags: FitFlags) => {
        if ((flags.transactions === undefined) === (flags.summary === undefined)) throw invalid('--transactions', 'give either --transactions <csv> or --summary <csv>');
        if (!(MODELS as readonly string[]).includes(flags.model)) throw invalid('--model', `expected one of ${MODELS.join(', ')}, got "${flags.model}"`);
        if (!(PERIODS as readonly string[]).includes(flags.period)) throw invalid('--period', `expected one of ${PERIODS.join(', ')}, got "${flags.period}"`);
        if (flags.dateFormat !== 'yyyymmdd' && flags.dateFormat !== 'iso') throw invalid('--date-format', `expected yyyymmdd or iso, got "${flags.dateFormat}"`);
        const penalizer = Number(flags.penalizer);
        if (!(penalizer >= 0)) throw invalid('--penalizer', `expected a number ≥ 0, got "${flags.penalizer}"`);
        const model = flags.model as ModelChoice;
        const [{ fitSummary, fitTransactions }, input, { dayOf }] = await Promise.all([import('../clv/fit.js'), import('../clv/input.js'), import('../models/clv/summary.js')]);
        const date = (flag: string, v: string | undefined): number | undefined => {
          if (v === undefined) return undefined;
          const d = dayOf(v);
          if (Number.isNaN(d)) throw invalid(flag, `expected a date YYYY-MM-DD, got "${v}"`);
          return d;
        };
        let report: FitReport;
        if (flags.summary !== undefined) {
          if (flags.calibrationEnd !== undefined || flags.holdoutEnd !== undefined) throw invalid('--holdout-end', 'calibration and holdout dates need --transactions');
          report = fitSummary(input.readSummaryCsv(flags.summary), { model, penalizer });
        } else {
          const calibrationEnd = date('--calibration-end', flags.calibrationEnd);
          const holdoutEnd = date('--holdout-end', flags.holdoutEnd);
          const tx = input.readTransactionsCsv(
            flags.transactions!,
            { customer: flags.customerColumn, date: flags.dateColumn, amount: flags.amountColumn ?? 'amount', dateFormat: flags.dateFormat },
            flags.amountColumn !== undefined,
          );
          report = fitTransactions(tx, {
            model,
            penalizer,
            period: flags.period as Period,
            ...(calibrationEnd !== undefined ? { calibrationEnd } : {}),
            ...(holdoutEnd !== undefined ? { holdoutEnd } : {}),
          });
        }
        process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report));
        for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
      }),
    );
}

const f4 = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(1) : v.toPrecision(5));

function convergenceText(c: { converged: boolean; iterations: number; gradientNorm: number; message: string }): string {
  return `${c.converged ? 'converged' : 'NOT CONVERGED'} in ${c.iterations} iterations (gradient ${c.gradientNorm.toExponential(1)})`;
}

export function formatReport(r: FitReport): string {
  const lines: string[] = [];
  lines.push(`${r.customers.toLocaleString('en-US')} customers (${r.triples.toLocaleString('en-US')} distinct frequency/recency/age triples)${r.period ? `, time in ${r.period}s` : ''}`);
  if (r.calibration) lines.push(`calibration ${r.calibration.start} to ${r.calibration.end}${r.calibration.holdoutEnd ? `, holdout to ${r.calibration.holdoutEnd}` : ''}`);
  if (r.bgnbd) {
    const b = r.bgnbd;
    lines.push(`BG/NBD       r=${f4(b.r)} alpha=${f4(b.alpha)} a=${f4(b.a)} b=${f4(b.b)}   log-likelihood ${b.logLikelihood.toFixed(2)}  BIC ${b.bic.toFixed(1)}  ${convergenceText(b.convergence)}`);
  }
  if (r.paretoNbd) {
    const p = r.paretoNbd;
    lines.push(`Pareto/NBD   r=${f4(p.r)} alpha=${f4(p.alpha)} s=${f4(p.s)} beta=${f4(p.beta)}   log-likelihood ${p.logLikelihood.toFixed(2)}  BIC ${p.bic.toFixed(1)}  ${convergenceText(p.convergence)}`);
  }
  if (r.preferred) lines.push(`preferred by BIC: ${r.preferred === 'bgnbd' ? 'BG/NBD' : 'Pareto/NBD'}`);
  if (r.gammaGamma) {
    const g = r.gammaGamma;
    lines.push(
      `Gamma-Gamma  p=${f4(g.p)} q=${f4(g.q)} v=${f4(g.v)}   ${g.customers.toLocaleString('en-US')} repeat buyers, mean spend ${g.meanSpend === null ? 'unbounded' : g.meanSpend.toFixed(2)}, ` +
        `frequency/spend correlation ${g.independence.correlation.toFixed(2)}  ${convergenceText(g.convergence)}`,
    );
  }
  if (r.holdout) {
    const h = r.holdout;
    lines.push(`holdout (${h.holdoutLength.toFixed(1)} ${r.period ?? 'period'}s, ${h.model === 'bgnbd' ? 'BG/NBD' : 'Pareto/NBD'}): predicted ${h.predictedRepeatPurchases.toFixed(1)} repeat purchases, actual ${h.actualRepeatPurchases}`);
    lines.push('  calibration purchases   customers   predicted (mean)   actual (mean)');
    for (const b of h.byFrequency) lines.push(`  ${b.frequency.padStart(21)}   ${String(b.customers).padStart(9)}   ${b.predicted.toFixed(3).padStart(16)}   ${b.actual.toFixed(3).padStart(13)}`);
  }
  return `${lines.join('\n')}\n`;
}
