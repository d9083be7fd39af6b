import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateDemo } from '../src/demo/generate.js';
import { intent, type IntentLabel } from '../src/models/text/intent.js';
import { detectLanguage } from '../src/models/text/language.js';
import { DEFAULT_THRESHOLD, LshIndex, nearDuplicateGroups, signature } from '../src/models/text/minhash.js';
import { sentiment } from '../src/models/text/sentiment.js';
import { readTextCsv } from '../src/listening/text-tag.js';
import { demoIntentItems, HAND, HELD_OUT } from '../test/support/intent-messages.js';
import { sqliteStore } from '../test/support/stores.js';

/**
 * Per-item text signals on BANKING77 (../shared/data/banking77/train.csv, 10,003 support
 * messages) repeated to 100,000 items: throughput of sentiment, intent, language and MinHash
 * signatures, near-duplicate grouping of 100,000 items, the LSH index's add and query; then the
 * figures: intent accuracy on the demo truth and the hand-written sets, English share of
 * BANKING77, its near-duplicate groups.
 *
 * `npm run bench -- signals [--items 100000] [--customers 600]`
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', default: process.env['RAPPORT_SHARED_DATA'] ?? path.resolve(import.meta.dirname, '../../shared/data') },
      items: { type: 'string', default: '100000' },
      customers: { type: 'string', default: '600' },
    },
  });
  const base = readTextCsv(path.join(values.data, 'banking77', 'train.csv'), 'text', 'category', true, '--train').texts;
  const n = Number(values.items);
  const texts = Array.from({ length: n }, (_, i) => base[i % base.length]!);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const time = <T>(label: string, f: () => T, count = n): T => {
    const t0 = performance.now();
    const r = f();
    const s = (performance.now() - t0) / 1000;
    out(`${label.padEnd(44)} ${s.toFixed(2).padStart(6)} s  ${Math.round(count / s).toLocaleString('en-US').padStart(9)} items/s`);
    return r;
  };
  out(`BANKING77: ${base.length} texts, repeated to ${n.toLocaleString('en-US')} items`);
  const sentiments = time('sentiment (rules, with cues)', () => texts.map((t) => sentiment(t)));
  const intents = time('intent (given the sentiment)', () => texts.map((t, i) => intent(t, sentiments[i])));
  time('language (ELD + short-text rules)', () => texts.map((t) => detectLanguage(t)));
  const sigs = time('MinHash signature (k = 128)', () => texts.map((t) => signature(t)));
  const groups = time(`near-duplicate groups, exact repeats (J ≥ ${DEFAULT_THRESHOLD})`, () => nearDuplicateGroups(texts));
  out(`  ${groups.length} groups`);
  // Every copy made slightly different, so that nothing is an exact repeat and LSH does the work.
  const varied = texts.map((t, i) => `${t} ${Math.floor(i / base.length)}`);
  const vgroups = time('near-duplicate groups, no exact repeats', () => nearDuplicateGroups(varied));
  out(`  ${vgroups.length} groups, largest ${Math.max(...vgroups.map((g) => g.length))}`);
  const index = new LshIndex<number>();
  time('LshIndex.add', () => sigs.forEach((s, i) => index.add(i, s)));
  const q = Math.min(10_000, n);
  time('LshIndex.query (index of all items)', () => {
    let hits = 0;
    for (let i = 0; i < q; i++) hits += index.query(sigs[i]!).length;
    return hits;
  }, q);

  out('');
  const counts = new Map<IntentLabel, number>();
  for (const r of intents.slice(0, base.length)) counts.set(r.intent, (counts.get(r.intent) ?? 0) + 1);
  out(`intent on BANKING77 (no intent labels; distribution): ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((100 * v) / base.length).toFixed(1)}%`).join(', ')}`);
  const st = await sqliteStore();
  try {
    await generateDemo(st.store, { customers: Number(values.customers), seed: 5 });
    const items = await demoIntentItems(st.store);
    const right = items.filter((x) => x.want.has(intent(x.text).intent)).length;
    out(`intent on the demo truth (${values.customers} customers, seed 5): ${right}/${items.length} = ${((100 * right) / items.length).toFixed(1)}%`);
    const byKind = new Map<string, [number, number]>();
    for (const x of items) {
      const c = byKind.get(x.kind) ?? [0, 0];
      c[1]++;
      if (x.want.has(intent(x.text).intent)) c[0]++;
      byKind.set(x.kind, c);
    }
    out(`  by kind: ${[...byKind].map(([k, [a, b]]) => `${k} ${a}/${b}`).join(', ')}`);
  } finally {
    await st.cleanup();
  }
  const acc = (set: readonly [string, IntentLabel][]) => set.filter(([t, l]) => intent(t).intent === l).length;
  out(`intent on hand-written set A: ${acc(HAND)}/${HAND.length} = ${((100 * acc(HAND)) / HAND.length).toFixed(1)}%`);
  out(`intent on held-out set B:     ${acc(HELD_OUT)}/${HELD_OUT.length} = ${((100 * acc(HELD_OUT)) / HELD_OUT.length).toFixed(1)}%`);
  const langs = base.map((t) => detectLanguage(t));
  const en = langs.filter((l) => l.lang === 'en').length;
  const short = langs.filter((_, i) => base[i]!.length < 20);
  out(`language on BANKING77: English ${en}/${base.length} = ${((100 * en) / base.length).toFixed(2)}%; texts under 20 characters: ${short.length}, highest confidence ${Math.max(...short.map((l) => l.confidence)).toFixed(3)}`);
  const bg = nearDuplicateGroups(base);
  out(`near-duplicates in BANKING77 (J ≥ ${DEFAULT_THRESHOLD}): ${bg.length} groups covering ${bg.reduce((a, g) => a + g.length, 0)} texts, largest ${Math.max(...bg.map((g) => g.length))}`);
}
