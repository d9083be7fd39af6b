import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { DrawnOrder } from '../src/demo/clv-cohort.js';
import { importFile } from '../src/ingest/files/import.js';
import { clvDue, runClv, type ClvRunReport } from '../src/value/value.job.js';
import { fitSummary, fittedModel } from '../src/value/fit.js';
import { dayOf, summarize } from '../src/models/clv/summary.js';
import { scoreWith } from '../src/models/clv/score.js';
import { pAlive } from '../src/models/clv/bgnbd.js';
import { mbgPAlive } from '../src/models/clv/mbgnbd.js';
import { buildServer } from '../src/server/app.js';
import { createKey } from '../src/auth/keys.js';
import { clvSummary, customerValue, pAliveText, rankCustomers, type ClvSummary, type RankedPage } from '../src/value/value.service.js';
import { samplePurchases, summarizeOrders } from '../src/value/orders.repository.js';
import type { Customer360, CustomerPage } from '../src/customers/customer.service.js';
import { DIALECTS, type TestStore } from './support/stores.js';
import { DAY, drawOrders, ordersCsv, TRUTH, withEarlyLeavers } from './support/orders.js';

/** The same summary computed independently in memory from the drawn orders. */
function memorySummary(orders: DrawnOrder[], asOfDay: number) {
  const kept = orders.filter((o) => Math.floor(o.at / DAY) <= asOfDay);
  const ids = [...new Set(kept.map((o) => o.customer))].sort((a, b) => a - b);
  const index = new Map(ids.map((c, i) => [c, i]));
  const s = summarize(
    {
      customer: Int32Array.from(kept, (o) => index.get(o.customer)!),
      day: Int32Array.from(kept, (o) => Math.floor(o.at / DAY)),
      amount: Float64Array.from(kept, (o) => o.amount),
      customers: ids.length,
    },
    { calibrationEnd: asOfDay, period: 'week' },
  );
  const byUser = new Map<string, { x: number; tx: number; T: number; m: number; row: number }>();
  for (let i = 0; i < s.frequency.length; i++) byUser.set(`c${ids[s.customer[i]!]! + 1}`, { x: s.frequency[i]!, tx: s.recency[i]!, T: s.T[i]!, m: s.monetary[i]!, row: i });
  return { s, byUser };
}

const isoDay = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);
const close = (got: number, want: number, tol: number, what: string): void => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

for (const d of DIALECTS) {
  describe(`customer value from stored orders on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let dir: string;
    let orders: DrawnOrder[];
    let report: ClvRunReport;
    before(async () => {
      if (skip) return;
      t = await d.open();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-value-'));
      orders = drawOrders(1500, 21);
      const file = path.join(dir, 'orders.csv');
      ordersCsv(orders, file);
      const s = await importFile(t.store, { file, kind: 'orders' });
      assert.equal(s.rejected, 0);
    });
    after(async () => {
      if (skip) return;
      await t.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('refuses to run without orders, and records the failed run', { skip }, async () => {
      const empty = await d.open();
      try {
        await assert.rejects(runClv(empty.store, { trigger: 'cli' }), /no orders stored yet/);
        const runs = await empty.store.db.selectFrom('job_runs').selectAll().where('job', '=', 'clv').execute();
        assert.equal(runs.length, 1);
        assert.equal(runs[0]!.status, 'failed');
        assert.match(runs[0]!.error ?? '', /no orders/);
        assert.deepEqual(await clvDue(empty.store, Date.now(), { settleMs: 0, everyMs: 1e12 }), { due: false });
      } finally {
        await empty.cleanup();
      }
    });

    it('takes the end of the order history as the as-of day, not one stray order dated weeks later', { skip }, async () => {
      const stray = await d.open();
      try {
        const last = Math.max(...orders.map((o) => Math.floor(o.at / DAY)));
        const file = path.join(dir, 'orders-stray.csv');
        const maxCustomer = Math.max(...orders.map((o) => o.customer));
        ordersCsv([...orders, { customer: maxCustomer + 1, at: (last + 60) * DAY + 3_600_000, amount: 12.5 }], file);
        assert.equal((await importFile(stray.store, { file, kind: 'orders' })).rejected, 0);
        const { report: r } = await runClv(stray.store, { trigger: 'cli' });
        assert.equal(r.asOf, new Date(last * DAY).toISOString().slice(0, 10), 'the as-of day is the last regular order, not the stray one');
        assert.equal(r.orders, orders.length, "the stray order is left out of the run");
        assert.match(r.asOfReason ?? '', /1 customer, dated up to .* left out as strays/);
      } finally {
        await stray.cleanup();
      }
    });

    it('scores with the model the holdout prefers: MBG/NBD where one-time buyers leave, so one who bought once long ago is not "about 99%" alive', { skip }, async () => {
      const early = await d.open();
      try {
        const drawn = withEarlyLeavers(drawOrders(1000, 5), 0.3);
        const file = path.join(dir, 'orders-early.csv');
        ordersCsv(drawn, file);
        assert.equal((await importFile(early.store, { file, kind: 'orders' })).rejected, 0);
        const { report: r } = await runClv(early.store, { trigger: 'cli' });
        const v = r.validation;
        assert.ok(!('skipped' in v));
        const err = Object.fromEntries(v.models!.map((m) => [m.model, m.meanAbsoluteError]));
        assert.ok(err.mbgnbd! < err.bgnbd!, `MBG/NBD ${err.mbgnbd} vs BG/NBD ${err.bgnbd}`);
        // The report names the model that scored, why, and both models' errors.
        assert.equal(r.scoring!.model, 'mbgnbd');
        assert.equal(r.scoring!.by, 'holdout');
        assert.deepEqual(r.scoring!.candidates.map((c) => [c.model, c.holdoutMeanAbsoluteError]), [['bgnbd', err.bgnbd], ['mbgnbd', err.mbgnbd]]);
        assert.equal(r.scoring!.reason, `lowest holdout error: mean absolute error of the repeat purchases predicted per customer, MBG/NBD ${err.mbgnbd!.toFixed(4)}, BG/NBD ${err.bgnbd!.toFixed(4)}`);
        assert.equal(r.fit.preferred, 'mbgnbd');
        assert.equal(r.fit.preferredBy, 'holdout');
        // The validation's figures are the scoring model's.
        assert.equal(v.model, 'mbgnbd');
        assert.equal(v.meanAbsoluteError, err.mbgnbd);
        // The customer who bought once, longest ago: P(alive) is MBG/NBD's, well below BG/NBD's 1.
        const row = (await early.store.db.selectFrom('customer_values').select(['customer_id', 'first_day', 'p_alive', 'expected_purchases']).where('purchase_days', '=', 1).orderBy('last_day').orderBy('customer_id').limit(1).executeTakeFirst())!;
        const T = (dayOf(r.asOf) - row.first_day) / 7;
        close(row.p_alive, mbgPAlive(r.fit.mbgnbd!, 0, 0, T), 1e-9, 'stored P(alive) is MBG/NBD');
        assert.equal(pAlive(r.fit.bgnbd!, 0, 0, T), 1);
        assert.ok(row.p_alive < 0.9, `P(alive) ${row.p_alive}`);
        const cv = (await customerValue(early.store, Number(row.customer_id)))!;
        assert.equal(cv.model.name, 'mbgnbd');
        assert.equal(cv.model.label, 'MBG/NBD');
        assert.equal(cv.model.why, r.scoring!.reason);
        assert.doesNotMatch(cv.pAliveText, /99%/);
        assert.equal(cv.pAliveText, `about ${Math.round(row.p_alive * 100)}%`);
        const step = cv.steps.find((s) => s.name === 'P(alive)')!;
        assert.match(step.formula, /^1 \/ \(1 \+ a\/\(b \+ x\) · /);
        assert.match(step.meaning, /MBG\/NBD, Batislam et al\. 2007, eq\. 5/);
        close(step.value!, row.p_alive, 1e-4, 'explained P(alive)');
        const expected = cv.steps.find((s) => s.name.startsWith('Expected purchases'))!;
        assert.match(expected.formula, /MBG\/NBD, Batislam et al\. 2007, eq\. 6/);
        close(expected.value!, row.expected_purchases, 1e-3, 'explained expected purchases');
        // The outlook is MBG/NBD's: "none" carries the chance of having left.
        close(cv.purchaseOutlook.reduce((a, o) => a + o.probability, 0), 1, 0.001, 'outlook adds up');
        assert.ok(cv.purchaseOutlook[0]!.probability >= 1 - row.p_alive - 1e-4);
        const sum = await clvSummary(early.store);
        assert.equal(sum.scoring!.label, 'MBG/NBD');
        assert.deepEqual(sum.validation!.models!.map((m) => m.model), ['bgnbd', 'mbgnbd']);
        assert.match(sum.explanation![0]!, /^Purchases: MBG\/NBD \(Batislam/);
        // Asked for BG/NBD, the same customer is scored as surely alive again (the case the choice mends).
        const { report: bg } = await runClv(early.store, { trigger: 'cli', model: 'bgnbd' });
        assert.equal(bg.scoring!.model, 'bgnbd');
        assert.equal(bg.scoring!.by, 'requested');
        assert.equal(bg.validation && !('skipped' in bg.validation) ? bg.validation.model : undefined, 'bgnbd');
        const again = (await early.store.db.selectFrom('customer_values').select('p_alive').where('customer_id', '=', row.customer_id).executeTakeFirst())!;
        assert.equal(again.p_alive, 1);
        assert.equal((await customerValue(early.store, Number(row.customer_id)))!.pAliveText, 'about 99%');
      } finally {
        await early.cleanup();
      }
    });

    it('chooses the purchase model by BIC when the history is too short for a holdout, and says so', { skip }, async () => {
      const short = await d.open();
      try {
        const from = dayOf('2025-11-01');
        const drawn = drawOrders(600, 3).filter((o) => Math.floor(o.at / DAY) >= from);
        const file = path.join(dir, 'orders-short.csv');
        ordersCsv(drawn, file);
        assert.equal((await importFile(short.store, { file, kind: 'orders' })).rejected, 0);
        const { report: r } = await runClv(short.store, { trigger: 'cli' });
        assert.ok('skipped' in r.validation, 'two months of history are too short for a holdout');
        const bic = Object.fromEntries(r.scoring!.candidates.map((c) => [c.model, c.bic]));
        assert.deepEqual(r.scoring!.candidates.map((c) => c.holdoutMeanAbsoluteError), [null, null]);
        assert.equal(r.scoring!.by, 'bic');
        assert.equal(r.scoring!.model, bic.mbgnbd! < bic.bgnbd! ? 'mbgnbd' : 'bgnbd');
        // The candidates' figures are the plain fits' the choice was made on; a chosen model
        // whose plain fit was degenerate is refitted with the penalty (and says so), the other kept.
        const other = r.scoring!.model === 'bgnbd' ? 'mbgnbd' : 'bgnbd';
        assert.equal(bic[other], r.fit[other]!.bic);
        const refit = r.warnings.find((w) => /degenerate/.test(w));
        if (refit) {
          assert.match(refit, new RegExp(`^the plain maximum-likelihood fit of ${r.scoring!.model === 'bgnbd' ? 'BG' : 'MBG'}/NBD was degenerate on \\d+ customers \\(r = .*\\); refitted with an L2 penalty of 0.01$`));
          assert.ok(r.fit[r.scoring!.model]!.bic > bic[r.scoring!.model]!, 'the penalised fit is worse by likelihood');
        } else {
          assert.equal(bic[r.scoring!.model], r.fit[r.scoring!.model]!.bic);
        }
        assert.ok(r.distribution.pAlive.every((b) => Number.isFinite(b.customers)) && Number.isFinite(r.distribution.clv!.total));
        assert.match(r.scoring!.reason, /^no holdout validation, so the lowest BIC on all customers: (BG|MBG)\/NBD [\d.]+, (BG|MBG)\/NBD [\d.]+$/);
        assert.equal(r.fit.preferredBy, 'bic');
      } finally {
        await short.cleanup();
      }
    });

    it('values live data as of today and an imported history as of its end, and says which and why', { skip }, async () => {
      const live = await d.open();
      try {
        const drawn = drawOrders(300, 9);
        const file = path.join(dir, 'orders-live.csv');
        ordersCsv(drawn, file);
        assert.equal((await importFile(live.store, { file, kind: 'orders' })).rejected, 0);
        const last = Math.max(...drawn.map((o) => Math.floor(o.at / DAY)));
        // Three days after the latest order: orders are still arriving, so "now" is today.
        const { report: r } = await runClv(live.store, { trigger: 'cli', now: () => (last + 3) * DAY + 5 * 3_600_000 });
        assert.equal(r.asOf, isoDay(last + 3));
        assert.equal(r.asOfRule, 'live');
        assert.equal(r.dataEnd, isoDay(last));
        assert.equal(r.asOfReason, 'today: live data, orders are still arriving (the latest 3 days ago, within 7 days)');
        const row = (await live.store.db.selectFrom('customer_values').select(['customer_id', 'first_day', 'last_day']).limit(1).executeTakeFirst())!;
        const cv = (await customerValue(live.store, Number(row.customer_id)))!;
        close(cv.inputs.ageWeeks, (last + 3 - row.first_day) / 7, 1e-3, 'T runs to today');
        assert.match(cv.activity.statement, /^no purchase in \d+/);
        const sum = await clvSummary(live.store);
        assert.equal(sum.run!.asOfRule, 'live');
        // Thirty days after: an export that ended, valued as of its end.
        const { report: old } = await runClv(live.store, { trigger: 'cli', now: () => (last + 30) * DAY });
        assert.equal(old.asOf, isoDay(last));
        assert.equal(old.asOfRule, 'end of data');
        assert.equal(old.asOfReason, 'the latest order: an imported history, its last order 30 days ago (more than 7 days), so it is taken as complete up to then');
        // The edge of the window: 7 days is live, 8 days is not.
        assert.equal((await runClv(live.store, { trigger: 'cli', now: () => (last + 7) * DAY })).report.asOf, isoDay(last + 7));
        assert.equal((await runClv(live.store, { trigger: 'cli', now: () => (last + 8) * DAY })).report.asOf, isoDay(last));
        // Orders dated after today are still left out, live or not.
        const future = path.join(dir, 'orders-future.csv');
        fs.writeFileSync(future, `order_id,customer_id,date,total\nfut-1,c1,${isoDay(last + 40)}T10:00:00Z,20\n`);
        assert.equal((await importFile(live.store, { file: future, kind: 'orders' })).rejected, 0);
        const { report: f } = await runClv(live.store, { trigger: 'cli', now: () => (last + 2) * DAY });
        assert.equal(f.asOf, isoDay(last + 2));
        assert.equal(f.orders, drawn.length);
        assert.match(f.asOfReason ?? '', /^today: live data, orders are still arriving \(the latest 2 days ago, within 7 days\); orders of 1 customer dated in the future \(up to \d{4}-\d\d-\d\d\) are left out$/);
      } finally {
        await live.cleanup();
      }
    });

    it('summarises the stored orders in SQL exactly as the in-memory summary does (same-day orders merged)', { skip }, async () => {
      const result = await runClv(t.store, { trigger: 'cli' });
      report = result.report;
      const last = Math.max(...orders.map((o) => Math.floor(o.at / DAY)));
      assert.equal(report.asOf, new Date(last * DAY).toISOString().slice(0, 10));
      // An imported history (it ends long before today): as of its end, and the page says why.
      assert.match(report.asOfReason ?? '', /^the latest order: an imported history, its last order [\d,]+ days ago \(more than 7 days\)/);
      assert.equal(report.asOfRule, 'end of data');
      assert.equal(report.orders, orders.length);
      const mem = memorySummary(orders, last);
      assert.equal(report.customers, mem.s.frequency.length);
      const rows = await t.store.db
        .selectFrom('customer_values as v')
        .innerJoin('customers as c', 'c.id', 'v.customer_id')
        .select(['c.user_id', 'v.purchase_days', 'v.first_day', 'v.last_day', 'v.repeat_spend', 'v.clv', 'v.p_alive', 'v.run_id'])
        .execute();
      assert.equal(rows.length, report.customers);
      const asOf = dayOf(report.asOf);
      for (const r of rows) {
        const m = mem.byUser.get(r.user_id!)!;
        assert.equal(r.purchase_days - 1, m.x, `x of ${r.user_id}`);
        close((r.last_day - r.first_day) / 7, m.tx, 1e-9, `t_x of ${r.user_id}`);
        close((asOf - r.first_day) / 7, m.T, 1e-9, `T of ${r.user_id}`);
        close(r.repeat_spend, m.m, 1e-9, `mean repeat spend of ${r.user_id}`);
        assert.equal(Number(r.run_id), result.runId);
      }
      // The fits and the scores are those of the models on the in-memory summary; the scores
      // are the model's the run chose (it fits both purchase models and scores with one).
      const fit = fitSummary(mem.s, { model: 'all', models: ['bgnbd', 'mbgnbd'] });
      for (const k of ['r', 'alpha', 'a', 'b'] as const) close(report.fit.bgnbd![k], fit.bgnbd![k], 1e-6, `BG/NBD ${k}`);
      for (const k of ['r', 'alpha', 'a', 'b'] as const) close(report.fit.mbgnbd![k], fit.mbgnbd![k], 1e-6, `MBG/NBD ${k}`);
      for (const k of ['p', 'q', 'v'] as const) close(report.fit.gammaGamma![k], fit.gammaGamma![k], 1e-6, `Gamma-Gamma ${k}`);
      const scores = scoreWith(fittedModel(fit, report.scoring!.model), fit.gammaGamma, mem.s, { periodDays: 7 });
      for (const r of rows) {
        const i = mem.byUser.get(r.user_id!)!.row;
        close(r.clv!, scores.clv[i]!, 1e-5, `CLV of ${r.user_id}`);
        close(r.p_alive, scores.pAlive[i]!, 1e-6, `P(alive) of ${r.user_id}`);
      }
      // And they are near the parameters the orders were drawn from (1,500 customers: loose).
      close(report.fit.bgnbd!.r, TRUTH.bgnbd.r, 0.35, 'r vs truth');
      close(report.fit.gammaGamma!.p, TRUTH.gammaGamma.p, 0.35, 'p vs truth');
    });

    it('validates against a holdout and reports the distribution, RFM groups and settings', { skip }, async () => {
      const v = report.validation;
      assert.ok(!('skipped' in v), 'two years of orders are enough to validate');
      assert.equal(v.holdoutEnd, report.asOf);
      assert.equal(dayOf(v.holdoutEnd) - dayOf(v.calibrationEnd), 26 * 7);
      // Actual holdout repeats counted independently: purchase days in the holdout of customers who bought before it.
      const cal = dayOf(v.calibrationEnd);
      const byCustomer = new Map<number, Set<number>>();
      for (const o of orders) {
        const day = Math.floor(o.at / DAY);
        const set = byCustomer.get(o.customer) ?? new Set<number>();
        set.add(day);
        byCustomer.set(o.customer, set);
      }
      let actual = 0;
      for (const days of byCustomer.values()) if (Math.min(...days) <= cal) for (const day of days) if (day > cal) actual++;
      assert.equal(v.actualRepeatPurchases, actual);
      assert.ok(Math.abs(v.predictedRepeatPurchases - actual) / actual < 0.25, `predicted ${v.predictedRepeatPurchases} vs actual ${actual}`);
      const dist = report.distribution.clv!;
      assert.equal(dist.histogram.reduce((n, b) => n + b.customers, 0), report.customers);
      assert.equal(report.distribution.pAlive.reduce((n, b) => n + b.customers, 0), report.customers);
      assert.equal(report.rfm.reduce((n, g) => n + g.customers, 0), report.customers);
      close(report.rfm.reduce((n, g) => n + (g.clv ?? 0), 0), dist.total, 1e-9, 'RFM groups add up to the total CLV');
      assert.deepEqual(report.settings, { horizonMonths: 12, monthlyDiscountRate: 0.01, margin: 1 });
      // Micro-segments cover everyone, and each stored customer carries one of the cards' ids.
      const seg = report.segments;
      assert.ok(!('skipped' in seg), 'segments');
      assert.ok(seg.k >= 3 && seg.cards.length >= 2 && seg.cards.length <= seg.k);
      assert.equal(seg.cards.reduce((n, c) => n + c.customers, 0), report.customers);
      const stored = await t.store.db.selectFrom('customer_values').select(['segment', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('segment').execute();
      assert.deepEqual(
        stored.map((r) => [r.segment, Number(r.n)]).sort((a, b) => Number(a[0]) - Number(b[0])),
        seg.cards.map((c) => [c.id, c.customers]).sort((a, b) => a[0]! - b[0]!),
      );
      const one = seg.cards[0]!;
      const members = await rankCustomers(t.store, { sort: 'clv', limit: 200, segment: one.id });
      assert.ok(members.items.length > 0 && members.items.every((c) => c.segment === one.id));
    });

    it('ranks customers by CLV and by value at risk, pages without gaps, and explains each value', { skip }, async () => {
      const all: string[] = [];
      let cursor: string | undefined;
      let prev = Number.POSITIVE_INFINITY;
      do {
        const page = await rankCustomers(t.store, { sort: 'risk', limit: 200, ...(cursor ? { cursor } : {}) });
        for (const c of page.items) {
          assert.ok(c.valueAtRisk! <= prev + 1e-9);
          prev = c.valueAtRisk!;
          all.push(c.userId);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.equal(all.length, report.customers);
      assert.equal(new Set(all).size, all.length);
      const top = (await rankCustomers(t.store, { sort: 'clv', limit: 5 })).items;
      assert.ok(top[0]!.clv! >= top[4]!.clv!);
      const champions = await rankCustomers(t.store, { sort: 'clv', limit: 50, group: 'champions' });
      assert.ok(champions.items.length > 0 && champions.items.every((c) => c.rfm.group === 'champions' && c.rfm.r === 5));
      // The explanation recomputes the stored numbers from the run's parameters.
      const repeat = (await t.store.db.selectFrom('customer_values').select(['customer_id', 'clv', 'value_at_risk']).where('purchase_days', '>', 3).limit(3).execute());
      for (const r of repeat) {
        const v = (await customerValue(t.store, Number(r.customer_id)))!;
        const step = (name: string) => v.steps.find((s) => s.name === name)!.value!;
        close(step('CLV'), r.clv!, 0.006, 'explained CLV');
        close(step('Value at risk'), r.value_at_risk!, 0.006, 'explained value at risk');
        assert.match(v.steps[0]!.formula, /1 \/ \(1 \+ /);
        // The purchase outlook is a distribution, and "none" includes the chance of having left.
        assert.deepEqual(v.purchaseOutlook.map((o) => o.purchases), ['0', '1', '2', '3+']);
        close(v.purchaseOutlook.reduce((a, o) => a + o.probability, 0), 1, 0.001, 'outlook adds up');
        assert.ok(v.purchaseOutlook[0]!.probability >= 1 - v.pAlive - 1e-4);
      }
    });

    it('says both when a customer has not bought for long but is active in the product, and never shows P(alive) as certain', { skip }, async () => {
      const row = (await t.store.db.selectFrom('customer_values').select(['customer_id', 'last_day']).orderBy('last_day').limit(1).executeTakeFirst())!;
      const id = Number(row.customer_id);
      const before = (await customerValue(t.store, id))!;
      assert.match(before.activity.statement, /^no purchase in \d+ (days|weeks|months|years)/);
      const asOfDay = dayOf(before.asOf);
      const seen = (asOfDay - 5) * DAY + 3_600_000;
      await t.store.db.updateTable('customers').set({ last_seen: seen }).where('id', '=', id).execute();
      const v = (await customerValue(t.store, id))!;
      assert.equal(v.activity.activeSincePurchase, true);
      assert.match(v.activity.statement, /^no purchase in .*; active in the product 5 days before the as-of day$/);
      assert.equal(v.activity.lastActive, new Date(seen).toISOString());
      assert.equal(pAliveText(1, 0), 'about 99%');
      assert.equal(pAliveText(0.9996, 4), 'over 99%');
      assert.equal(pAliveText(0.0001, 4), 'under 1%');
      assert.equal(pAliveText(0.4321, 2), '43%');
      assert.doesNotMatch(v.pAliveText, /100%/);
    });

    it('re-runs in place, honours an as-of day and remembered settings, and forgets erased customers', { skip }, async () => {
      const asOf = dayOf('2025-06-30');
      const { report: early } = await runClv(t.store, { trigger: 'cli', asOfDay: asOf, settings: { margin: 0.3, horizonMonths: 6 } });
      const mem = memorySummary(orders, asOf);
      assert.equal(early.customers, mem.s.frequency.length);
      assert.equal(early.asOf, '2025-06-30');
      assert.equal(early.orders, orders.filter((o) => Math.floor(o.at / DAY) <= asOf).length);
      const n = await t.store.db.selectFrom('customer_values').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), early.customers);
      assert.equal((await clvSummary(t.store)).run!.stale, true, 'values as of an earlier day are not current');
      // A later run without settings keeps the remembered margin and horizon.
      const { report: again } = await runClv(t.store, { trigger: 'schedule' });
      assert.deepEqual(again.settings, { horizonMonths: 6, monthlyDiscountRate: 0.01, margin: 0.3 });
      close(again.distribution.clv!.total, report.distribution.clv!.total * 0.3, 0.5, 'a 30% margin over 6 months is less than 30% of 12 months of revenue');
      assert.ok(again.distribution.clv!.total < report.distribution.clv!.total * 0.3);
      const victim = await t.store.db.selectFrom('customer_values').select('customer_id').limit(1).executeTakeFirstOrThrow();
      await t.store.db.deleteFrom('customers').where('id', '=', victim.customer_id).execute();
      assert.equal(await customerValue(t.store, Number(victim.customer_id)), null);
    });

    it('skips customers erased while a run was computing, and keeps everyone else', { skip }, async () => {
      const victim = await t.store.db.selectFrom('customers').select('id').where('user_id', '=', 'c7').executeTakeFirstOrThrow();
      let calls = 0;
      const { report: r } = await runClv(t.store, {
        trigger: 'cli',
        // The second serialized step is the write: erase a customer just before it.
        serialize: async (fn) => {
          if (++calls === 2) await t.store.db.deleteFrom('customers').where('id', '=', victim.id).execute();
          return fn();
        },
      });
      const stored = await t.store.db.selectFrom('customer_values').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(stored.n), r.customers - 1);
      assert.equal(await customerValue(t.store, Number(victim.id)), null);
    });

    it('retries a failed run once new orders arrive', { skip }, async () => {
      const other = await d.open();
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-value-retry-'));
      try {
        const file = path.join(tmp, 'once.csv');
        fs.writeFileSync(file, 'order_id,customer_id,date,total\na,u1,2025-01-02,10\nb,u2,2025-01-03,12\n');
        await importFile(other.store, { file, kind: 'orders' });
        await assert.rejects(runClv(other.store, { trigger: 'schedule' }), /repeat purchase/);
        const failed = await other.store.db.selectFrom('job_runs').select('finished_at').where('job', '=', 'clv').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
        const at = Number(failed.finished_at);
        const o = { settleMs: 600_000, everyMs: 86_400_000 };
        assert.deepEqual(await clvDue(other.store, at + 3_600_000, o), { due: false });
        fs.writeFileSync(file, 'order_id,customer_id,date,total\nc,u1,2025-02-02,15\n');
        await importFile(other.store, { file, kind: 'orders' });
        assert.deepEqual(await clvDue(other.store, at + 3_600_000, o), { due: true, why: 'new orders since the failed run' });
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
        await other.cleanup();
      }
    });

    it('is due when orders arrive, after they settle, and daily', { skip }, async () => {
      const now = Date.now();
      const finished = Number((await t.store.db.selectFrom('job_runs').select('finished_at').where('job', '=', 'clv').where('status', '=', 'ok').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).finished_at);
      assert.deepEqual(await clvDue(t.store, finished + 1000, { settleMs: 600_000, everyMs: 86_400_000 }), { due: false });
      assert.deepEqual(await clvDue(t.store, finished + 86_400_000, { settleMs: 600_000, everyMs: 86_400_000 }), { due: true, why: 'scheduled' });
      const file = path.join(dir, 'more.csv');
      fs.writeFileSync(file, `order_id,customer_id,date,total\nnew-1,c1,${new Date(now).toISOString()},20\n`);
      await importFile(t.store, { file, kind: 'orders' });
      assert.deepEqual(await clvDue(t.store, finished + 1000, { settleMs: 600_000, everyMs: 86_400_000 }), { due: false });
      assert.deepEqual(await clvDue(t.store, finished + 600_000, { settleMs: 600_000, everyMs: 86_400_000 }), { due: true, why: 'new orders' });
    });
  });

  describe(`customer value API on ${d.name}`, async () => {
    const skip = await d.skip();
    let t: TestStore;
    let app: FastifyInstance;
    let read = '';
    let admin = '';
    before(async () => {
      if (skip) return;
      t = await d.open();
      app = await buildServer({ store: t.store });
      read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
      admin = (await createKey(t.store.db, 'ops', 'admin', Date.now())).secret;
    });
    after(async () => {
      if (skip) return;
      await app.close();
      await t.cleanup();
    });
    const call = (method: 'GET' | 'POST', url: string, key = read) => app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });

    it('says there is no value before orders, computes it on demand, and serves summary, rankings and per-customer value', { skip }, async () => {
      const none = (await call('GET', '/api/clv/summary')).json<ClvSummary>();
      assert.equal(none.available, false);
      assert.match(none.message!, /orders/);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-value-api-'));
      try {
        const file = path.join(dir, 'orders.csv');
        ordersCsv(drawOrders(400, 5), file);
        await importFile(t.store, { file, kind: 'orders' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      assert.equal((await call('POST', '/api/clv/run')).statusCode, 403, 'a read key cannot start a run');
      const run = await call('POST', '/api/clv/run', admin);
      assert.equal(run.statusCode, 200, run.body);
      assert.ok(run.json<{ customers: number }>().customers > 300);
      const sum = (await call('GET', '/api/clv/summary')).json<ClvSummary>();
      assert.equal(sum.available, true);
      assert.equal(sum.run!.stale, false);
      assert.ok(sum.bgnbd!.r > 0 && sum.gammaGamma!.p > 0);
      assert.ok(sum.validation!.tracking!.length > 50);
      assert.ok(sum.explanation!.length >= 4);
      // Ranked by a score, a page lists only customers that have it (non-null).
      const top = (await call('GET', '/api/clv/customers?sort=clv&limit=3')).json<z.infer<typeof RankedPage>>();
      assert.equal(top.items.length, 3);
      assert.ok(top.items[0]!.clv! >= top.items[1]!.clv!);
      const risky = (await call('GET', '/api/clv/customers?sort=risk&limit=3')).json<z.infer<typeof RankedPage>>();
      assert.ok(risky.items[0]!.valueAtRisk! >= risky.items[2]!.valueAtRisk!);
      assert.equal((await call('GET', '/api/clv/customers?sort=nope')).statusCode, 400);
      const profile = (await call('GET', `/api/customers/${top.items[0]!.userId}`)).json<Customer360>();
      assert.equal(profile.value!.clv, top.items[0]!.clv);
      // One source of truth: the profile's summary fields are the value block's.
      assert.equal(profile.clv, profile.value!.clv);
      assert.equal(profile.pAlive, profile.value!.pAlive);
      assert.ok(profile.value!.steps.some((s) => s.name === 'P(alive)'));
      const list = (await call('GET', `/api/customers?q=${top.items[0]!.userId}`)).json<z.infer<typeof CustomerPage>>();
      assert.equal(list.items[0]!.clv, top.items[0]!.clv);
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, unknown> }>();
      assert.ok(doc.paths['/api/clv/summary'] && doc.paths['/api/clv/customers'] && doc.paths['/api/clv/run']);
    });

    it('lists customers by value, those without a value last, with the total matching the filter', { skip }, async () => {
      // A customer with no orders has no value.
      await t.store.db.insertInto('customers').values({ user_id: 'no-orders', email: null, name: null, traits: '{}', first_seen: null, last_seen: null, created_at: 0, updated_at: 0 }).execute();
      const all = (await call('GET', '/api/customers?limit=1')).json<z.infer<typeof CustomerPage>>();
      const identified = Number((await t.store.db.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).where('user_id', 'is not', null).executeTakeFirstOrThrow()).n);
      assert.equal(all.total, identified);
      assert.equal((await call('GET', '/api/customers?q=no-orders')).json<z.infer<typeof CustomerPage>>().total, 1);
      for (const order of ['desc', 'asc'] as const) {
        const seen: (number | null)[] = [];
        let cursor: string | null = null;
        do {
          const res = await call('GET', `/api/customers?sort=clv&order=${order}&limit=97${cursor ? `&cursor=${cursor}` : ''}`);
          assert.equal(res.statusCode, 200, res.body);
          const page = res.json<z.infer<typeof CustomerPage>>();
          assert.equal(page.total, identified);
          seen.push(...page.items.map((c) => c.clv));
          cursor = page.nextCursor;
        } while (cursor);
        assert.equal(seen.length, identified, `${order}: every customer once`);
        const valued = seen.filter((v): v is number => v !== null);
        assert.ok(valued.length > 300);
        assert.deepEqual(seen.slice(valued.length), Array(seen.length - valued.length).fill(null), `${order}: customers without value last`);
        const sorted = [...valued].sort((a, b) => (order === 'desc' ? b - a : a - b));
        assert.deepEqual(valued, sorted, `${order}: by value`);
      }
      const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ components: { schemas: Record<string, { properties: Record<string, unknown> }> } }>();
      assert.ok(doc.components.schemas.CustomerPage!.properties.total);
    });
  });
}

describe('days before 1970', async () => {
  const skips = new Map(await Promise.all(DIALECTS.map(async (d) => [d.name, await d.skip()] as const)));
  const seen = new Map<string, unknown>();
  for (const d of DIALECTS) {
    it(`counts an order at 1969-12-31T12:00:00Z on day −1 on ${d.name}`, { skip: skips.get(d.name) ?? false }, async () => {
      const t = await d.open();
      try {
        const db = t.store.db;
        const ids: number[] = [];
        for (const user of ['early', 'later']) {
          const c = await db.insertInto('customers').values({ user_id: user, email: null, name: null, traits: '{}', first_seen: null, last_seen: null, created_at: 0, updated_at: 0 }).returning('id').executeTakeFirstOrThrow();
          ids.push(Number(c.id));
        }
        const orders: [number, string, number][] = [
          [ids[0]!, '1969-12-31T12:00:00Z', 10],
          [ids[0]!, '1970-01-01T06:00:00Z', 20],
          [ids[0]!, '1970-01-05T00:00:00Z', 30],
          [ids[1]!, '1970-01-02T00:00:00Z', 7],
        ];
        await db
          .insertInto('orders')
          .values(orders.map(([customer, at, total], i) => ({ customer_id: customer, order_id: `o${i}`, occurred_at: Date.parse(at), total, currency: 'USD', properties: '{}', source: 'test', source_id: `o${i}`, received_at: 0 })))
          .execute();
        const s = await summarizeOrders(t.store);
        const rows = Array.from(s.customerId, (id, i) => ({
          customer: id === ids[0] ? 'early' : 'later',
          firstDay: s.firstDay[i],
          lastDay: s.lastDay[i],
          purchaseDays: s.purchaseDays[i],
          spend: s.spend[i],
          firstDaySpend: s.firstDaySpend[i],
        })).sort((a, b) => a.customer.localeCompare(b.customer));
        // The orders of 1969-12-31 and 1970-01-01 are two purchase days, the first of them day −1.
        assert.deepEqual(rows, [
          { customer: 'early', firstDay: -1, lastDay: 4, purchaseDays: 3, spend: 60, firstDaySpend: 10 },
          { customer: 'later', firstDay: 1, lastDay: 1, purchaseDays: 1, spend: 7, firstDaySpend: 7 },
        ]);
        assert.equal(s.orders, 4);
        assert.equal(s.maxDay, 4);
        const p = await samplePurchases(t.store, 4, 1);
        const sample = Array.from(p.customer, (id, i) => [id === ids[0] ? 'early' : 'later', p.day[i], p.amount[i]] as const).sort((a, b) => a[0].localeCompare(b[0]) || a[1]! - b[1]!);
        assert.deepEqual(sample, [
          ['early', -1, 10],
          ['early', 0, 20],
          ['early', 4, 30],
          ['later', 1, 7],
        ]);
        seen.set(d.name, { rows, orders: s.orders, maxDay: s.maxDay, sample });
      } finally {
        await t.cleanup();
      }
    });
  }
  it('summarises them the same on SQLite and PostgreSQL', { skip: [...skips.values()].find((s) => s !== false) ?? false }, () => {
    assert.equal(seen.size, DIALECTS.length);
    assert.deepEqual(seen.get('sqlite'), seen.get('postgres'));
  });
});

describe('rapport clv run and imports', () => {
  const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
  const TSX = import.meta.resolve('tsx');
  const rapport = (args: string[], env: NodeJS.ProcessEnv) => {
    const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('recomputes value after an orders import, and runs on demand with settings', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-value-cli-'));
    try {
      const env = { DATABASE_URL: `sqlite:${path.join(dir, 'r.db')}` };
      const file = path.join(dir, 'orders.csv');
      ordersCsv(drawOrders(300, 9), file);
      const imp = rapport(['import', file, '--kind', 'orders', '--json'], env);
      assert.equal(imp.code, 0, imp.err);
      const summary = JSON.parse(imp.out) as { customerValue: { customers: number } };
      assert.ok(summary.customerValue.customers > 250);
      const bad = rapport(['clv', 'run', '--margin', '2'], env);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--margin/);
      const run = rapport(['clv', 'run', '--margin', '0.4', '--json'], env);
      assert.equal(run.code, 0, run.err);
      const r = JSON.parse(run.out) as ClvRunReport & { runId: number };
      assert.equal(r.settings.margin, 0.4);
      assert.equal(r.runId, 2);
      const text = rapport(['clv', 'run'], env);
      assert.match(text.out, /Customer value as of \d{4}-\d\d-\d\d: [\d,]+ orders/);
      assert.match(text.out, /validation: fitted to/);
      assert.match(text.out, /\nas of the latest order: an imported history/);
      assert.match(text.out, /\nscored with (BG|MBG)\/NBD: lowest holdout error: mean absolute error of the repeat purchases predicted per customer, (BG|MBG)\/NBD \d\.\d{4}, (BG|MBG)\/NBD \d\.\d{4}\n/);
      const wrong = rapport(['clv', 'run', '--model', 'pareto'], env);
      assert.equal(wrong.code, 2);
      assert.match(wrong.err, /--model: expected auto, bgnbd or mbgnbd, got "pareto"/);
      const asked = rapport(['clv', 'run', '--model', 'mbgnbd', '--json'], env);
      assert.equal(asked.code, 0, asked.err);
      const a = JSON.parse(asked.out) as ClvRunReport;
      assert.deepEqual([a.scoring!.model, a.scoring!.by, a.scoring!.reason], ['mbgnbd', 'requested', 'MBG/NBD as asked for (--model)']);
      assert.match(text.out, /total [\d,]+ USD, median [\d.]+ USD, .*value at risk [\d,]+ USD/);
      assert.deepEqual(r.currency, { code: 'USD', share: 1, byCurrency: [{ currency: 'USD', orders: r.orders, amount: r.currency!.byCurrency[0]!.amount, share: 1 }], note: null });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
