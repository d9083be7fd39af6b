import { parseArgs } from 'node:util';
import path from 'node:path';
import { readTextCsv } from '../src/listening/text-tag.js';
import { discoverThemes } from '../src/models/text/themes.js';
import { vMeasure } from '../src/models/text/vmeasure.js';
import { seededRandom } from '../src/models/random.js';

const FILLERS = ['thanks', 'please help', 'asap', 'hello', 'hi there', 'thank you so much', 'urgent', 'any idea?'];

/**
 * A perturbed copy of a support message: each word dropped with probability 0.08, one word
 * in three with two neighbouring letters swapped (a typo), and half the time a greeting or
 * courtesy added at either end. The intent stays readable, the exact text is new.
 */
function perturb(text: string, rand: () => number): string {
  const words = text.split(/\s+/).filter((w) => w.length > 0 && !(rand() < 0.08));
  const out = words.map((w) => {
    if (w.length < 4 || rand() >= 1 / 3) return w;
    const i = 1 + Math.floor(rand() * (w.length - 2));
    return w.slice(0, i) + w[i + 1]! + w[i]! + w.slice(i + 2);
  });
  if (rand() < 0.5) {
    const f = FILLERS[Math.floor(rand() * FILLERS.length)]!;
    if (rand() < 0.5) out.unshift(`${f},`);
    else out.push(f);
  }
  return out.join(' ') || text;
}

/**
 * Theme discovery on BANKING77 (../shared/data/banking77/train.csv, 10,003 support messages,
 * 77 intents) with k = 77: V-measure against the intents on the whole file and on each of 5
 * seeded folds clustered separately (target ≥ 0.70); then the time for 100,000 items built
 * from BANKING77 messages with seeded perturbations (target < 60 s).
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { data: { type: 'string', default: process.env['RAPPORT_SHARED_DATA'] ?? path.resolve(import.meta.dirname, '../../shared/data') }, items: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' } },
  });
  const seed = Number(values.seed);
  const d = readTextCsv(path.join(values.data, 'banking77', 'train.csv'), 'text', 'category', true, '--input');
  const labels = d.labels as string[];
  const n = d.texts.length;
  const fmt = (x: number): string => x.toFixed(3);
  const line = (s: string): void => void process.stdout.write(`${s}\n`);
  line(`themes: BANKING77 train.csv, ${n.toLocaleString('en-US')} messages, 77 intents, k = 77, seed ${seed}`);
  let t0 = performance.now();
  const full = discoverThemes(d.texts, { k: 77, seed });
  let v = vMeasure(labels, full.assignment);
  line(`  whole file: V-measure ${fmt(v.vMeasure)} (homogeneity ${fmt(v.homogeneity)}, completeness ${fmt(v.completeness)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s   (target ≥ 0.70)`);
  const rand = seededRandom(7);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let s = n - 1; s > 0; s--) {
    const j = Math.floor(rand() * (s + 1));
    [order[s], order[j]] = [order[j]!, order[s]!];
  }
  const folds: number[] = [];
  for (let f = 0; f < 5; f++) {
    const ids = order.filter((_, k) => k % 5 === f).sort((a, b) => a - b);
    t0 = performance.now();
    const r = discoverThemes(
      ids.map((i) => d.texts[i]!),
      { k: 77, seed },
    );
    v = vMeasure(
      ids.map((i) => labels[i]!),
      r.assignment,
    );
    folds.push(v.vMeasure);
    line(`  fold ${f + 1} (${ids.length} messages): V-measure ${fmt(v.vMeasure)} (homogeneity ${fmt(v.homogeneity)}, completeness ${fmt(v.completeness)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  line(`  folds: mean ${fmt(folds.reduce((a, b) => a + b, 0) / 5)}, min ${fmt(Math.min(...folds))}`);
  const items = Number(values.items);
  const pr = seededRandom(seed + 100);
  const big: string[] = [];
  const bigLabels: string[] = [];
  for (let i = 0; i < items; i++) {
    const j = Math.floor(pr() * n);
    big.push(perturb(d.texts[j]!, pr));
    bigLabels.push(labels[j]!);
  }
  t0 = performance.now();
  const cpu = process.cpuUsage();
  const r = discoverThemes(big, { k: 77, seed });
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = process.cpuUsage(cpu).user / 1e6;
  v = vMeasure(bigLabels, r.assignment);
  line(
    `  ${items.toLocaleString('en-US')} perturbed BANKING77 messages (typos, dropped words, greetings): ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU), V-measure ${fmt(v.vMeasure)}   (target < 60 s)`,
  );
}
