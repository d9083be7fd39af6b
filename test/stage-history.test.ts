import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateDemo } from '../src/demo/generate.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { summarizeHistory, MAX_AGE } from '../src/models/stages/history.js';
import { ABSENT, endOfMonth, historyMonths } from '../src/models/stages/timeline.js';
import { latestHistoryRun } from '../src/relationships/history.repository.js';
import { runHistory } from '../src/relationships/history.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { stagesSummary } from '../src/relationships/stages.service.js';
import { runClv } from '../src/value/value.job.js';
import { DAY_MS } from '../src/models/time.js';
import type { HistorySummary } from '../src/models/stages/history.js';
import { DIALECTS, type TestStore } from './support/stores.js';

/** Stage per customer id from the latest stages run. */
async function placements(t: TestStore): Promise<Map<number, number>> {
  const r = await t.store.db.selectFrom('customer_stages').select(['customer_id', 'stage']).execute();
  return new Map(r.map((x) => [Number(x.customer_id), Number(x.stage)]));
}

async function histories(t: TestStore): Promise<Map<number, string>> {
  const r = await t.store.db.selectFrom('customer_stage_history').select(['customer_id', 'history']).execute();
  return new Map(r.map((x) => [Number(x.customer_id), x.history]));
}

describe('the stage history model', () => {
  it('counts late entries and censoring in the time to a stage (Kaplan–Meier), not a mean of those who made it', () => {
    // Four months; four customers first seen in the first month, one seen long before.
    const months = [100, 101, 102, 103];
    const rows = [
      [0, 1, 1, 2], // reaches Information at age 1
      [0, 0, 0, 0], // never: censored at age 3
      [0, 0, 0, 1], // at age 3
      [1, 1, 1, 1], // at age 0
      [1, 1, 1, 1], // seen at month 90: already at Information when the history begins — not at risk
    ];
    const stages = Uint8Array.from(rows.flat());
    const firstMonth = Float64Array.from([100, 100, 100, 100, 90]);
    const h = summarizeHistory({ months, stages, firstMonth, segment: new Int32Array(5).fill(-1), horizonMonths: 2 });
    const info = h.timeTo.find((x) => x.stage === 1)!;
    assert.equal(info.customers, 4, 'the customer already there when the history began is left out');
    // Age 0: 1 of 4; age 1: 1 of 3; age 2: 0 of 2; age 3: 1 of 2.
    const p = info.curve.slice(0, 4).map((c) => Number(c.p.toFixed(4)));
    assert.deepEqual(p, [0.25, 0.5, 0.5, 0.75]);
    assert.equal(info.medianMonths, 1);
    assert.equal(info.curve.length, MAX_AGE + 1);
    // Flows: from month 0 to 3.
    const m = h.pairs[0]![2]!;
    assert.equal(m[0]![2], 1, 'Introduction → Commitment');
    assert.equal(m[1]![1], 2, 'Information stays');
    // Moves up within 2 months from month 1 (Introduction: customers 2 and 3 of whom 1 moved).
    const intro = h.moves.cells.filter((c) => c.stage === 0);
    assert.equal(intro.reduce((s, c) => s + c.atRisk, 0), 2);
    assert.equal(intro.reduce((s, c) => s + c.moved, 0), 1);
    assert.equal(h.fellBack[0]![0], 1);
    assert.equal(h.fellBack[1]![1], 3);
  });
});

for (const d of DIALECTS) {
  describe(`the stage history on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let summary: HistorySummary;
    let months: number[];
    before(async () => {
      if (skip) return;
      t = await d.open();
      await generateDemo(t.store, { customers: 600, seed: 5 });
      await runClv(t.store, { trigger: 'demo' });
    });
    after(async () => {
      if (skip) return;
      await t.cleanup();
    });

    it('places every customer at the end of every month exactly as a stages run as of that month end', { skip }, async () => {
      const { report } = await runHistory(t.store, { trigger: 'cli' });
      assert.equal(report.mode, 'full');
      assert.equal(report.months.count, 24);
      const stored = (await latestHistoryRun(t.store.db))!;
      summary = JSON.parse(stored.summary) as HistorySummary;
      months = summary.months;
      const h = await histories(t);
      assert.equal(h.size, report.customers);
      // The last month, a month in the middle and the first with a hundred customers.
      const early = summary.counts.findIndex((c) => c.reduce((a, b) => a + b, 0) >= 100);
      for (const k of [23, 11, early]) {
        await runStages(t.store, { trigger: 'cli', asOf: endOfMonth(months[k]!) });
        const placed = await placements(t);
        let compared = 0;
        for (const [id, text] of h) {
          const c = text[k]!;
          if (c === '-') continue;
          assert.equal(Number(c), placed.get(id), `customer ${id}, month ${k}: history ${text}`);
          compared++;
        }
        assert.ok(compared > 100, `compared ${compared} customers at month ${k}`);
      }
    });

    it('sums up: customers per month match the flows between months, and every stage has a time-to curve', { skip }, () => {
      const K = months.length;
      for (let b = 1; b < K; b++) {
        const m = summary.pairs[b - 1]![0]!;
        for (let to = 0; to < 5; to++) {
          const into = m.reduce((s, row) => s + row[to]!, 0);
          assert.equal(into, summary.counts[b]![to], `month ${b}, stage ${to}`);
        }
      }
      assert.equal(summary.timeTo.length, 4);
      for (const x of summary.timeTo) {
        for (let a = 1; a < x.curve.length; a++) assert.ok(x.curve[a]!.p >= x.curve[a - 1]!.p - 1e-12, 'a time-to curve never falls');
      }
      const cells = summary.moves.cells;
      assert.ok(cells.length > 0 && cells.every((c) => c.moved <= c.atRisk));
      assert.equal(summary.moves.horizonMonths, 6);
    });

    it('reads again only the customers with new rows, and agrees with a full run', { skip }, async () => {
      const before = await histories(t);
      const someone = await t.store.db.selectFrom('customers').select(['id', 'user_id']).where('user_id', 'is not', null).orderBy('id').limit(1).executeTakeFirstOrThrow();
      // A visit in the last month of the history: research, so Co-creation from that month on.
      const at = endOfMonth(months.at(-1)!) - 3 * DAY_MS;
      await new IngestWriter(t.store, () => at).write([{ kind: 'interaction', who: { userId: someone.user_id! }, type: 'track', name: 'Visit Completed', channel: 'in_person', direction: 'mutual', at, properties: {}, source: 'test', sourceId: 'visit-1' }]);
      const { report } = await runHistory(t.store, { trigger: 'cli' });
      assert.equal(report.mode, 'incremental', report.why);
      assert.equal(report.read, 1);
      const after = await histories(t);
      assert.equal(after.get(Number(someone.id))!.at(-1), '4');
      assert.notEqual(before.get(Number(someone.id)), after.get(Number(someone.id)));
      const incremental = JSON.parse((await latestHistoryRun(t.store.db))!.summary) as HistorySummary;
      const full = await runHistory(t.store, { trigger: 'cli', full: true });
      assert.equal(full.report.mode, 'full');
      assert.deepEqual(await histories(t), after);
      assert.deepEqual(JSON.parse((await latestHistoryRun(t.store.db))!.summary), incremental);
      // Read on two threads (a SQLite file splits its interactions between them): the same.
      const two = await runHistory(t.store, { trigger: 'cli', full: true, parallelAbove: 2 });
      assert.equal(two.report.threads, d.name === 'sqlite' ? 2 : 1);
      assert.deepEqual(await histories(t), after);
    });

    it('values every customer: LOV parts add up, no opportunity at Co-creation, the interval holds the estimate', { skip }, async () => {
      await runHistory(t.store, { trigger: 'cli' });
      const { report } = await runStages(t.store, { trigger: 'cli' });
      assert.ok(report.lov.historyRunId !== null, report.lov.notes.join(' '));
      const rows = await t.store.db.selectFrom('customer_stages').select(['stage', 'clv', 'contribution', 'opportunity', 'opportunity_low', 'opportunity_high', 'lov']).execute();
      assert.equal(rows.length, report.customers);
      let positive = 0;
      for (const r of rows) {
        const [clv, given, opp, lo, hi, lov] = [r.clv, r.contribution, r.opportunity, r.opportunity_low, r.opportunity_high, r.lov].map((v) => (v === null ? Number.NaN : Number(v)));
        assert.ok(Math.abs(clv! + given! + opp! - lov!) < 1e-6 * Math.max(1, Math.abs(lov!)), `parts ${clv} + ${given} + ${opp} = ${lov}`);
        if (r.stage === 4) assert.equal(opp, 0);
        assert.ok(lo! <= opp! && opp! <= hi!, `${lo} ≤ ${opp} ≤ ${hi}`);
        if (opp! > 0) positive++;
      }
      assert.ok(positive > 0, 'some customers have an opportunity of moving up');
      // The totals per stage are the customers' sums.
      const total = report.lov.totals.reduce((a, x) => a + x.lov, 0);
      const sum = rows.reduce((a, r) => a + Number(r.lov), 0);
      assert.ok(Math.abs(total - sum) < 1e-6 * Math.max(1, sum));
      // The summary's totals per stage and per segment are the same sums.
      const summary = await stagesSummary(t.store);
      const byStage = summary.stages.reduce((a, x) => a + (x.lov ?? 0), 0);
      const bySegment = summary.segments.reduce((a, x) => a + (x.lov ?? 0), 0);
      assert.ok(Math.abs(byStage - sum) < 1e-6 * sum && Math.abs(bySegment - sum) < 1e-6 * sum, `${byStage} ${bySegment} ${sum}`);
      assert.ok(summary.segments.length > 2);
      const referral = report.lov.contributions.find((c) => c.group === 'referrals')!;
      assert.match(referral.basis, /referred_by|referral brought/);
    });

    it('keeps the months complete: the last month ends at or before the as-of time', () => {
      const asOf = Date.UTC(2026, 2, 15);
      const m = historyMonths(asOf, 3);
      assert.ok(endOfMonth(m[2]!) <= asOf && endOfMonth(m[2]! + 1) > asOf);
      assert.equal(ABSENT, 255);
    });
  });
}
