import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cohortCsv, DEFAULT_COHORT, drawCohort } from '../src/demo/clv-cohort.js';
import { readSummaryCsv } from '../src/value/input.js';
import { fitSummary } from '../src/value/fit.js';
import { scoreCustomers } from '../src/models/clv/score.js';
import { cliArgs } from './_server.js';

/**
 * CLV at scale. A cohort of N customers is drawn from known BG/NBD and Gamma-Gamma parameters
 * and written as a summary CSV; then:
 *  - `rapport clv fit --summary <csv>` as a whole process (start-up and parsing included),
 *    best and median of R runs. Target: under 1.5 s for 1,000,000 customers.
 *  - scoring every customer (P(alive), expected purchases and discounted CLV over 12 months)
 *    in-process. Target: under 0.8 s for 1,000,000.
 *  - how well the fit recovers the parameters the cohort was drawn from.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { customers: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, seed: { type: 'string', default: '1' } } });
  const customers = Number(values.customers);
  const runs = Number(values.runs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-clv-'));
  try {
    const file = path.join(dir, 'summary.csv');
    const cohort = drawCohort({ ...DEFAULT_COHORT, customers, seed: Number(values.seed) });
    const fd = fs.openSync(file, 'w');
    for (const chunk of cohortCsv(cohort)) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    const mb = fs.statSync(file).size / 1e6;

    const walls: number[] = [];
    let json = '';
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [...cliArgs(), 'clv', 'fit', '--summary', file, '--json'], { encoding: 'utf8' });
      walls.push((performance.now() - t0) / 1000);
      if (r.status !== 0) throw new Error(`clv fit failed: ${r.stderr}`);
      json = r.stdout;
    }
    walls.sort((a, b) => a - b);
    const fit = JSON.parse(json) as { customers: number; triples: number; bgnbd: Record<string, number> & { convergence: { iterations: number } }; gammaGamma: Record<string, number> & { convergence: { iterations: number } } };

    const summary = readSummaryCsv(file);
    const report = fitSummary(summary, { model: 'bgnbd' });
    const scoreTimes: number[] = [];
    let total = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const scores = scoreCustomers(report.bgnbd!, report.gammaGamma, summary, { horizonMonths: 12, periodDays: 7 });
      scoreTimes.push((performance.now() - t0) / 1000);
      total = scores.clv.reduce((a, b) => a + b, 0);
    }
    scoreTimes.sort((a, b) => a - b);

    const truth = DEFAULT_COHORT;
    const rel = (got: number, want: number): string => `${got.toPrecision(5)} (truth ${want}, ${(((got - want) / want) * 100).toFixed(1)}%)`;
    const usesCompiled = cliArgs()[0]?.endsWith('.js') === true;
    process.stdout.write(
      [
        `clv: ${customers.toLocaleString('en-US')} customers drawn from known parameters (seed ${values.seed}), summary CSV ${mb.toFixed(1)} MB, ${fit.triples.toLocaleString('en-US')} distinct triples`,
        `  rapport clv fit --summary (whole process${usesCompiled ? '' : ', via tsx: run `npm run build` first'}): best ${walls[0]!.toFixed(2)} s, median ${walls[Math.floor(runs / 2)]!.toFixed(2)} s over ${runs} runs   (target < 1.5 s)`,
        `    BG/NBD ${fit.bgnbd.convergence.iterations} iterations, Gamma-Gamma ${fit.gammaGamma.convergence.iterations}`,
        `  score all customers (P(alive), expected purchases, 12-month CLV): best ${scoreTimes[0]!.toFixed(2)} s, median ${scoreTimes[Math.floor(runs / 2)]!.toFixed(2)} s   (target < 0.8 s); total CLV ${Math.round(total).toLocaleString('en-US')}`,
        `  recovered: r ${rel(fit.bgnbd['r']!, truth.bgnbd.r)}, alpha ${rel(fit.bgnbd['alpha']!, truth.bgnbd.alpha)}, a ${rel(fit.bgnbd['a']!, truth.bgnbd.a)}, b ${rel(fit.bgnbd['b']!, truth.bgnbd.b)}`,
        `             p ${rel(fit.gammaGamma['p']!, truth.gammaGamma.p)}, q ${rel(fit.gammaGamma['q']!, truth.gammaGamma.q)}, v ${rel(fit.gammaGamma['v']!, truth.gammaGamma.v)}`,
      ].join('\n') + '\n',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
