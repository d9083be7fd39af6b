import type { Conn } from '../store/db.js';
import { lastOkRun } from '../jobs/runs.repository.js';

/** The listening job's name in the registry and the runs table. */
export const LISTEN_JOB = 'listen';

/** The last successful listening run (id, finish time, items analysed), or undefined. */
export const lastListenRun = (db: Conn) => lastOkRun(db, LISTEN_JOB);
