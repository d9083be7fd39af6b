import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import { CUSTOMER_STAGE_COLUMNS } from '../src/relationships/stages.repository.js';
import { refillTable, type TableRefill } from '../src/store/table-swap.js';
import { DIALECTS, type TestStore } from './support/stores.js';

const AT = Date.parse('2026-01-01T00:00:00Z');

/** `n` customers; their ids in order. */
async function seed(t: TestStore, n: number): Promise<number[]> {
  await new IngestWriter(t.store, () => AT).write(Array.from({ length: n }, (_, i) => ({ kind: 'identify' as const, who: { userId: `u${i}` }, traits: {}, at: AT })));
  return (await t.store.db.selectFrom('customers').select('id').orderBy('id').execute()).map((r) => Number(r.id));
}

/** Every customer placed by run `runId` (the stages table, as a run writes it). */
function placements(ids: readonly number[], runId: number, extra: Partial<TableRefill> = {}): TableRefill {
  return {
    table: 'customer_stages',
    columns: CUSTOMER_STAGE_COLUMNS,
    count: ids.length,
    row: (i) => [ids[i], runId, 1, 1, 'steady', 0, 0, null, null, null, null, null, null, null],
    parent: { column: 'customer_id', table: 'customers', key: 'id' },
    ...extra,
  };
}

async function runsOf(t: TestStore): Promise<Map<number, number>> {
  const rows = await t.store.db.selectFrom('customer_stages').select(['customer_id', 'run_id']).execute();
  return new Map(rows.map((r) => [Number(r.customer_id), Number(r.run_id)]));
}

async function stagingTables(t: TestStore): Promise<string[]> {
  if (!t.store.sqlite) return [];
  return t.store.sqlite.prepare(`select name from sqlite_master where type = 'table' and name like 'customer_stages_next%'`).pluck().all() as string[];
}

for (const d of DIALECTS) {
  describe(`replacing a table's rows on ${d.name}`, () => {
    it("fills the table in turns of the write queue on SQLite; readers see the old rows until the last; a customer deleted meanwhile is left out", async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        const ids = await seed(t, 10);
        await refillTable(t.store, placements(ids, 1));
        let turns = 0;
        const between: number[][] = [];
        const serialize = async <T>(fn: () => Promise<T>): Promise<T> => {
          turns++;
          between.push([...new Set((await runsOf(t)).values())]);
          // Before the second chunk: the first chunk's customer 0 (its row already written) and
          // the second chunk's customer 4 (not yet) are erased.
          if (turns === 3 || (turns === 1 && !t.store.sqlite)) await t.store.db.deleteFrom('customers').where('id', 'in', [ids[0]!, ids[4]!]).execute();
          return fn();
        };
        // A staging table left by a refill that was stopped.
        if (t.store.sqlite) t.store.sqlite.exec('create table customer_stages_next_deadbeef (x integer)');
        await refillTable(t.store, placements(ids, 2, { turnRows: 3 }), serialize);
        // SQLite: the staging table, four chunks of at most 3 rows, the swap; PostgreSQL: one transaction.
        assert.equal(turns, t.store.sqlite ? 6 : 1);
        assert.ok(
          between.every((runs) => runs.length === 1 && runs[0] === 1),
          `between the turns, only the old rows: ${JSON.stringify(between)}`,
        );
        const after = await runsOf(t);
        assert.deepEqual(
          [...after.keys()].sort((a, b) => a - b),
          ids.filter((_, i) => i !== 0 && i !== 4),
        );
        assert.ok([...after.values()].every((r) => r === 2));
        assert.deepEqual(await stagingTables(t), []);
        if (t.store.sqlite) {
          // The swapped-in table has its indexes back.
          const indexes = t.store.sqlite.prepare(`select name from sqlite_master where type = 'index' and tbl_name = 'customer_stages' and sql is not null order by name`).pluck().all();
          assert.deepEqual(indexes, ['customer_stages_opportunity', 'customer_stages_stage']);
        }
      } finally {
        await t.cleanup();
      }
    });

    it('keeps the old rows when the writes that commit with the new ones fail, and leaves no staging table', async (c) => {
      const skip = await d.skip();
      if (skip) return c.skip(skip);
      const t = await d.open();
      try {
        const ids = await seed(t, 5);
        await refillTable(t.store, placements(ids, 1));
        const failing = placements(ids, 2, {
          turnRows: 2,
          alongside: async (db) => {
            await sql`select 1`.execute(db);
            throw new Error('the run could not be recorded');
          },
        });
        await assert.rejects(
          refillTable(t.store, failing, (fn) => fn()),
          /could not be recorded/,
        );
        const runs = await runsOf(t);
        assert.equal(runs.size, 5);
        assert.ok([...runs.values()].every((r) => r === 1));
        assert.deepEqual(await stagingTables(t), []);
      } finally {
        await t.cleanup();
      }
    });
  });
}
