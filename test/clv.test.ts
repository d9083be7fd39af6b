import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fitSummary, fitTransactions } from '../src/value/fit.js';
import { readSummaryCsv, readTransactionsCsv } from '../src/value/input.js';
import { DEFAULT_COHORT, drawCohort } from '../src/demo/clv-cohort.js';
import { bgnbdLogLikelihood, conditionalExpectedPurchases, conditionalProbabilityOfPurchases, fitBgNbd, horizonFactor, pAlive, probabilityOfPurchases } from '../src/models/clv/bgnbd.js';
import { conditionalExpectedSpend, fitGammaGamma, spendData } from '../src/models/clv/gamma-gamma.js';
import { maximizeLikelihood } from '../src/models/clv/optimize.js';
import { fitParetoNbd, paretoConditionalExpectedPurchases, paretoConditionalProbabilityOfPurchases, paretoPAlive } from '../src/models/clv/pareto-nbd.js';
import { fitMbgNbd, mbgConditionalExpectedPurchases, mbgConditionalProbabilityOfPurchases, mbgExpectedPurchases, mbgHorizonFactor, mbgnbdLogLikelihood, mbgPAlive } from '../src/models/clv/mbgnbd.js';
import { hyp2f1 } from '../src/models/clv/special.js';
import { LIVE_WINDOW_DAYS, robustAsOf, runAsOf } from '../src/models/clv/as-of.js';
import { scoreCustomers, scoreWith } from '../src/models/clv/score.js';
import { dayOf, summarize, PERIOD_DAYS } from '../src/models/clv/summary.js';
import { groupTriples } from '../src/models/clv/triples.js';
import { SHARED_DATA } from './support/stores.js';

const CDNOW = path.join(SHARED_DATA, 'cdnow');
const missing = fs.existsSync(path.join(CDNOW, 'CDNOW_sample.txt')) ? false : `the CDNOW data is not at ${CDNOW}; set RAPPORT_SHARED_DATA to the shared data folder to run these`;
if (missing && process.env['CI']) throw new Error(missing);

const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');
function rapport(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const within = (got: number, want: number, rel: number, what: string): void =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: ${got} is not within ${rel * 100}% of ${want}`);

/** CDNOW_sample.txt (master id, customer 1..2357, yyyymmdd, CDs, dollars) as a CSV with a header. */
function cdnowCsv(dir: string): string {
  const file = path.join(dir, 'cdnow.csv');
  const rows = fs
    .readFileSync(path.join(CDNOW, 'CDNOW_sample.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .map((c) => `${c[1]},${c[2]},${c[4]}`);
  fs.writeFileSync(file, `customer_id,date,amount\n${rows.join('\n')}\n`);
  return file;
}

describe('CLV on the CDNOW sample (published reference values)', { skip: missing }, () => {
  let dir = '';
  let csv = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-clv-'));
    csv = cdnowCsv(dir);
  });

  const calibrated = () => {
    const tx = readTransactionsCsv(csv, { customer: 'customer_id', date: 'date', amount: 'amount', dateFormat: 'yyyymmdd' }, true);
    return { tx, summary: summarize(tx, { calibrationEnd: dayOf('1997-09-30'), holdoutEnd: dayOf('1998-06-30'), period: 'week' }) };
  };

  it('builds the published 39-week summary from the raw transactions (same-day purchases merged)', () => {
    const { summary } = calibrated();
    const published = fs.readFileSync(path.join(CDNOW, 'cdnow_customers_summary_with_transactions.csv'), 'utf8').trim().split('\n').slice(1);
    assert.equal(summary.frequency.length, published.length);
    // Customers are numbered 1..2357 in file order, which is the order they were first seen.
    published.forEach((line, i) => {
      const [, x, tx, T, zbar] = line.split(',').map(Number) as [number, number, number, number, number];
      assert.equal(summary.frequency[i], x, `customer ${i + 1} frequency`);
      assert.ok(Math.abs(summary.recency[i]! - tx) < 0.006, `customer ${i + 1} recency ${summary.recency[i]} vs ${tx}`);
      assert.ok(Math.abs(summary.T[i]! - T) < 0.006, `customer ${i + 1} T`);
      assert.ok(Math.abs(summary.monetary[i]! - zbar) < 0.006, `customer ${i + 1} mean repeat spend ${summary.monetary[i]} vs ${zbar}`);
    });
  });

  it('fits BG/NBD to within 0.5% of r, alpha, a, b and 0.05 of the log-likelihood', () => {
    const { summary } = calibrated();
    const fit = fitBgNbd(groupTriples(summary));
    assert.ok(fit.convergence.converged, fit.convergence.message);
    within(fit.params.r, 0.2426, 0.005, 'r');
    within(fit.params.alpha, 4.4136, 0.005, 'alpha');
    within(fit.params.a, 0.7929, 0.005, 'a');
    within(fit.params.b, 2.4259, 0.005, 'b');
    assert.ok(Math.abs(fit.logLikelihood - -9582.43) < 0.05, `log-likelihood ${fit.logLikelihood}`);
    assert.ok(fit.triples < fit.customers, 'identical customers are grouped');
  });

  it('fits Pareto/NBD to within 1% of the published parameters', () => {
    const { summary } = calibrated();
    const fit = fitParetoNbd(groupTriples(summary));
    assert.ok(fit.convergence.converged, fit.convergence.message);
    within(fit.params.r, 0.553, 0.01, 'r');
    within(fit.params.alpha, 10.578, 0.01, 'alpha');
    within(fit.params.s, 0.606, 0.01, 's');
    within(fit.params.beta, 11.669, 0.01, 'beta');
  });

  it('fits MBG/NBD to within 0.5% of the published parameters (lifetimes ModifiedBetaGeoFitter on CDNOW)', () => {
    const { summary } = calibrated();
    const fit = fitMbgNbd(groupTriples(summary));
    assert.ok(fit.convergence.converged, fit.convergence.message);
    within(fit.params.r, 0.525, 0.005, 'r');
    within(fit.params.alpha, 6.183, 0.005, 'alpha');
    within(fit.params.a, 0.891, 0.005, 'a');
    within(fit.params.b, 1.614, 0.005, 'b');
    // A one-purchase customer is not certainly alive, and less so the longer ago they bought.
    const early = mbgPAlive(fit.params, 0, 0, 10);
    const late = mbgPAlive(fit.params, 0, 0, 38.86);
    assert.ok(early < 1 && late < early && late < 0.5, `P(alive) of one-purchase customers ${early}, ${late}`);
    assert.equal(pAlive({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, 0, 0, 38.86), 1, 'the BG/NBD cannot lose such a customer');
  });

  it('chooses the purchase model by holdout error and reports every model fitted', () => {
    const { tx } = calibrated();
    const r = fitTransactions(tx, { model: 'all', period: 'week', calibrationEnd: dayOf('1997-09-30'), holdoutEnd: dayOf('1998-06-30') });
    assert.equal(r.preferredBy, 'holdout');
    const byModel = r.holdoutByModel!;
    assert.deepEqual(Object.keys(byModel).sort(), ['bgnbd', 'mbgnbd', 'paretoNbd']);
    const errors = Object.values(byModel).map((h) => h.meanAbsoluteError);
    assert.equal(byModel[r.preferred!]!.meanAbsoluteError, Math.min(...errors));
    assert.equal(r.holdout!.model, r.preferred);
    for (const h of Object.values(byModel)) assert.ok(h.meanAbsoluteError > 0 && h.meanAbsoluteError < 3, `error ${h.meanAbsoluteError}`);
  });

  it('fits Gamma-Gamma on the 946 repeat buyers to within 0.5% and reports the independence check', () => {
    const { summary } = calibrated();
    const data = spendData(summary.frequency, summary.monetary);
    assert.equal(data.x.length, 946);
    const fit = fitGammaGamma(data);
    within(fit.params.p, 6.2496, 0.005, 'p');
    within(fit.params.q, 3.7442, 0.005, 'q');
    within(fit.params.v, 15.4435, 0.005, 'v');
    assert.ok(fit.independence.holds);
    assert.ok(Math.abs(fit.independence.correlation - 0.11) < 0.02, `correlation ${fit.independence.correlation}`);
  });

  it('gives the published conditional expectations and probabilities', () => {
    const summary = readSummaryCsv(path.join(CDNOW, 'cdnow_customers_summary.csv'));
    const fit = fitBgNbd(groupTriples(summary));
    assert.equal(conditionalExpectedPurchases(fit.params, 39, 2, 30.43, 38.86).toFixed(3), '1.226');
    assert.equal(probabilityOfPurchases({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, 0, 39).toFixed(4), '0.5738');
    // The probabilities of 0, 1, 2, … purchases add up to one.
    let total = 0;
    for (let n = 0; n < 400; n++) total += probabilityOfPurchases(fit.params, n, 39);
    assert.ok(Math.abs(total - 1) < 1e-6, `Σ P(X=n) = ${total}`);
    // Given a history: the probabilities add up to one, their mean is the closed-form E[X(t) | x, t_x, T]
    // (eq. 10, computed another way), and a customer first seen at the end is a new customer.
    for (const [x, tx, T] of [[0, 0, 38.86], [2, 30.43, 38.86], [7, 10, 38], [25, 37, 38.9]] as const) {
      let sum = 0;
      let mean = 0;
      for (let n = 0; n < 600; n++) {
        const pn = conditionalProbabilityOfPurchases(fit.params, n, 39, x, tx, T);
        sum += pn;
        mean += n * pn;
      }
      assert.ok(Math.abs(sum - 1) < 1e-6, `Σ P(X=n | ${x}, ${tx}, ${T}) = ${sum}`);
      const expected = conditionalExpectedPurchases(fit.params, 39, x, tx, T);
      assert.ok(Math.abs(mean - expected) < 1e-6 * Math.max(1, expected), `mean ${mean} vs E ${expected} for x = ${x}`);
    }
    assert.ok(Math.abs(conditionalProbabilityOfPurchases(fit.params, 1, 39, 0, 0, 0) - probabilityOfPurchases(fit.params, 1, 39)) < 1e-12);
    // The spend model fitted on the published summary with mean spends (zbar).
    const rows = fs.readFileSync(path.join(CDNOW, 'cdnow_customers_summary_with_transactions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const gg = fitGammaGamma(spendData(Float64Array.from(rows, (c) => c[1]!), Float64Array.from(rows, (c) => c[4]!))).params;
    const spends = rows.slice(0, 3).map((c) => conditionalExpectedSpend(gg, c[1]!, c[4]!).toFixed(2));
    assert.deepEqual(spends, ['24.66', '18.91', '35.17']);
  });

  it('validates against the holdout: totals per frequency bucket and cumulative tracking', () => {
    const { tx, summary } = calibrated();
    const report = fitTransactions(tx, { model: 'bgnbd', period: 'week', calibrationEnd: dayOf('1997-09-30'), holdoutEnd: dayOf('1998-06-30') });
    const h = report.holdout!;
    // Actual: distinct purchase days per customer between the two dates, counted here directly.
    const days = new Map<number, Set<number>>();
    for (let i = 0; i < tx.day.length; i++) {
      if (tx.day[i]! > dayOf('1997-09-30') && tx.day[i]! <= dayOf('1998-06-30')) {
        const set = days.get(tx.customer[i]!) ?? new Set<number>();
        set.add(tx.day[i]!);
        days.set(tx.customer[i]!, set);
      }
    }
    const actual = [...days.values()].reduce((s, d) => s + d.size, 0);
    assert.equal(h.actualRepeatPurchases, actual);
    let predicted = 0;
    for (let i = 0; i < summary.frequency.length; i++) predicted += conditionalExpectedPurchases(report.bgnbd!, 39, summary.frequency[i]!, summary.recency[i]!, summary.T[i]!);
    assert.ok(Math.abs(h.predictedRepeatPurchases - predicted) < 1e-6);
    assert.ok(Math.abs(h.predictedRepeatPurchases - actual) / actual < 0.2, 'the forecast is in the right range');
    assert.deepEqual(h.byFrequency.map((b) => b.frequency), ['0', '1', '2', '3', '4', '5', '6', '7+']);
    assert.equal(h.byFrequency.reduce((s, b) => s + b.customers, 0), 2357);
    // Cumulative lines over 78 weeks, both rising; at the end of calibration the actual line holds every calibration repeat purchase.
    assert.equal(h.tracking.length, 78);
    for (let k = 1; k < h.tracking.length; k++) assert.ok(h.tracking[k]!.predicted >= h.tracking[k - 1]!.predicted && h.tracking[k]!.actual >= h.tracking[k - 1]!.actual);
    const last = h.tracking.at(-1)!;
    assert.equal(last.actual, summary.frequency.reduce((s, x) => s + x, 0) + actual);
  });

  it('rapport clv fit prints the parameters as JSON from the raw transactions and from a summary', () => {
    const r = rapport(['clv', 'fit', '--transactions', csv, '--date-format', 'yyyymmdd', '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--model', 'all', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as {
      customers: number;
      bgnbd: { r: number; alpha: number; a: number; b: number; logLikelihood: number };
      paretoNbd: { r: number; alpha: number; s: number; beta: number; logLikelihood: number };
      gammaGamma: { p: number; q: number; v: number };
      holdout: { predictedRepeatPurchases: number; actualRepeatPurchases: number };
    };
    assert.equal(j.customers, 2357);
    within(j.bgnbd.r, 0.2426, 0.005, 'r');
    within(j.paretoNbd.beta, 11.669, 0.01, 'beta');
    within(j.gammaGamma.v, 15.4435, 0.005, 'v');
    assert.ok(j.holdout.actualRepeatPurchases > 0 && j.holdout.predictedRepeatPurchases > 0);
    const s = rapport(['clv', 'fit', '--summary', path.join(CDNOW, 'cdnow_customers_summary.csv'), '--json']);
    assert.equal(s.code, 0, s.err);
    const sj = JSON.parse(s.out) as { customers: number; bgnbd: { a: number }; paretoNbd?: unknown; holdout?: unknown };
    within(sj.bgnbd.a, 0.7929, 0.005, 'a');
    assert.equal(sj.paretoNbd, undefined, 'the default model is BG/NBD alone');
    assert.equal(sj.holdout, undefined);
  });
});

describe('CLV models', () => {
  it('as-of day: the latest order, not a detached stray one nor one dated in the future', () => {
    const days = Array.from({ length: 5000 }, (_, i) => 1000 + (i % 365));
    assert.deepEqual(robustAsOf(days, 2000), { day: 1364, reason: 'latest order', ignoredCustomers: 0, latestDay: 1364 });
    const stray = robustAsOf([...days, 1364 + 40], 2000);
    assert.equal(stray.day, 1364);
    assert.equal(stray.reason, 'stray orders ignored');
    assert.equal(stray.ignoredCustomers, 1);
    // A late order just after the rest is the end of the data, not a stray.
    assert.equal(robustAsOf([...days, 1370], 2000).day, 1370);
    // Many customers buying after a gap: a new season, not strays.
    assert.equal(robustAsOf([...days, ...Array.from({ length: 50 }, () => 1400)], 2000).day, 1400);
    const future = robustAsOf([...days, 3000], 1364);
    assert.equal(future.day, 1364);
    assert.equal(future.reason, 'future orders ignored');
  });

  it('as-of day of a run: today while the data are live (the end within a week), else the end of the data', () => {
    const days = Array.from({ length: 5000 }, (_, i) => 1000 + (i % 365));
    assert.equal(LIVE_WINDOW_DAYS, 7);
    assert.deepEqual(runAsOf(days, 1364 + 3), { day: 1367, reason: 'latest order', ignoredCustomers: 0, latestDay: 1364, dataEnd: 1364, daysBehind: 3, live: true });
    assert.equal(runAsOf(days, 1364).day, 1364);
    assert.equal(runAsOf(days, 1364 + 7).day, 1371);
    const old = runAsOf(days, 1364 + 8);
    assert.deepEqual([old.day, old.live, old.daysBehind], [1364, false, 8]);
    // A stray weeks after the rest does not make the data live: the end is still before the gap.
    const stray = runAsOf([...days, 1364 + 40], 1364 + 42);
    assert.deepEqual([stray.day, stray.reason, stray.live, stray.dataEnd], [1364, 'stray orders ignored', false, 1364]);
    // Future-dated orders are left out, and live data are as of today.
    const future = runAsOf([...days, 3000], 1366);
    assert.deepEqual([future.day, future.reason, future.ignoredCustomers, future.live], [1366, 'future orders ignored', 1, true]);
  });

  it('MBG/NBD and Pareto/NBD: the horizon factor times P(alive) is the conditional expectation, and the conditional PMF adds up to 1 with that mean', () => {
    const mbg = { r: 0.525, alpha: 6.18, a: 0.891, b: 1.61 };
    const pn = { r: 0.55, alpha: 10.6, s: 0.61, beta: 11.7 };
    for (const [x, tx, T] of [[0, 0, 30], [0, 0, 2], [2, 10, 35], [7, 30, 31]] as const) {
      for (const t of [4, 52]) {
        const e = mbgConditionalExpectedPurchases(mbg, t, x, tx, T);
        assert.ok(Math.abs(mbgHorizonFactor(mbg, x, T, t) * mbgPAlive(mbg, x, tx, T) - e) < 1e-12 * Math.max(1, e));
        const ep = paretoConditionalExpectedPurchases(pn, t, x, tx, T);
        for (const [name, pmf, mean] of [
          ['MBG/NBD', (n: number) => mbgConditionalProbabilityOfPurchases(mbg, n, t, x, tx, T), e],
          ['Pareto/NBD', (n: number) => paretoConditionalProbabilityOfPurchases(pn, n, t, x, tx, T), ep],
        ] as const) {
          let total = 0;
          let m = 0;
          for (let n = 0; n < 400; n++) {
            const p = pmf(n);
            assert.ok(p >= 0 && p <= 1, `${name} P(${n}) = ${p}`);
            total += p;
            m += n * p;
          }
          assert.ok(Math.abs(total - 1) < 1e-4, `${name} x=${x} t=${t}: total ${total}`);
          assert.ok(Math.abs(m - mean) < 2e-3 * Math.max(1, mean), `${name} x=${x} t=${t}: mean ${m} vs ${mean}`);
        }
      }
      // "None" holds the chance of having left.
      assert.ok(mbgConditionalProbabilityOfPurchases(mbg, 0, 52, x, tx, T) >= 1 - mbgPAlive(mbg, x, tx, T));
    }
    // A one-purchase customer: below 1 under MBG/NBD, falling with the time since; 1 under BG/NBD.
    assert.ok(mbgPAlive(mbg, 0, 0, 40) < mbgPAlive(mbg, 0, 0, 5));
    assert.equal(pAlive(mbg, 0, 0, 40), 1);
  });

  it('scores with MBG/NBD as its per-customer formulas do, and with BG/NBD as scoreCustomers does', () => {
    const c = drawCohort({ ...DEFAULT_COHORT, customers: 2000, seed: 12 });
    const mbg = { r: 0.3, alpha: 4, a: 0.9, b: 2.5 };
    const gg = { p: 6, q: 4, v: 15 };
    const o = { horizonMonths: 12, periodDays: 7, monthlyDiscountRate: 0.01, margin: 0.3 };
    const s = scoreWith({ model: 'mbgnbd', params: mbg }, gg, c, o);
    const bg = scoreWith({ model: 'bgnbd', params: mbg }, gg, c, o);
    const legacy = scoreCustomers(mbg, gg, c, o);
    assert.deepEqual(bg.clv, legacy.clv);
    const month = PERIOD_DAYS.month / 7;
    let onceLower = 0;
    for (let i = 0; i < 2000; i++) {
      const [x, tx, T] = [c.frequency[i]!, c.recency[i]!, c.T[i]!];
      assert.ok(Math.abs(s.pAlive[i]! - mbgPAlive(mbg, x, tx, T)) < 1e-12);
      if (i % 97 === 0) {
        assert.ok(Math.abs(s.expectedPurchases[i]! - mbgConditionalExpectedPurchases(mbg, 12 * month, x, tx, T)) < 1e-9);
        let clv = 0;
        for (let m = 1; m <= 12; m++) {
          const step = mbgConditionalExpectedPurchases(mbg, m * month, x, tx, T) - mbgConditionalExpectedPurchases(mbg, (m - 1) * month, x, tx, T);
          clv += (0.3 * conditionalExpectedSpend(gg, x, c.monetary[i]!) * step) / Math.pow(1.01, m);
        }
        assert.ok(Math.abs(s.clv[i]! - clv) < 1e-9 * Math.max(1, clv), `customer ${i}: ${s.clv[i]} vs ${clv}`);
      }
      if (x === 0) {
        assert.equal(bg.pAlive[i], 1);
        if (s.pAlive[i]! < 0.99) onceLower++;
      }
    }
    assert.ok(onceLower > 100, `${onceLower} one-time buyers below 99%`);
  });

  it('MBG/NBD: the gradient matches central differences and the conditional expectation its direct form', () => {
    const d = groupTriples({ frequency: Float64Array.from([0, 1, 3, 0, 7]), recency: Float64Array.from([0, 4, 20, 0, 30]), T: Float64Array.from([5, 30, 35, 40, 31]) });
    const p = Float64Array.from([0.6, 5, 0.9, 1.7]);
    const g = new Float64Array(4);
    mbgnbdLogLikelihood(d, p, g);
    for (let i = 0; i < 4; i++) {
      const h = 1e-6 * p[i]!;
      const up = Float64Array.from(p);
      const dn = Float64Array.from(p);
      up[i]! += h;
      dn[i]! -= h;
      const num = (mbgnbdLogLikelihood(d, up, new Float64Array(4)) - mbgnbdLogLikelihood(d, dn, new Float64Array(4))) / (2 * h);
      assert.ok(Math.abs(num - g[i]!) < 1e-5 * Math.max(1, Math.abs(num)), `gradient ${i}: ${g[i]} vs ${num}`);
    }
    const q = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
    for (const [x, tx, T, t] of [[0, 0, 30, 39], [2, 20, 38, 10], [5, 36, 38, 52]] as const) {
      const z = t / (q.alpha + T + t);
      const direct = ((q.a + q.b + x) / (q.a - 1)) * (1 - Math.pow((q.alpha + T) / (q.alpha + T + t), q.r + x) * hyp2f1(q.r + x, q.b + x + 1, q.a + q.b + x, z)) * mbgPAlive(q, x, tx, T);
      const got = mbgConditionalExpectedPurchases(q, t, x, tx, T);
      assert.ok(Math.abs(got - direct) < 1e-9 * Math.max(1, direct), `E[X] ${got} vs ${direct}`);
    }
    assert.ok(mbgExpectedPurchases(q, 39) > mbgExpectedPurchases(q, 10));
  });

  it('recover the parameters a cohort was drawn from', () => {
    const c = drawCohort({ ...DEFAULT_COHORT, customers: 100_000, seed: 7 });
    const report = fitSummary(c, { model: 'bgnbd' });
    within(report.bgnbd!.r, DEFAULT_COHORT.bgnbd.r, 0.05, 'r');
    within(report.bgnbd!.alpha, DEFAULT_COHORT.bgnbd.alpha, 0.05, 'alpha');
    within(report.bgnbd!.a, DEFAULT_COHORT.bgnbd.a, 0.08, 'a');
    within(report.bgnbd!.b, DEFAULT_COHORT.bgnbd.b, 0.08, 'b');
    within(report.gammaGamma!.p, DEFAULT_COHORT.gammaGamma.p, 0.08, 'p');
    within(report.gammaGamma!.q, DEFAULT_COHORT.gammaGamma.q, 0.08, 'q');
  });

  it('the pilot fit on a subsample reaches the same optimum as a fit from scratch', () => {
    const c = drawCohort({ ...DEFAULT_COHORT, customers: 300_000, seed: 3 });
    const d = groupTriples(c);
    const direct = fitBgNbd(d);
    const piloted = fitSummary(c, { model: 'bgnbd' }).bgnbd!;
    assert.ok(direct.convergence.converged && piloted.convergence.converged);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) within(piloted[k], direct.params[k], 1e-4, k);
  });

  it('the analytic gradient of the BG/NBD likelihood matches finite differences', () => {
    const c = drawCohort({ ...DEFAULT_COHORT, customers: 2000, seed: 5 });
    const d = groupTriples(c);
    const p = Float64Array.from([0.3, 5, 0.7, 2]);
    const g = new Float64Array(4);
    bgnbdLogLikelihood(d, p, g);
    for (let i = 0; i < 4; i++) {
      const h = 1e-6 * p[i]!;
      const up = Float64Array.from(p);
      up[i]! += h;
      const down = Float64Array.from(p);
      down[i]! -= h;
      const numeric = (bgnbdLogLikelihood(d, up, new Float64Array(4)) - bgnbdLogLikelihood(d, down, new Float64Array(4))) / (2 * h);
      assert.ok(Math.abs(numeric - g[i]!) < 1e-4 * Math.max(1, Math.abs(numeric)), `component ${i}: ${g[i]} vs ${numeric}`);
    }
  });

  it('stay finite for extreme customers (many purchases, tiny recency, long age)', () => {
    const p = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
    for (const [x, tx, T] of [[5000, 0.001, 500], [5000, 499.9, 500], [1, 1e-9, 1e4], [300, 1e-6, 1e-3]] as const) {
      const alive = pAlive(p, x, tx, T);
      assert.ok(alive >= 0 && alive <= 1, `P(alive) ${alive}`);
      assert.ok(Number.isFinite(conditionalExpectedPurchases(p, 52, x, tx, T)));
      assert.ok(Number.isFinite(horizonFactor(p, x, T, 52)));
      const pa = paretoPAlive({ r: 0.55, alpha: 10.6, s: 0.6, beta: 11.7 }, x, tx, T);
      assert.ok(pa >= 0 && pa <= 1, `Pareto P(alive) ${pa}`);
      const d = groupTriples({ frequency: Float64Array.of(x), recency: Float64Array.of(tx), T: Float64Array.of(T) });
      assert.ok(Number.isFinite(bgnbdLogLikelihood(d, Float64Array.of(p.r, p.alpha, p.a, p.b), new Float64Array(4))));
    }
    // A heavy buyer seen recently is alive; the same buyer silent for long is not.
    assert.ok(pAlive(p, 50, 99, 100) > 0.9);
    assert.ok(pAlive(p, 50, 10, 100) < 0.01);
  });

  it('scores every customer as the per-customer formulas do (12-month discounted CLV)', () => {
    const c = drawCohort({ ...DEFAULT_COHORT, customers: 3000, seed: 11 });
    const bg = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
    const gg = { p: 6, q: 4, v: 15 };
    const s = scoreCustomers(bg, gg, c, { horizonMonths: 12, periodDays: 7, monthlyDiscountRate: 0.01, margin: 0.3 });
    const month = PERIOD_DAYS.month / 7;
    for (const i of [0, 1, 17, 250, 2999]) {
      const [x, tx, T] = [c.frequency[i]!, c.recency[i]!, c.T[i]!];
      assert.ok(Math.abs(s.pAlive[i]! - pAlive(bg, x, tx, T)) < 1e-12);
      assert.ok(Math.abs(s.expectedPurchases[i]! - conditionalExpectedPurchases(bg, 12 * month, x, tx, T)) < 1e-9);
      let clv = 0;
      for (let m = 1; m <= 12; m++) {
        const step = conditionalExpectedPurchases(bg, m * month, x, tx, T) - conditionalExpectedPurchases(bg, (m - 1) * month, x, tx, T);
        clv += (0.3 * conditionalExpectedSpend(gg, x, c.monetary[i]!) * step) / Math.pow(1.01, m);
      }
      assert.ok(Math.abs(s.clv[i]! - clv) < 1e-9 * Math.max(1, clv), `customer ${i}: ${s.clv[i]} vs ${clv}`);
      assert.equal(s.churnRisk[i], 1 - s.pAlive[i]!);
    }
  });

  it('says when a fit did not converge', () => {
    const res = maximizeLikelihood((p, g) => {
      g[0] = -2 * (p[0]! - 3);
      return -((p[0]! - 3) ** 2);
    }, { start: [100], weight: 1, maxIterations: 1 });
    assert.equal(res.convergence.converged, false);
    assert.match(res.convergence.message, /not converged/);
    const ok = maximizeLikelihood((p, g) => {
      g[0] = -2 * (p[0]! - 3);
      return -((p[0]! - 3) ** 2);
    }, { start: [100], weight: 1 });
    assert.ok(ok.convergence.converged);
    assert.ok(Math.abs(ok.params[0]! - 3) < 1e-6);
  });
});

describe('rapport clv fit: bad input', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-clv-bad-'));
  });
  const write = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const tx = (rows: string[]): string => write(`tx${Math.random().toString(36).slice(2)}.csv`, `customer_id,date,amount\n${rows.join('\n')}\n`);

  it('names the row and the column of an unparseable date or a negative or missing amount', () => {
    let r = rapport(['clv', 'fit', '--transactions', tx(['a,2024-01-01,10', 'a,2024-13-01,5'])]);
    assert.equal(r.code, 2);
    assert.match(r.err, /row 2, field date: "2024-13-01" is not a date/);
    r = rapport(['clv', 'fit', '--transactions', tx(['a,2024-01-01,10', 'b,2024-01-02,-4'])]);
    assert.equal(r.code, 2);
    assert.match(r.err, /row 2, field amount: negative amount -4/);
    r = rapport(['clv', 'fit', '--transactions', tx(['a,2024-01-01,', 'b,2024-01-02,4']), '--amount-column', 'amount']);
    assert.equal(r.code, 2);
    assert.match(r.err, /row 1, field amount: missing amount/);
  });

  it('refuses an empty calibration period and a calibration end after the data', () => {
    const f = tx(['a,2024-01-01,10', 'a,2024-02-01,5', 'b,2024-01-15,7', 'b,2024-03-01,9']);
    let r = rapport(['clv', 'fit', '--transactions', f, '--calibration-end', '2023-12-31']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--calibration-end: 2023-12-31 is before the first transaction \(2024-01-01\)/);
    r = rapport(['clv', 'fit', '--transactions', f, '--calibration-end', '2025-01-01']);
    assert.equal(r.code, 2);
    assert.match(r.err, /after the last transaction \(2024-03-01\)/);
    r = rapport(['clv', 'fit', '--transactions', f, '--calibration-end', '2024-02-15', '--holdout-end', '2024-02-10']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--holdout-end: must come after the calibration end/);
  });

  it('explains why customers with one purchase each cannot be fitted, and never prints NaN', () => {
    let r = rapport(['clv', 'fit', '--transactions', tx(['a,2024-01-01,10', 'b,2024-01-02,4', 'c,2024-02-02,4'])]);
    assert.equal(r.code, 2);
    assert.match(r.err, /none of the 3 customers made a repeat purchase/);
    // One repeat buyer: BG/NBD is fitted, the spend model is declined with a warning, no NaN anywhere.
    r = rapport(['clv', 'fit', '--transactions', tx(['a,2024-01-01,10', 'a,2024-01-09,12', 'b,2024-01-02,4', 'c,2024-02-02,4']), '--json']);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /NaN|null/);
    assert.match(r.err, /warning: Gamma-Gamma: fewer than two repeat buyers/);
  });

  it('checks a summary file row by row', () => {
    let r = rapport(['clv', 'fit', '--summary', write('s1.csv', 'customer_id,frequency,recency,T\n1,2,30,38\n2,1,40,38\n')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /row 2, field recency: recency 40 is after T 38/);
    r = rapport(['clv', 'fit', '--summary', write('s2.csv', 'customer_id,frequency,recency,T\n1,2.5,30,38\n')]);
    assert.match(r.err, /row 1, field frequency: expected a whole number ≥ 0, got "2.5"/);
    r = rapport(['clv', 'fit', '--summary', write('s3.csv', 'customer_id,freq,recency,T\n1,2,30,38\n')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /has no column "frequency" \(columns: customer_id, freq, recency, T\)/);
    r = rapport(['clv', 'fit', '--summary', path.join(dir, 'nope.csv')]);
    assert.equal(r.code, 6);
    assert.match(r.err, /cannot read .*nope\.csv: ENOENT/);
  });

  it('reads quoted CSV the same as plain CSV', () => {
    const plain = readSummaryCsv(write('p.csv', 'customer_id,frequency,recency,T,monetary_value\n1,2,30.5,38.86,22.35\n2,0,0,38.86,0\n'));
    const quoted = readSummaryCsv(write('q.csv', '"customer_id","frequency","recency","T","monetary_value"\n"1","2","30.5","38.86","22.35"\n"2","0","0","38.86","0"\n'));
    assert.deepEqual([...quoted.frequency, ...quoted.recency, ...quoted.T, ...quoted.monetary!], [...plain.frequency, ...plain.recency, ...plain.T, ...plain.monetary!]);
  });
});

describe('RFM scores', () => {
  it('scores quintiles 1–5, equal values alike, recency reversed', async () => {
    const { quintileScores, rfmGroup, rfmScores } = await import('../src/models/segments/rfm.js');
    const values = Float64Array.from({ length: 100 }, (_, i) => i);
    const up = quintileScores(values, true);
    assert.deepEqual([up[0], up[19], up[20], up[59], up[99]], [1, 1, 2, 3, 5]);
    const down = quintileScores(values, false);
    assert.deepEqual([down[0], down[80], down[99]], [5, 1, 1]);
    // Sixty customers with one purchase: all share the lowest score.
    const freq = Float64Array.from({ length: 100 }, (_, i) => (i < 60 ? 1 : i));
    const fs5 = quintileScores(freq, true);
    assert.equal(new Set(fs5.subarray(0, 60)).size, 1);
    assert.equal(fs5[0], 1);
    assert.equal(fs5[99], 5);
    assert.equal(rfmGroup(5, 5), 'champions');
    assert.equal(rfmGroup(4, 4), 'loyal');
    assert.equal(rfmGroup(5, 1), 'new customers');
    assert.equal(rfmGroup(1, 5), "can't lose them");
    assert.equal(rfmGroup(2, 3), 'at risk');
    assert.equal(rfmGroup(1, 1), 'hibernating');
    // Every (R, F) pair has a group.
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) assert.equal(typeof rfmGroup(r, f), 'string');
    const s = rfmScores({ recency: Float64Array.of(1, 300), frequency: Float64Array.of(20, 1), monetary: Float64Array.of(500, 5) });
    assert.deepEqual([s.group[0], s.group[1]], ['champions', 'hibernating']);
  });
});
