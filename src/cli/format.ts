/** Number formats the CLI's reports share. */

/** A count, with thousands separators. */
export const int = (v: number): string => v.toLocaleString('en-US');
/** An amount of money, whole units. */
export const money = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
/** A share as a percentage with one decimal; a dash when unknown. */
export const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
/**
 * User text on one terminal line: control characters (escape sequences among them) and line
 * breaks become spaces, so that a note cannot move the cursor or recolour the terminal; cut to
 * `max` characters with an ellipsis.
 */
export function oneLine(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
