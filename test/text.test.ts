import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deserialiseModel, evaluate, labelText, predict, serialiseModel, train } from '../src/models/text/classifier.js';
import { learnWordVectors } from '../src/models/text/embedding.js';
import { trainAndTag } from '../src/models/text/transduce.js';
import { readTextCsv } from '../src/listening/text-tag.js';
import { BANKING, rapport, skipBanking } from './support/cli.js';

const skipData = skipBanking;

describe('text tagging', () => {
  it('scores accuracy and macro-F1 as defined', () => {
    // a: 2 right of 3 (P 2/2, R 2/3 → F1 0.8); b: 1 right, 1 predicted wrongly as b (P 1/2, R 1/1 → 0.667).
    const e = evaluate(['a', 'a', 'a', 'b'], ['a', 'a', 'b', 'b']);
    assert.equal(e.accuracy, 0.75);
    assert.ok(Math.abs(e.macroF1 - (0.8 + 2 / 3) / 2) < 1e-12);
    assert.equal(e.n, 4);
  });

  it('a text without words borrows nothing from its neighbours in a batch', () => {
    const texts = ['where is my card', 'card not arrived yet', 'charged twice', 'double charge on my account', 'how do I reset my pin', 'forgot my pin'];
    const labels = ['card', 'card', 'billing', 'billing', 'pin', 'pin'];
    const batch = ['my card still has not come', '!!!', '?', 'charged two times', 'I was charged twice', 'reset pin please', 'pin forgotten', 'where is the card', 'double charge'];
    const tagged = trainAndTag(texts, labels, batch);
    assert.equal(tagged.method.transductive, true);
    // Wordless texts keep the model's own (bias-only, unsure) answer; the others are tagged through the batch.
    assert.ok(tagged.predictions[1]!.confidence < 0.6 && tagged.predictions[2]!.confidence < 0.6, JSON.stringify(tagged.predictions.slice(1, 3)));
    assert.deepEqual(
      tagged.predictions.filter((_, i) => i !== 1 && i !== 2).map((p) => p.label),
      ['card', 'billing', 'billing', 'pin', 'pin', 'card', 'billing'],
    );
  });

  it('with 10 examples per tag, tags a batch through its neighbourhoods better than the model alone', { skip: skipData }, () => {
    const d = readTextCsv(BANKING, 'text', 'category', true, '--train');
    const seen = new Map<string, number>();
    const tr = d.texts
      .map((_, i) => i)
      .filter((i) => i % 5 !== 0)
      .filter((i) => {
        const c = seen.get(d.labels[i]!) ?? 0;
        seen.set(d.labels[i]!, c + 1);
        return c < 10;
      });
    const te = d.texts.map((_, i) => i).filter((i) => i % 5 === 0);
    const texts = tr.map((i) => d.texts[i]!);
    const labels = tr.map((i) => d.labels[i]!);
    const batch = te.map((i) => d.texts[i]!);
    const truth = te.map((i) => d.labels[i]!);
    const alone = train(texts, labels, { unlabelled: batch });
    const tagged = trainAndTag(texts, labels, batch);
    assert.equal(tagged.method.transductive, true, tagged.method.reason);
    const plain = evaluate(
      truth,
      batch.map((t) => predict(alone, t).label),
    ).accuracy;
    const got = evaluate(
      truth,
      tagged.predictions.map((p) => p.label),
    ).accuracy;
    // Measured on this split: 73.7% → 75.1% (75.3% over the bench's five folds).
    assert.ok(got > plain + 0.008, `batch ${got} against the model alone ${plain}`);
    assert.ok(got > 0.745, `accuracy ${got}`);
    // The kept (self-trained) model tags texts that come later, one at a time, better too.
    const later = evaluate(
      truth,
      batch.map((t) => predict(tagged.model, t).label),
    ).accuracy;
    assert.ok(later > plain, `kept model ${later} against ${plain}`);
    // Confidence still ranks: right answers are surer on average than wrong ones.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const right = tagged.predictions.filter((p, j) => p.label === truth[j]).map((p) => p.confidence);
    const wrong = tagged.predictions.filter((p, j) => p.label !== truth[j]).map((p) => p.confidence);
    assert.ok(mean(right) > mean(wrong) + 0.1);
    // With many examples per tag the batch is tagged by the model alone.
    const many = trainAndTag(
      d.texts.filter((_, i) => i % 5 !== 0),
      d.labels.filter((_, i) => i % 5 !== 0) as string[],
      batch.slice(0, 300),
    );
    assert.equal(many.method.transductive, false);
    assert.match(many.method.reason, /examples \(more than 30\)/);
  });

  it('learns BANKING77 intents: a held-out fifth is tagged at the measured accuracy', { skip: skipData }, () => {
    const d = readTextCsv(BANKING, 'text', 'category', true, '--train');
    const tr = d.texts.map((_, i) => i).filter((i) => i % 5 !== 0);
    const te = d.texts.map((_, i) => i).filter((i) => i % 5 === 0);
    const model = train(
      tr.map((i) => d.texts[i]!),
      tr.map((i) => d.labels[i]!),
    );
    assert.equal(model.labels.length, 77);
    const got = te.map((i) => predict(model, d.texts[i]!));
    const e = evaluate(
      te.map((i) => d.labels[i]!),
      got.map((p) => p.label),
    );
    // 5-fold CV measures 90.9%; the target is 92% (not reached, see README).
    assert.ok(e.accuracy > 0.89, `accuracy ${e.accuracy}`);
    assert.ok(e.macroF1 > 0.89, `macro-F1 ${e.macroF1}`);
    // A stored model (JSON text) tags exactly as the trained one.
    const stored = deserialiseModel(JSON.parse(JSON.stringify(serialiseModel(model))) as ReturnType<typeof serialiseModel>);
    for (const i of te.slice(0, 200)) assert.deepEqual(predict(stored, d.texts[i]!), predict(model, d.texts[i]!));
    // Confidence ranks: the right predictions are more confident on average than the wrong ones.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const right = got.filter((p, j) => p.label === d.labels[te[j]!]).map((p) => p.confidence);
    const wrong = got.filter((p, j) => p.label !== d.labels[te[j]!]).map((p) => p.confidence);
    assert.ok(mean(right) > mean(wrong) + 0.1, `confidence ${mean(right)} vs ${mean(wrong)}`);
  });

  it('reads a tag name as a text: separators and camel case become spaces', () => {
    assert.equal(labelText('card_arrival'), 'card arrival');
    assert.equal(labelText('Card-Arrival'), 'Card Arrival');
    assert.equal(labelText('cardArrival'), 'card Arrival');
    assert.equal(labelText('top_up_by_bank_transfer_charge'), 'top up by bank transfer charge');
  });

  it('learns from tag names: no example of request_refund says "refund", yet a text asking for one gets that tag', () => {
    const texts = ['where is my new card', 'my card never came', 'I was charged twice', 'two payments were taken', 'please give me my money back', 'can I get the money returned'];
    const labels = ['card_arrival', 'card_arrival', 'double_charge', 'double_charge', 'request_refund', 'request_refund'];
    const named = train(texts, labels);
    const unnamed = train(texts, labels, { labelNames: false });
    assert.equal(predict(named, 'refund').label, 'request_refund');
    const margin = (m: typeof named) => predict(m, 'refund').margin;
    assert.ok(margin(named) > margin(unnamed), `${margin(named)} vs ${margin(unnamed)}`);
  });

  it('learns word vectors from company kept: words used in the same contexts get close vectors', () => {
    const texts: string[] = [];
    for (const thing of ['parcel', 'package']) for (const where of ['home', 'office', 'door', 'depot']) texts.push(`my ${thing} was delivered to the ${where} today`, `the ${thing} is late again`);
    for (const w of ['fee', 'charge']) for (const when of ['monday', 'friday', 'month', 'week']) texts.push(`a ${w} was taken from my account on ${when}`, `why is there a ${w} on my statement`);
    const wv = learnWordVectors(texts, { dims: 4, seed: 1 });
    const vec = (w: string) => wv.vectors.subarray(wv.words.indexOf(w) * wv.dims, (wv.words.indexOf(w) + 1) * wv.dims);
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k]!, 0);
    assert.ok(cos(vec('parcel'), vec('package')) > cos(vec('parcel'), vec('fee')) + 0.2, `${cos(vec('parcel'), vec('package'))} vs ${cos(vec('parcel'), vec('fee'))}`);
    assert.ok(cos(vec('fee'), vec('charge')) > cos(vec('fee'), vec('package')) + 0.2);
  });

  it('trains on texts that share no words: no word vectors, the n-grams alone', () => {
    const model = train(['card arrival', 'double charge'], ['card_arrival', 'double_charge']);
    assert.equal(model.wordVectors?.dims ?? 0, 0);
    const stored = deserialiseModel(JSON.parse(JSON.stringify(serialiseModel(model))) as ReturnType<typeof serialiseModel>);
    assert.equal(predict(stored, 'my card arrival').label, 'card_arrival');
  });

  it('rapport text tag: predictions, scores with labels, and clear messages for bad input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-text-'));
    try {
      const trainCsv = path.join(dir, 'train.csv');
      const rows = ['text,category'];
      for (let i = 0; i < 12; i++) {
        rows.push(`"My card ${i} has not arrived yet, where is it?",card_arrival`);
        rows.push(`I was charged twice for order ${i},double_charge`);
      }
      rows.push(',card_arrival', '"Refund please, the item broke",refund');
      fs.writeFileSync(trainCsv, `${rows.join('\n')}\n`);
      const predictCsv = path.join(dir, 'predict.csv');
      fs.writeFileSync(predictCsv, 'text,category\n"Still waiting for my new card",card_arrival\n"Two charges for one order",double_charge\n');
      const r = rapport(['text', 'tag', '--train', trainCsv, '--predict', predictCsv, '--json']);
      assert.equal(r.code, 0, r.err);
      const out = JSON.parse(r.out) as { accuracy: number; macroF1: number; n: number; predictions: { row: number; label: string; confidence: number }[] };
      assert.equal(out.n, 2);
      assert.deepEqual(
        out.predictions.map((p) => p.label),
        ['card_arrival', 'double_charge'],
      );
      assert.equal(out.accuracy, 1);
      assert.ok(out.predictions.every((p) => p.confidence > 0 && p.confidence <= 1));
      assert.match(r.err, /1 rows with an empty text were left out \(rows 25\)/);
      assert.match(r.err, /1 tags have a single example \(refund\)/);
      const text = rapport(['text', 'tag', '--train', trainCsv, '--predict', predictCsv]);
      assert.match(text.out, /^1\tcard_arrival\t0\.\d{3}$/m);
      assert.match(text.out, /accuracy 100\.0%, macro-F1 100\.0% on 2 labelled rows/);
      const bad = rapport(['text', 'tag', '--train', trainCsv, '--predict', predictCsv, '--text-column', 'body']);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--text-column: .* has no column "body" \(columns: text, category\)/);
      // Other languages are kept, detected and reported with their rows.
      const mixed = path.join(dir, 'mixed.csv');
      fs.writeFileSync(
        mixed,
        'text\n"Still waiting for my new card"\n"Two charges for one order, please fix it"\n"Meine Karte ist immer noch nicht angekommen, wo bleibt sie denn?"\n"Ma carte n\'est toujours pas arrivée, pouvez-vous vérifier ma commande ?"\n"Where can I see the status of my card delivery?"\n',
      );
      const langs = rapport(['text', 'tag', '--train', trainCsv, '--predict', mixed, '--json']);
      assert.equal(langs.code, 0, langs.err);
      assert.equal((JSON.parse(langs.out) as { predictions: unknown[] }).predictions.length, 5);
      assert.match(langs.err, /2 rows are in another language than most \(en\): (de 1, fr 1|fr 1, de 1) \(rows 3, 4\)/);
      fs.writeFileSync(path.join(dir, 'one.csv'), 'text,category\nhello,a\nhi,a\n');
      const one = rapport(['text', 'tag', '--train', path.join(dir, 'one.csv'), '--predict', predictCsv]);
      assert.equal(one.code, 2);
      assert.match(one.err, /at least two different tags/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
