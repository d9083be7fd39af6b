import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generateDemo } from '../src/demo/generate.js';
import { intent, type IntentLabel } from '../src/models/text/intent.js';
import { detectLanguage } from '../src/models/text/language.js';
import {
  bandRows,
  decodeSignature,
  DEFAULT_THRESHOLD,
  encodeSignature,
  estimateJaccard,
  jaccard,
  LshIndex,
  nearDuplicateGroups,
  shingles,
  signature,
} from '../src/models/text/minhash.js';
import { sentiment } from '../src/models/text/sentiment.js';
import { readTextCsv } from '../src/text/tag.js';
import { SHARED_DATA, sqliteStore } from './support/stores.js';

const CI = process.env['CI'] === 'true';
const BANKING = path.join(SHARED_DATA, 'banking77', 'train.csv');
const hasData = fs.existsSync(BANKING);
if (!hasData && CI) throw new Error(`${BANKING} is required under CI (set RAPPORT_SHARED_DATA)`);
const skipData = hasData ? false : `${BANKING} not found: set RAPPORT_SHARED_DATA to the shared data directory to run this`;
const banking = (): string[] => readTextCsv(BANKING, 'text', 'category', true, '--train').texts;

/** The reference VADER (the vader-sentiment package's own scorer). */
const vader = (createRequire(import.meta.url)('vader-sentiment') as { SentimentIntensityAnalyzer: { polarity_scores(text: string): { compound: number } } }).SentimentIntensityAnalyzer;

/**
 * Texts where our scorer and the JavaScript port may differ on purpose: a negation or "but"
 * written with capitals ("Not", "But"), which we recognise as Python's VADER 3.3 does.
 */
const capitalisedRuleWord = (t: string): boolean =>
  t !== t.replace(/\b(?:not|never|but|so|this|no|nor|none|nothing|without|despite|cannot|rarely|seldom|neither|nowhere|nope|least|\w+nt|\w+n.t)\b/gi, (m) => m.toLowerCase());

const CRAFTED = [
  'The app is great!',
  'The app is NOT great, but support was really helpful!!',
  'I do not LOVE it!!!',
  'at least it is kind of ok',
  'never so happy with a purchase',
  'this is the bomb',
  'not the least bit happy',
  ':) great!!!!',
  'Sort of good?? really???',
  "don't! (great) 'nice'",
  'it was bad BUT the refund was quick',
  'Kind of bad',
  'Terrible. Waste of money, the strap broke after two weeks.',
  'Absolutely love this kettle. Highly recommend.',
  'extremely disappointed with the delivery',
  'barely works, hardly useful',
];

describe('sentiment (VADER)', () => {
  it('gives the same compound score as the vader-sentiment package', () => {
    for (const t of CRAFTED.filter((x) => !capitalisedRuleWord(x))) assert.ok(Math.abs(sentiment(t).score - vader.polarity_scores(t).compound) < 6e-5, t);
  });

  it('gives the same compound score as the package on BANKING77 (all texts without capitalised negations)', { skip: skipData }, () => {
    const texts = banking().filter((t) => !capitalisedRuleWord(t));
    assert.ok(texts.length > 9800, `${texts.length} texts compared`);
    let differ = 0;
    for (const t of texts) if (Math.abs(sentiment(t).score - vader.polarity_scores(t).compound) >= 6e-5) differ++;
    assert.equal(differ, 0);
  });

  it('explains the score: the cue weights add up to S, and the score is S / √(S² + 15)', () => {
    for (const t of CRAFTED) {
      const s = sentiment(t);
      const sum = s.cues.reduce((a, c) => a + c.weight, 0);
      assert.ok(Math.abs(s.score - sum / Math.sqrt(sum * sum + 15)) < 1e-12, t);
    }
    const s = sentiment('The app is great!');
    assert.deepEqual(
      s.cues.map((c) => c.word),
      ['great', '!'],
    );
    assert.equal(s.cues[0]!.weight, 3.1);
    assert.equal(s.label, 'positive');
  });

  it('applies negation, boosters, capitals, "but" and exclamation marks', () => {
    const great = sentiment('The app is great').score;
    assert.ok(sentiment('The app is not great').score < 0, 'negation flips');
    assert.ok(sentiment('Not great, the app').score < 0, 'a capitalised negation flips too');
    assert.ok(sentiment('The app is really great').score > great, 'booster');
    assert.ok(sentiment('The app is GREAT').score > great, 'capitals among lower case');
    assert.ok(sentiment('The app is great!!').score > sentiment('The app is great!').score, 'exclamation');
    assert.ok(sentiment('The app is great but the delivery was terrible').score < 0, 'what follows "but" counts more');
    assert.ok(sentiment('But the delivery was terrible, the app is great').score < 0.5);
    assert.equal(sentiment('Order 12345 for delivery on Tuesday').label, 'neutral');
    assert.deepEqual(sentiment(''), { score: 0, label: 'neutral', cues: [] });
  });
});

// Intent. The demo's truth names what each item is about; the intents that follow from it:
const HELP_ISSUES = new Set(['return_label', 'tracking_question', 'change_address', 'invoice_request']);
/** A malfunction reported while asking for help: either answer is right. */
const EITHER = new Set(['password_reset', 'coupon_not_applying']);

/**
 * The acceptable intents of a demo item, or null when it has none: interview and visit notes
 * are staff notes covering several topics, and neutral NPS comments ("Fine, nothing special")
 * are neither praise nor complaint.
 */
function expectedIntents(kind: string, themes: readonly string[], rating: number | null): Set<IntentLabel> | null {
  if (kind === 'interview' || kind === 'visit_note') return null;
  const out = new Set<IntentLabel>();
  for (const th of themes) {
    const [what, key = ''] = th.split(':');
    if (what === 'idea') out.add('request');
    else if (what === 'defect' || what === 'product' || th === 'complaint') out.add('complaint');
    else if (th === 'praise') out.add('praise');
    else if (what === 'issue' && kind === 'survey') {
      // A survey names only some pains in its text; for the others its tone is the NPS score's.
      if (!HELP_ISSUES.has(key)) out.add('complaint');
      else if ((rating ?? 8) >= 9) out.add('praise');
      else if ((rating ?? 8) <= 6) out.add('complaint');
    } else if (what === 'issue') {
      if (HELP_ISSUES.has(key)) out.add('help');
      else if (EITHER.has(key)) {
        out.add('help');
        out.add('complaint');
      } else out.add('complaint');
    }
  }
  return out.size > 0 ? out : null;
}

/** Set A: written to cover each intent in several domains; some general cues were added after reading its misses. */
const HAND: [string, IntentLabel][] = [  // help: questions and how-to
  ['How do I export my contacts to a CSV file?', 'help'],
  ['Is there a way to change the email address on my account?', 'help'],
  ['Hi, where can I find my invoices for last year?', 'help'],
  ['What does the "pending" status on my transfer mean?', 'help'],
  ['Can I use the same licence on two laptops?', 'help'],
  ['how to cancel my subscription', 'help'],
  ['Could you tell me when my next billing date is?', 'help'],
  ['I need to update the shipping address on order 55812 before it ships.', 'help'],
  ['Do you ship to Norway, and how long does it usually take?', 'help'],
  ['Quick question: which plan includes SSO?', 'help'],
  ['I forgot my PIN. What should I do?', 'help'],
  ['Hello, I would like to know if I can pay by bank transfer.', 'help'],
  ['Where do I enter a promo code on the mobile app?', 'help'],
  ['Can someone walk me through setting up two-factor authentication?', 'help'],
  ['Is it possible to merge two accounts into one?', 'help'],
  ['What are your opening hours on public holidays?', 'help'],
  ['Please advise how to reset the router to factory settings.', 'help'],
  // complaint: something is wrong, bad experience
  ['The app keeps crashing when I open the camera tab. Really annoying.', 'complaint'],
  ['I was billed twice this month and nobody answers my emails.', 'complaint'],
  ['My package was marked as delivered but it never arrived.', 'complaint'],
  ['Sync has been broken since yesterday\'s update, none of my notes show up on the iPad.', 'complaint'],
  ['Ordered a blue jacket, got a red one. Second time this happens.', 'complaint'],
  ['The export button does nothing. Tried Chrome and Firefox.', 'complaint'],
  ['Your courier left my parcel in the rain, everything inside is soaked.', 'complaint'],
  ['I have been waiting 40 minutes on hold. This is ridiculous.', 'complaint'],
  ['Login fails with "error 500" every single time.', 'complaint'],
  ['The headphones stopped charging after a week. Very poor quality.', 'complaint'],
  ['I cancelled my plan in March but you still charged my card in April. I want my money back.', 'complaint'],
  ['The new dashboard is slow and confusing, it takes ages to load a report.', 'complaint'],
  ['Support closed my ticket without fixing anything.', 'complaint'],
  ['Wrong size delivered and the return label link is dead.', 'complaint'],
  ['Notifications stopped working on Android 14.', 'complaint'],
  ['Disappointed. The blender leaks from the bottom after two uses.', 'complaint'],
  ['My card was declined at the supermarket even though I have money in the account.', 'complaint'],
  // request: improvements and features
  ['It would be great if I could schedule reports to be emailed every Monday.', 'request'],
  ['Please add an option to hide archived projects.', 'request'],
  ['Can you add Apple Pay at checkout?', 'request'],
  ['Would love a keyboard shortcut for switching workspaces.', 'request'],
  ['Feature request: bulk edit for tags.', 'request'],
  ['Any plans to support Linux?', 'request'],
  ['I wish the calendar had a week view.', 'request'],
  ['You should really offer a student discount.', 'request'],
  ['Let us set a default currency per client.', 'request'],
  ['A way to duplicate an invoice would save me so much time.', 'request'],
  ['Suggestion: show the delivery date on the product page.', 'request'],
  ['Could you make the font size adjustable in the reader?', 'request'],
  ['Two-factor login via an authenticator app, please.', 'request'],
  ['It would help if the search also looked inside attachments.', 'request'],
  ['We need an API endpoint for bulk imports.', 'request'],
  ['Please consider a family plan with shared storage.', 'request'],
  // praise
  ['Love the new update, the app feels so much faster!', 'praise'],
  ['Thank you so much for sorting out my refund so quickly, great service.', 'praise'],
  ['Fantastic product, works exactly as described. Five stars.', 'praise'],
  ['Just wanted to say your support team is brilliant, Ahmed was super helpful.', 'praise'],
  ['Best purchase I have made this year.', 'praise'],
  ['The delivery was early and the packaging was lovely. Will order again!', 'praise'],
  ['Really impressed with how easy the setup was.', 'praise'],
  ['Great coffee, smooth and not bitter at all. Highly recommend.', 'praise'],
  ['Kudos to the team for the dark theme, my eyes thank you.', 'praise'],
  ['Everything arrived in perfect condition, very happy customer.', 'praise'],
  ['Your onboarding guide is excellent, clear and to the point.', 'praise'],
  ['10/10 would recommend to friends', 'praise'],
  // other
  ['Order 88213', 'other'],
  ['See attached screenshot.', 'other'],
  ['I am moving to Berlin next month.', 'other'],
  ['This is my second account, the first one was under my work email.', 'other'],
  ['Forwarding this to my colleague Jan.', 'other'],
  ['Tuesday works for the call.', 'other'],
  ['FYI I changed my phone number last week.', 'other'],
];

/** Set B: written after the rules were final and measured once, never tuned on (the honest figure). */
const HELD_OUT: [string, IntentLabel][] = [  ['Hey, is the premium plan billed monthly or yearly?', 'help'],
  ['I moved house, how can I update my address for deliveries?', 'help'],
  ['Does the warranty cover water damage?', 'help'],
  ['Need the steps to add a second user to our team workspace', 'help'],
  ['What time does the driver usually come on Saturdays?', 'help'],
  ['Could someone confirm whether my booking for the 14th went through?', 'help'],
  ['Which browsers do you support?', 'help'],
  ['My daughter wants to use my account on her phone, is that allowed?', 'help'],
  ['How long do refunds normally take to show up on a credit card?', 'help'],
  ['Can you resend the confirmation email? I deleted it by accident.', 'help'],
  ['The food arrived cold and half the order was missing.', 'complaint'],
  ['Third time this week the video call drops after 10 minutes.', 'complaint'],
  ['Your website logged me out in the middle of paying and now I do not know if the payment went through. Awful experience.', 'complaint'],
  ['The flight was rebooked without telling me and I missed my connection.', 'complaint'],
  ['I keep getting charged for a plan I downgraded months ago.', 'complaint'],
  ['Battery dies in two hours, the box says twelve.', 'complaint'],
  ['Customer service hung up on me twice today.', 'complaint'],
  ['The mattress smells of chemicals and gave me a headache.', 'complaint'],
  ['Invoices show the wrong VAT rate since the last update.', 'complaint'],
  ['I am really unhappy with how my claim was handled.', 'complaint'],
  ['Please make it possible to pause a subscription for a month.', 'request'],
  ['Would be nice to have a vegetarian filter on the menu.', 'request'],
  ['Can you guys add a widget for the home screen?', 'request'],
  ['It would be really useful to see the order history on the app too.', 'request'],
  ['Idea: let drivers leave parcels with a neighbour.', 'request'],
  ['I would love to see more sizes for tall people.', 'request'],
  ['Are you planning to open a shop in Leeds?', 'request'],
  ['Offer an annual plan with a discount and I will upgrade.', 'request'],
  ['Add support for Google Sheets exports!', 'request'],
  ['The delivery guy was super friendly, thanks!', 'praise'],
  ['Amazing service as always, my go-to shop.', 'praise'],
  ['Your app is so easy to use, my mum figured it out in minutes.', 'praise'],
  ['Wonderful hotel, spotless rooms and lovely staff.', 'praise'],
  ['Very satisfied with the repair, works like new.', 'praise'],
  ['Thanks Maria for the quick fix yesterday, you saved my presentation.', 'praise'],
  ['Great value and fast shipping. Will buy again.', 'praise'],
  ['My account number is 4471-22.', 'other'],
  ['Ticket 5531 can be closed.', 'other'],
  ['Sent from my iPhone', 'other'],
  ['I will be out of office until Monday.', 'other'],
];

const accuracy = (set: readonly [string, IntentLabel][]): number => set.filter(([t, l]) => intent(t).intent === l).length / set.length;

describe('intent', () => {
  it('reads help, complaint, request and praise from the cues it shows', () => {
    const h = intent('How do I export my contacts?');
    assert.equal(h.intent, 'help');
    assert.ok(h.cues.some((c) => c.startsWith('"how do i"')), h.cues.join('; '));
    assert.equal(intent('The app keeps crashing and support never answered. Terrible.').intent, 'complaint');
    assert.equal(intent('Would love a dark mode in the app!').intent, 'request');
    assert.equal(intent('It would be great if invoices could be exported.').intent, 'request');
    assert.equal(intent('Great service, highly recommend.').intent, 'praise');
    const o = intent('Order 88213');
    assert.equal(o.intent, 'other');
    for (const t of ['How do I export my contacts?', 'Order 88213', 'Great service!']) {
      const r = intent(t);
      assert.ok(r.confidence >= 0.2 && r.confidence <= 1, `${t}: ${r.confidence}`);
    }
    // A precomputed sentiment gives the same answer.
    const t = 'Disappointed, the blender leaks.';
    assert.deepEqual(intent(t, sentiment(t)), intent(t));
  });

  it('matches the demo truth on tickets, reviews, surveys and ideas (measured 95.7%)', async () => {
    const t = await sqliteStore();
    try {
      await generateDemo(t.store, { customers: 600, seed: 5 });
      const db = t.store.db;
      const rows = await db.selectFrom('feedback').select(['source_id', 'kind', 'text', 'rating']).execute();
      const themes = new Map<string, string[]>();
      for (const r of await db.selectFrom('demo_truth').select('params').execute()) {
        for (const f of (JSON.parse(r.params) as { feedback: { id: string; themes: string[] }[] }).feedback) themes.set(f.id, f.themes);
      }
      const meta = JSON.parse((await db.selectFrom('meta').select('value').where('key', '=', 'demo').executeTakeFirstOrThrow()).value) as { anonymousFeedback: { id: string; themes: string[] }[] };
      for (const f of meta.anonymousFeedback) themes.set(f.id, f.themes);
      let n = 0;
      let right = 0;
      for (const r of rows) {
        const want = expectedIntents(r.kind, themes.get(r.source_id) ?? [], r.rating);
        if (want === null) continue;
        n++;
        if (want.has(intent(r.text).intent)) right++;
      }
      assert.ok(n > 450, `${n} items with an intent`);
      assert.ok(right / n > 0.93, `demo accuracy ${right}/${n}`);
    } finally {
      await t.cleanup();
    }
  });

  it('generalises to hand-written messages (set A 68/69, held-out set B 32/40)', () => {
    assert.ok(HAND.length >= 60 && HELD_OUT.length >= 40);
    assert.ok(accuracy(HAND) >= 0.95, `set A ${accuracy(HAND)}`);
    assert.ok(accuracy(HELD_OUT) >= 0.75, `held-out set B ${accuracy(HELD_OUT)}`);
  });
});

describe('language', () => {
  it('recognises common languages in sentences', () => {
    const cases: [string, string][] = [
      ['Where is my card? It still has not arrived after two weeks.', 'en'],
      ['Wo ist mein Paket? Es ist seit zwei Wochen unterwegs.', 'de'],
      ["Bonjour, ma commande n'est pas arrivée et personne ne répond.", 'fr'],
      ['Hola, mi pedido llegó roto y quiero un reembolso, por favor.', 'es'],
      ['Mijn bestelling is nog niet aangekomen, kunt u dit nakijken?', 'nl'],
      ['Il mio ordine è in ritardo di una settimana, potete aiutarmi?', 'it'],
      ['Meu pedido ainda não chegou, podem verificar o rastreamento?', 'pt'],
    ];
    for (const [t, lang] of cases) {
      const r = detectLanguage(t);
      assert.equal(r.lang, lang, t);
      assert.ok(r.confidence > 0.5, `${t}: ${r.confidence}`);
    }
  });

  it('never labels short texts confidently, and gives und when there is nothing to go on', () => {
    for (const t of ['ok', 'hi', '12345', '!!!', '', 'lol']) assert.equal(detectLanguage(t).lang, 'und', t);
    for (const t of ['Gracias', 'Danke schön', 'refund', 'Lost password', 'Report stolen card', 'thanks!', 'Where is my card?']) {
      assert.ok(detectLanguage(t).confidence <= 0.55, `${t}: ${JSON.stringify(detectLanguage(t))}`);
    }
    // The expected language decides near-ties; without it the detector's own guess stands.
    assert.equal(detectLanguage('Lost password').lang, 'en');
    assert.notEqual(detectLanguage('Lost password', { expected: null }).lang, 'en');
  });

  it('detects English in at least 99% of BANKING77 support messages (measured 100%)', { skip: skipData }, () => {
    const texts = banking();
    const en = texts.filter((t) => detectLanguage(t).lang === 'en').length;
    assert.ok(en / texts.length >= 0.99, `${en}/${texts.length}`);
  });
});

describe('near-duplicates (MinHash + LSH)', () => {
  const repeats: [string, string][] = [
    ["My card hasn't arrived yet, where is it?", "Where is my card? It hasn't arrived yet."],
    ['I was charged twice for order 123', 'Hi, I was charged twice for my order 123! Thanks'],
    ['The app crashes every time I tap Pay on my iPhone', 'the app crashes every time i tap pay on my iphone!!'],
    ['Please add gift cards to the shop.', 'please add gift cards to the shop!! Thanks'],
  ];
  const different: [string, string][] = [
    ['How do I reset my password?', 'How do I reset my PIN?'],
    ['How can I update my password?', 'How can I change my password?'],
    ['Where is my card?', 'Where is my refund?'],
    ['My order 5512 is 5 days late', 'My order 7781 is 5 days late'],
    ['Please add dark mode', 'Please add gift cards'],
  ];

  it('groups reworded repeats and keeps different requests apart', () => {
    const texts = [...repeats.flat(), ...different.flat()];
    const groups = nearDuplicateGroups(texts);
    assert.deepEqual(groups, [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    // The same from stored signatures, verified on the estimate instead of the exact index. The
    // reordered pair sits exactly at the threshold (J = 0.8), where an estimate with standard
    // error 0.035 falls either side; the clear repeats are found.
    const fromSignatures = nearDuplicateGroups(texts.map((t) => signature(t)));
    for (const g of groups.slice(1)) assert.ok(fromSignatures.some((x) => x.join() === g.join()), `${g.join()} from signatures`);
    assert.ok(fromSignatures.every((g) => g.every((i) => i < 8)), 'different requests are not merged');
  });

  it('estimates the Jaccard index within its standard error, and is seeded', () => {
    const pairs = [...repeats, ...different, ['the quick brown fox jumps over the lazy dog near the river bank', 'the quick brown fox jumped over a lazy dog by the river bank']];
    for (const [a, b] of pairs) {
      const exact = jaccard(shingles(a!), shingles(b!));
      const est = estimateJaccard(signature(a!), signature(b!));
      const se = Math.sqrt((exact * (1 - exact)) / 128);
      assert.ok(Math.abs(est - exact) <= 4 * se + 1e-9, `${a} | ${b}: ${est} vs ${exact}`);
    }
    assert.deepEqual(signature('same text', { seed: 3 }), signature('same text', { seed: 3 }));
    assert.notDeepEqual(signature('same text', { seed: 3 }), signature('same text', { seed: 4 }));
    assert.equal(signature('x', { numHashes: 64 }).length, 64);
  });

  it('stores signatures as base64 and checks new items against stored ones (LshIndex)', () => {
    const stored = ['My card was declined at the shop', 'How do I reset my password?', 'Please add gift cards to the shop.'];
    const index = new LshIndex<string>();
    stored.forEach((t, i) => index.add(`fb_${i}`, decodeSignature(encodeSignature(signature(t)))));
    assert.equal(index.size, 3);
    const enc = encodeSignature(signature(stored[0]!));
    assert.equal(Buffer.from(enc, 'base64').length, 128 * 4);
    assert.deepEqual(decodeSignature(enc), signature(stored[0]!));
    const hit = index.query(signature('Hi, my card was declined at the shop!!'));
    const first = hit[0];
    assert.equal(first?.id, 'fb_0');
    assert.ok(first.similarity >= DEFAULT_THRESHOLD);
    assert.deepEqual(index.query(signature('Where can I download my invoice?')), []);
    assert.throws(() => index.add('bad', signature('x', { numHashes: 64 })), /length 64/);
  });

  it('bands signatures so that a pair at the threshold is a candidate with probability ≥ 0.99', () => {
    for (const t of [0.5, 0.6, 0.7, 0.8, 0.9]) {
      const r = bandRows(128, t);
      const b = Math.floor(128 / r);
      assert.ok(1 - (1 - t ** r) ** b >= 0.99, `t ${t}`);
      assert.ok(1 - (1 - t ** (r + 1)) ** Math.floor(128 / (r + 1)) < 0.99 || r === 128, `r ${r} is the largest for t ${t}`);
    }
  });

  it('finds the near-duplicate groups of BANKING77 at the default threshold (measured 545 groups)', { skip: skipData }, () => {
    const texts = banking();
    const groups = nearDuplicateGroups(texts);
    assert.ok(groups.length > 450 && groups.length < 650, `${groups.length} groups`);
    // Chains of single links stay short at 0.8 (at 0.6 one group gathers hundreds of card questions).
    assert.ok(Math.max(...groups.map((g) => g.length)) <= 20);
    for (const g of groups) for (const i of g.slice(1)) assert.ok(i > g[0]!);
  });
});
