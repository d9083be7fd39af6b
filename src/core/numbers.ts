/** Rounds to `digits` decimals for display; a value that is not finite passes through. */
export function round(v: number, digits = 2): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** `round`, with null for null and for values that are not finite (JSON has no NaN or Infinity). */
export function roundOrNull(v: number | null | undefined, digits = 2): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : round(v, digits);
}
