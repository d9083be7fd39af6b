import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import type { FitReport, ModelChoice, PurchaseModel } from '../value/fit.js';
import type { Period } from '../models/clv/summary.js';
import type { ClvRunReport } from '../value/value.job.js';
import { action, withStore, type CliContext } from './context.js';

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

/** `rapport clv …`: customer lifetime value. `fit` works on a file, without a database. */
export function registerClv(program: Command, ctx: () => Promise<CliContext>): void {
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
    .option('--model <model>', 'bgnbd, mbgnbd (modified BG/NBD), pareto or all', 'bgnbd')
    .option('--penalizer <x>', 'L2 penalty on the parameters (0: plain maximum likelihood)', '0')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (flags: FitFlags) => {
        if ((flags.transactions === undefined) === (flags.summary === undefined)) throw invalid('--transactions', 'give either --transactions <csv> or --summary <csv>');
        // The models are loaded here, when a fit runs, so that other commands start without them.
        const [{ fitSummary, fitTransactions, MODEL_CHOICES }, input, { dayOf }] = await Promise.all([import('../value/fit.js'), import('../value/input.js'), import('../models/clv/summary.js')]);
        if (!(MODEL_CHOICES as readonly string[]).includes(flags.model)) throw invalid('--model', `expected one of ${MODEL_CHOICES.join(', ')}, got "${flags.model}"`);
        if (!(PERIODS as readonly string[]).includes(flags.period)) throw invalid('--period', `expected one of ${PERIODS.join(', ')}, got "${flags.period}"`);
        if (flags.dateFormat !== 'yyyymmdd' && flags.dateFormat !== 'iso') throw invalid('--date-format', `expected yyyymmdd or iso, got "${flags.dateFormat}"`);
        const penalizer = Number(flags.penalizer);
        if (!(penalizer >= 0)) throw invalid('--penalizer', `expected a number ≥ 0, got "${flags.penalizer}"`);
        const model = flags.model as ModelChoice;
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
  registerRun(clv, ctx);
}

interface RunFlags {
  asOf?: string;
  model?: string;
  horizon?: string;
  discountRate?: string;
  margin?: string;
  json?: boolean;
}

function registerRun(clv: Command, ctx: () => Promise<CliContext>): void {
  clv
    .command('run')
    .description("fit the models on the stored orders and score every customer (P(alive), CLV, value at risk, RFM); the server also does this after imports and on a schedule")
    .option('--as-of <date>', 'last day observed, YYYY-MM-DD (default: today while orders are still arriving, else the day of the latest order)')
    .option('--model <model>', 'purchase model that scores: auto (the one with the lower holdout error), bgnbd or mbgnbd; not remembered', 'auto')
    .option('--horizon <months>', 'months of future purchases valued (default 12; remembered for scheduled runs)')
    .option('--discount-rate <rate>', 'discount rate per month, e.g. 0.01 (remembered)')
    .option('--margin <share>', 'share of revenue that is margin, 0–1 (default 1: CLV in revenue; remembered)')
    .option('--json', 'print the run report as JSON')
    .action(
      action(async (flags: RunFlags) => {
        const num = (flag: string, v: string | undefined, ok: (x: number) => boolean, want: string): number | undefined => {
          if (v === undefined) return undefined;
          const x = Number(v);
          if (!ok(x)) throw invalid(flag, `expected ${want}, got "${v}"`);
          return x;
        };
        const settings = {
          horizonMonths: num('--horizon', flags.horizon, (x) => Number.isInteger(x) && x >= 1 && x <= 240, 'a whole number of months from 1 to 240'),
          monthlyDiscountRate: num('--discount-rate', flags.discountRate, (x) => x >= 0 && x < 1, 'a rate from 0 to 1'),
          margin: num('--margin', flags.margin, (x) => x > 0 && x <= 1, 'a share above 0 and at most 1'),
        };
        const { dayOf } = await import('../models/clv/summary.js');
        const asOfDay = flags.asOf === undefined ? undefined : dayOf(flags.asOf);
        if (asOfDay !== undefined && Number.isNaN(asOfDay)) throw invalid('--as-of', `expected a date YYYY-MM-DD, got "${flags.asOf}"`);
        const { runClv, RUN_MODELS } = await import('../value/value.job.js');
        const model = RUN_MODELS.find((m) => m === flags.model);
        if (flags.model !== undefined && flags.model !== 'auto' && model === undefined) throw invalid('--model', `expected auto, ${RUN_MODELS.join(' or ')}, got "${flags.model}"`);
        const c = await ctx();
        const { report, runId } = await withStore(c, (store) => runClv(store, { trigger: 'cli', settings, ...(asOfDay !== undefined ? { asOfDay } : {}), ...(model ? { model } : {}) }));
        c.out.write(flags.json ? `${JSON.stringify({ runId, ...report })}\n` : formatRun(report));
        for (const w of report.warnings) c.err.write(`warning: ${w}\n`);
      }),
    );
}

const money = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 0 });

export function formatRun(r: ClvRunReport): string {
  const lines = [formatReport(r.fit).trimEnd()];
  lines.unshift(`Customer value as of ${r.asOf}: ${r.orders.toLocaleString('en-US')} orders, ${r.customers.toLocaleString('en-US')} customers (${r.repeatCustomers.toLocaleString('en-US')} bought again)`);
  if (r.asOfReason) lines.splice(1, 0, `as of ${r.asOfReason}`);
  if (r.scoring) lines.push(`scored with ${MODEL_NAMES[r.scoring.model]}: ${r.scoring.reason}`);
  const v = r.validation;
  if ('skipped' in v) lines.push(`validation skipped: ${v.skipped}`);
  else {
    const err = v.actualRepeatPurchases > 0 ? ((v.predictedRepeatPurchases - v.actualRepeatPurchases) / v.actualRepeatPurchases) * 100 : 0;
    lines.push(
      `validation: fitted to ${v.calibrationEnd}, ${v.customers.toLocaleString('en-US')} customers${v.sampleEvery > 1 ? ` (every ${v.sampleEvery}th)` : ''}: ` +
        `predicted ${v.predictedRepeatPurchases.toFixed(0)} repeat purchases to ${v.holdoutEnd}, actual ${v.actualRepeatPurchases} (${err >= 0 ? '+' : ''}${err.toFixed(1)}%)`,
    );
  }
  const d = r.distribution.clv;
  // Reports of runs before the currency was recorded have none: the amounts stay bare.
  const code = r.currency ? ` ${r.currency.code}` : '';
  if (d) {
    lines.push(
      `CLV over ${r.settings.horizonMonths} months (discount ${(r.settings.monthlyDiscountRate * 100).toFixed(1)}%/month, margin ${(r.settings.margin * 100).toFixed(0)}%): ` +
        `total ${money(d.total)}${code}, median ${d.median.toFixed(2)}${code}, top 10% hold ${(d.top10Share * 100).toFixed(0)}%; value at risk ${money(r.distribution.valueAtRisk ?? 0)}${code}`,
    );
  }
  if (r.currency?.note) lines.push(`currency: ${r.currency.note}`);
  lines.push(`done in ${(r.timings.totalMs / 1000).toFixed(1)} s (summary ${(r.timings.summaryMs / 1000).toFixed(1)} s, write ${(r.timings.writeMs / 1000).toFixed(1)} s)`);
  return `${lines.join('\n')}\n`;
}

const f4 = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(1) : v.toPrecision(5));

function convergenceText(c: { converged: boolean; iterations: number; gradientNorm: number; message: string }): string {
  return `${c.converged ? 'converged' : 'NOT CONVERGED'} in ${c.iterations} iterations (gradient ${c.gradientNorm.toExponential(1)})`;
}

const MODEL_NAMES: Record<PurchaseModel, string> = { bgnbd: 'BG/NBD', mbgnbd: 'MBG/NBD', paretoNbd: 'Pareto/NBD' };

export function formatReport(r: FitReport): string {
  const lines: string[] = [];
  lines.push(`${r.customers.toLocaleString('en-US')} customers (${r.triples.toLocaleString('en-US')} distinct frequency/recency/age triples)${r.period ? `, time in ${r.period}s` : ''}`);
  if (r.calibration) lines.push(`calibration ${r.calibration.start} to ${r.calibration.end}${r.calibration.holdoutEnd ? `, holdout to ${r.calibration.holdoutEnd}` : ''}`);
  if (r.bgnbd) {
    const b = r.bgnbd;
    lines.push(`BG/NBD       r=${f4(b.r)} alpha=${f4(b.alpha)} a=${f4(b.a)} b=${f4(b.b)}   log-likelihood ${b.logLikelihood.toFixed(2)}  BIC ${b.bic.toFixed(1)}  ${convergenceText(b.convergence)}`);
  }
  if (r.mbgnbd) {
    const b = r.mbgnbd;
    lines.push(`MBG/NBD      r=${f4(b.r)} alpha=${f4(b.alpha)} a=${f4(b.a)} b=${f4(b.b)}   log-likelihood ${b.logLikelihood.toFixed(2)}  BIC ${b.bic.toFixed(1)}  ${convergenceText(b.convergence)}`);
  }
  if (r.paretoNbd) {
    const p = r.paretoNbd;
    lines.push(`Pareto/NBD   r=${f4(p.r)} alpha=${f4(p.alpha)} s=${f4(p.s)} beta=${f4(p.beta)}   log-likelihood ${p.logLikelihood.toFixed(2)}  BIC ${p.bic.toFixed(1)}  ${convergenceText(p.convergence)}`);
  }
  if (r.preferred) lines.push(`preferred by ${r.preferredBy === 'holdout' ? 'holdout error' : 'BIC'}: ${MODEL_NAMES[r.preferred]}`);
  for (const [m, h] of Object.entries(r.holdoutByModel ?? {})) {
    lines.push(`  ${MODEL_NAMES[m as PurchaseModel].padEnd(10)} holdout: predicted ${h.predictedRepeatPurchases.toFixed(1)}, mean absolute error ${h.meanAbsoluteError.toFixed(4)} per customer`);
  }
  if (r.gammaGamma) {
    const g = r.gammaGamma;
    lines.push(
      `Gamma-Gamma  p=${f4(g.p)} q=${f4(g.q)} v=${f4(g.v)}   ${g.customers.toLocaleString('en-US')} repeat buyers, mean spend ${g.meanSpend === null ? 'unbounded' : g.meanSpend.toFixed(2)}, ` +
        `frequency/spend correlation ${g.independence.correlation.toFixed(2)}  ${convergenceText(g.convergence)}`,
    );
  }
  if (r.holdout) {
    const h = r.holdout;
    lines.push(`holdout (${h.holdoutLength.toFixed(1)} ${r.period ?? 'period'}s, ${MODEL_NAMES[h.model]}): predicted ${h.predictedRepeatPurchases.toFixed(1)} repeat purchases, actual ${h.actualRepeatPurchases}`);
    lines.push('  calibration purchases   customers   predicted (mean)   actual (mean)');
    for (const b of h.byFrequency) lines.push(`  ${b.frequency.padStart(21)}   ${String(b.customers).padStart(9)}   ${b.predicted.toFixed(3).padStart(16)}   ${b.actual.toFixed(3).padStart(13)}`);
  }
  return `${lines.join('\n')}\n`;
}
