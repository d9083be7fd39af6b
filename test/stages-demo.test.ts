import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateDemo } from '../src/demo/generate.js';
import { tagDemoTickets } from '../src/demo/tags.js';
import { runListenAfterLoad } from '../src/listening/listen.job.js';
import { runStages } from '../src/relationships/stages.job.js';
import { runClv } from '../src/value/value.job.js';
import { confusionTable, stageAgreement } from './support/love.js';
import { sqliteStore, type TestStore } from './support/stores.js';

/**
 * The acceptance check of the LOVE stages: on a demo company the rules were never looked at
 * with (seed 7; the generator was built and the rules written on seed 1), the placements agree
 * with the stages the generator planted for at least 85% of identified customers.
 */
describe('LOVE stages against the demo company’s planted stages', () => {
  let t: TestStore;
  before(async () => {
    t = await sqliteStore();
    await generateDemo(t.store, { customers: 3000, seed: 7 });
    await runClv(t.store, { trigger: 'demo' });
    await tagDemoTickets(t.store, Date.now());
    await runListenAfterLoad(t.store, 'demo');
    await runStages(t.store, { trigger: 'demo' });
  });
  after(async () => {
    await t?.cleanup();
  });

  it('agrees with the planted stage for at least 85% of identified customers (seed 7)', async () => {
    const a = await stageAgreement(t.store);
    process.stdout.write(`# agreement ${(100 * a.share).toFixed(1)}% of ${a.customers}\n${confusionTable(a).replace(/^/gm, '# ')}\n`);
    assert.equal(a.customers, 3000);
    assert.ok(a.share >= 0.85, `agreement ${(100 * a.share).toFixed(1)}%`);
    // Every stage is planted and placed.
    for (let k = 0; k < 5; k++) {
      assert.ok(a.confusion[k]!.reduce((x, y) => x + y, 0) > 0, `stage ${k} planted`);
      assert.ok(a.confusion.reduce((x, row) => x + row[k]!, 0) > 0, `stage ${k} placed`);
    }
  });
});
