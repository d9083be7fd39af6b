/** Time constants and day arithmetic, defined once in models/time.ts (pure) and used everywhere. */
export { SECOND_MS, MINUTE_MS, HOUR_MS, DAY_MS, WEEK_MS, dayOfMs, dayOfIso, isoOfDay } from '../models/time.js';
