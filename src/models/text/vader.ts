import fs from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Sentiment of one piece of feedback by VADER (Hutto & Gilbert 2014, "VADER: A Parsimonious
 * Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM-14): a lexicon of ~7,500
 * words and emoticons rated −4…+4 by people, and five rules on top — negation ("not good"),
 * degree adverbs ("very", "barely"), a contrastive "but" (what follows it counts more), words
 * in capitals among lower-case text, and exclamation marks.
 *
 * Why our own scorer over the package's lexicon rather than calling the package: the package
 * returns only the compound score, and the Listening screens must show how every number was
 * computed, so we need each word's contribution after the rules. The rules below follow the
 * `vader-sentiment` package (the JavaScript port we depend on for the lexicon) step for step,
 * and the tests check that both give the same compound score on thousands of texts. One
 * deliberate difference, as in Hutto's Python vaderSentiment 3.3: negations and "but" are
 * recognised in any case, so a sentence that starts "Not good" or "But" is read like one that
 * contains "not good" or "but" (the JavaScript port matches them in lower case only). It is
 * also ~7× faster, because it does not rebuild a punctuation table for every text.
 *
 * The lexicon is read once from the package when this module loads; scoring itself is pure.
 */

/** Result of {@link vader}. */
export interface Sentiment {
  /** VADER's compound score in [−1, 1]: S / √(S² + 15), S the sum of the cue weights. */
  score: number;
  /** `positive` from +0.05, `negative` from −0.05, otherwise `neutral` (VADER's usual cut-offs). */
  label: 'negative' | 'neutral' | 'positive';
  /**
   * What moved the score, in text order: each sentiment word with its weight after negation,
   * boosters, capitals and "but"; exclamation/question emphasis appears as the cue `!` or `?`.
   * The weights add up to S.
   */
  cues: { word: string; weight: number }[];
}

// The constants of the reference implementation (vader-sentiment 1.1.3, src/vaderSentiment.js,
// Apache-2.0, itself a port of Hutto's vaderSentiment.py, MIT). Empirically derived in the paper.
const B_INCR = 0.293;
const B_DECR = -0.293;
const C_INCR = 0.733;
const N_SCALAR = -0.74;
/** α in compound = S / √(S² + α), "approximates the max expected value". */
const ALPHA = 15;

const NEGATE = new Set([
  'aint', 'arent', 'cannot', 'cant', 'couldnt', 'darent', 'didnt', 'doesnt', "ain't", "aren't", "can't", "couldn't", "daren't", "didn't",
  "doesn't", 'dont', 'hadnt', 'hasnt', 'havent', 'isnt', 'mightnt', 'mustnt', 'neither', "don't", "hadn't", "hasn't", "haven't", "isn't",
  "mightn't", "mustn't", 'neednt', "needn't", 'never', 'none', 'nope', 'nor', 'not', 'nothing', 'nowhere', 'oughtnt', 'shant', 'shouldnt',
  'uhuh', 'wasnt', 'werent', "oughtn't", "shan't", "shouldn't", 'uh-uh', "wasn't", "weren't", 'without', 'wont', 'wouldnt', "won't",
  "wouldn't", 'rarely', 'seldom', 'despite',
]);

const BOOSTERS = new Map<string, number>([
  ...[
    'absolutely', 'amazingly', 'awfully', 'completely', 'considerably', 'decidedly', 'deeply', 'effing', 'enormously', 'entirely', 'especially',
    'exceptionally', 'extremely', 'fabulously', 'flipping', 'flippin', 'fricking', 'frickin', 'frigging', 'friggin', 'fully', 'fucking', 'greatly',
    'hella', 'highly', 'hugely', 'incredibly', 'intensely', 'majorly', 'more', 'most', 'particularly', 'purely', 'quite', 'really', 'remarkably',
    'so', 'substantially', 'thoroughly', 'totally', 'tremendously', 'uber', 'unbelievably', 'unusually', 'utterly', 'very',
  ].map((w) => [w, B_INCR] as const),
  ...[
    'almost', 'barely', 'hardly', 'just enough', 'kind of', 'kinda', 'kindof', 'kind-of', 'less', 'little', 'marginally', 'occasionally', 'partly',
    'scarcely', 'slightly', 'somewhat', 'sort of', 'sorta', 'sortof', 'sort-of',
  ].map((w) => [w, B_DECR] as const),
]);

const IDIOMS = new Map<string, number>([
  ['the shit', 3],
  ['the bomb', 3],
  ['bad ass', 1.5],
  ['yeah right', -2],
  ['cut the mustard', 2],
  ['kiss of death', -1.5],
  ['hand to mouth', -2],
]);

/** The punctuation that may lead or trail a word and be stripped from it (the reference's PUNC_LIST). */
const PUNC = ['.', '!', '?', ',', ';', ':', '-', "'", '"', '!!', '!!!', '??', '???', '?!?', '!?!', '?!?!', '!?!?'];
/** ASCII punctuation, as the reference's REGEX_REMOVE_PUNCTUATION. */
const PUNCT_CHAR = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;

function loadLexicon(): Map<string, number> {
  const file = createRequire(import.meta.url).resolve('vader-sentiment/vader_lexicon.txt');
  const lex = new Map<string, number>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const value = Number(line.slice(tab + 1, line.indexOf('\t', tab + 1)));
    // A repeated entry keeps its last value, as in the reference.
    if (Number.isFinite(value)) lex.set(line.slice(0, tab), value);
  }
  return lex;
}

const NO_WORDS: ReadonlySet<string> = new Set();

/** VADER's lexicon: word → mean human rating, −4…+4. */
export const VADER_LEXICON: ReadonlyMap<string, number> = loadLexicon();

/** Python's str.isupper(): at least one upper-case letter and no lower-case one. */
function isUpper(word: string): boolean {
  return /^[^a-z]*[A-Z]+[^a-z]*$/.test(word);
}

/**
 * VADER's tokens: split on single whitespace characters, drop tokens of one character, and strip
 * one leading or trailing punctuation run from PUNC when what remains is a punctuation-free word
 * of two or more characters (so "great!!!" → "great", but "don't!" and "(great)" stay as they are).
 */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(/\s/)) {
    if (t.length <= 1) continue;
    out.push(strip(t));
  }
  return out;
}

function strip(t: string): string {
  if (!PUNCT_CHAR.test(t)) return t;
  for (const p of PUNC) {
    if (t.length - p.length > 1) {
      if (t.startsWith(p)) {
        const w = t.slice(p.length);
        if (!PUNCT_CHAR.test(w)) return w;
      }
      if (t.endsWith(p)) {
        const w = t.slice(0, t.length - p.length);
        if (!PUNCT_CHAR.test(w)) return w;
      }
    }
  }
  return t;
}

function isNegation(word: string | undefined, extra: ReadonlySet<string>): boolean {
  return word !== undefined && (NEGATE.has(word) || extra.has(word) || word.includes("n't"));
}

/** The booster's effect on a word of valence v (the reference's scalar_inc_dec). */
function boost(word: string, valence: number, capDiff: boolean): number {
  let scalar = BOOSTERS.get(word.toLowerCase());
  if (scalar === undefined) return 0;
  if (valence < 0) scalar = -scalar;
  if (capDiff && isUpper(word)) scalar += valence > 0 ? C_INCR : -C_INCR;
  return scalar;
}

function valenceAt(lex: ReadonlyMap<string, number>, neg: ReadonlySet<string>, words: readonly string[], lower: readonly string[], i: number, capDiff: boolean): number {
  let valence = lex.get(lower[i]!);
  if (valence === undefined) return 0;
  const item = words[i]!;
  if (capDiff && isUpper(item)) valence += valence > 0 ? C_INCR : -C_INCR;
  for (let k = 0; k < 3; k++) {
    const j = i - (k + 1);
    if (j < 0 || lex.has(lower[j]!)) continue;
    let s = boost(words[j]!, valence, capDiff);
    // A booster further away counts less.
    if (k === 1) s *= 0.95;
    else if (k === 2) s *= 0.9;
    valence += s;
    valence = neverCheck(valence, lower, k, i, neg);
    if (k === 2) valence = idiomsCheck(valence, words, i);
  }
  // "least" negates what follows, except in "at least" / "very least".
  if (i > 1 && lower[i - 1] === 'least') {
    if (lower[i - 2] !== 'at' && lower[i - 2] !== 'very') valence *= N_SCALAR;
  } else if (i > 0 && lower[i - 1] === 'least') {
    valence *= N_SCALAR;
  }
  return valence;
}

/** Negation in the three words before (w is lower-cased: "Not good" is negated too). */
function neverCheck(valence: number, w: readonly string[], k: number, i: number, neg: ReadonlySet<string>): number {
  if (k === 0) {
    if (isNegation(w[i - 1], neg)) return valence * N_SCALAR;
  } else if (k === 1) {
    if (w[i - 2] === 'never' && (w[i - 1] === 'so' || w[i - 1] === 'this')) return valence * 1.5;
    if (isNegation(w[i - 2], neg)) return valence * N_SCALAR;
  } else {
    if ((w[i - 3] === 'never' && (w[i - 2] === 'so' || w[i - 2] === 'this')) || w[i - 1] === 'so' || w[i - 1] === 'this') return valence * 1.25;
    if (isNegation(w[i - 3], neg)) return valence * N_SCALAR;
  }
  return valence;
}

function idiomsCheck(valence: number, w: readonly string[], i: number): number {
  // Out-of-range words read as "undefined", as in the reference (they never match an idiom).
  const at = (j: number): string => w[j] ?? 'undefined';
  const sequences = [`${at(i - 1)} ${at(i)}`, `${at(i - 2)} ${at(i - 1)} ${at(i)}`, `${at(i - 2)} ${at(i - 1)}`, `${at(i - 3)} ${at(i - 2)} ${at(i - 1)}`, `${at(i - 3)} ${at(i - 2)}`];
  for (const s of sequences) {
    const v = IDIOMS.get(s);
    if (v !== undefined) {
      valence = v;
      break;
    }
  }
  if (w.length - 1 > i) valence = IDIOMS.get(`${at(i)} ${at(i + 1)}`) ?? valence;
  if (w.length - 1 > i + 1) valence = IDIOMS.get(`${at(i)} ${at(i + 1)} ${at(i + 2)}`) ?? valence;
  if (BOOSTERS.has(sequences[4]!) || BOOSTERS.has(sequences[2]!)) valence += B_DECR;
  return valence;
}

function count(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * Scores the sentiment of a text with VADER and says which words made the score.
 *
 * @example
 *   vader('The app is not good, but delivery was really great!');
 *   // { score: 0.770…, label: 'positive', cues: [
 *   //   { word: 'good', weight: -0.703 },   // 1.9 × −0.74 (negated) × 0.5 (before "but")
 *   //   { word: 'great', weight: 5.0895 },  // (3.1 + 0.293 for "really") × 1.5 (after "but")
 *   //   { word: '!', weight: 0.292 } ] }    // S = 4.6785, S / √(S² + 15) = 0.770
 */
/**
 * @param lex the lexicon (VADER's by default)
 * @param negations words that negate besides VADER's own (none by default)
 */
export function vader(text: string, lex: ReadonlyMap<string, number> = VADER_LEXICON, negations: ReadonlySet<string> = NO_WORDS): Sentiment {
  const words = tokens(text);
  const lower = words.map((w) => w.toLowerCase());
  let upper = 0;
  for (const w of words) if (isUpper(w)) upper++;
  // Capitals emphasise only when some words, not all, are in capitals.
  const capDiff = upper > 0 && upper < words.length;
  const values = new Float64Array(words.length);
  for (let i = 0; i < words.length; i++) {
    if ((lower[i] === 'kind' && lower[i + 1] === 'of') || BOOSTERS.has(lower[i]!)) continue;
    values[i] = valenceAt(lex, negations, words, lower, i, capDiff);
  }
  // A contrastive "but": halve what comes before, ×1.5 after.
  const but = lower.indexOf('but');
  if (but !== -1) for (let i = 0; i < values.length; i++) if (i !== but) values[i]! *= i < but ? 0.5 : 1.5;

  const cues: { word: string; weight: number }[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === 0) continue;
    sum += v;
    cues.push({ word: lower[i]!, weight: v });
  }
  if (sum !== 0) {
    // Exclamation marks (up to four, 0.292 each) and repeated question marks add emphasis in
    // the direction the text already leans.
    const ep = Math.min(4, count(text, '!')) * 0.292;
    const q = count(text, '?');
    const qm = q > 3 ? 0.96 : q > 1 ? q * 0.18 : 0;
    const sign = sum > 0 ? 1 : -1;
    if (ep > 0) cues.push({ word: '!', weight: sign * ep });
    if (qm > 0) cues.push({ word: '?', weight: sign * qm });
    sum += sign * (ep + qm);
  }
  const score = Math.max(-1, Math.min(1, sum / Math.sqrt(sum * sum + ALPHA)));
  return { score, label: score >= 0.05 ? 'positive' : score <= -0.05 ? 'negative' : 'neutral', cues };
}
