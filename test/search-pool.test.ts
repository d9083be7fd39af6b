import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../src/auth/keys.js';
import { RapportError } from '../src/core/errors.js';
import { Turns } from '../src/core/turns.js';
import { IngestWriter } from '../src/ingest/writer/writer.js';
import type { IngestRecord } from '../src/ingest/records.js';
import { parseQuery, QUERY_LIMITS } from '../src/search/query.js';
import { syncSearch } from '../src/search/search.indexer.js';
import { searchRunner, type SearchRunner } from '../src/search/search.pool.js';
import { SearchParams, type SearchPage } from '../src/search/search.service.js';
import { buildServer } from '../src/server/app.js';
import { DIALECTS, sqliteStore, type TestStore } from './support/stores.js';

/**
 * Searches are kept off the write path: a budget refuses what is too wide before it runs, on a
 * SQLite file each search runs on a thread of its own with a deadline, on PostgreSQL in a
 * read-only transaction with a statement timeout, and admission is bounded (503 busy).
 */

const WORDS = ['late', 'parcel', 'refund', 'damaged', 'delivery', 'courier', 'great', 'sound', 'price', 'order', 'box', 'wait', 'support', 'answer', 'quick', 'slow'];
const T0 = Date.UTC(2026, 0, 1);

/** `n` chat transcripts of 12 words drawn from a small vocabulary, so wide queries match many. */
function transcripts(n: number): IngestRecord[] {
  let seed = 1;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: n }, (_, i) => ({
    kind: 'interaction' as const,
    who: { userId: `u${i % 500}` },
    type: 'track' as const,
    name: 'Support Chat Completed',
    channel: 'web',
    direction: 'inbound' as const,
    at: T0 + i * 60_000,
    properties: { transcript: Array.from({ length: 12 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ') },
    source: 'test',
    sourceId: `i${i}`,
  }));
}

/** Within the budget, and costly: eight three-word phrases over every transcript. */
const HEAVY = Array.from({ length: 8 }, (_, i) => `"${WORDS[i]} ${WORDS[i + 4]} ${WORDS[i + 8]}"`).join(' OR ');
const heavy = SearchParams.parse({ q: HEAVY, kind: 'interaction' });
const cheap = SearchParams.parse({ q: 'zebra' });

/** Longest pause of this thread's event loop while `work` runs, ms. */
async function longestPause(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
    return Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(tick);
  }
}

const rejectsWith = async (p: Promise<unknown>, code: string): Promise<RapportError> => {
  const e = await p.then(
    () => assert.fail(`expected ${code}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof RapportError, String(e));
  assert.equal(e.code, code, e.message);
  return e;
};

describe('search budget', () => {
  it('refuses queries past each limit before they run, naming q and the limit', () => {
    const or = (n: number) => Array.from({ length: n }, (_, i) => `w${i}x`).join(' OR ');
    assert.doesNotThrow(() => parseQuery(or(QUERY_LIMITS.maxAlternatives)));
    assert.throws(() => parseQuery(or(QUERY_LIMITS.maxAlternatives + 1)), /^RapportError: q: at most 8 alternatives joined by OR \(this query has 9\)/);
    assert.throws(() => parseQuery('ab* cd* ef* gh* ij*'), /q: at most 4 prefix searches .*has 5/);
    assert.throws(() => parseQuery(Array.from({ length: 17 }, (_, i) => `w${i}x`).join(' ')), /q: at most 16 words and phrases/);
    const longPhrases = Array.from({ length: 3 }, (_, p) => `"${Array.from({ length: 12 }, (_, i) => `w${p}${i}`).join(' ')}"`).join(' ');
    assert.throws(() => parseQuery(longPhrases), /q: at most 32 words .*has 36/);
    assert.doesNotThrow(() => parseQuery(HEAVY));
  });

  it('takes turns: a full line is refused at once with busy and Retry-After, a long wait too', async () => {
    const turns = new Turns(1, 1, 'search');
    const first = await turns.take(1000);
    const second = turns.take(1000);
    const third = await rejectsWith(turns.take(1000), 'busy');
    assert.equal(third.retryAfterSeconds, 1);
    assert.match(third.message, /search: too many are running and waiting/);
    first();
    first(); // giving a turn back twice frees it once
    const release = await second;
    assert.deepEqual(turns.load, { free: 0, waiting: 0 });
    const late = await rejectsWith(turns.take(20), 'busy');
    assert.match(late.message, /none came free within 0 s/);
    release();
    assert.deepEqual(turns.load, { free: 1, waiting: 0 });
  });
});

describe('searches on a SQLite file run on search threads', () => {
  let t: TestStore;
  before(async () => {
    t = await sqliteStore();
    await new IngestWriter(t.store).write(transcripts(60_000));
    await syncSearch(t.store);
  });
  after(async () => t.cleanup());

  const withRunner = async (options: Parameters<typeof searchRunner>[1], fn: (r: SearchRunner) => Promise<void>) => {
    const runner = searchRunner(t.store, { catchUp: false, ...options });
    try {
      await fn(runner);
    } finally {
      await runner.stop();
    }
  };

  it('answers as the same search on this thread would', async () => {
    await withRunner({ threads: false }, async (inline) => {
      assert.equal(inline.where, 'inline');
      const expected = await inline.search(heavy);
      await withRunner({}, async (threads) => {
        assert.equal(threads.where, 'thread');
        const page = await threads.search(heavy);
        assert.ok(page.total > 100, `the heavy query matches many (${page.total})`);
        assert.deepEqual({ ...page, tookMs: 0 }, { ...expected, tookMs: 0 });
      });
    });
  });

  it("keeps this thread's event loop free while a costly search runs", async () => {
    // The same searches inline hold the loop for as long as each reads; on threads they do not.
    const searches = (r: SearchRunner) => async () => {
      for (let i = 0; i < 3; i++) await r.search(heavy);
    };
    let blocked = 0;
    await withRunner({ threads: false }, async (r) => {
      blocked = await longestPause(searches(r));
    });
    await withRunner({}, async (r) => {
      await r.search(cheap); // the thread is started before measuring
      const free = await longestPause(searches(r));
      assert.ok(blocked > 30, `inline, one search holds the loop (${blocked.toFixed(1)} ms)`);
      assert.ok(free < blocked / 2, `on a thread the loop pauses at most ${free.toFixed(1)} ms (inline ${blocked.toFixed(1)} ms)`);
    });
  });

  it('stops a search at its deadline with a 400 naming q, and goes on with a new thread', async () => {
    await withRunner({ concurrency: 1, timeoutMs: 10 }, async (r) => {
      for (let i = 0; i < 3; i++) {
        const e = await rejectsWith(r.search(heavy), 'too_costly');
        assert.equal(e.httpStatus, 400);
        assert.equal(e.issues?.[0]?.field, 'q');
        assert.match(e.message, /^q: the search took longer than 0 s and was stopped: narrow it/);
      }
      // One turn, three stopped searches: each turn came back once its thread had exited.
      const page = await r.search(cheap);
      assert.equal(page.total, 0);
    });
  });

  it('refuses searches past the line with 503 busy, and serves the rest', async () => {
    await withRunner({ concurrency: 1, queue: 1, timeoutMs: 10_000 }, async (r) => {
      const answers = await Promise.allSettled([r.search(heavy), r.search(heavy), r.search(heavy)]);
      assert.deepEqual(
        answers.map((a) => a.status),
        ['fulfilled', 'fulfilled', 'rejected'],
      );
      const e = (answers[2] as PromiseRejectedResult).reason as RapportError;
      assert.equal(e.code, 'busy');
      assert.equal(e.retryAfterSeconds, 1);
    });
  });

  it('runs its threads at a lower CPU priority than the server thread (Linux)', { skip: process.platform !== 'linux' && 'per-thread priorities are read from /proc on Linux' }, async () => {
    const niceOf = (tid: string) => Number(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const lowered = () => fs.readdirSync('/proc/self/task').filter((tid) => niceOf(tid) >= 10).length;
    const before = lowered();
    await withRunner({}, async (r) => {
      await r.search(cheap);
      assert.equal(lowered(), before + 1, 'the search thread runs at nice 10');
      assert.equal(niceOf(String(process.pid)), 0, 'the server thread keeps its priority');
    });
  });

  it('refuses searches after stop', async () => {
    const r = searchRunner(t.store, { catchUp: false });
    await r.stop();
    const e = await rejectsWith(r.search(cheap), 'busy');
    assert.match(e.message, /shutting down/);
  });
});

describe('searches over HTTP on a SQLite file', () => {
  let t: TestStore;
  let app: FastifyInstance;
  let read = '';
  let ingest = '';
  before(async () => {
    t = await sqliteStore();
    await new IngestWriter(t.store).write(transcripts(30_000));
    app = await buildServer({ store: t.store, search: { concurrency: 1, queue: 0 } });
    read = (await createKey(t.store.db, 'dash', 'read', Date.now())).secret;
    ingest = (await createKey(t.store.db, 'site', 'ingest', Date.now())).secret;
  });
  after(async () => {
    await app.close();
    await t.cleanup();
  });
  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${read}` } });
  const q = `/api/search?q=${encodeURIComponent(HEAVY)}&kind=interaction`;

  it('catches the index up on the write queue a bounded pass at a time, then searches on a thread', async () => {
    // Nothing was indexed yet: each search indexes one pass and says whether more is left.
    const pages: SearchPage[] = [];
    for (let i = 0; i < 20 && pages.at(-1)?.indexBehind !== false; i++) {
      const r = await get(q);
      assert.equal(r.statusCode, 200, r.body);
      pages.push(r.json<SearchPage>());
    }
    assert.ok(pages.length > 1, 'the backlog took more than one pass');
    assert.equal(pages.at(-1)!.indexBehind, false);
    assert.ok(pages.at(-1)!.total > pages[0]!.total, `found ${pages[0]!.total}, then ${pages.at(-1)!.total}`);
  });

  it('answers a search past the line with 503 busy and Retry-After, and ingests meanwhile', async () => {
    const searches = [get(q), get(q)];
    const track = app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { authorization: `Basic ${Buffer.from(`${ingest}:`).toString('base64')}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ userId: 'late-comer', event: 'Signed Up' }),
    });
    const [a, b] = await Promise.all(searches);
    const codes = [a!.statusCode, b!.statusCode].sort();
    assert.deepEqual(codes, [200, 503]);
    const busy = a!.statusCode === 503 ? a! : b!;
    assert.equal(busy.headers['retry-after'], '1');
    assert.equal(busy.json<{ error: { code: string } }>().error.code, 'busy');
    assert.equal((await track).statusCode, 200);
  });

  it('answers a budget breach with 400 invalid_input before taking a turn', async () => {
    const wide = Array.from({ length: 9 }, (_, i) => `w${i}x`).join(' OR ');
    const r = await get(`/api/search?q=${encodeURIComponent(wide)}`);
    assert.equal(r.statusCode, 400);
    const e = r.json<{ error: { code: string; message: string; issues: { field: string }[] } }>().error;
    assert.equal(e.code, 'invalid_input');
    assert.equal(e.issues[0]!.field, 'q');
    assert.match(e.message, /at most 8 alternatives/);
  });
});

for (const d of DIALECTS.filter((x) => x.name === 'postgres')) {
  describe('searches on PostgreSQL', async () => {
    const skip = await d.skip();
    let t: TestStore;
    before(async () => {
      if (skip) return;
      t = await d.open();
      await new IngestWriter(t.store).write(transcripts(60_000));
      await syncSearch(t.store);
    });
    after(async () => {
      if (!skip) await t.cleanup();
    });

    it('run in a read-only transaction, stopped by a statement timeout with a 400 naming q', { skip }, async () => {
      const r = searchRunner(t.store, { catchUp: false, timeoutMs: 1 });
      try {
        assert.equal(r.where, 'inline');
        const e = await rejectsWith(r.search(heavy), 'too_costly');
        assert.equal(e.issues?.[0]?.field, 'q');
      } finally {
        await r.stop();
      }
      const ok = searchRunner(t.store, { catchUp: false, timeoutMs: 30_000 });
      const page = await ok.search(heavy);
      assert.ok(page.total > 100, `found ${page.total}`);
      await ok.stop();
    });
  });
}
