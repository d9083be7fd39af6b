/**
 * `rapport clv fit`: fits the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) and the spend model
 * (Gamma-Gamma) on a per-customer summary, optionally built from transactions with a
 * calibration/holdout split, and reports parameters, fit diagnostics and validation.
 */
import { invalid, RapportError } from '../core/errors.js';
import { conditionalExpectedPurchases, expectedPurchases, fitBgNbd, type BgNbdFit } from '../models/clv/bgnbd.js';
import { fitGammaGamma, spendData, type GammaGammaFit } from '../models/clv/gamma-gamma.js';
import { fitMbgNbd, mbgConditionalExpectedPurchases, mbgExpectedPurchases } from '../models/clv/mbgnbd.js';
import type { Convergence } from '../models/clv/optimize.js';
import { fitParetoNbd, paretoConditionalExpectedPurchases, paretoExpectedPurchases, type ParetoNbdFit } from '../models/clv/pareto-nbd.js';
import type { PurchaseModelFit, PurchaseModelName } from '../models/clv/purchase-model.js';
import { isoOfDay, PERIOD_DAYS, summarize, type Period, type Transactions } from '../models/clv/summary.js';
import { everyNth, groupTriples, type RfmSummary } from '../models/clv/triples.js';
import { validateHoldout, type HoldoutReport, type Predictor } from '../models/clv/validation.js';

/** Above this many customers, a fit starts from a pilot fit on a subsample of about PILOT_SIZE. */
const PILOT_ABOVE = 200_000;
const PILOT_SIZE = 50_000;

export type ModelChoice = 'bgnbd' | 'mbgnbd' | 'pareto' | 'all';
export const MODEL_CHOICES: readonly ModelChoice[] = ['bgnbd', 'mbgnbd', 'pareto', 'all'];

/** The purchase models by their report key. */
export type PurchaseModel = PurchaseModelName;

export interface FitOptions {
  model: ModelChoice;
  /** The purchase models to fit, overriding `model` (for callers that compare a chosen few). */
  models?: readonly PurchaseModel[];
  penalizer?: number;
}

interface ModelReport {
  logLikelihood: number;
  /** Bayesian information criterion, k ln n − 2 ln L: lower is better. */
  bic: number;
  convergence: Convergence;
}

export interface FitReport {
  customers: number;
  /** Distinct (x, t_x, T) triples the purchase models were evaluated on. */
  triples: number;
  period?: Period;
  calibration?: { start: string; end: string; holdoutEnd?: string };
  bgnbd?: { r: number; alpha: number; a: number; b: number } & ModelReport;
  /** The modified BG/NBD (Batislam et al. 2007): a customer may also drop out at the first purchase. */
  mbgnbd?: { r: number; alpha: number; a: number; b: number } & ModelReport;
  paretoNbd?: { r: number; alpha: number; s: number; beta: number } & ModelReport;
  gammaGamma?: {
    p: number;
    q: number;
    v: number;
    logLikelihood: number;
    customers: number;
    convergence: Convergence;
    independence: GammaGammaFit['independence'];
    /** Expected value of a transaction for the population, p v / (q − 1) (null when q ≤ 1). */
    meanSpend: number | null;
  };
  /**
   * The preferred purchase model when more than one was fitted: the lowest holdout mean
   * absolute error per customer when there is a holdout, else the lowest BIC.
   */
  preferred?: PurchaseModel;
  /** Why `preferred` was chosen (holdout error or BIC). */
  preferredBy?: 'holdout' | 'bic';
  /** The holdout validation of the preferred model (of the one fitted, when only one was). */
  holdout?: HoldoutReport & { model: PurchaseModel };
  /** The holdout validation of every fitted purchase model, when more than one was fitted. */
  holdoutByModel?: Partial<Record<PurchaseModel, HoldoutReport>>;
  warnings: string[];
}

function modelReport(fit: BgNbdFit | ParetoNbdFit, k: number): ModelReport {
  return { logLikelihood: fit.logLikelihood, bic: k * Math.log(fit.customers) - 2 * fit.logLikelihood, convergence: fit.convergence };
}

/** Fits the chosen models on a summary. */
export function fitSummary(summary: RfmSummary, options: FitOptions): FitReport {
  const n = summary.frequency.length;
  if (n === 0) throw new RapportError('invalid_input', 'no customers to fit');
  const triples = groupTriples(summary);
  const report: FitReport = { customers: n, triples: triples.size, warnings: [] };
  let repeaters = 0;
  for (let i = 0; i < n; i++) if (summary.frequency[i]! > 0) repeaters++;
  if (repeaters === 0) throw new RapportError('invalid_input', `none of the ${n} customers made a repeat purchase: the models cannot be fitted (every frequency is 0)`);
  const penalizer = options.penalizer ?? 0;
  const every = n > PILOT_ABOVE ? Math.floor(n / PILOT_SIZE) : 1;
  const wanted = new Set<PurchaseModel>(
    options.models ?? (options.model === 'all' ? ['bgnbd', 'mbgnbd', 'paretoNbd'] : options.model === 'pareto' ? ['paretoNbd'] : [options.model]),
  );
  if (wanted.has('bgnbd')) {
    const fit = fitBgNbd(triples, { penalizer, ...(every > 1 ? { pilot: groupTriples(everyNth(summary, every)) } : {}) });
    report.bgnbd = { ...fit.params, ...modelReport(fit, 4) };
    if (!fit.convergence.converged) report.warnings.push(`BG/NBD: ${fit.convergence.message}`);
  }
  if (wanted.has('mbgnbd')) {
    const fit = fitMbgNbd(triples, { penalizer });
    report.mbgnbd = { ...fit.params, ...modelReport(fit, 4) };
    if (!fit.convergence.converged) report.warnings.push(`MBG/NBD: ${fit.convergence.message}`);
  }
  if (wanted.has('paretoNbd')) {
    const fit = fitParetoNbd(triples, { penalizer });
    report.paretoNbd = { ...fit.params, ...modelReport(fit, 4) };
    if (!fit.convergence.converged) report.warnings.push(`Pareto/NBD: ${fit.convergence.message}`);
  }
  const fitted = fittedModels(report);
  if (fitted.length > 1) {
    report.preferred = fitted.reduce((best, m) => (report[m]!.bic < report[best]!.bic ? m : best));
    report.preferredBy = 'bic';
  }
  if (summary.monetary) {
    const spend = spendData(summary.frequency, summary.monetary);
    if (spend.x.length < 2) {
      report.warnings.push('Gamma-Gamma: fewer than two repeat buyers with a positive spend; no spend model');
    } else {
      const gg: GammaGammaFit = fitGammaGamma(spend, { penalizer, pilotEvery: spend.x.length > PILOT_ABOVE ? Math.floor(spend.x.length / PILOT_SIZE) : 1 });
      report.gammaGamma = {
        ...gg.params,
        logLikelihood: gg.logLikelihood,
        customers: gg.customers,
        convergence: gg.convergence,
        independence: gg.independence,
        meanSpend: gg.params.q > 1 ? (gg.params.p * gg.params.v) / (gg.params.q - 1) : null,
      };
      if (!gg.convergence.converged) report.warnings.push(`Gamma-Gamma: ${gg.convergence.message}`);
      if (!gg.independence.holds) {
        report.warnings.push(
          `Gamma-Gamma assumes spend does not depend on frequency, but their correlation over repeat buyers is ${gg.independence.correlation.toFixed(2)}: spend forecasts may be biased`,
        );
      }
    }
  }
  return report;
}

export interface TransactionFitOptions extends FitOptions {
  /** Days since 1970-01-01; default: the last transaction's day. */
  calibrationEnd?: number;
  holdoutEnd?: number;
  period: Period;
}

/**
 * Summarises transactions (calibration end, optional holdout) and fits. Refuses what would
 * make a meaningless fit: a calibration period with no transactions, or a calibration or
 * holdout end after the last transaction (the time after it would count as "no purchases").
 */
export function fitTransactions(tx: Transactions & { hasAmounts: boolean }, options: TransactionFitOptions): FitReport {
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < tx.day.length; i++) {
    const d = tx.day[i]!;
    if (d < firstDay) firstDay = d;
    if (d > lastDay) lastDay = d;
  }
  const calibrationEnd = options.calibrationEnd ?? (options.holdoutEnd === undefined ? lastDay : Number.NaN);
  if (Number.isNaN(calibrationEnd)) throw invalid('--calibration-end', 'a holdout needs a calibration end date');
  if (calibrationEnd < firstDay) {
    throw invalid('--calibration-end', `${isoOfDay(calibrationEnd)} is before the first transaction (${isoOfDay(firstDay)}): the calibration period would be empty`);
  }
  if (calibrationEnd > lastDay) {
    throw invalid('--calibration-end', `${isoOfDay(calibrationEnd)} is after the last transaction (${isoOfDay(lastDay)}); leave it out to calibrate on all the data`);
  }
  if (options.holdoutEnd !== undefined) {
    if (options.holdoutEnd <= calibrationEnd) throw invalid('--holdout-end', 'must come after the calibration end');
    if (options.holdoutEnd > lastDay) throw invalid('--holdout-end', `${isoOfDay(options.holdoutEnd)} is after the last transaction (${isoOfDay(lastDay)})`);
  }
  const summary = summarize(tx, { calibrationEnd, period: options.period, ...(options.holdoutEnd !== undefined ? { holdoutEnd: options.holdoutEnd } : {}) });
  const report = fitSummary(tx.hasAmounts ? summary : { frequency: summary.frequency, recency: summary.recency, T: summary.T }, options);
  report.period = options.period;
  report.calibration = {
    start: isoOfDay(firstDay),
    end: isoOfDay(calibrationEnd),
    ...(options.holdoutEnd !== undefined ? { holdoutEnd: isoOfDay(options.holdoutEnd) } : {}),
  };
  if (options.holdoutEnd !== undefined) {
    const fitted = fittedModels(report);
    const byModel: Partial<Record<PurchaseModel, HoldoutReport>> = {};
    for (const m of fitted) byModel[m] = validateHoldout(predictorOf(report, m), summary, PERIOD_DAYS[options.period]);
    if (fitted.length > 1) {
      report.preferred = fitted.reduce((best, m) => (byModel[m]!.meanAbsoluteError < byModel[best]!.meanAbsoluteError ? m : best));
      report.preferredBy = 'holdout';
      report.holdoutByModel = byModel;
    }
    const chosen = report.preferred ?? fitted[0]!;
    report.holdout = { model: chosen, ...byModel[chosen]! };
  }
  return report;
}

/** The purchase models a report holds, in a fixed order. */
export function fittedModels(report: FitReport): PurchaseModel[] {
  return (['bgnbd', 'mbgnbd', 'paretoNbd'] as const).filter((m) => report[m] !== undefined);
}

/** Expected purchases of the fitted model `m`, conditional on a history and for a new customer. */
export function predictorOf(report: FitReport, m: PurchaseModel): Predictor {
  if (m === 'bgnbd') {
    const b = report.bgnbd!;
    return { conditional: (t, x, tx, T) => conditionalExpectedPurchases(b, t, x, tx, T), unconditional: (t) => expectedPurchases(b, t) };
  }
  if (m === 'mbgnbd') {
    const b = report.mbgnbd!;
    return { conditional: (t, x, tx, T) => mbgConditionalExpectedPurchases(b, t, x, tx, T), unconditional: (t) => mbgExpectedPurchases(b, t) };
  }
  const pn = report.paretoNbd!;
  return { conditional: (t, x, tx, T) => paretoConditionalExpectedPurchases(pn, t, x, tx, T), unconditional: (t) => paretoExpectedPurchases(pn, t) };
}

/** The fitted parameters of one purchase model of a report, for scoring. */
export function fittedModel(fit: FitReport, m: PurchaseModel): PurchaseModelFit {
  if (m === 'paretoNbd') {
    const p = fit.paretoNbd!;
    return { model: m, params: { r: p.r, alpha: p.alpha, s: p.s, beta: p.beta } };
  }
  const b = fit[m]!;
  return { model: m, params: { r: b.r, alpha: b.alpha, a: b.a, b: b.b } };
}
