import type { Serialize } from '../core/serial.js';
import type { JobRunner } from '../jobs/runner.js';
import type { Store } from '../store/db.js';

/**
 * What every capability's routes may use, built once per server by the composition root
 * (server/app.ts). A capability that needs more (the ingest writer) takes it as a second
 * argument of its routes function, so that this module knows no capability.
 */
export interface HttpContext {
  store: Store;
  clock: () => number;
  /** Serializes writes: one at a time per process. */
  serialWrite: Serialize;
  /** Long jobs (customer value, listening, theme splits), one at a time (jobs/runner.ts). */
  jobs: JobRunner;
}
