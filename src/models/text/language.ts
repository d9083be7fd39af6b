import { eld } from 'eld/small';

/**
 * The language of one piece of feedback, so that Listening can route or filter it and so that
 * English-only models (sentiment, intent) are not applied blindly to other languages.
 *
 * Detection is ELD (Efficient Language Detector, nitotm/efficient-language-detector-js, 60
 * languages, byte n-gram scores, pure JavaScript, its `small` database loads in under a second
 * and works offline). On texts of a few words any n-gram detector is close to guessing: ELD
 * reads "Lost password" as Italian and "Report stolen card" as Swedish, by a hair. Two rules on
 * top keep that from misleading anyone:
 *
 * - confidence falls with length (fewer than ~50 letters) and with the margin between the best
 *   and the second-best language, so a short text is never labelled confidently;
 * - an expected language (default English, the language of most inboxes Rapport serves; pass
 *   `expected: null` to turn it off) wins when its score is within a length-dependent tolerance
 *   of the best one: on weak evidence the base rate decides, as a prior would.
 */

/** Result of {@link detectLanguage}. */
export interface Language {
  /** ISO 639-1 code (`en`, `de`, …), or `und` when there is too little text to tell. */
  lang: string;
  /** 0…1: the margin over the runner-up, shrunk for short texts. */
  confidence: number;
}

export interface LanguageOptions {
  /** The language that wins near-ties on short texts (default `en`; null for none). */
  expected?: string | null;
}

/** Letters (of any script) in the text. */
function letters(text: string): number {
  let n = 0;
  for (const ch of text) if (/\p{L}/u.test(ch)) n++;
  return n;
}

/** How far below the best score the expected language may be and still win: wider for short texts. */
function tolerance(n: number): number {
  return n < 25 ? 0.12 : n < 50 ? 0.06 : 0.02;
}

/**
 * Detects the language of a text.
 *
 * @example
 *   detectLanguage('Where is my card? It still has not arrived.'); // { lang: 'en', confidence: 0.79 }
 *   detectLanguage('Wo ist mein Paket? Es ist seit zwei Wochen unterwegs.'); // { lang: 'de', confidence: 0.909 }
 *   detectLanguage('ok'); // { lang: 'und', confidence: 0 }
 */
export function detectLanguage(text: string, options: LanguageOptions = {}): Language {
  const expected = options.expected === undefined ? 'en' : options.expected;
  const n = letters(text);
  if (n < 3) return { lang: 'und', confidence: 0 };
  const result = eld.detect(text);
  const scores = Object.entries(result.getScores()).sort((a, b) => b[1] - a[1]);
  const best = scores[0];
  if (result.language === '' || best === undefined) return { lang: 'und', confidence: 0 };
  // Short texts: at most ~0.5 under 13 letters, full weight from 50 letters on.
  const lengthFactor = Math.min(1, Math.sqrt(n / 50));
  const [lang, top] = best;
  if (expected !== null && lang !== expected) {
    const e = scores.find(([l]) => l === expected)?.[1];
    const tol = tolerance(n);
    if (e !== undefined && e >= top * (1 - tol)) {
      // Chosen by the prior, not by the evidence: at most half-confident, less the further behind.
      const deficit = (top - e) / top;
      return { lang: expected, confidence: round3(lengthFactor * 0.5 * (1 - deficit / tol)) };
    }
  }
  // The relative margin over the runner-up; 0.3 already separates languages clearly.
  const margin = (top - (scores[1]?.[1] ?? 0)) / top;
  return { lang, confidence: round3(lengthFactor * (1 - Math.exp(-margin / 0.1))) };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
