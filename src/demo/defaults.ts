/** The demo company's default history: two years to this day. */
export const DEFAULT_END = '2026-10-31';
export const DEFAULT_MONTHS = 24;
