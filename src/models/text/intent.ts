import { vader as scoreSentiment, type Sentiment } from './vader.js';

/**
 * What a customer wants from a message: help (a question, a how-to, an action only staff can
 * take), to complain (something is wrong, a bad experience), to request an improvement, or to
 * praise. It sorts an inbox before anyone reads it and needs no training data, so it works from
 * the first feedback item on; `rapport text tag` is the tool for a workspace's own labels.
 *
 * How: each intent has a list of phrase patterns with weights ("how do I" → help 2.0, "doesn't
 * work" → complaint 2.0, "would love" → request 2.0, "highly recommend" → praise 1.5); the
 * sentiment score adds to complaint (negative) or praise (positive), leaving out words of
 * politeness ("please", "thanks") and of wishing ("would love", "would be great"). An intent's
 * score is the sum of its cues; `other` has a fixed score of {@link OTHER_SCORE}. The answer is
 * the highest score and its confidence the softmax share, exp(sᵢ) / Σⱼ exp(sⱼ), so a message with
 * one weak cue is not called confidently, and every cue is returned to show the reasoning.
 * The weights were set by hand on the demo's feedback and on hand-written messages, and checked
 * on a held-out set written afterwards (test/support/intent-messages.ts); `npm run bench --
 * signals` prints the accuracies.
 */

export type IntentLabel = 'help' | 'complaint' | 'request' | 'praise' | 'other';

/** Result of {@link intent}. */
export interface Intent {
  intent: IntentLabel;
  /** Softmax share of the winning score, 0.2…1. */
  confidence: number;
  /** The evidence for the winning intent: `"how do i" +2`, `sentiment −0.62 ×2.5`… */
  cues: string[];
  /** Every intent's score (sum of its cue weights), for display and for thresholds. */
  scores: Record<IntentLabel, number>;
}

/** The score of `other`: a message needs at least this much evidence to be called anything. */
export const OTHER_SCORE = 1;

type Scored = Exclude<IntentLabel, 'other'>;

interface Rule {
  intent: Scored;
  weight: number;
  pattern: RegExp;
  /** Rules of one group do not add up: only the heaviest that matches counts ("how do I …?" is one question, not three). */
  group?: string;
}

const r = (intent: Scored, weight: number, pattern: RegExp, group?: string): Rule => (group === undefined ? { intent, weight, pattern } : { intent, weight, pattern, group });

/** Verbs that, negated, report a malfunction: "doesn't work", "never arrived", "won't let me". */
const FAILS =
  '(?:work|load|open|arrive|accept|apply|come|show|turn on|start|sync|connect|charge|update|fix|resolve|receive|deliver|answer|respond|reply|help|understand|log in|sign in|get in|get into|let me|recogni[sz]e|save|send|print|play)(?:s|es|ed|d|ing)?|came|shown|sent';

/**
 * The phrase patterns, matched on the lower-cased text with straight apostrophes. A pattern
 * counts once however often it matches; several patterns may support the same intent.
 */
const RULES: readonly Rule[] = [
  // Help: questions and how-to (one question counts once), asking staff to do something.
  r('help', 2, /\bhow (?:do|can|could|would|should|does|did) (?:i|we|you|one)\b/, 'question'),
  r('help', 1.5, /\bhow (?:to|long|much|many|often)\b/, 'question'),
  r('help', 1.5, /\b(?:where|when|what|which|who|why) (?:do|does|did|can|could|should|will|would|is|are|was|were|has|have)\b|\bwhere's\b/, 'question'),
  r('help', 1.5, /\b(?:is|are) there\b|\bis it (?:possible|ok|okay)\b|\bam i able\b/, 'question'),
  r('help', 1.5, /\b(?:can|could|may|do|should|must) (?:i|we)\b/, 'question'),
  r('help', 1.2, /\?/, 'question'),
  r('help', 1.5, /\b(?:help me|need help|please help|help please|can you help|could you help|walk me through|please advise|assist)\b/, 'ask'),
  r('help', 1.5, /\b(?:can|could|would|will) (?:you|someone|somebody) (?:please )?(?:send|tell|check|explain|confirm|let me know|reset|correct|fix|update|change|cancel|apply|refund|look|resend|track|find|show)\b/, 'ask'),
  r('help', 1.5, /\bplease (?:update|change|correct|cancel|check|send|reset|confirm|resend|fix|look|tell)\b/, 'ask'),
  r('help', 1.5, /\b(?:i|we)(?: need| want| would like|'d like| wish| have) to (?:know|change|update|cancel|return|send back|track|close|delete|transfer|move|reset|find|check|ask)\b/, 'ask'),
  r('help', 1.2, /\b(?:tracking (?:number|link)|quick question|question:|wondering|not sure how|can't find|cannot find|couldn't find|i forgot|locked out)\b/),
  r('help', 2, /\b(?:i|we) (?:typed|entered|put|gave|used|chose|selected|picked) (?:in )?(?:the |a )?wrong\b/),

  // Complaint: something is broken, late, wrong, or a bad experience.
  r('complaint', 2, new RegExp(`\\b(?:doesn't|does not|don't|do not|didn't|did not|isn't|is not|aren't|won't|will not|can't|cannot|couldn't|could not|not|never|hasn't|has not|haven't|have not|wasn't)\\s+(?:\\w+\\s+)?(?:${FAILS})\\b`)),
  r('complaint', 1.5, /\bstill (?:not|no|nothing|waiting|hasn't|haven't|isn't|doesn't|broken)\b|\bnowhere to be seen\b|\bnothing (?:has )?(?:arrived|happened|happens)\b|\b(?:does|did) nothing\b|\bno idea where\b|\bwhat(?: is|'s) going on\b/),
  r('complaint', 1.5, /\b(?:broken|broke|crash(?:es|ed|ing)?|freez(?:e|es|ing)|froze|buggy|bug|glitch|error|fails?|failed|failing|damaged|dented|cracked|scratched|leak(?:s|ing|ed)?|soaked|late|delayed|missing|wrong|twice|double|stolen|overcharged|declined|stopped (?:\w+ing)|disconnect(?:s|ed|ing)?|drifts?|rusted|warped|skips|blank|dead|slow|unreliable|useless|confusing|clunky|flimsy|faded|wobbly|unclear|monotone|strange|weird|unrelated|irrelevant|nothing relevant)\b/),
  r('complaint', 1.5, /\b(?:refund|money back|reimburse|compensation|chargeback|replacement|send a new one|swap it|returning it)\b/),
  r('complaint', 2, /\b(?:terrible|awful|worst|disappoint\w*|frustrat\w*|unacceptable|ridiculous|annoying|waste of|never again|not ok|not okay|not happy|not impressed|poor|rubbish|avoid|expected more|not worth|not great|far too|took ages|nobody|no one)\b/),
  r('complaint', 1.5, /\b(?:hard|difficult|impossible) to\b|\bwithout (?:fixing|solving|resolving|any|a reply|an answer)\b|\b(?:was|were) (?:supposed|promised) to\b|\bshould have (?:arrived|come|been)\b/),
  r('complaint', 1.5, /\b(?:went down|got worse|gone downhill|worse than|more expensive|deteriorat\w*|someone else's|something (?:completely )?different|not what i ordered)\b/),
  r('complaint', 1.2, /\b(?:average|mixed feelings|it's okay|it's ok|so-so|meh|could be better|nothing special|had to)\b/),
  r('complaint', 0.8, /\b(?:again|every (?:single )?time|second time|third time|keeps|kept)\b/),
  r('complaint', 0.8, /\bbut\b/),

  // Request: an improvement or a feature.
  r('request', 3, /\b(?:feature request|suggestion|idea|small wish|one wish|also|what i miss|wish)\s*:/),
  r('request', 2.5, /\b(?:please|pls|kindly) (?:add|let|make|allow|support|offer|introduce|consider|bring|use|include|enable|build|switch|go|give)\b/, 'ask'),
  r('request', 2.5, /\b(?:can|could|would|will) you (?:please )?(?:add|make|allow|support|offer|introduce|consider|bring|build|implement|let|include|enable|switch)\b/, 'ask'),
  r('request', 2.5, /\b(?:would|it'd|'d) (?:be )?(?:love|great|nice|amazing|awesome|useful|helpful|handy|cool|good|really useful|brilliant) (?:if|to)\b/, 'wish'),
  r('request', 2, /\bwould (?:be|make|save|help)\b|\bit'd be\b|\b(?:would|'d) love\b|\bi wish\b/, 'wish'),
  r('request', 2, /\b(?:any plans?|plans? (?:for|to)|do you plan|are you planning|will you (?:ever )?(?:add|support|offer))\b/),
  r('request', 1.5, /\b(?:option|ability|way|button|feature|setting|mode|alert|alerts) (?:to|for|when)\b|\b(?:an|a) (?:option|way|button|feature|setting)\b/),
  r('request', 1.5, /^(?:(?:suggestion|idea|feature request|hi|hello)[:!,]?\s*)?(?:let|notify|show|give|allow|add|offer|make|bring|include|introduce)\b/),
  r('request', 1.5, /\blet (?:me|us)\b|\byou should\b|\bshould (?:offer|have|add|support|be able)\b|\binstead of\b|\bmake it easier\b/),
  r('request', 1.2, /\b(?:we|i) (?:need|want|would like|'d like) (?:an?|one|the|some|more|less|multiple|several)\b/),
  r('request', 1.5, /\bplease[.!]*$|, please\b|\bplease!/),

  // Praise: what VADER's lexicon misses or under-weights.
  r('praise', 1.5, /\b(?:highly recommend|would recommend|would buy again|will order again|five stars|5 stars|10\/10|keep up the good work|well done|kudos|exactly as described|as described|works out of the box|does the job|does exactly what|impressed|thank you so much|thanks so much|many thanks|great service|super helpful|so helpful|really helpful|happy customer|better than i expected|love the|love it|loved it|delighted|so pleased|really happy|very happy|good value|value for money|solid purchase)\b/),
];

/** Words that carry politeness or wishing, not an opinion of the product: left out of the sentiment evidence. */
const POLITE = new Set(['fyi', 'please', 'thanks', 'thank', 'help', 'like', 'wish', 'want', 'hope', 'kind', 'welcome', 'ok', 'okay', 'yes', 'hi', 'hello', 'dear', 'good', 'cheers', 'regards', 'love', 'great', 'nice', 'amazing', 'awesome', 'useful', 'handy', 'cool', 'helpful', 'brilliant', 'easier', 'save', 'care']);
/** The same words count when the message is not a wish (e.g. "love it", "great service"). */
const WISH_WORDS = new Set(['love', 'great', 'nice', 'amazing', 'awesome', 'useful', 'handy', 'cool', 'helpful', 'brilliant', 'easier', 'save', 'good', 'care']);

/** Weight of the sentiment score (−1…1) as evidence for complaint or praise. */
const SENTIMENT_WEIGHT = 2.5;

const INTENTS: readonly Scored[] = ['help', 'complaint', 'request', 'praise'];

function fmt(x: number): string {
  return (Math.round(x * 100) / 100).toString();
}

/**
 * Classifies what a message wants, with the cues that decided it.
 *
 * @param s the text's sentiment, when already computed (it is computed otherwise).
 * @example
 *   intent('How do I export my contacts?');
 *   // { intent: 'help', confidence: 0.564, cues: ['"how do i" +2'],
 *   //   scores: { help: 2, complaint: 0, request: 0, praise: 0, other: 1 } }  // e² / (e² + e¹ + 3e⁰)
 *   intent('Would love a dark mode in the app!').intent; // 'request'
 */
export function intent(text: string, s?: Sentiment): Intent {
  const t = text.toLowerCase().replace(/[\u2019`]/g, "'").trim();
  const scores: Record<IntentLabel, number> = { help: 0, complaint: 0, request: 0, praise: 0, other: OTHER_SCORE };
  const cues: Record<IntentLabel, string[]> = { help: [], complaint: [], request: [], praise: [], other: [] };
  const groups = new Set<string>();
  for (const rule of RULES) {
    const key = rule.group === undefined ? undefined : `${rule.intent}:${rule.group}`;
    // Rules are listed heaviest first within a group, so the first match is the one that counts.
    if (key !== undefined && groups.has(key)) continue;
    const m = rule.pattern.exec(t);
    if (m === null) continue;
    if (key !== undefined) groups.add(key);
    scores[rule.intent] += rule.weight;
    cues[rule.intent].push(`"${m[0].trim()}" +${fmt(rule.weight)}`);
  }
  // Sentiment as evidence, without the words of politeness, and without the words of wishing
  // once the message reads as a request ("it would be great if…" is not praise).
  const wish = scores.request > 0;
  const sen = s ?? scoreSentiment(text);
  let pos = 0;
  let neg = 0;
  for (const c of sen.cues) {
    if (c.word === '!' || c.word === '?') continue;
    if (c.weight > 0) {
      if (POLITE.has(c.word) && (wish || !WISH_WORDS.has(c.word))) continue;
      pos += c.weight;
    }
    else neg -= c.weight;
  }
  // The same squashing as VADER's compound (S / √(S² + 15)), on the filtered sums.
  const p = pos / Math.sqrt(pos * pos + 15);
  const n = neg / Math.sqrt(neg * neg + 15);
  const net = p - n;
  if (net > 0.05) {
    scores.praise += SENTIMENT_WEIGHT * net;
    cues.praise.push(`sentiment +${fmt(net)} ×${SENTIMENT_WEIGHT}`);
  } else if (net < -0.05) {
    scores.complaint += SENTIMENT_WEIGHT * -net;
    cues.complaint.push(`sentiment ${fmt(net)} ×${SENTIMENT_WEIGHT}`);
  }
  let best: IntentLabel = 'other';
  for (const k of INTENTS) if (scores[k] > scores[best]) best = k;
  let z = 0;
  for (const k of [...INTENTS, 'other'] as const) z += Math.exp(scores[k]);
  const confidence = Math.exp(scores[best]) / z;
  return { intent: best, confidence: Math.round(confidence * 1000) / 1000, cues: best === 'other' ? ['no cue above the threshold'] : cues[best], scores };
}
