import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { seededRandom } from '../src/models/random.js';
import { assignThemes, discoverThemes, mergeThemes, splitTheme } from '../src/models/text/themes.js';
import { vMeasure } from '../src/models/text/vmeasure.js';
import { contentStems, GENERAL_LABEL, isContentless, nameGroups } from '../src/models/text/naming.js';
import { readTextCsv } from '../src/listening/text-tag.js';
import { BANKING, rapport, skipBanking } from './support/cli.js';

const skipData = skipBanking;

const TOPICS: Record<string, string[]> = {
  delivery: ['card', 'arrived', 'delivery', 'waiting', 'post', 'shipped', 'tracking', 'weeks', 'still', 'mail'],
  refund: ['refund', 'money', 'back', 'returned', 'item', 'merchant', 'reimburse', 'purchase', 'cancelled', 'order'],
  login: ['password', 'login', 'reset', 'locked', 'account', 'forgot', 'sign', 'app', 'passcode', 'access'],
  fees: ['fee', 'charged', 'extra', 'cost', 'commission', 'expensive', 'pricing', 'withdrawal', 'atm', 'surcharge'],
};
const FILLER = ['please', 'help', 'why', 'how', 'today', 'again', 'really', 'need', 'know', 'want'];

/** Short synthetic messages: four topic words and two shared filler words, seeded. */
function corpus(perTopic: number, seed: number): { texts: string[]; topics: string[] } {
  const rand = seededRandom(seed);
  const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)]!;
  const texts: string[] = [];
  const topics: string[] = [];
  for (let i = 0; i < perTopic; i++)
    for (const [topic, words] of Object.entries(TOPICS)) {
      const ws = [pick(words), pick(FILLER), pick(words), pick(words), pick(FILLER), pick(words)];
      texts.push(ws.join(' '));
      topics.push(topic);
    }
  return { texts, topics };
}

/** Share of items whose cluster's majority topic is their own topic. */
function purity(topics: readonly string[], clusters: readonly (number | null)[]): number {
  const votes = new Map<string, Map<string, number>>();
  clusters.forEach((c, i) => {
    const key = String(c);
    const m = votes.get(key) ?? new Map<string, number>();
    m.set(topics[i]!, (m.get(topics[i]!) ?? 0) + 1);
    votes.set(key, m);
  });
  let right = 0;
  for (const m of votes.values()) right += Math.max(...m.values());
  return right / topics.length;
}

describe('theme discovery', () => {
  it('computes homogeneity, completeness and V-measure as hand-computed', () => {
    // Classes a a a b b b, clusters 0 0 1 1 2 2. H(C) = ln 2, H(C|K) = (2/6) ln 2 → h = 2/3.
    // H(K) = ln 3, H(K|C) = entropy of (2/3, 1/3) → c = 1 − H(2/3, 1/3) / ln 3.
    const v = vMeasure(['a', 'a', 'a', 'b', 'b', 'b'], [0, 0, 1, 1, 2, 2]);
    const h = 2 / 3;
    const c = 1 + ((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3)) / Math.log(3);
    assert.ok(Math.abs(v.homogeneity - h) < 1e-12, `h ${v.homogeneity}`);
    assert.ok(Math.abs(v.completeness - c) < 1e-12, `c ${v.completeness}`);
    assert.ok(Math.abs(v.vMeasure - (2 * h * c) / (h + c)) < 1e-12);
    assert.ok(Math.abs(v.vMeasure - 0.5158037429793888) < 1e-12);
    assert.equal(v.n, 6);
    // Perfect agreement under renamed clusters; one cluster for two classes: h = 0, c = 1.
    assert.deepEqual(vMeasure(['x', 'x', 'y'], [5, 5, 2]), { homogeneity: 1, completeness: 1, vMeasure: 1, n: 3 });
    assert.deepEqual(vMeasure(['x', 'x', 'y', 'y'], [0, 0, 0, 0]), { homogeneity: 0, completeness: 1, vMeasure: 0, n: 4 });
  });

  it('gives the same themes for the same texts and seed', () => {
    const { texts } = corpus(30, 3);
    const a = discoverThemes(texts, { k: 4, seed: 9 });
    const b = discoverThemes(texts, { k: 4, seed: 9 });
    assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
    assert.equal(a.model.themes.length, 4);
    // The model is plain JSON: a round trip keeps assignments identical.
    const again = JSON.parse(JSON.stringify(a.model)) as typeof a.model;
    assert.deepEqual(assignThemes(again, texts.slice(0, 20)), assignThemes(a.model, texts.slice(0, 20)));
  });

  it('finds planted topics, labels them with their words, and puts held-out items back into their theme', () => {
    const all = corpus(50, 5);
    const train = all.texts.slice(0, 160);
    const held = all.texts.slice(160);
    const r = discoverThemes(train, { k: 4, seed: 1 });
    assert.ok(purity(all.topics.slice(0, 160), r.assignment) > 0.95, 'planted topics are found');
    for (const t of r.model.themes) {
      const topic = Object.entries(TOPICS).find(([, ws]) => t.keyPhrases.some((p) => ws.includes(p)));
      assert.ok(topic, `theme "${t.label}" is labelled with a topic word`);
      assert.equal(t.quotes.length, 3);
    }
    const got = assignThemes(r.model, held);
    // Each held-out item joins the theme most of its topic's training items are in.
    const home = new Map<string, number>();
    for (const topic of Object.keys(TOPICS)) {
      const counts = new Map<number, number>();
      r.assignment.forEach((c, i) => all.topics[i] === topic && counts.set(c, (counts.get(c) ?? 0) + 1));
      home.set(topic, r.model.themes[[...counts].sort((a, b) => b[1] - a[1])[0]![0]]!.id);
    }
    const right = got.filter((g, j) => g.nearest === home.get(all.topics[160 + j]!)).length;
    assert.ok(right / held.length > 0.9, `${right} of ${held.length} held-out items in their theme`);
    assert.ok(got.filter((g) => g.theme !== null).length / held.length > 0.8, 'most held-out items are above the threshold');
    // A text unlike any theme is a new-theme candidate.
    const odd = assignThemes(r.model, ['the weather in spring is lovely for a picnic'])[0]!;
    assert.equal(odd.theme, null);
    assert.ok(odd.similarity < 0.2);
  });

  it('merges themes into one and splits it back along the planted topics', () => {
    const all = corpus(40, 11);
    // Texts of filler words only would form a general bucket of their own: left out here.
    const r = discoverThemes(all.texts, { k: 4, seed: 2, generalBucket: false });
    const [a, b] = [r.model.themes[0]!, r.model.themes[1]!];
    const merged = mergeThemes(r.model, [0, 1]);
    assert.equal(merged.themes.length, 3);
    assert.equal(merged.themes[0]!.id, a.id);
    assert.equal(merged.themes[0]!.size, a.size + b.size);
    assert.ok(merged.themes[0]!.keyPhrases.length > 0);
    assert.deepEqual(
      merged.themes.slice(1).map((t) => t.id),
      r.model.themes.slice(2).map((t) => t.id),
    );
    const members = all.texts.filter((_, i) => r.assignment[i] === 0 || r.assignment[i] === 1);
    const memberTopics = all.topics.filter((_, i) => r.assignment[i] === 0 || r.assignment[i] === 1);
    const split = splitTheme(merged, 0, members, 2, 1);
    assert.equal(split.themes.length, 4);
    assert.equal(split.themes[0]!.size + split.themes[1]!.size, members.length);
    assert.deepEqual([split.themes[0]!.id, split.themes[1]!.id], [4, 5]);
    assert.equal(split.nextId, 6);
    const back = assignThemes(split, members);
    assert.ok(purity(memberTopics, back.map((x) => x.nearest)) > 0.95);
    assert.throws(() => mergeThemes(r.model, [1]), /at least two/);
    assert.throws(() => splitTheme(r.model, 9, members), /no theme at index 9/);
  });

  it('names themes with a phrase of their typical members, and key phrases as customers spell them', () => {
    const address = ['Hi, I need to change the delivery address on order ORD-1GHPNM317T', 'Can I change the delivery address? I moved last week.', 'Please change the delivery address of my order', 'How do I change my delivery address on ORD-00SXBXZ1X5?', 'wrong delivery address, can you change it'];
    const reset = ['The password reset email never arrives', 'Password reset email never arrives, tried three times', 'Hello, the password reset email never arrives. Thanks', 'I asked twice and the password reset email never arrives!', 'password reset email is not in my inbox'];
    const texts: string[] = [];
    for (let r = 0; r < 6; r++) texts.push(...address.map((t) => `${t}${r ? ` (${r})` : ''}`), ...reset.map((t) => `${t}${r ? ` (${r})` : ''}`));
    const praise = ['Five stars', 'Great!', 'Mixed feelings. Not bad, not great.', 'Love it, thanks!', 'Five stars!', 'Not impressed lately.'];
    const r = discoverThemes([...texts, ...praise], { k: 2, seed: 1 });
    assert.equal(r.model.themes.length, 3);
    const names = r.model.themes.map((t) => t.label);
    // Real phrases of the members, capitalised, without greetings or order numbers.
    assert.ok(names.includes('Change the delivery address') || names.includes('Can I change the delivery address'), names.join(' | '));
    assert.ok(names.some((n) => /^(The )?[Pp]assword reset email( never arrives)?$/.test(n)), names.join(' | '));
    for (const t of r.model.themes) {
      assert.ok(t.keyPhrases.every((p) => !/\d|\bord\b/.test(p)), `no codes in ${t.keyPhrases.join(', ')}`);
      assert.ok(t.keyPhrases.every((p) => !/\b(?:hi|hello|thanks|please)\b/.test(p)), `no fillers in ${t.keyPhrases.join(', ')}`);
    }
    // Surface forms, with the small words between the pair's words: "reset email never", not stems.
    assert.ok(r.model.themes.some((t) => t.keyPhrases.includes('delivery address')));
    assert.ok(r.model.themes.some((t) => t.keyPhrases.includes('arrives')));
    // The contentless texts form the general bucket, last, and hijack no theme.
    const bucket = r.model.themes[2]!;
    assert.equal(bucket.general, true);
    assert.equal(bucket.label, GENERAL_LABEL);
    assert.deepEqual(
      praise.map((_, j) => r.assignment[texts.length + j]),
      praise.map(() => 2),
    );
    assert.ok(texts.every((_, i) => r.assignment[i] !== 2));
    // New texts: contentless ones join the bucket, others never do.
    const a = assignThemes(r.model, ['Great service, five stars!', 'Really happy :)', 'the password reset email never arrives', 'change delivery address please']);
    assert.deepEqual(
      a.map((x) => x.theme === bucket.id),
      [true, true, false, false],
    );
  });

  it('tells contentless texts from short ones that say something', () => {
    for (const t of ['Five stars', 'Great!', 'Mixed feelings. Not bad, not great.', 'Thanks so much!!', 'Fine, nothing special.', 'Not impressed lately.', 'Love it', '5/5']) assert.equal(isContentless(t), true, t);
    for (const t of ['Where is my refund?', 'Refund please', 'Card not arrived', 'Great app but it crashes at checkout', 'Too many late parcels.', 'The password reset email never arrives']) assert.equal(isContentless(t), false, t);
    assert.deepEqual([...contentStems('Hi, my order ORD-1AB2C3 has not arrived yet. Thanks!')].sort(), ['arriv', 'order']);
    // Two groups asking for one name: the larger keeps it, the other takes its next best phrase.
    const same = ['card has not arrived', 'my card has not arrived yet', 'card has not arrived after a week'];
    const [big, small] = nameGroups([[...same, ...same], same]);
    assert.notEqual(big!.name.toLowerCase(), small!.name.toLowerCase());
  });

  it('finds BANKING77 intents: V-measure on a fifth of the file (k = 77) at the measured level', { skip: skipData }, () => {
    const d = readTextCsv(BANKING, 'text', 'category', true, '--input');
    const ids = d.texts.map((_, i) => i).filter((i) => i % 5 === 0);
    const r = discoverThemes(
      ids.map((i) => d.texts[i]!),
      { k: 77, seed: 1 },
    );
    const v = vMeasure(
      ids.map((i) => d.labels[i]!),
      r.assignment,
    );
    // Measured 0.699 on this fifth (0.682 on the whole file, 0.696–0.712 on the bench's five folds); the target is 0.70.
    assert.ok(v.vMeasure > 0.68, `V-measure ${v.vMeasure}`);
  });

  it('rapport text themes: themes as JSON, scores with labels, and clear messages for bad input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-themes-'));
    try {
      const { texts, topics } = corpus(15, 21);
      const csv = path.join(dir, 'feedback.csv');
      fs.writeFileSync(csv, `text,category\n${texts.map((t, i) => `"${t}",${topics[i]}`).join('\n')}\n,refund\n`);
      const r = rapport(['text', 'themes', '--input', csv, '--k', '4', '--seed', '3', '--json']);
      assert.equal(r.code, 0, r.err);
      const out = JSON.parse(r.out) as { themes: { id: number; label: string; keyPhrases: string[]; size: number; quotes: string[]; rows: number[] }[]; vMeasure: number; homogeneity: number; completeness: number; n: number };
      assert.equal(out.themes.length, 4);
      assert.equal(out.n, 60);
      assert.ok(out.vMeasure > 0.9, `V-measure ${out.vMeasure}`);
      assert.ok(out.homogeneity > 0.9 && out.completeness > 0.9);
      assert.deepEqual(
        out.themes.flatMap((t) => t.rows).sort((a, b) => a - b),
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      for (const t of out.themes) assert.ok(t.label.length > 0 && t.keyPhrases.length > 0 && t.quotes.length > 0 && t.size === t.rows.length);
      assert.match(r.err, /1 rows with an empty text were left out \(rows 61\)/);
      const text = rapport(['text', 'themes', '--input', csv, '--k', '4']);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^theme 0 \(\d+ items\): /m);
      assert.match(text.out, /V-measure \d\.\d{3} \(homogeneity/);
      const auto = rapport(['text', 'themes', '--input', csv, '--json']);
      assert.equal(auto.code, 0, auto.err);
      assert.ok((JSON.parse(auto.out) as { themes: unknown[] }).themes.length >= 2);
      const badK = rapport(['text', 'themes', '--input', csv, '--k', 'many']);
      assert.equal(badK.code, 2);
      assert.match(badK.err, /--k: expected a positive whole number or "auto", got "many"/);
      const tooMany = rapport(['text', 'themes', '--input', csv, '--k', '500']);
      assert.equal(tooMany.code, 2);
      assert.match(tooMany.err, /--k: 500 themes need at least 500 texts, the file has 60/);
      const badColumn = rapport(['text', 'themes', '--input', csv, '--text-column', 'body']);
      assert.equal(badColumn.code, 2);
      assert.match(badColumn.err, /--text-column: .* has no column "body" \(columns: text, category\)/);
      const badLabel = rapport(['text', 'themes', '--input', csv, '--label-column', 'intent']);
      assert.equal(badLabel.code, 2);
      assert.match(badLabel.err, /--label-column: .* has no column "intent"/);
      const missing = rapport(['text', 'themes', '--input', path.join(dir, 'nope.csv')]);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /--input: cannot read/);
      fs.writeFileSync(path.join(dir, 'empty.csv'), 'text,category\n,a\n');
      const empty = rapport(['text', 'themes', '--input', path.join(dir, 'empty.csv')]);
      assert.equal(empty.code, 2);
      assert.match(empty.err, /--input: .* has no rows with a text/);
      fs.writeFileSync(path.join(dir, 'latin1.csv'), Buffer.concat([Buffer.from('text\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), Buffer.from('card not arrived\nrefund please\n')]));
      const garbled = rapport(['text', 'themes', '--input', path.join(dir, 'latin1.csv'), '--k', '2']);
      assert.equal(garbled.code, 0, garbled.err);
      assert.match(garbled.err, /not valid UTF-8/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
