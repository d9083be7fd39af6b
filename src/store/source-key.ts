/**
 * A 53-bit fingerprint of a raw record's (source, source id): a whole JavaScript-safe
 * integer, so that SQLite can index it in 8 bytes where the text pair takes ~60. It only
 * narrows a look-up; equality of the pair itself is always checked (see the writer).
 *
 * Two independent 32-bit multiply–xorshift lanes over the UTF-16 code units of
 * `source \0 sourceId`, each finished with the murmur3 avalanche; 32 bits of one and 21 of
 * the other make the key.
 *
 * @example sourceKey('segment', 'ajs-1') // → a number in [0, 2^53)
 */
export function sourceKey(source: string, sourceId: string): number {
  let a = 0x811c9dc5 | 0;
  let b = 0x9e3779b9 | 0;
  const text = `${source}\u0000${sourceId}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = fmix(a ^ text.length);
  b = fmix(b ^ a);
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
