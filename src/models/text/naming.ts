/**
 * Readable names for themes, in the customers' own words, and the test for texts that say
 * nothing a theme could be about.
 *
 * A theme's name is a real phrase of one of its most typical members: every span of two to
 * eight words of a clause of the 25 members nearest the centroid is a candidate, cleaned of
 * leading fillers ("Hi,", "Also:", "please") and of trailing function words. A candidate's
 * content words (by stem) must occur together in many of the theme's members and be
 * specific to it: its score is the share of members containing all of them (coverage) to
 * the power 2.5 times the sum of their lifts, ln(share in the theme / share in all texts),
 * clipped to 0…5. So the
 * name states what most members say and what sets them apart. Key phrases are the c-TF-IDF
 * features shown as their commonest surface spelling in the theme ("could be better" rather
 * than the stems "could better"); order numbers and other codes are never shown.
 *
 * A text is contentless ("Five stars", "Great!", "Mixed feelings. Not bad, not great.") when
 * no word is left after removing function words, fillers and generic praise and sentiment
 * words; such texts, and praise without a question, complaint or request in it, belong to
 * the general bucket, not to a need or defect theme.
 */
import { intent } from './intent.js';
import { stem } from './vocabulary.js';

/** The label of the general bucket theme: praise, thanks and remarks without a topic. */
export const GENERAL_LABEL = 'General praise and remarks';

/** Function words: never content, never the last word of a name. */
const FUNCTION = new Set(
  (
    'a an the i my me mine we our us you your yours it its this that these those there here is are was were be been being am do does did doing done ' +
    'have has had having to of and or but for in on at by with from into onto about as if than then so too very just also still yet again ' +
    'can could would should will shall may might must im ive id ill dont doesnt didnt cant cannot couldnt wont wouldnt isnt arent wasnt werent havent hasnt ' +
    'not no nor any some all what which who whom whose when where why how while after before because since until up down out over off ' +
    'he she him her his they them their one ones get got getting'
  ).split(' '),
);

/** Fillers: greetings, courtesy and generic praise words, never content (they may stand inside a name). */
const FILLER = new Set(
  (
    'hi hello hey dear thanks thank thx cheers regards kind best please pls asap urgent urgently help support team guys folks sir madam ' +
    'ok okay fine yes yeah well really quite pretty totally absolutely highly definitely truly simply actually honestly overall mostly lately ' +
    'star stars five four three two ten rating review feelings mixed average nothing special something anything everything things thing lot lots bit ' +
    'shop store company service experience product products purchase item items stuff buy bought recommend recommended recommending ' +
    'would like love loved want wanted need needed know think feel felt say said make made keep work good great nice excellent awesome ' +
    'amazing perfect wonderful happy pleased satisfied disappointed impressed expected expect expectations better worse best worst ever always never ' +
    'idea suggestion feature request wish question issue problem also much more less little wow omg yay lol xx xoxo ' +
    'bad terrible awful horrible poor brilliant fantastic superb lovely cool fab meh decent solid glad sad unhappy angry upset annoyed ' +
    'delighted thrilled impressive disappointing pleasant enjoy enjoyed liked like hate hated reliable unreliable friendly helpful rude ' +
    'feeling opinion verdict overall worth value sure kinda sorta super fabulous outstanding incredible gorgeous beautiful'
  ).split(' '),
);

/** Words a name may not begin with: greetings, courtesy and sentence glue. */
const LEAD = new Set('hi hello hey dear thanks thank cheers regards please pls so and but or also then well ok okay yes oh anyway btw idea suggestion wish'.split(' '));

/** Words that begin no name, even where a clause begins ("In my statement", "If my PIN"). */
const NOT_FIRST = new Set('in for if at on of to by with from like about as than off up into out over it its he she they them his her their'.split(' '));

/** Besides content words, the only words a name may begin with inside a clause ("for SEPA transfers", "up available" may not). */
const DETERMINER = new Set('my the a an i your our'.split(' '));

/** Particles that finish the word before them: a name does not end before one ("my top" of "my top up"). */
const PARTICLE = new Set('up out off down back over through'.split(' '));

interface Token {
  /** Lower-cased, apostrophes removed (vocabulary.ts's words()). */
  lower: string;
  stem: string;
  /** Not a function word, filler or number. */
  content: boolean;
  /** Where the word stands in its clause's text. */
  start: number;
  end: number;
  /** Whether the word begins / ends a written word ("top-up" is two words, top and up, in one). */
  first: boolean;
  last: boolean;
}

interface Clause {
  text: string;
  tokens: Token[];
}

/**
 * Clauses of a text (split at sentence and clause punctuation), as words the way vocabulary.ts
 * reads them (hyphens split words). Codes such as order numbers (any hyphenated word with a
 * digit: ORD-1AB2C3, 4711, v4.2) are left out.
 */
export function clauses(text: string): Clause[] {
  const out: Clause[] = [];
  for (const part of text.replace(/[\u2018\u2019]/g, "'").split(/[.!?;:,()"\u201c\u201d\n\u2014\u2013]+|\s-+\s|\s(?:but|and then)\s/iu)) {
    const tokens: Token[] = [];
    for (const m of part.matchAll(/[\p{L}\p{N}']+(?:[-_#/][\p{L}\p{N}']+)*/gu)) {
      if (/\p{N}/u.test(m[0])) continue;
      const parts = [...m[0].matchAll(/[\p{L}']+/gu)];
      for (const [pi, w] of parts.entries()) {
        const lower = w[0].toLowerCase().replaceAll("'", '');
        if (lower.length === 0) continue;
        const start = m.index + w.index;
        let end = start + w[0].length;
        while (end > start && part[end - 1] === "'") end--;
        tokens.push({ lower, stem: stem(lower), content: lower.length > 1 && !FUNCTION.has(lower) && !FILLER.has(lower), start, end, first: pi === 0, last: pi === parts.length - 1 });
      }
    }
    if (tokens.length > 0) out.push({ text: part, tokens });
  }
  return out;
}

/** Stems of a text's content words (function words, fillers, codes left out). */
export function contentStems(text: string): Set<string> {
  const s = new Set<string>();
  for (const c of clauses(text)) for (const t of c.tokens) if (t.content) s.add(t.stem);
  return s;
}

/**
 * Whether a text says nothing a theme could be about: no content word left once function
 * words, courtesy, generic praise and sentiment words ("great", "bad", "love") are removed.
 * VADER's own lexicon is not used for this: it scores topic words too ("cancel", "withdrawal",
 * "top"), and "I want to cancel my purchase" is a need.
 *
 * @example isContentless('Mixed feelings. Not bad, not great.') // true
 * @example isContentless('Where is my refund?') // false
 */
export function isContentless(text: string): boolean {
  // Fast path: most texts have a content word among their first few words.
  for (const m of text.matchAll(/[\p{L}\p{N}'’]+(?:[-_#/][\p{L}\p{N}'’]+)*/gu)) {
    const w = m[0];
    if (/\p{N}/u.test(w) || /[-_#/]/.test(w)) {
      if (/\p{N}/u.test(w)) continue;
      return !clauses(text).some((c) => c.tokens.some((t) => t.content));
    }
    const lower = w.toLowerCase().replace(/['’]/g, '');
    if (lower.length > 1 && !FUNCTION.has(lower) && !FILLER.has(lower)) return false;
  }
  return true;
}

/** Words of praise: only texts with one are asked whether they are pure praise (intent.ts is slower). */
const PRAISE_WORD = /\b(?:love[ds]?|loving|happy|delighted|pleased|recommend\w*|stars?|great|excellent|amazing|awesome|perfect|fantastic|brilliant|wonderful|superb|best|good|nice|lovely|reliable|friendly)\b/i;

/**
 * Whether a text is praise and nothing else: intent.ts calls it praise and finds no cue of a
 * question, complaint or request in it ("Really happy with the Desk Mat! Five stars."). Such
 * reviews name their product, so they are not contentless, but grouped by their praise words
 * they would pull a need or defect theme together ("How do I return …" with five-star reviews).
 */
export function isPurePraise(text: string): boolean {
  if (!PRAISE_WORD.test(text)) return false;
  const i = intent(text);
  return i.intent === 'praise' && i.scores.help === 0 && i.scores.complaint === 0 && i.scores.request === 0;
}

/** Whether a text belongs to the general bucket: contentless, or praise and nothing else. */
export function isGeneral(text: string): boolean {
  return isContentless(text) || isPurePraise(text);
}

/** A set of members as bitsets per stem, for the share of members holding several stems at once. */
class Coverage {
  private readonly bits = new Map<string, Uint32Array>();
  private readonly words: number;
  constructor(readonly members: readonly Set<string>[]) {
    this.words = Math.ceil(members.length / 32);
    members.forEach((m, i) => {
      for (const s of m) {
        let b = this.bits.get(s);
        if (!b) this.bits.set(s, (b = new Uint32Array(this.words)));
        b[i >> 5]! |= 1 << (i & 31);
      }
    });
  }
  share(stems: readonly string[]): number {
    if (this.members.length === 0 || stems.length === 0) return 0;
    const acc = new Uint32Array(this.words).fill(0xffffffff);
    for (const s of stems) {
      const b = this.bits.get(s);
      if (!b) return 0;
      for (let w = 0; w < this.words; w++) acc[w]! &= b[w]!;
    }
    let n = 0;
    for (let w = 0; w < this.words; w++) {
      let v = acc[w]!;
      if (w === this.words - 1 && this.members.length % 32 !== 0) v &= (1 << this.members.length % 32) - 1;
      while (v) {
        v &= v - 1;
        n++;
      }
    }
    return n / this.members.length;
  }
}

/**
 * Coverage counts more than specificity (score = coverage^2.5 × Σ lift): on BANKING77 (the
 * whole file, k = 77) exponents 1.5, 2 and 2.5 gave names found whole in 65 %, 68 % and 71 %
 * of their theme's members on average (worst 26 %, 28 %, 41 %) with much the same names.
 * Asking one-word names to be whole clauses ("Stolen phone" rather than "I think my phone")
 * read better but fell to 54 %. Whole clauses (×1.3) and spans from a clause's start (×1.15)
 * read better than cut-outs.
 */
const GAMMA = 2.5;
const WHOLE = 1.3;
const START = 1.15;

/** Up to `max` of `items`, evenly spaced (all of them when there are fewer). */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]!);
}

export interface ThemeName {
  name: string;
  /** Share of the theme's members (or of the sample looked at) containing every content word of the name, by stem. */
  coverage: number;
}

/** The first letter in capitals, the rest as written. */
const capitalise = (s: string): string => (s.charAt(0).toUpperCase() + s.slice(1)).replace(/\bi(?=\b|')/g, 'I');

/**
 * Names each group of texts (a theme's members, most typical first) with a phrase of its
 * typical members; see the file comment for the score.
 *
 * @example nameGroups([['Where is my refund?', 'Refund not received yet', …], …])[0].name // 'Refund not received yet'
 */
export function nameGroups(groups: readonly (readonly string[])[], options: { candidates?: number; sample?: number } = {}): ThemeName[] {
  const candidatesFrom = options.candidates ?? 25;
  const sampleSize = options.sample ?? 400;
  const samples = groups.map((g) => spread(g, sampleSize).map(contentStems));
  // Share of all (sampled) texts containing each stem: the background of the lift.
  const df = new Map<string, number>();
  let total = 0;
  for (const s of samples) {
    total += s.length;
    for (const m of s) for (const w of m) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const ranked = groups.map((g, gi) => {
    const members = samples[gi]!;
    const cover = new Coverage(members);
    const inTheme = new Map<string, number>();
    for (const m of members) for (const w of m) inTheme.set(w, (inTheme.get(w) ?? 0) + 1);
    const lift = (w: string): number => {
      const p = (inTheme.get(w) ?? 0) / Math.max(1, members.length);
      const q = (df.get(w) ?? 0) / Math.max(1, total);
      return p > 0 && q > 0 ? Math.min(5, Math.max(0, Math.log(p / q))) : 0;
    };
    const seenText = new Set<string>();
    const scoreOf = new Map<string, number>();
    // The best candidate of each distinct spelling, so that a theme can give way to another with the same name.
    const best = new Map<string, { name: string; score: number; coverage: number; length: number }>();
    for (const text of g) {
      if (seenText.size >= candidatesFrom) break;
      const key = text.toLowerCase().replace(/\s+/g, ' ').trim();
      if (seenText.has(key)) continue;
      seenText.add(key);
      for (const { text: ct, tokens: clause } of clauses(text)) {
        for (let i = 0; i < clause.length; i++) {
          const head = clause[i]!;
          if (LEAD.has(head.lower) || NOT_FIRST.has(head.lower) || !head.first || (i > 0 && ((!head.content && !DETERMINER.has(head.lower)) || !clause[i - 1]!.last))) continue;
          for (let j = i + 1; j < Math.min(clause.length, i + 8); j++) {
            const last = clause[j]!;
            if (!last.last || LEAD.has(last.lower) || (last.first && FUNCTION.has(last.lower) && !PARTICLE.has(last.lower)) || PARTICLE.has(clause[j + 1]?.lower ?? '')) continue;
            const span = clause.slice(i, j + 1);
            const stems = [...new Set(span.filter((t) => t.content).map((t) => t.stem))].sort();
            // At least three words, or two that both say something: "Exchange rate", not "The rate".
            if (stems.length === 0 || stems.length > 4 || (span.length < 3 && stems.length < 2)) continue;
            const sk = stems.join(' ');
            let s = scoreOf.get(sk);
            if (s === undefined) {
              s = cover.share(stems) ** GAMMA * stems.reduce((a, w) => a + lift(w), 0);
              scoreOf.set(sk, s);
            }
            // Whole clauses read best; long spans a little less well.
            const whole = i === 0 && j === clause.length - 1 ? WHOLE : i === 0 ? START : 1;
            const score = (s * whole) / (1 + 0.04 * Math.max(0, span.length - 5));
            const name = ct.slice(head.start, last.end).replace(/\s+/g, ' ');
            // Numbers and codes between the words (order numbers, dates) are no part of a name.
            if (/\p{N}/u.test(name)) continue;
            const key = name.toLowerCase();
            const had = best.get(key);
            if (!had || score > had.score + 1e-9) best.set(key, { name, score, coverage: cover.share(stems), length: span.length });
          }
        }
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score || a.length - b.length || (a.name < b.name ? -1 : 1)).slice(0, 10);
  });
  // Larger themes choose first; a name taken by one goes to no other.
  const order = groups.map((_, i) => i).sort((a, b) => groups[b]!.length - groups[a]!.length || a - b);
  const taken = new Set<string>();
  const out: ThemeName[] = groups.map(() => ({ name: '', coverage: 0 }));
  for (const gi of order) {
    const pick = ranked[gi]!.find((c) => !taken.has(c.name.toLowerCase()));
    if (!pick) continue;
    taken.add(pick.name.toLowerCase());
    out[gi] = { name: capitalise(pick.name), coverage: pick.coverage };
  }
  return out;
}

/**
 * The commonest surface spelling in `texts` of each word feature (a stem, or two stems
 * joined by a space as vocabulary.ts makes bigrams), with the function words written between
 * the two words of a pair: "could better" → "could be better". Codes never match; a feature
 * without a surface form in these texts is missing from the answer.
 */
export function surfaceForms(features: readonly string[], texts: readonly string[]): Map<string, string> {
  const wanted = new Set(features);
  const forms = new Map<string, Map<string, number>>();
  const note = (f: string, s: string): void => {
    if (!wanted.has(f)) return;
    let m = forms.get(f);
    if (!m) forms.set(f, (m = new Map<string, number>()));
    m.set(s, (m.get(s) ?? 0) + 1);
  };
  for (const text of texts)
    for (const { text: ct, tokens } of clauses(text)) {
      // vocabulary.ts drops only its short stop list between the two words of a pair.
      const kept = tokens.filter((t) => !VOCAB_STOP.has(t.lower));
      for (let i = 0; i < kept.length; i++) {
        const a = kept[i]!;
        note(a.stem, ct.slice(a.start, a.end).toLowerCase());
        const b = kept[i + 1];
        if (b) note(`${a.stem} ${b.stem}`, ct.slice(a.start, b.end).toLowerCase().replace(/\s+/g, ' '));
      }
    }
  const out = new Map<string, string>();
  for (const [f, m] of forms) {
    let best = '';
    let n = -1;
    for (const [s, c] of m) if (c > n || (c === n && s < best)) [best, n] = [s, c];
    out.set(f, best);
  }
  return out;
}

/** vocabulary.ts's stop list (the words its bigrams skip). */
const VOCAB_STOP = new Set('a an the i my me to is it of and for in on be can do you your this that was have has with im are am at'.split(' '));

/** Whether a key phrase says something: some word of it is content. */
export function meaningful(phrase: string): boolean {
  return phrase.split(/[\s-]+/).some((w) => w.length > 1 && !FUNCTION.has(w) && !FILLER.has(w) && !/\p{N}/u.test(w));
}
