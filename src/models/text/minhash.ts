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

  /** Stored items whose estimated Jaccard index with `sig` is at least the threshold, most similar first. */
  query(sig: Uint32Array, threshold: number = this.threshold): { id: K; similarity: number }[] {
    const out: { id: K; similarity: number }[] = [];
    for (const p of this.candidates(sig)) {
      const similarity = estimateJaccard(sig, this.sigs[p]!);
      if (similarity >= threshold) out.push({ id: this.ids[p]!, similarity });
    }
    return out.sort((a, b) => b.similarity - a.similarity);
  }

  /** The id stored at a position. */
  idAt(position: number): K {
    if (!(position >= 0 && position < this.ids.length)) throw new RangeError(`no item at position ${position}`);
    return this.ids[position] as K;
  }

  /** Every bucket holding two or more positions (for grouping a whole collection). */
  *sharedBuckets(): Generator<readonly number[]> {
    for (let b = 0; b < this.bands; b++) {
      for (const head of this.heads[b]!.values()) {
        if (this.next[head * this.bands + b] === -1) continue;
        const list: number[] = [];
        for (let p = head; p !== -1; p = this.next[p * this.bands + b]!) list.push(p);
        yield list.reverse();
      }
    }
  }

  private check(sig: Uint32Array): void {
    if (sig.length !== this.numHashes) throw new RangeError(`signature of length ${sig.length}, the index expects ${this.numHashes}`);
  }
}

/** Union-find with path halving and union by size. */
class DisjointSets {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.size = new Int32Array(n).fill(1);
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }
  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
  }
}

export interface GroupOptions extends MinHashOptions {
  /** Jaccard index from which two items are near-duplicates (default {@link DEFAULT_THRESHOLD}). */
  threshold?: number;
}

/**
 * Groups near-duplicates: items linked by a chain of pairs whose Jaccard index is at least the
 * threshold (single linkage, by union-find). Texts are verified on their exact shingle sets;
 * signatures (e.g. read back from storage) on their estimate. Only groups of two or more are
 * returned, each as ascending item positions, ordered by their first item.
 *
 * @example
 *   nearDuplicateGroups(['My card has not arrived yet', 'my card has not arrived yet!!', 'How do I reset my PIN?']);
 *   // [[0, 1]]
 */
export function nearDuplicateGroups(items: readonly string[] | readonly Uint32Array[], options: GroupOptions = {}): number[][] {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const o = resolve(options);
  const n = items.length;
  const sets = new DisjointSets(n);
  let shingleSets: Uint32Array[] | null = null;
  const sigs: Uint32Array[] = new Array<Uint32Array>(n);
  // Identical normalised texts are joined directly, so that a form letter sent a thousand times
  // makes one bucket entry rather than half a million candidate pairs.
  const firstOf = new Map<string, number>();
  const index = new LshIndex<number>({ numHashes: o.numHashes, threshold });
  if (typeof items[0] === 'string') {
    shingleSets = new Array<Uint32Array>(n);
    for (let i = 0; i < n; i++) {
      const words = contentWords(items[i] as string);
      const key = words.join(' ');
      const first = firstOf.get(key);
      if (first !== undefined) {
        sets.union(first, i);
        continue;
      }
      firstOf.set(key, i);
      const sh = shingleWords(words, o);
      const sig = signature(sh, options);
      shingleSets[i] = sh;
      sigs[i] = sig;
      index.add(i, sig);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const sig = items[i] as Uint32Array;
      sigs[i] = sig;
      index.add(i, sig);
    }
  }
  const similar = shingleSets === null ? (a: number, b: number) => estimateJaccard(sigs[a]!, sigs[b]!) >= threshold : (a: number, b: number) => jaccard(shingleSets[a]!, shingleSets[b]!) >= threshold;
  for (const list of index.sharedBuckets()) {
    for (let j = 1; j < list.length; j++) {
      const b = index.idAt(list[j]!);
      for (let i = 0; i < j; i++) {
        const a = index.idAt(list[i]!);
        if (sets.find(a) !== sets.find(b) && similar(a, b)) sets.union(a, b);
      }
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [i]);
    else g.push(i);
  }
  return [...groups.values()].filter((g) => g.length > 1).sort((x, y) => x[0]! - y[0]!);
}
