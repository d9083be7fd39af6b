import type { AnyJob } from '../jobs/job.js';
import { clvJob } from '../value/value.job.js';
import { listenJob, splitJob } from '../listening/listen.job.js';
import { importJob } from '../ingest/files/import.job.js';
import { historyJob } from '../relationships/history.job.js';
import { stagesJob } from '../relationships/stages.job.js';
import { actionsJob } from '../relationships/actions.job.js';

/**
 * The job registry: every job the server runs, one line each. The schedule asks them in this
 * order, so customer value comes before listening (the ledger and the themes board weigh
 * feedback by fresh values).
 */
export const JOBS: readonly AnyJob[] = [clvJob, listenJob, historyJob, stagesJob, actionsJob, splitJob, importJob];
