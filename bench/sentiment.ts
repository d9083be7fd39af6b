import path from 'node:path';
import { parseArgs } from 'node:util';
import { readTextCsv } from '../src/listening/text-tag.js';
import { scoreLabels } from '../src/listening/text-sentiment.js';
import { seededRandom } from '../src/models/random.js';
import { sentiment, type SentimentLabel } from '../src/models/text/sentiment.js';
import { adapt, learnSentiment, predictSentiment } from '../src/models/text/sentiment-learn.js';
import { vader } from '../src/models/text/vader.js';
import { readSentences } from '../test/support/sentences.js';

/**
 * Sentiment against labelled real text.
 *
 *  1. sentiment-sentences (Kotzias et al. 2015: Amazon, Yelp, IMDb review sentences, two
 *     classes): VADER (compound ≥ 0 read as positive, as in the data's README), the rules, and
 *     the rules with self-training on the file (`rapport text sentiment` without labels). No
 *     label of these files is used for training.
 *  2. With labels (`--train`): 500 labelled sentences of a file train a model, the other 500 of
 *     that file score it; the mean over 5 random splits.
 *  3. BANKING77 (customer messages to a bank, labelled with intents, not sentiment) as a proxy
 *     for customer language: the share of messages about something that went wrong (a declined
 *     card, a charge twice, a card that never arrived) read as negative, and of how-to questions
 *     read as neutral or positive (not negative).
 *  4. Speed: items per second, rules alone, on BANKING77 repeated to 100,000 items.
 *
 * `npm run bench -- sentiment [--data <dir>]`
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string', default: process.env['RAPPORT_SHARED_DATA'] ?? path.resolve(import.meta.dirname, '../../shared/data') } } });
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const bin = (l: SentimentLabel, score: number): SentimentLabel => (l === 'neutral' ? (score >= 0 ? 'positive' : 'negative') : l);

  out('\n1. sentiment-sentences, two classes, no labels used (accuracy)');
  out(`${'file'.padEnd(28)}${'VADER'.padStart(9)}${'rules'.padStart(9)}${'+ self-training'.padStart(17)}${'ms / 1,000'.padStart(12)}`);
  const files = ['amazon_cells_labelled.txt', 'yelp_labelled.txt', 'imdb_labelled.txt'];
  const sets: { file: string; texts: string[]; truth: SentimentLabel[] }[] = [];
  for (const f of files) {
    const rows = readSentences(f, path.join(values.data, 'sentiment-sentences'));
    const texts = rows.map((r) => r.text);
    const truth: SentimentLabel[] = rows.map((r) => r.label);
    sets.push({ file: f, texts, truth });
    const v = texts.map((t) => (vader(t).score >= 0 ? 'positive' : 'negative') as SentimentLabel);
    const r = texts.map((t) => {
      const s = sentiment(t);
      return bin(s.label, s.score);
    });
    const t0 = performance.now();
    const { results } = adapt(texts);
    const ms = ((performance.now() - t0) / texts.length) * 1000;
    const a = results.map((s) => bin(s.label, s.score));
    out(`${f.padEnd(28)}${pct(scoreLabels(truth, v).accuracy).padStart(9)}${pct(scoreLabels(truth, r).accuracy).padStart(9)}${pct(scoreLabels(truth, a).accuracy).padStart(17)}${ms.toFixed(0).padStart(12)}`);
  }

  out('\n2. with 500 labelled sentences of the same file (--train), scored on the other 500; mean of 5 splits');
  out(`${'file'.padEnd(28)}${'accuracy'.padStart(10)}${'macro-F1'.padStart(10)}${'words only'.padStart(12)}`);
  for (const s of sets) {
    let acc = 0;
    let f1 = 0;
    let words = 0;
    for (let split = 0; split < 5; split++) {
      const random = seededRandom(100 + split);
      const order = s.texts.map((_, i) => i).sort(() => random() - 0.5);
      const train = order.slice(0, 500).map((i) => ({ text: s.texts[i]!, label: s.truth[i]! }));
      const test = order.slice(500);
      const model = learnSentiment(train);
      const plain = learnSentiment(train, { rules: false });
      const truth = test.map((i) => s.truth[i]!);
      const r = scoreLabels(truth, test.map((i) => predictSentiment(model, s.texts[i]!).label));
      acc += r.accuracy / 5;
      f1 += r.macroF1 / 5;
      words += scoreLabels(truth, test.map((i) => predictSentiment(plain, s.texts[i]!).label)).accuracy / 5;
    }
    out(`${s.file.padEnd(28)}${pct(acc).padStart(10)}${pct(f1).padStart(10)}${pct(words).padStart(12)}`);
  }

  out('\n3. BANKING77 as a proxy for customer language (intents, not sentiment labels)');
  const banking = readTextCsv(path.join(values.data, 'banking77', 'train.csv'), 'text', 'category', true, '--train');
  const problems = new Set(['card_not_working', 'contactless_not_working', 'card_swallowed', 'transaction_charged_twice', 'wrong_amount_of_cash_received', 'declined_card_payment', 'declined_cash_withdrawal', 'declined_transfer', 'failed_transfer', 'Refund_not_showing_up', 'card_payment_not_recognised', 'direct_debit_payment_not_recognised', 'cash_withdrawal_not_recognised', 'compromised_card', 'lost_or_stolen_card', 'lost_or_stolen_phone', 'pin_blocked', 'extra_charge_on_statement', 'top_up_failed', 'top_up_reverted', 'transfer_not_received_by_recipient', 'balance_not_updated_after_bank_transfer', 'balance_not_updated_after_cheque_or_cash_deposit', 'card_payment_wrong_exchange_rate', 'unable_to_verify_identity', 'card_arrival']);
  const howTo = new Set(['age_limit', 'exchange_rate', 'fiat_currency_support', 'supported_cards_and_currencies', 'visa_or_mastercard', 'change_pin', 'get_physical_card', 'getting_virtual_card', 'getting_spare_card', 'top_up_limits', 'edit_personal_details', 'order_physical_card', 'apple_pay_or_google_pay', 'country_support', 'exchange_via_app', 'automatic_top_up', 'disposable_card_limits', 'receiving_money', 'topping_up_by_card', 'verify_my_identity', 'why_verify_identity', 'get_disposable_virtual_card', 'card_delivery_estimate', 'atm_support']);
  const row = (name: string, pick: (t: string) => { label: SentimentLabel }): void => {
    let pn = 0;
    let pt = 0;
    let qn = 0;
    let qt = 0;
    banking.texts.forEach((t, i) => {
      const c = banking.labels[i]!;
      if (problems.has(c)) {
        pt++;
        if (pick(t).label === 'negative') pn++;
      } else if (howTo.has(c)) {
        qt++;
        if (pick(t).label !== 'negative') qn++;
      }
    });
    out(`${name.padEnd(28)}${`${pct(pn / pt)} of ${pt}`.padStart(22)}${`${pct(qn / qt)} of ${qt}`.padStart(22)}`);
  };
  out(`${''.padEnd(28)}${'problems: negative'.padStart(22)}${'how-to: not negative'.padStart(22)}`);
  row('VADER', (t) => vader(t));
  row('rules', (t) => sentiment(t));

  out('\n4. speed, rules alone with their cues');
  const many = Array.from({ length: 100_000 }, (_, i) => banking.texts[i % banking.texts.length]!);
  for (const [name, f] of [['VADER', vader], ['rules', sentiment]] as const) {
    const t0 = performance.now();
    for (const t of many) f(t);
    const s = (performance.now() - t0) / 1000;
    out(`${name.padEnd(28)}${`${Math.round(many.length / s).toLocaleString('en-US')} items/s`.padStart(22)}`);
  }
}
