import type { Traits } from './records.js';

/**
 * Traits and properties as stored (JSON text), and Segment's reserved traits. Apart from the
 * writer, the customer view and the search index read them, so they live on their own.
 */

/** Stored JSON text as an object: anything else (invalid JSON, an array, a scalar) reads as `{}`. */
export function parseTraits(text: string): Traits {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Traits) : {};
  } catch {
    return {};
  }
}

/** A display name from Segment's reserved traits: name, or firstName + lastName. */
export function nameOf(traits: Traits): string | null {
  if (typeof traits['name'] === 'string' && traits['name'].length > 0) return traits['name'];
  const parts = [traits['firstName'], traits['lastName']].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return parts.length > 0 ? parts.join(' ') : null;
}

/** Segment's reserved `createdAt` trait: when the user signed up. */
export function traitTime(traits: Traits): number | null {
  const v = traits['createdAt'] ?? traits['created_at'];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}
