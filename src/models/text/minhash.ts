import { seededRandom } from '../random.js';

/**
 * Near-duplicate feedback: the same complaint pasted into a ticket and a review, a message
 * re-sent with a greeting added, a form letter. Listening shows such repeats once, with a count,
 * instead of letting them crowd out everything else.
 *
 * Similarity is the Jaccard index of the texts' shingle sets — word unigrams and bigrams by
 * default, so that reordering a sentence costs little but changing the request does. MinHash
 * (Broder 1997, "On the resemblance and containment of documents") estimates it: with k hash
 * functions, P[min h(A) = min h(B)] = J(A, B), so the share of equal minima in two k-value
 * signatures is an unbiased estimate with standard error √(J(1−J)/k). Locality-sensitive hashing
 * by banding (Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets", 3rd ed., §3.4) finds
 * the candidate pairs without comparing all of them: signatures are cut into b bands of r values
 * and two items are candidates when any band is equal, with probability 1 − (1 − J^r)^b. The
 * candidates are then verified on the exact Jaccard index (texts) or the full signature (stored
 * signatures).
 *
 * Pure, typed arrays throughout; seeded, so a signature stored today matches one computed next
 * year with the same options.
 */

export interface MinHashOptions {
  /** Number of hash functions k (signature length). Default 128: standard error ≤ 0.045. */
  numHashes?: number;
  /** `word`: word unigrams and bigrams (default); `char`: character k-grams of the normalised text. */
  shingle?: 'word' | 'char';
  /** Character k-gram length for `shingle: 'char'` (default 4). */
  charK?: number;
  /** Seed of the hash functions (default 1). Signatures are comparable only under equal options. */
  seed?: number;
}

interface Resolved {
  numHashes: number;
  shingle: 'word' | 'char';
  charK: number;
  seeds: Uint32Array;
}

const resolvedCache = new Map<string, Resolved>();

function resolve(o: MinHashOptions = {}): Resolved {
  const numHashes = o.numHashes ?? 128;
  const shingle = o.shingle ?? 'word';
  const charK = o.charK ?? 4;
  const seed = o.seed ?? 1;
  if (!Number.isInteger(numHashes) || numHashes < 1 || numHashes > 4096) throw new RangeError(`numHashes: expected a whole number from 1 to 4096, got ${numHashes}`);
  if (!Number.isInteger(charK) || charK < 1) throw new RangeError(`charK: expected a whole number from 1, got ${charK}`);
  const key = `${numHashes}|${shingle}|${charK}|${seed}`;
  let r = resolvedCache.get(key);
  if (r === undefined) {
    const rnd = seededRandom(seed);
    const seeds = new Uint32Array(numHashes);
    for (let i = 0; i < numHashes; i++) seeds[i] = Math.floor(rnd() * 4294967296) >>> 0;
    r = { numHashes, shingle, charK, seeds };
    resolvedCache.set(key, r);
  }
  return r;
}

/** MurmurHash3's 32-bit finaliser: a bijection of the 32-bit integers that mixes every bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of s[from, to). */
function fnv1a(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Words that say nothing about what a message is about: articles, pronouns, auxiliaries,
 * greetings and sign-offs. Dropping them keeps "Hi, I was charged twice for order 123. Thanks!"
 * a repeat of "I was charged twice for order 123", and makes "reset my password" and "reset my
 * PIN" differ by half their words instead of a sixth. Negations stay ("not", "never"): "works"
 * and "does not work" are different messages. A general stop-word list (e.g. the `stopword`
 * package's) drops "never" and "not"-like words and keeps "hi" and "thanks", so this one is ours.
 */
const FILLER = new Set(
  (
    'a an the and or so of to in on at for from by with about as into than then there here this that these those it its ' +
    'i me my mine we us our you your yours he him his she her they them their is am are was were be been being ' +
    'do does did done have has had having will would shall should can could may might must just also too very really ' +
    'whom whose if s m re ve ll d hi hello hey dear there good morning afternoon evening ' +
    'thanks thank thx cheers regards best kind please pls ok okay yes yeah oh um'
  ).split(' '),
);

/**
 * The content words of a text: lower case, contractions opened ("hasn't" → "has not"), only
 * letters and digits, {@link FILLER} dropped. A text of filler only ("Thanks!") keeps its words.
 *
 * @example
 *   contentWords("Hi! My card hasn't arrived yet."); // ['card', 'not', 'arrived', 'yet']
 */
export function contentWords(text: string): string[] {
  const words = text
    .toLowerCase()
    .replace(/[\u2019`]/g, "'")
    .replace(/\bcan't\b/g, 'can not')
    .replace(/\bwon't\b/g, 'will not')
    .replace(/n't\b/g, ' not')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
  const content = words.filter((w) => !FILLER.has(w));
  return content.length > 0 ? content : words;
}

/**
 * The shingle set of a text as sorted, distinct 32-bit hashes: its content words and pairs of
 * adjacent content words, or the character k-grams of the content words joined by spaces.
 *
 * @example
 *   shingles('My card has not arrived').length; // 5: card, not, arrived, card not, not arrived
 */
export function shingles(text: string, options?: MinHashOptions): Uint32Array {
  return shingleWords(contentWords(text), resolve(options));
}

function shingleWords(words: readonly string[], o: Resolved): Uint32Array {
  const out: number[] = [];
  if (o.shingle === 'word') {
    let prev = -1;
    for (const w of words) {
      const h = fnv1a(w, 0, w.length);
      out.push(h);
      // A bigram hash that cannot collide systematically with unigram hashes.
      if (prev !== -1) out.push(fmix32((Math.imul(prev, 0x9e3779b1) ^ h) + 0x7f4a7c15));
      prev = h;
    }
  } else {
    const s = words.join(' ');
    if (s.length > 0 && s.length < o.charK) out.push(fnv1a(s, 0, s.length));
    for (let i = 0; i + o.charK <= s.length; i++) out.push(fnv1a(s, i, i + o.charK));
  }
  const u = Uint32Array.from(out).sort();
  let n = 0;
  for (let i = 0; i < u.length; i++) if (i === 0 || u[i] !== u[i - 1]) u[n++] = u[i]!;
  return u.subarray(0, n);
}

/**
 * Exact Jaccard index |A ∩ B| / |A ∪ B| of two sorted shingle sets (1 when both are empty).
 *
 * @example
 *   jaccard(shingles('where is my card'), shingles('where is my new card')); // {where, card, where card} vs {where, new, card, where new, new card}: 2 / 6
 */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      common++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return common / (a.length + b.length - common);
}

/**
 * The MinHash signature of a text (or of a shingle set from {@link shingles}): for each of the
 * k seeded hash functions hᵢ(x) = fmix32(x ⊕ seedᵢ), the minimum over the shingles. An empty
 * text gets all 0xffffffff, which matches only other empty texts.
 *
 * @example
 *   const sig = signature('My card has not arrived yet'); // Uint32Array(128)
 *   estimateJaccard(sig, signature('my card hasnt arrived yet!')); // 0.35 (exact: 0.4)
 */
export function signature(text: string | Uint32Array, options?: MinHashOptions): Uint32Array {
  const o = resolve(options);
  const sh = typeof text === 'string' ? shingles(text, options) : text;
  const sig = new Uint32Array(o.numHashes);
  // Int32 arithmetic throughout (V8 keeps it in registers; unsigned values above 2^31 would be
  // boxed doubles): the unsigned minimum is the signed minimum of the values with the top bit flipped.
  const seeds = new Int32Array(o.seeds.buffer, o.seeds.byteOffset, o.seeds.length);
  const sh32 = new Int32Array(sh.buffer, sh.byteOffset, sh.length);
  const m = sh32.length;
  for (let i = 0; i < o.numHashes; i++) {
    const seed = seeds[i]!;
    let min = 0x7fffffff;
    for (let j = 0; j < m; j++) {
      let h = sh32[j]! ^ seed;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      h ^= 0x80000000;
      if (h < min) min = h;
    }
    sig[i] = (min ^ 0x80000000) >>> 0;
  }
  return sig;
}

/** The share of equal positions in two signatures: MinHash's estimate of the Jaccard index. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new RangeError(`signatures of different lengths (${a.length} and ${b.length}) are not comparable`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? 0 : same / a.length;
}

/** A signature as base64 (4 bytes per value, little-endian) for storage in a text column. */
export function encodeSignature(sig: Uint32Array): string {
  const bytes = new Uint8Array(sig.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < sig.length; i++) view.setUint32(i * 4, sig[i]!, true);
  return Buffer.from(bytes).toString('base64');
}

/** The inverse of {@link encodeSignature}. */
export function decodeSignature(encoded: string): Uint32Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length % 4 !== 0) throw new RangeError(`not an encoded signature: ${bytes.length} bytes is not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sig = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < sig.length; i++) sig[i] = view.getUint32(i * 4, true);
  return sig;
}

/**
 * Rows per band for a similarity threshold: the largest r whose banding still finds a pair at
 * the threshold with probability ≥ 0.99, i.e. 1 − (1 − t^r)^⌊k/r⌋ ≥ 0.99. Larger r means fewer
 * false candidates to verify.
 */
export function bandRows(numHashes: number, threshold: number): number {
  let best = 1;
  for (let r = 1; r <= numHashes; r++) {
    const b = Math.floor(numHashes / r);
    if (1 - (1 - threshold ** r) ** b >= 0.99) best = r;
  }
  return best;
}

/** A band's r values hashed to 30 bits: small integers are kept unboxed as Map keys (a collision only adds a candidate, which is verified). */
function bandKey(sig: Uint32Array, from: number, rows: number): number {
  let h = 0x811c9dc5 ^ from;
  for (let i = from; i < from + rows; i++) h = fmix32(Math.imul(h, 0x01000193) ^ sig[i]!);
  return h & 0x3fffffff;
}

export interface LshOptions {
  /** Signature length k (default 128); must match the signatures added. */
  numHashes?: number;
  /** Estimated Jaccard index from which items count as near-duplicates (default {@link DEFAULT_THRESHOLD}). */
  threshold?: number;
}

/** The default near-duplicate threshold on the Jaccard index of word unigram+bigram sets. */
export const DEFAULT_THRESHOLD = 0.8;

/**
 * An incremental LSH index over stored signatures: add what is stored, then ask whether a new
 * item repeats any of it.
 *
 * @example
 *   const index = new LshIndex<string>();
 *   for (const row of stored) index.add(row.id, decodeSignature(row.signature));
 *   index.query(signature(newText)); // [{ id: 'fb_12', similarity: 0.83 }]
 */
export class LshIndex<K = string> {
  readonly numHashes: number;
  readonly threshold: number;
  readonly rows: number;
  readonly bands: number;
  /** Per band: band key → the latest position added with it. */
  private readonly heads: Map<number, number>[];
  /** Per band and position: the previous position with the same key, or −1 (chains instead of arrays: no allocation per entry). */
  private next: Int32Array;
  private readonly ids: K[] = [];
  private readonly sigs: Uint32Array[] = [];
  /** Per position: the number of the last {@link LshIndex.forEachCandidate} call that visited it. */
  private visited = new Int32Array(0);
  private visits = 0;

  constructor(options: LshOptions = {}) {
    this.numHashes = options.numHashes ?? 128;
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new RangeError(`threshold: expected a number in (0, 1], got ${this.threshold}`);
    this.rows = bandRows(this.numHashes, this.threshold);
    this.bands = Math.floor(this.numHashes / this.rows);
    this.heads = Array.from({ length: this.bands }, () => new Map<number, number>());
    this.next = new Int32Array(1024 * this.bands);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Adds an item; returns its position (0, 1, …), used by {@link LshIndex.candidates}. */
  add(id: K, sig: Uint32Array): number {
    this.check(sig);
    const n = this.ids.length;
    this.ids.push(id);
    this.sigs.push(sig);
    if ((n + 1) * this.bands > this.next.length) {
      const grown = new Int32Array(this.next.length * 2);
      grown.set(this.next);
      this.next = grown;
    }
    for (let b = 0; b < this.bands; b++) {
      const key = bandKey(sig, b * this.rows, this.rows);
      const heads = this.heads[b]!;
      this.next[n * this.bands + b] = heads.get(key) ?? -1;
      heads.set(key, n);
    }
    return n;
  }

  /** Positions of the stored items sharing at least one band with `sig` (unverified), ascending. */
  candidates(sig: Uint32Array): number[] {
    this.check(sig);
    const seen = new Set<number>();
    for (let b = 0; b < this.bands; b++) {
      for (let p = this.heads[b]!.get(bandKey(sig, b * this.rows, this.rows)) ?? -1; p !== -1; p = this.next[p * this.bands + b]!) seen.add(p);
    }
    return [...seen].sort((x, y) => x - y);
  }

  /**
   * Calls `visit` once for each stored position sharing at least one band with `sig`
   * (unverified), in no particular order: {@link LshIndex.candidates} without building and
   * sorting a list, for a caller that looks at every candidate anyway.
   */
  forEachCandidate(sig: Uint32Array, visit: (position: number) => void): void {
    this.check(sig);
    if (this.visited.length < this.ids.length) {
      const grown = new Int32Array(Math.max(1024, this.visited.length * 2, this.ids.length));
      grown.set(this.visited);
      this.visited = grown;
    }
    if (this.visits === 0x7fffffff) {
      this.visited.fill(0);
      this.visits = 0;
    }
    const mark = ++this.visits;
    for (let b = 0; b < this.bands; b++) {
      for (let p = this.heads[b]!.get(bandKey(sig, b * this.rows, this.rows)) ?? -1; p !== -1; p = this.next[p * this.bands + b]!) {
        if (this.visited[p] === mark) continue;
        this.visited[p] = mark;
        visit(p);
      }
    }
  }

  /** Stored items whose estimated Jaccard index with `sig` is at least the threshold, most similar first. */
  query(sig: Uint32Array, threshold: number = this.threshold): { id: K; similarity: number }[] {
    const out: { id: K; similarity: number }[] = [];
    for (const p of this.candidates(sig)) {
      const similarity = estimateJaccard(sig, this.sigs[p]!);
      if (similarity >= threshold) out.push({ id: this.ids[p]!, similarity });
    }
    return out.sort((a, b) => b.similarity - a.similarity);
  }

  /** The signature stored at a position. */
  signatureAt(position: number): Uint32Array {
    if (!(position >= 0 && position < this.sigs.length)) throw new RangeError(`no item at position ${position}`);
    return this.sigs[position]!;
  }

  /** The id stored at a position. */
  idAt(position: number): K {
    if (!(position >= 0 && position < this.ids.length)) throw new RangeError(`no item at position ${position}`);
    return this.ids[position] as K;
  }

  private check(sig: Uint32Array): void {
    if (sig.length !== this.numHashes) throw new RangeError(`signature of length ${sig.length}, the index expects ${this.numHashes}`);
  }
}

export interface GroupOptions extends MinHashOptions {
  /** Jaccard index from which two items are near-duplicates (default {@link DEFAULT_THRESHOLD}). */
  threshold?: number;
}

/** An item already grouped: its id, the root of its group (its own id when it repeats nothing), its stored signature (null when none). */
export interface RootedItem {
  id: number;
  root: number;
  signature: Uint32Array | null;
}

/**
 * A new item, by text (verified on the exact Jaccard index of its shingles against other texts)
 * or by signature (e.g. read back from storage: verified on the estimate).
 */
export type NewItem = { id: number; text: string } | { id: number; signature: Uint32Array };

/** A signature with every value 0xffffffff: that of a text without letters or digits. */
function contentless(sig: Uint32Array): boolean {
  for (let i = 0; i < sig.length; i++) if (sig[i] !== 0xffffffff) return false;
  return true;
}

const signatureKey = (sig: Uint32Array): string => Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength).toString('base64');

/**
 * The root of each new item's near-duplicate group, in id order: an item repeats the earliest
 * earlier root it is similar to (Jaccard index at least the threshold), and otherwise becomes a
 * root itself (its own id). Roots only are compared, so a group never drifts away from its first
 * item through a chain of small rewordings, and what is stored stays put when items are added.
 *
 * `stored` are items grouped before (their roots are kept); `fresh` come in ascending id order.
 * Identical texts (same content words) or identical signatures join their root without a
 * look-up: a line sent a thousand times is one index entry, not a thousand candidates for every
 * new copy. A text without letters or digits ("!!!", an emoji) has no shingles, so its
 * signature (all 0xffffffff) would match every other such text: it repeats nothing.
 *
 * @example
 *   nearDuplicateRoots([{ id: 1, root: 1, signature: signature('my card has not arrived') }], [{ id: 2, text: 'Hi, my card has not arrived!' }, { id: 3, text: 'Reset my PIN' }]);
 *   // [1, 3]
 */
export function nearDuplicateRoots(stored: readonly RootedItem[], fresh: readonly NewItem[], options: GroupOptions = {}): number[] {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const o = resolve(options);
  // Only the first item of each group (its root) goes into the index.
  const index = new LshIndex<number>({ numHashes: o.numHashes, threshold });
  // Shingle sets of the indexed roots given as texts, by index position (absent for signatures).
  const shingleSets: (Uint32Array | undefined)[] = [];
  // Root of each text's content words, and of each signature's bytes (identical content words give identical signatures).
  const rootOfWords = new Map<string, number>();
  const rootOfSignature = new Map<string, number>();
  for (const r of stored) {
    if (r.root !== r.id || r.signature === null || contentless(r.signature)) continue;
    index.add(r.id, r.signature);
    shingleSets.push(undefined);
    const key = signatureKey(r.signature);
    if (!rootOfSignature.has(key)) rootOfSignature.set(key, r.id);
  }
  const roots = new Array<number>(fresh.length);
  for (let f = 0; f < fresh.length; f++) {
    const it = fresh[f]!;
    let sig: Uint32Array;
    let sh: Uint32Array | undefined;
    let keys: Map<string, number>;
    let key: string;
    if ('text' in it) {
      const words = contentWords(it.text);
      if (words.length === 0) {
        roots[f] = it.id;
        continue;
      }
      keys = rootOfWords;
      key = words.join(' ');
      const known = keys.get(key);
      if (known !== undefined && known < it.id) {
        roots[f] = known;
        continue;
      }
      sh = shingleWords(words, o);
      sig = signature(sh, options);
    } else {
      sig = it.signature;
      if (contentless(sig)) {
        roots[f] = it.id;
        continue;
      }
      keys = rootOfSignature;
      key = signatureKey(sig);
      const known = keys.get(key);
      if (known !== undefined && known < it.id) {
        roots[f] = known;
        continue;
      }
    }
    // The earliest similar root before the item.
    let root = -1;
    const id = it.id;
    index.forEachCandidate(sig, (p) => {
      const other = index.idAt(p);
      if (other >= id || (root !== -1 && other >= root)) return;
      const set = shingleSets[p];
      if (sh !== undefined && set !== undefined ? jaccard(sh, set) >= threshold : estimateJaccard(sig, index.signatureAt(p)) >= threshold) root = other;
    });
    if (root !== -1) {
      roots[f] = root;
      continue;
    }
    roots[f] = it.id;
    index.add(it.id, sig);
    shingleSets.push(sh);
    if (!keys.has(key)) keys.set(key, it.id);
  }
  return roots;
}

/**
 * Groups near-duplicates with {@link nearDuplicateRoots}, taking the items' positions as their
 * ids: texts are verified on their exact shingle sets, signatures (e.g. read back from storage)
 * on their estimate. Only groups of two or more are returned, each as ascending item positions
 * (its root first), ordered by their first item.
 *
 * @example
 *   nearDuplicateGroups(['My card has not arrived yet', 'my card has not arrived yet!!', 'How do I reset my PIN?']);
 *   // [[0, 1]]
 */
export function nearDuplicateGroups(items: readonly string[] | readonly Uint32Array[], options: GroupOptions = {}): number[][] {
  const fresh: NewItem[] = items.map((x: string | Uint32Array, i) => (typeof x === 'string' ? { id: i, text: x } : { id: i, signature: x }));
  const roots = nearDuplicateRoots([], fresh, options);
  const groups = new Map<number, number[]>();
  roots.forEach((r, i) => {
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [i]);
    else g.push(i);
  });
  return [...groups.values()].filter((g) => g.length > 1).sort((x, y) => x[0]! - y[0]!);
}
