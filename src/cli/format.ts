/** Number formats the CLI's reports share. */

/** A count, with thousands separators. */
export const int = (v: number): string => v.toLocaleString('en-US');
/** An amount of money, whole units. */
export const money = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
/** A share as a percentage with one decimal; a dash when unknown. */
export const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
